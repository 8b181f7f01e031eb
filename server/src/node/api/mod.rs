//! The node's REST API (the seed's QHCI endpoints), as an axum router over [`NodeState`].

mod errors;
mod folders;
mod images;
mod pools;
mod upload;

use axum::{
    Router,
    extract::DefaultBodyLimit,
    middleware,
    routing::{delete, get, post},
};

use app::model::sync_paths;

use super::NodeState;
use crate::http;

pub fn router(state: NodeState) -> Router {
    let token = state.cluster_token.clone();
    // What the vdc forwards to the node: the same handlers, behind the cluster token.
    let forwarded = Router::new()
        .route(sync_paths::INTERNAL_MOVE, post(images::move_image))
        .route(sync_paths::INTERNAL_IMAGE, delete(images::delete_image))
        .route_layer(middleware::from_fn(move |req, next| http::auth::require_token(token.clone(), req, next)));
    let api = Router::new()
        .route("/api/v1/images", get(images::list))
        .route("/api/v1/images/folders", get(folders::list).post(folders::create).delete(folders::delete))
        .route("/api/v1/images/folders/rename", post(folders::rename))
        .route("/api/v1/images/{id}", get(images::get_one).delete(images::delete_image))
        .route("/api/v1/images/{id}/move", post(images::move_image))
        .route("/api/v1/storage/pools", get(pools::list))
        .route("/api/v1/storage/upload", post(upload::upload).layer(DefaultBodyLimit::disable()))
        .route("/api/v1/sync/status", get(pools::sync_status))
        .merge(forwarded)
        .with_state(state);
    http::api_fallbacks(api.merge(http::health::router("node")))
}
