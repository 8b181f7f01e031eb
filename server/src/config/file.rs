//! Reading the `--config` TOML file.

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the config file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("the config file {path} is not valid: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("{0}")]
    Invalid(String),
}

pub fn load<T: DeserializeOwned + Default>(path: Option<&Path>) -> Result<T, ConfigError> {
    let Some(path) = path else { return Ok(T::default()) };
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.to_owned(), source })?;
    toml::from_str(&text).map_err(|e| ConfigError::Parse { path: path.to_owned(), message: e.to_string() })
}

/// `a.or(b)` for every named field: the command line (already merged with the environment by clap)
/// wins over the file.
macro_rules! prefer_cli {
    ($cli:expr, $file:expr, [$($field:ident),* $(,)?]) => {{
        let (cli, file) = ($cli, $file);
        Self { $($field: cli.$field.or(file.$field),)* ..cli }
    }};
}
pub(crate) use prefer_cli;
