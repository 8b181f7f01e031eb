use app::model::{NodeSyncStatus, PoolList};
use axum::extract::State;

use crate::http::ApiError;
use crate::node::NodeState;

pub async fn list(State(s): State<NodeState>) -> Result<axum::Json<PoolList>, ApiError> {
    let counts = s.store.count_by_pool().await?;
    let pools = s.pools.clone();
    let pools = tokio::task::spawn_blocking(move || {
        pools
            .iter()
            .map(|p| {
                let n = counts.iter().find(|(id, _)| *id == p.id).map(|(_, n)| *n).unwrap_or(0);
                p.describe(n)
            })
            .collect::<std::io::Result<Vec<_>>>()
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(ApiError::internal)?;
    Ok(axum::Json(PoolList { pools }))
}

pub async fn sync_status(State(s): State<NodeState>) -> Result<axum::Json<NodeSyncStatus>, ApiError> {
    Ok(axum::Json(s.sync_status().await?))
}
