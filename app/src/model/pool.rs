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
