//! Who this node is in the cluster: a stable id, a display name, and the URL the vdc reaches it at.

use std::net::SocketAddr;

use super::{
    pools::is_valid_id,
    store::{NodeStore, StoreError},
};
use crate::config::NodeConfig;

#[derive(Debug, Clone)]
pub struct Identity {
    pub id: String,
    pub name: String,
    pub api_url: String,
}

impl Identity {
    /// The configured id, or the one this node generated on its first start.
    pub async fn resolve(config: &NodeConfig, store: &NodeStore, local: SocketAddr) -> Result<Identity, StoreError> {
        let id = match &config.node_id {
            Some(id) if is_valid_id(id) => id.clone(),
            Some(id) => {
                return Err(StoreError::Rule(format!(
                    "node id {id:?} is not valid: use 1 to 64 letters, digits, '.', '_' or '-'"
                )));
            }
            None => match store.setting("node_id").await? {
                Some(id) => id,
                None => {
                    let id = format!("node-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
                    store.set_setting("node_id", &id).await?;
                    id
                }
            },
        };
        let host = rustix::system::uname().nodename().to_string_lossy().into_owned();
        let name = config.node_name.clone().unwrap_or_else(|| host.clone());
        let api_url = config.advertise_url.clone().unwrap_or_else(|| {
            if local.ip().is_unspecified() {
                format!("http://{host}:{}", local.port())
            } else {
                format!("http://{local}")
            }
        });
        Ok(Identity { id, name, api_url })
    }
}
