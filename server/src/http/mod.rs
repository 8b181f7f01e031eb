//! What both roles share at the HTTP boundary: the error type and body, JSON extractors, health, the
//! names a role answers to, serving (HTTP or HTTPS) with graceful shutdown.

pub mod client;
mod error;
mod extract;
pub mod health;
pub mod hosts;
pub mod serve;
pub mod tls;

pub use error::ApiError;
pub use extract::{Json, PathId, Query, sentence};

use std::sync::Arc;

use axum::{Router, routing::any};

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

/// Finishes a role's API: health, JSON 404/405 answers for anything under `/api` that no route matched
/// (instead of the HTML 404 page), and every route's access enforced.
pub fn finish<S: Clone + Send + Sync + 'static>(
    routes: Routes<S>,
    role: &'static str,
    state: S,
    guard: Guard,
) -> (Router, Arc<RouteTable>) {
    let not_found = any(|| async { ApiError::not_found("not_found", "There is no such API endpoint.") });
    let routes = health::mount(routes, role).any(Access::Public, "/api/{*rest}", not_found);
    let (router, table) = routes.finish(state, guard);
    let router = router.method_not_allowed_fallback(|| async {
        ApiError::new(
            http::StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "This endpoint does not accept that method.",
        )
    });
    (router, table)
}
