use app::model::NodeList;
use axum::extract::State;

use crate::http::ApiError;
use crate::vdc::VdcState;

pub async fn list(State(s): State<VdcState>) -> Result<axum::Json<NodeList>, ApiError> {
    let now = crate::now_unix();
    let mut pools = s.catalogue.node_pools().await?;
    let nodes = s
        .catalogue
        .nodes()
        .await?
        .iter()
        .map(|n| n.info(now, s.timings, pools.remove(&n.id).unwrap_or_default()))
        .collect();
    Ok(axum::Json(NodeList { nodes }))
}

/// `DELETE /api/v1/nodes/{node_id}/credential` (admin): forgets a node's own credential, which is refused
/// from then on, so that the node (say, rebuilt with a new data directory) can register again.
#[tracing::instrument(skip(s))]
pub async fn reset_credential(
    State(s): State<VdcState>,
    axum::extract::Path(node_id): axum::extract::Path<String>,
) -> Result<http::StatusCode, ApiError> {
    let node_id =
        app::model::NodeId::parse(&node_id).map_err(|e| ApiError::bad_request("invalid_id", e.to_string()))?;
    if !s.auth.store.reset_node_credential(node_id.as_str()).await.map_err(ApiError::internal)? {
        return Err(ApiError::not_found("node_not_found", format!("Node {node_id} has no credential to reset.")));
    }
    tracing::info!(node = %node_id, "node credential reset; the node registers again at its next call");
    Ok(http::StatusCode::NO_CONTENT)
}
