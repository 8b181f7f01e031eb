//! The `quantix-iso` server: the node role (QHCI host daemon) and the vdc role (QvDC control plane) in one
//! crate, plus the all-in-one mode that runs both.

pub mod allinone;
pub mod auth;
pub mod cli;
pub mod config;
pub mod db;
pub mod http;
pub mod node;
pub mod site;
pub mod startup;
pub mod telemetry;
pub mod vdc;

/// Unix seconds now.
pub fn now_unix() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}
