//! `GET /metrics` on a node: the process's metrics, with what only a scrape reads set first (pools'
//! space, the outbox).

use axum::{extract::State, response::Response};
use metrics::gauge;

use crate::http::ApiError;
use crate::node::NodeState;
use crate::telemetry::metrics::{self as m, names};

#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    summary = "Prometheus metrics",
    description = "The Prometheus text format: requests and latency by route and status, uploads (bytes, in flight), each pool's free space, the outbox depth and the age of its oldest change, sync calls. A viewer's API token is enough.",
    responses((status = 200, description = "The metrics, Prometheus text format 0.0.4.", content_type = "text/plain", body = String))
)]
pub async fn metrics(State(s): State<NodeState>) -> Result<Response, ApiError> {
    let counts = s.store.count_by_pool().await?;
    let node = s.identity.id.to_string();
    m::pools(&node, &s.pools.describe(counts).await.map_err(ApiError::internal)?);
    gauge!(names::OUTBOX_DEPTH, "node" => node.clone()).set(s.store.pending_count().await? as f64);
    let oldest = s.store.oldest_pending_at().await?;
    let age = oldest.map_or(0, |at| (crate::now_unix() - at).max(0));
    gauge!(names::OUTBOX_OLDEST_AGE, "node" => node).set(age as f64);
    Ok(m::render())
}
