use std::sync::Arc;

use app::model::Health;
use axum::Extension;

use crate::auth::routes::RouteTable;

/// `GET /healthz`: answers anyone, as soon as the role serves requests.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "operations",
    summary = "Whether the role serves requests",
    responses((status = 200, description = "The role is up.", body = Health))
)]
pub async fn healthz(Extension(table): Extension<Arc<RouteTable>>) -> axum::Json<Health> {
    axum::Json(Health { status: "ok".into(), role: table.role().into(), version: env!("CARGO_PKG_VERSION").into() })
}
