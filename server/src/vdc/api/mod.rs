//! The vdc's REST API and the sync endpoints the nodes call.

mod errors;
mod images;
mod nodes;
mod sync;
mod vms;

use axum::{
    Router, middleware,
    routing::{get, post},
};

use app::model::sync_paths;

use super::VdcState;
use crate::http;

pub fn router(state: VdcState) -> Router {
    let token = state.cluster_token.clone();
    let sync = Router::new()
        .route(sync_paths::NOTIFY_IMAGE_CHANGE, post(sync::notify))
        .route(sync_paths::NOTIFY_IMAGE_CHANGES, post(sync::notify_batch))
        .route(sync_paths::SYNC_NODE_IMAGES, post(sync::full_sync))
        .route(sync_paths::HEARTBEAT, post(sync::heartbeat))
        .route_layer(middleware::from_fn(move |req, next| http::auth::require_token(token.clone(), req, next)))
        // A full inventory of thousands of images is larger than axum's 2 MB default.
        .layer(axum::extract::DefaultBodyLimit::max(256 << 20));
    let api = Router::new()
        .route("/api/v1/images", get(images::list))
        .route("/api/v1/images/folders", get(images::folders).post(images::create_folder))
        .route("/api/v1/images/{id}", get(images::get_one).delete(images::delete_image))
        .route("/api/v1/images/{id}/move", post(images::move_image))
        .route("/api/v1/nodes", get(nodes::list))
        .route("/api/v1/events", get(crate::vdc::live::events))
        .route("/api/v1/vms", get(vms::list).post(vms::create))
        .route("/api/v1/vms/{id}", get(vms::get_one).delete(vms::delete))
        .route("/api/v1/vms/{id}/domain.xml", get(vms::domain_xml))
        .merge(sync)
        .with_state(state);
    http::api_fallbacks(api.merge(http::health::router("vdc")))
}
