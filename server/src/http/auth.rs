//! Cluster-token authentication of node ↔ vdc calls: `Authorization: Bearer <token>`.

use axum::{extract::Request, middleware::Next, response::Response};

use super::ApiError;
use crate::config::ClusterToken;

pub const SCHEME: &str = "Bearer ";

/// Refuses a request that does not carry `token`. With no token configured, everything passes (a
/// standalone node, or a vdc explicitly run without one).
pub async fn require_token(token: Option<ClusterToken>, req: Request, next: Next) -> Result<Response, ApiError> {
    if let Some(token) = &token {
        let presented = req
            .headers()
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix(SCHEME));
        match presented {
            Some(p) if token.matches(p) => {}
            Some(_) => return Err(ApiError::unauthorized("The cluster token sent with this call is wrong.")),
            None => {
                return Err(ApiError::unauthorized(
                    "This call needs the cluster token (Authorization: Bearer <token>).",
                ));
            }
        }
    }
    Ok(next.run(req).await)
}
