//! What both roles share at the HTTP boundary: the error type and body, JSON extractors, health, serving
//! with graceful shutdown, and cluster-token authentication.

pub mod auth;
mod error;
mod extract;
pub mod health;
pub mod serve;

pub use error::ApiError;
pub use extract::{Json, PathId, Query, sentence};

use axum::{Router, routing::any};

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

/// JSON 404/405 answers for anything under `/api` that no route matched, instead of the HTML 404 page.
pub fn api_fallbacks(router: Router) -> Router {
    router
        .route("/api/{*rest}", any(|| async { ApiError::not_found("not_found", "There is no such API endpoint.") }))
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                http::StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "This endpoint does not accept that method.",
            )
        })
}
