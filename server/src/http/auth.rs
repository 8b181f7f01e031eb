//! Cluster-token authentication of node ↔ vdc calls: `Authorization: Bearer <token>`.

use axum::{extract::Request, middleware::Next, response::Response};

use super::ApiError;
use crate::config::ClusterToken;

pub const SCHEME: &str = "Bearer ";

/// Refuses a request that does not carry `token`. Without a configured token (a standalone node) every
/// such call is refused: nobody is entitled to make it.
pub async fn require_token(token: Option<ClusterToken>, req: Request, next: Next) -> Result<Response, ApiError> {
    let Some(token) = &token else {
        return Err(ApiError::unauthorized(
            "This server has no cluster token configured, so it accepts no cluster calls.",
        ));
    };
    let presented = req
        .headers()
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix(SCHEME));
    match presented {
        Some(p) if token.matches(p) => Ok(next.run(req).await),
        Some(_) => Err(ApiError::unauthorized("The cluster token sent with this call is wrong.")),
        None => Err(ApiError::unauthorized("This call needs the cluster token (Authorization: Bearer <token>).")),
    }
}
