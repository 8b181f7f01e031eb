//! Prometheus metrics: one recorder per process (both roles of the all-in-one, and every role a test
//! starts, share it), rendered by each role's `GET /metrics`. What a scrape reads from a database
//! (outbox depth, node states) is set as gauges by that role's handler just before rendering.

use std::{
    sync::OnceLock,
    time::{Duration, Instant},
};

use axum::{
    extract::{MatchedPath, Request},
    middleware::Next,
    response::{IntoResponse, Response},
};
use metrics::{counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Every metric's name, in one place (the README lists them).
pub mod names {
    pub const HTTP_REQUESTS: &str = "quantix_http_requests_total";
    pub const HTTP_DURATION: &str = "quantix_http_request_duration_seconds";
    pub const UPLOAD_BYTES: &str = "quantix_upload_bytes_total";
    pub const UPLOADS_IN_FLIGHT: &str = "quantix_uploads_in_flight";
    pub const POOL_FREE_BYTES: &str = "quantix_pool_free_bytes";
    pub const POOL_CAPACITY_BYTES: &str = "quantix_pool_capacity_bytes";
    pub const OUTBOX_DEPTH: &str = "quantix_node_outbox_depth";
    pub const OUTBOX_OLDEST_AGE: &str = "quantix_node_outbox_oldest_age_seconds";
    pub const SYNC_CALLS: &str = "quantix_node_sync_calls_total";
    pub const EVENTS_INGESTED: &str = "quantix_vdc_sync_events_total";
    pub const INVENTORY_IMAGES: &str = "quantix_vdc_inventory_images_total";
    pub const NODE_STATE: &str = "quantix_vdc_node_sync_state";
    pub const NODE_CONTACT_AGE: &str = "quantix_vdc_node_last_contact_age_seconds";
    pub const NODE_FULL_SYNC_AGE: &str = "quantix_vdc_node_last_full_sync_age_seconds";
    pub const NODE_PENDING: &str = "quantix_vdc_node_pending_changes";
    pub const SSE_CLIENTS: &str = "quantix_vdc_sse_clients";
    pub const REPLICA_LISTENER_UP: &str = "quantix_vdc_replica_listener_up";
    pub const REPLICA_RESYNCS: &str = "quantix_vdc_replica_resyncs_total";
}

/// Request latencies, in seconds: from a cached read to a multi-gigabyte upload.
const LATENCY_BUCKETS: &[f64] =
    &[0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 120.0, 600.0];

/// The process's recorder, installed on first use. A second `install` in one process fails, so the
/// handle is kept here and every role (and every test role) shares it.
pub fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let handle = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(names::HTTP_DURATION.into()), LATENCY_BUCKETS)
            .expect("latency buckets are not empty")
            .install_recorder()
            .expect("the only metrics recorder of this process");
        describe();
        // Histogram samples wait in a buffer until they are folded in; a role nobody scrapes must not
        // grow it forever.
        let upkeep = handle.clone();
        std::thread::Builder::new()
            .name("metrics-upkeep".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(Duration::from_secs(5));
                    upkeep.run_upkeep();
                }
            })
            .expect("a thread for metrics upkeep");
        handle
    })
}

