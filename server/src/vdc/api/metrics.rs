//! `GET /metrics` on the vdc: the process's metrics, with what only a scrape reads set first (each
//! node's sync state and lag, open live-update streams).

use axum::{extract::State, response::Response};
use metrics::gauge;

use crate::http::ApiError;
use crate::telemetry::metrics::{self as m, names};
use crate::vdc::VdcState;

#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    summary = "Prometheus metrics",
    description = "The Prometheus text format: requests and latency by route and status, changes applied from nodes (the ingest rate is its `rate()`), each node's sync state, seconds since its last contact and last full inventory and its pending changes, open live-update streams. A viewer's API token is enough.",
    responses((status = 200, description = "The metrics, Prometheus text format 0.0.4.", content_type = "text/plain", body = String))
)]
pub async fn metrics(State(s): State<VdcState>) -> Result<Response, ApiError> {
    let now = crate::now_unix();
    for node in s.catalogue.nodes().await? {
        let id = node.id.to_string();
        let state = node.state(now, s.timings);
        for each in app::model::NodeSyncState::ALL {
            let on = if each == state { 1.0 } else { 0.0 };
            gauge!(names::NODE_STATE, "node" => id.clone(), "state" => each.as_str()).set(on);
        }
        gauge!(names::NODE_CONTACT_AGE, "node" => id.clone()).set((now - node.last_contact_at).max(0) as f64);
        if let Some(at) = node.last_full_sync_at {
            gauge!(names::NODE_FULL_SYNC_AGE, "node" => id.clone()).set((now - at).max(0) as f64);
        }
        gauge!(names::NODE_PENDING, "node" => id).set(node.pending_changes as f64);
    }
    gauge!(names::SSE_CLIENTS).set(s.live.open_streams() as f64);
    Ok(m::render())
}
