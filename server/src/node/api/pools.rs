use app::model::{NodeSyncStatus, PoolList};
use axum::extract::State;

use crate::http::ApiError;
use crate::node::NodeState;

#[utoipa::path(
    get,
    path = "/api/v1/storage/pools",
    tag = "storage",
    summary = "The node's storage pools, with capacity and free space",
    responses((status = 200, description = "Every configured pool.", body = PoolList))
)]
pub async fn list(State(s): State<NodeState>) -> Result<axum::Json<PoolList>, ApiError> {
    let counts = s.store.count_by_pool().await?;
    Ok(axum::Json(PoolList { pools: s.pools.describe(counts).await.map_err(ApiError::internal)? }))
}

#[utoipa::path(
    get,
    path = "/api/v1/sync/status",
    tag = "storage",
    summary = "This node's sync to the vdc",
    responses((status = 200, description = "Pending changes and the last successes and errors.", body = NodeSyncStatus))
)]
pub async fn sync_status(State(s): State<NodeState>) -> Result<axum::Json<NodeSyncStatus>, ApiError> {
    Ok(axum::Json(s.sync_status().await?))
}
