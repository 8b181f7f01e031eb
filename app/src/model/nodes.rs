//! How the vdc sees its nodes, and how a node sees its own sync.

use serde::{Deserialize, Serialize};

use super::NodeId;

/// A node's sync state as the vdc derives it from its last contact and last full sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum NodeSyncState {
    /// Heard from recently, and a full inventory arrived within the sync period.
    InSync,
    /// Heard from recently, but no full inventory yet (or the last one is older than the sync period).
    Pending,
    /// Not heard from for longer than expected, but not yet long enough to call it offline.
    Stale,
    /// Not heard from for a long time: treat its images as unreachable.
    Offline,
}

impl NodeSyncState {
    pub const ALL: [NodeSyncState; 4] =
        [NodeSyncState::InSync, NodeSyncState::Pending, NodeSyncState::Stale, NodeSyncState::Offline];

    pub fn as_str(self) -> &'static str {
        match self {
            NodeSyncState::InSync => "in_sync",
            NodeSyncState::Pending => "pending",
            NodeSyncState::Stale => "stale",
            NodeSyncState::Offline => "offline",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            NodeSyncState::InSync => "In sync",
            NodeSyncState::Pending => "Pending",
            NodeSyncState::Stale => "Stale",
            NodeSyncState::Offline => "Offline",
        }
    }
}

/// `GET /api/v1/nodes` item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NodeInfo {
    pub id: NodeId,
    pub name: String,
    pub api_url: Option<String>,
    pub image_count: u64,
    /// Unix seconds of the last sync call from the node.
    pub last_contact_at: Option<i64>,
    /// Unix seconds of the last full inventory from the node.
    pub last_full_sync_at: Option<i64>,
    pub state: NodeSyncState,
    /// The node's pools as of its last heartbeat.
    #[serde(default)]
    pub pools: Vec<super::StoragePool>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NodeList {
    pub nodes: Vec<NodeInfo>,
}

/// `GET /api/v1/sync/status` on a node: its own view of its sync to the vdc.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NodeSyncStatus {
    pub node_id: NodeId,
    pub node_name: String,
    /// `None` when the node runs standalone, without a control plane.
    pub vdc_url: Option<String>,
    /// Changes recorded but not yet acknowledged by the vdc.
    pub pending: u64,
    pub last_success_at: Option<i64>,
    pub last_error: Option<String>,
    pub last_error_at: Option<i64>,
    pub last_full_sync_at: Option<i64>,
}

/// `GET /healthz` on both roles.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Health {
    pub status: String,
    pub role: String,
    pub version: String,
}
