use serde::{Deserialize, Serialize};

use super::PoolId;

/// A node's storage pool, as the pool selector shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct StoragePool {
    pub id: PoolId,
    pub name: String,
    /// The pool's root directory; images live in `<path>/iso/`.
    pub path: String,
    pub capacity_bytes: u64,
    /// Space an upload can still use.
    pub free_bytes: u64,
    pub image_count: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PoolList {
    pub pools: Vec<StoragePool>,
}

/// A resumable (tus) upload that has not received its last byte yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ResumableUpload {
    pub id: uuid::Uuid,
    pub filename: String,
    pub pool_id: PoolId,
    /// `None`: the detected OS's default folder, decided when the last byte lands.
    pub folder: Option<super::FolderPath>,
    /// Bytes stored durably: where the next PATCH starts.
    pub offset: u64,
    pub length: u64,
    pub created_at: i64,
    /// When it is removed if no byte arrives before (unix seconds).
    pub expires_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ResumableUploadList {
    pub uploads: Vec<ResumableUpload>,
}
