//! Who this node is in the cluster: a stable id, a display name, and the URL the vdc reaches it at.

use std::net::SocketAddr;

use app::model::NodeId;

use super::store::{NodeStore, StoreError};
use crate::config::NodeConfig;

#[derive(Debug, Clone)]
pub struct Identity {
    pub id: NodeId,
    pub name: String,
    pub api_url: String,
}

impl Identity {
    /// The configured id (validated when the configuration was read), or the one this node generated on
    /// its first start.
    pub async fn resolve(config: &NodeConfig, store: &NodeStore, local: SocketAddr) -> Result<Identity, StoreError> {
        let id = match &config.node_id {
            Some(id) => id.clone(),
            None => match store.setting("node_id").await? {
                Some(id) => NodeId::parse(&id).map_err(|e| StoreError::Corrupt(format!("stored node id: {e}")))?,
                None => {
                    let id = NodeId::parse(&format!("node-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]))
                        .expect("a generated id is valid");
                    store.set_setting("node_id", id.as_str()).await?;
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
