//! Why a role could not start. Each role describes its own failures (`StartError::open`); this module
//! names neither role's error types.

use std::{io, net::SocketAddr, path::PathBuf};

use crate::config::ConfigError;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: io::Error },
    #[error("cannot create the directory {path}: {source}")]
    Dir { path: PathBuf, source: io::Error },
    /// Something a role needs could not be opened or prepared: its database, its pools, its watcher.
    #[error("cannot open {what}: {source}")]
    Open { what: String, source: Box<dyn std::error::Error + Send + Sync> },
    #[error("{0}")]
    Invalid(String),
    #[error("server stopped: {0}")]
    Serve(io::Error),
}

impl StartError {
    pub fn open(what: impl Into<String>, source: impl std::error::Error + Send + Sync + 'static) -> StartError {
        StartError::Open { what: what.into(), source: Box::new(source) }
    }
}

pub fn ensure_dir(path: &std::path::Path) -> Result<(), StartError> {
    std::fs::create_dir_all(path).map_err(|source| StartError::Dir { path: path.to_owned(), source })
}
