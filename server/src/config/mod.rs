//! Settings of both roles. Every setting is a flag, an environment variable and a key of the TOML file
//! given with `--config`; a flag beats the environment, which beats the file, which beats the default.

pub mod access;
mod file;
pub mod node;
pub(crate) mod values;
mod vdc;

pub use access::AccessConfig;
pub use file::ConfigError;
pub use node::{NodeArgs, NodeConfig};
pub use values::{ClusterToken, PoolSpec, parse_duration, parse_size};
pub use vdc::{LiveLimits, VdcArgs, VdcConfig};

use std::path::PathBuf;

/// Where the built web assets (`pkg/`, favicon) are, unless `--site-root` says otherwise. cargo-leptos
/// sets `LEPTOS_SITE_ROOT` when it runs the binary.
pub const DEFAULT_SITE_ROOT: &str = "target/site";

pub fn default_site_root() -> PathBuf {
    std::env::var_os("LEPTOS_SITE_ROOT").map(PathBuf::from).unwrap_or_else(|| PathBuf::from(DEFAULT_SITE_ROOT))
}
