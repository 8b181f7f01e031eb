use app::model::{NodeSyncStatus, PoolList};
use axum::extract::State;

use crate::http::ApiError;
use crate::node::NodeState;

pub async fn list(State(s): State<NodeState>) -> Result<axum::Json<PoolList>, ApiError> {
    Ok(axum::Json(PoolList { pools: s.store.describe_pools().await.map_err(ApiError::internal)? }))
}

pub async fn sync_status(State(s): State<NodeState>) -> Result<axum::Json<NodeSyncStatus>, ApiError> {
    Ok(axum::Json(s.sync_status().await?))
}
