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