fn describe() {
    use names::*;
    describe_counter!(HTTP_REQUESTS, "API requests answered, by role, method, route template and status.");
    describe_histogram!(
        HTTP_DURATION,
        metrics::Unit::Seconds,
        "API request latency, by role, method, route template and status."
    );
    describe_counter!(
        UPLOAD_BYTES,
        metrics::Unit::Bytes,
        "Bytes received by uploads, by pool (also of uploads that failed later)."
    );
    describe_gauge!(UPLOADS_IN_FLIGHT, "Uploads being received now, by pool.");
    describe_gauge!(
        POOL_FREE_BYTES,
        metrics::Unit::Bytes,
        "Room an upload can still use in each pool (quota and claims of uploads in progress counted)."
    );
    describe_gauge!(POOL_CAPACITY_BYTES, metrics::Unit::Bytes, "Each pool's capacity (its filesystem, or its quota).");
    describe_gauge!(
        OUTBOX_DEPTH,
        "Images with a change recorded on the node and not yet acknowledged by the vdc (one record each)."
    );
    describe_gauge!(
        OUTBOX_OLDEST_AGE,
        metrics::Unit::Seconds,
        "Age of the oldest change not yet acknowledged by the vdc (0 when none waits)."
    );
    describe_counter!(SYNC_CALLS, "The node's sync calls to the vdc, by call and result.");
    describe_counter!(
        EVENTS_INGESTED,
        "Image changes from nodes that the vdc applied or ignored (stale or repeated), by node."
    );
    describe_gauge!(
        NODE_STATE,
        "Each node's sync state as the vdc sees it: 1 for its current state, 0 for the others."
    );
    describe_gauge!(NODE_CONTACT_AGE, metrics::Unit::Seconds, "Seconds since the vdc last heard from each node.");
    describe_gauge!(
        NODE_FULL_SYNC_AGE,
        metrics::Unit::Seconds,
        "Seconds since each node's last full inventory (absent before the first)."
    );
    describe_gauge!(NODE_PENDING, "Changes each node reported waiting in its outbox at its last heartbeat.");
    describe_gauge!(SSE_CLIENTS, "Live-update streams (GET /api/v1/events) open on this replica.");
    describe_gauge!(
        REPLICA_LISTENER_UP,
        "1 while this replica hears other replicas' changes (PostgreSQL LISTEN), 0 while it reconnects."
    );
    describe_counter!(
        REPLICA_RESYNCS,
        "Times this replica's pages were told to resync because its listener had lost its connection."
    );
}

/// The text format Prometheus scrapes.
pub fn render() -> Response {
    let body = handle().render();
    ([(http::header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], body).into_response()
}

/// Counts and times every API request by its route template (never the raw path: ids would make a
/// series per image) and its status. Runs inside the router, where the matched route is known.
pub async fn track_requests(role: &'static str, req: Request, next: Next) -> Response {
    let route = req.extensions().get::<MatchedPath>().map(|m| m.as_str().to_owned());
    let method = req.method().as_str().to_owned();
    let started = Instant::now();
    let response = next.run(req).await;
    let Some(route) = route else { return response };
    let labels = [
        ("role", role.to_owned()),
        ("method", method),
        ("route", route),
        ("status", response.status().as_u16().to_string()),
    ];
    counter!(names::HTTP_REQUESTS, &labels).increment(1);
    histogram!(names::HTTP_DURATION, &labels).record(started.elapsed().as_secs_f64());
    response
}

/// One upload being received: counted in [`names::UPLOADS_IN_FLIGHT`] until dropped. Node metrics carry
/// the node's id: the all-in-one (and a test) runs a vdc and nodes in one process, with one recorder.
pub struct UploadInFlight {
    labels: [(&'static str, String); 2],
}

impl UploadInFlight {
    pub fn start(node: &str, pool: &str) -> Self {
        let labels = [("node", node.to_owned()), ("pool", pool.to_owned())];
        gauge!(names::UPLOADS_IN_FLIGHT, &labels).increment(1.0);
        Self { labels }
    }

    pub fn received(&self, bytes: usize) {
        counter!(names::UPLOAD_BYTES, &self.labels).increment(bytes as u64);
    }
}

impl Drop for UploadInFlight {
    fn drop(&mut self) {
        gauge!(names::UPLOADS_IN_FLIGHT, &self.labels).decrement(1.0);
    }
}

/// Sets each pool's space gauges.
pub fn pools(node: &str, pools: &[app::model::StoragePool]) {
    for p in pools {
        let labels = [("node", node.to_owned()), ("pool", p.id.to_string())];
        gauge!(names::POOL_FREE_BYTES, &labels).set(p.free_bytes as f64);
        gauge!(names::POOL_CAPACITY_BYTES, &labels).set(p.capacity_bytes as f64);
    }
}
