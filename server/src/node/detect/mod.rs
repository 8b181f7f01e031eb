//! What is inside an image: OS and boot detection from an ISO's own descriptors, and an OVA's OVF
//! descriptor and manifest.
//!
//! Pure parsing and classification. Nothing here opens a path, follows a reference or spawns a task:
//! ISOs are read through [`ReadAt`] (a file the caller opened, or bytes), OVAs are fed to
//! [`OvaScanner`] as an upload streams. Invariants the tests hold:
//! - [`probe_iso`] reads at most [`READ_BUDGET`] (1 MiB) of an image, whatever it claims;
//! - [`OvaScanner`] buffers only the descriptor (≤ 4 MiB) and the manifest (≤ 1 MiB); its per-byte cost
//!   is SHA-1 and SHA-256 of the members (only the algorithms the manifest uses, once it has been seen);
//! - no input panics, and no text from an image reaches the caller with control characters in it.

mod directory;
mod eltorito;
mod iso9660;
mod ova;
mod probe;
mod read_at;
mod rules;
mod text;
mod udf;

#[cfg(test)]
mod fuzz;
#[cfg(test)]
#[path = "../../../tests/it/support/iso_image.rs"]
mod iso_image;
#[cfg(test)]
#[path = "../../../tests/it/support/ova_image.rs"]
mod ova_image;

pub use eltorito::Boot;
pub use ova::{Firmware, Manifest, MismatchReason, OvaProbe, OvaScanner};
pub use probe::{IsoProbe, READ_BUDGET, probe_iso};
pub use read_at::ReadAt;
pub use rules::{classify, default_folder};

/// The operating-system families the catalogue filters by: the same strings as `app::model::os_family`
/// (this module depends on std only, so a server test should assert the two lists are equal).
pub mod family {
    pub const WINDOWS: &str = "windows";
    pub const LINUX: &str = "linux";
    pub const BSD: &str = "bsd";
    pub const OTHER: &str = "other";
    pub const ALL: [&str; 4] = [WINDOWS, LINUX, BSD, OTHER];
}

/// What an image holds, as far as its content says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OsInfo {
    /// One of [`family::ALL`].
    pub family: &'static str,
    /// A lower-case slug, the same ones the filename guesser uses: `ubuntu`, `windows-server`, `rhel`…
    pub distribution: String,
    /// As the disc states it. Where the disc cannot tell releases apart the candidates are joined with
    /// `/` (`10/11`, `2016/2019/2022/2025`) rather than guessed.
    pub version: Option<String>,
    /// `x86_64`, `aarch64`, `i686`, `ppc64le`, `s390x`, `riscv64`, `armv7l`.
    pub arch: Option<String>,
    /// The product's own word for the medium: `desktop`, `server`, `live`, `netinst`, `dvd`,
    /// `installer`, `workstation`, `everything`, `enterprise`…
    pub edition: Option<String>,
}
