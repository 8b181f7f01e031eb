//! Why a role could not start.

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
    #[error(transparent)]
    Pools(#[from] crate::node::pools::PoolError),
    #[error("cannot open the node database {path}: {source}")]
    NodeDb { path: PathBuf, source: crate::node::store::StoreError },
    #[error("cannot open the catalogue database: {0}")]
    Catalogue(#[from] crate::vdc::catalogue::CatalogueError),
    #[error("{0}")]
    Invalid(String),
    #[error("server stopped: {0}")]
    Serve(io::Error),
}

pub fn ensure_dir(path: &std::path::Path) -> Result<(), StartError> {
    std::fs::create_dir_all(path).map_err(|source| StartError::Dir { path: path.to_owned(), source })
}
