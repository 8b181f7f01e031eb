use app::model::Health;

use crate::auth::{Access, Routes};

/// `GET /healthz`: answers anyone, as soon as the role serves requests.
pub fn mount<S: Clone + Send + Sync + 'static>(routes: Routes<S>, role: &'static str) -> Routes<S> {
    routes.get(Access::Public, "/healthz", move || async move {
        axum::Json(Health { status: "ok".into(), role: role.into(), version: env!("CARGO_PKG_VERSION").into() })
    })
}
