//! What the node makes of an image's content: [`detect`]'s ISO probe and OVA scan turned into the
//! image's OS fields and content facts, with the filename's guess as the fallback. Content beats the
//! filename; the store keeps a person's correction over both.

use std::path::Path;

use app::model::{BootModes, FolderPath, ImageFormat, ManifestState, OsSource, OvaDisk, OvaInfo, os_family};

use super::detect::{self, IsoProbe, OsInfo, OvaProbe};
use super::os_guess::{self, OsGuess};

/// An image's OS fields and what its content says of it, as the store records them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Findings {
    pub os: OsGuess,
    /// `None` when neither the content nor the filename said anything.
    pub source: Option<OsSource>,
    pub volume_id: Option<String>,
    pub arch: Option<String>,
    pub edition: Option<String>,
    pub boot: Option<BootModes>,
    /// Why the content could not be read, in a sentence (the bytes are the user's: the image is kept).
    pub error: Option<String>,
    pub ova: Option<OvaInfo>,
}

impl Findings {
    /// The filename's guess alone: nothing of the content was read (yet).
    pub fn from_filename(filename: &str) -> Findings {
        let os = os_guess::guess(filename);
        let source = os.family.is_some().then_some(OsSource::Filename);
        Findings { os, source, ..Findings::default() }
    }

    /// What an ISO's (or a raw image's) descriptors say, the filename's guess where they say nothing.
    pub fn from_iso(probe: &IsoProbe, filename: &str, format: ImageFormat) -> Findings {
        let mut found = Findings::from_filename(filename);
        found.volume_id = probe.label().map(str::to_owned);
        found.boot = probe.boot.map(|b| BootModes { bios: b.bios, uefi: b.uefi });
        // A raw `.img` is often a disk image, not a disc: that it has no ISO 9660 descriptor is no error.
        found.error = probe.error.clone().filter(|_| format == ImageFormat::Iso || probe.volume_id.is_some());
        if let Some(info) = detect::classify(probe) {
            found.adopt(info);
        }
        found
    }

    /// What an OVA's descriptor and manifest say, the filename's guess where they say nothing.
    pub fn from_ova(probe: &OvaProbe, filename: &str) -> Findings {
        let mut found = Findings::from_filename(filename);
        let mut errors: Vec<String> = probe.error.iter().cloned().collect();
        let manifest = match &probe.manifest {
            detect::Manifest::Absent => ManifestState::Absent,
            detect::Manifest::Verified => ManifestState::Verified,
            other => {
                errors.push(format!("The manifest does not match: {other}."));
                ManifestState::Mismatch
            }
        };
        // The probe's error already says what refers outside the archive, and what else could not be read.
        found.error = (!errors.is_empty()).then(|| errors.join(" "));
        if let Some(ovf) = &probe.ovf {
            found.ova = Some(OvaInfo {
                os: ovf.os_description.clone().or_else(|| ovf.vmw_os_type.clone()),
                vcpus: ovf.vcpus,
                memory_mib: ovf.memory_mib,
                disks: ovf.disks.iter().map(|&capacity_bytes| OvaDisk { capacity_bytes }).collect(),
                nics: Some(ovf.nics),
                firmware: ovf.firmware.map(|f| match f {
                    detect::Firmware::Bios => app::model::Firmware::Bios,
                    detect::Firmware::Efi => app::model::Firmware::Uefi,
                }),
                manifest,
            });
            if let Some(info) = ovf.os.clone() {
                found.adopt(info);
            }
        }
        found
    }

    /// Takes the content's answer; a version only the filename states is kept when both name the same
    /// distribution (a `PVE` volume id says no release, `proxmox-ve_8.1-1.iso` does).
    fn adopt(&mut self, info: OsInfo) {
        let same = self.os.distribution.as_deref() == Some(info.distribution.as_str());
        let version = info.version.or_else(|| self.os.version.take().filter(|_| same));
        self.os = OsGuess { family: Some(family(info.family)), distribution: Some(info.distribution), version };
        self.arch = info.arch;
        self.edition = info.edition;
        self.source = Some(OsSource::Content);
    }

    /// Where an image goes when no folder was asked for: its OS's default folder.
    pub fn default_folder(&self) -> FolderPath {
        self.os.default_folder()
    }
}

/// The family constant of `app` for the one `detect` names (the same strings; `detect` depends on
/// std only).
fn family(name: &str) -> &'static str {
    os_family::ALL.into_iter().find(|f| *f == name).unwrap_or(os_family::OTHER)
}

/// Reads an image's content facts from its file: the descriptors of an ISO or IMG (at most 1 MiB read),
/// or nothing for an OVA (its scan needs every byte: the upload and the hasher stream it through
/// [`detect::OvaScanner`]). Blocking; never follows a symbolic link.
/// Reads a whole OVA file through the scanner: for an upload whose bytes were not scanned as they went
/// by (a resumable one: the scanner's state cannot be kept between chunks and restarts).
pub fn scan_ova_file(path: &Path, filename: &str) -> Findings {
    use std::io::Read;
    let scanned = super::watcher::open_regular(path).and_then(|mut file| {
        let mut scanner = detect::OvaScanner::new();
        let mut buf = vec![0u8; 1 << 20];
        loop {
            match file.read(&mut buf)? {
                0 => return Ok(scanner.finish()),
                n => scanner.feed(&buf[..n]),
            }
        }
    });
    match scanned {
        Ok(probe) => Findings::from_ova(&probe, filename),
        Err(e) => {
            Findings { error: Some(format!("The file could not be read: {e}.")), ..Findings::from_filename(filename) }
        }
    }
}

pub fn probe_file(path: &Path, filename: &str, format: ImageFormat) -> Findings {
    if format == ImageFormat::Ova {
        return Findings::from_filename(filename);
    }
    match super::watcher::open_regular(path) {
        Ok(file) => Findings::from_iso(&detect::probe_iso(&file), filename, format),
        Err(e) => {
            Findings { error: Some(format!("The file could not be read: {e}.")), ..Findings::from_filename(filename) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_families_are_the_catalogues() {
        assert_eq!(detect::family::ALL, os_family::ALL);
    }

    #[test]
    fn the_filename_is_the_fallback_and_content_wins() {
        let found = Findings::from_filename("ubuntu-24.04-desktop-amd64.iso");
        assert_eq!((found.source, found.os.family), (Some(OsSource::Filename), Some(os_family::LINUX)));
        assert_eq!(Findings::from_filename("disc1.iso").source, None);
        let probe = IsoProbe { volume_id: Some("CCCOMA_X64FRE_EN-US_DV9".into()), ..IsoProbe::default() };
        let found = Findings::from_iso(&probe, "ubuntu.iso", ImageFormat::Iso);
        assert_eq!((found.source, found.os.family), (Some(OsSource::Content), Some(os_family::WINDOWS)));
        assert_eq!(found.default_folder().as_str(), "/windows");
    }

    #[test]
    fn a_raw_disk_image_without_descriptors_is_no_error_but_an_iso_is() {
        let probe =
            IsoProbe { error: Some("no ISO 9660 volume descriptor at sector 16".into()), ..IsoProbe::default() };
        assert_eq!(Findings::from_iso(&probe, "disk.img", ImageFormat::Img).error, None);
        assert!(Findings::from_iso(&probe, "disk.iso", ImageFormat::Iso).error.is_some());
    }
}
