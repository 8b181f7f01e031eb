//! What both roles share at the HTTP boundary: the error type and body, JSON extractors, health, the
//! names a role answers to, serving (HTTP or HTTPS) with graceful shutdown.

pub mod client;
mod error;
mod extract;
pub mod health;
pub mod hosts;
pub mod openapi;
pub mod serve;
pub mod tls;

pub use error::ApiError;
pub use extract::{Json, PathId, Query, sentence};

use std::sync::Arc;

use axum::{Router, routing::any};
use utoipa_axum::routes;

use crate::auth::{
    Access, Routes,
    routes::{Guard, RouteTable},
};

/// An error and its causes in one line: HTTP clients' top-level messages ("error sending request") say
/// little, their causes say why.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(c) = cur {
        parts.push(c.to_string());
        cur = c.source();
    }
    parts.dedup();
    parts.join(": ")
}

/// A role's whole router (API and pages) as it meets the network: every request named by its id and
/// traced in a span that carries it.
pub fn observed(router: Router) -> Router {
    router
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .layer(axum::middleware::from_fn(crate::telemetry::request_id::layer))
}

/// Finishes a role's API: health, the API document and its reference page, JSON 404/405 answers for
/// anything under `/api` that no route matched (instead of the HTML 404 page), and every route's access
/// enforced.
pub fn finish<S: Clone + Send + Sync + 'static>(
    routes: Routes<S>,
    role: &'static str,
    state: S,
    guard: Guard,
) -> (Router, Arc<RouteTable>) {
    let not_found = any(|| async { ApiError::not_found("not_found", "There is no such API endpoint.") });
    let routes = routes
        .route(Access::Public, routes!(health::healthz))
        .route(Access::Public, routes!(openapi::document))
        .route(Access::Public, routes!(openapi::reference))
        .any(Access::Public, "/api/{*rest}", not_found);
    let (router, table) = routes.finish(state, guard, role);
    let router = router.method_not_allowed_fallback(|| async {
        ApiError::new(
            http::StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "This endpoint does not accept that method.",
        )
    });
    (router, table)
}
