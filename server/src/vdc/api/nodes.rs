use app::model::{ErrorBody, NodeList};
use axum::extract::State;

use crate::http::ApiError;
use crate::vdc::VdcState;

#[utoipa::path(
    get,
    path = "/api/v1/nodes",
    tag = "nodes",
    summary = "The cluster's nodes with their sync state",
    responses((status = 200, description = "Every node the vdc has heard from.", body = NodeList))
)]
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
#[utoipa::path(
    delete,
    path = "/api/v1/nodes/{node_id}/credential",
    tag = "nodes",
    summary = "Forget a node's own credential",
    params(("node_id" = String, Path, description = "The node's id.")),
    responses(
        (status = 204, description = "Forgotten: the node registers again at its next call."),
        (status = 400, description = "Not a valid node id.", body = ErrorBody),
        (status = 404, description = "The node has no credential.", body = ErrorBody),
    )
)]
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
