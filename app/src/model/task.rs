//! Transfers a node runs in the background (downloads, copies, resumable uploads), as tasks with progress
//! and an outcome.

use serde::{Deserialize, Serialize};

use super::{FolderPath, NodeId, PoolId};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TaskKind {
    Upload,
    Download,
    Copy,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TaskState {
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

impl TaskKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TaskKind::Upload => "upload",
            TaskKind::Download => "download",
            TaskKind::Copy => "copy",
        }
    }
}

impl TaskState {
    pub fn as_str(self) -> &'static str {
        match self {
            TaskState::Running => "running",
            TaskState::Succeeded => "succeeded",
            TaskState::Failed => "failed",
            TaskState::Cancelled => "cancelled",
        }
    }

    pub fn is_over(self) -> bool {
        self != TaskState::Running
    }
}

/// One transfer and where it stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Task {
    pub id: uuid::Uuid,
    pub kind: TaskKind,
    pub state: TaskState,
    /// What the task reads from: a download's URL (its credentials never reach here: they are refused).
    pub source: Option<String>,
    pub pool_id: PoolId,
    pub filename: String,
    pub folder: Option<FolderPath>,
    pub bytes_done: u64,
    /// `None` until the source said how large the file is.
    pub bytes_total: Option<u64>,
    /// Over the last few seconds, while running.
    pub bytes_per_second: Option<u64>,
    /// At that rate, while running.
    pub seconds_left: Option<u64>,
    /// Why it failed, in words.
    pub error: Option<String>,
    /// The image it made, once succeeded.
    pub image_id: Option<uuid::Uuid>,
    pub created_at: i64,
    pub finished_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TaskList {
    /// Running tasks first, then the most recent ones, newest first.
    pub tasks: Vec<Task>,
}

/// `POST /api/v1/storage/download`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DownloadRequest {
    /// `http` or `https`, without credentials.
    pub url: String,
    pub pool_id: PoolId,
    /// `None`: the detected OS's default folder.
    #[serde(default)]
    pub folder: Option<FolderPath>,
    /// `None`: the URL's last path segment.
    #[serde(default)]
    pub filename: Option<String>,
    /// `sha256:<hex>`: the file is kept only if its bytes hash to it.
    #[serde(default)]
    pub checksum: Option<String>,
}

/// `POST /api/v1/storage/download` on the vdc: a download on the node `node_id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NodeDownloadRequest {
    pub node_id: NodeId,
    pub url: String,
    pub pool_id: PoolId,
    #[serde(default)]
    pub folder: Option<FolderPath>,
    #[serde(default)]
    pub filename: Option<String>,
    #[serde(default)]
    pub checksum: Option<String>,
}

impl NodeDownloadRequest {
    /// `req`, on the node `node_id`.
    pub fn on(node_id: NodeId, req: DownloadRequest) -> Self {
        let DownloadRequest { url, pool_id, folder, filename, checksum } = req;
        NodeDownloadRequest { node_id, url, pool_id, folder, filename, checksum }
    }

    /// What the node is asked.
    pub fn for_node(self) -> (NodeId, DownloadRequest) {
        let NodeDownloadRequest { node_id, url, pool_id, folder, filename, checksum } = self;
        (node_id, DownloadRequest { url, pool_id, folder, filename, checksum })
    }
}

/// `POST /api/v1/images/{id}/copy` on the vdc: a copy of the image on the node `node_id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CopyRequest {
    pub node_id: NodeId,
    pub pool_id: PoolId,
    /// `None`: the folder the image is in on its own node.
    #[serde(default)]
    pub folder: Option<FolderPath>,
}

/// Where a copy reads from: another node's image, with the vdc's ticket for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CopySource {
    /// The source node's `/internal/v1/images/{id}/content`.
    pub url: String,
    /// Sent as `x-quantix-ticket`.
    pub ticket: String,
    /// What the task shows as its source: the node's name and the image's path there.
    pub label: String,
}

/// What the vdc asks the node that makes a copy (`POST /internal/v1/copies`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NodeCopyJob {
    pub source: CopySource,
    pub pool_id: PoolId,
    pub folder: FolderPath,
    pub filename: String,
    /// The source's `sha256:<hex>`: the copy is kept only if its bytes hash to it.
    pub checksum: String,
    /// A person's correction of the OS fields on the source, kept on the copy (detection would
    /// otherwise redo what the content says, and lose it).
    #[serde(default)]
    pub user_os: Option<UserOsFields>,
}

/// OS fields an operator set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UserOsFields {
    pub os_family: Option<String>,
    pub os_distribution: Option<String>,
    pub os_version: Option<String>,
}

/// The answer to a started transfer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TaskStarted {
    pub task_id: uuid::Uuid,
}
