use app::model::Health;
use axum::{Router, routing::get};

/// `GET /healthz`: answers as soon as the role serves requests.
pub fn router(role: &'static str) -> Router {
    Router::new().route(
        "/healthz",
        get(move || async move {
            axum::Json(Health { status: "ok".into(), role: role.into(), version: env!("CARGO_PKG_VERSION").into() })
        }),
    )
}
