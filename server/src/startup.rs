//! Why a role could not start. Each role describes its own failures (`StartError::open`); this module
//! names neither role's error types.

use std::{io, net::SocketAddr, path::PathBuf};

use tokio_util::sync::CancellationToken;

use crate::auth::{Auth, bootstrap, routes::Guard};
use crate::config::{AccessConfig, ConfigError};

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

/// What every role puts in front of its routes: the bound listener, TLS, and who it lets in (its
/// authentication and the names it answers to). Opened once its account store exists; the first admin is
/// made here.
pub struct Front {
    role: &'static str,
    listener: tokio::net::TcpListener,
    tls: Option<std::sync::Arc<rustls::ServerConfig>>,
    guard: Guard,
    created_admin: bool,
    body_idle_timeout: std::time::Duration,
}

impl Front {
    pub async fn open(
        role: &'static str,
        listener: tokio::net::TcpListener,
        auth: Auth,
        access: &AccessConfig,
    ) -> Result<Front, StartError> {
        let created_admin = bootstrap::ensure_admin(&auth, &access.initial_admin)
            .await
            .map_err(|e| StartError::open(format!("the {role}'s first admin"), e))?;
        let tls = access
            .tls
            .as_ref()
            .map(crate::http::tls::server_config)
            .transpose()
            .map_err(|e| StartError::open("the TLS certificate", e))?;
        let local = listener.local_addr().map_err(StartError::Serve)?;
        let guard = Guard { auth, hosts: access.host_policy(local) };
        Ok(Front { role, listener, tls, guard, created_admin, body_idle_timeout: access.body_idle_timeout })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("bound listener")
    }

    /// Whether this start created the first admin.
    pub fn created_admin(&self) -> bool {
        self.created_admin
    }

    pub fn guard(&self) -> Guard {
        self.guard.clone()
    }

    /// Serves `router` until `shutdown`; plain HTTP on a network address is warned about first.
    pub async fn serve(self, router: axum::Router, shutdown: CancellationToken) -> Result<(), StartError> {
        let addr = self.local_addr();
        if self.tls.is_none() && !addr.ip().is_loopback() {
            tracing::warn!(
                %addr,
                "the {} serves plain HTTP on a non-loopback address: passwords, session cookies and the cluster token cross the network in clear; use --tls-cert/--tls-key or --tls-self-signed",
                self.role
            );
        }
        let options = crate::http::serve::ServeOptions { tls: self.tls, body_idle_timeout: self.body_idle_timeout };
        crate::http::serve::serve(self.listener, router, shutdown, options).await.map_err(StartError::Serve)
    }
}
