use app::model::{NodeSyncStatus, PoolList};
use axum::extract::State;

use crate::http::ApiError;
use crate::node::NodeState;

pub async fn list(State(s): State<NodeState>) -> Result<axum::Json<PoolList>, ApiError> {
    let counts = s.store.count_by_pool().await?;
    Ok(axum::Json(PoolList { pools: s.pools.describe(counts).await.map_err(ApiError::internal)? }))
}

pub async fn sync_status(State(s): State<NodeState>) -> Result<axum::Json<NodeSyncStatus>, ApiError> {
    Ok(axum::Json(s.sync_status().await?))
}
