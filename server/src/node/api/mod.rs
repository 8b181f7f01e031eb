//! The node's REST API (the seed's QHCI endpoints), as an axum router over [`NodeState`]. Every route
//! declares who may call it.

mod errors;
mod folders;
mod images;
mod pools;
mod upload;

use app::model::sync_paths;
use axum::http::Method;
use axum::{Router, extract::DefaultBodyLimit, routing::post};

use super::NodeState;
use crate::auth::{
    Access, Routes,
    routes::{Guard, OPERATOR, VIEWER},
};
use crate::http;

/// The API with every route's access enforced, and the table of those routes (for the pages and tests).
pub fn routes(state: NodeState, guard: Guard) -> (Router, std::sync::Arc<crate::auth::routes::RouteTable>) {
    let upload = post(upload::upload).layer(DefaultBodyLimit::disable());
    let routes = Routes::new()
        .get(VIEWER, "/api/v1/images", images::list)
        .get(VIEWER, "/api/v1/images/folders", folders::list)
        .post(OPERATOR, "/api/v1/images/folders", folders::create)
        .audited("folder_create")
        .delete(OPERATOR, "/api/v1/images/folders", folders::delete)
        .audited("folder_delete")
        .post(OPERATOR, "/api/v1/images/folders/rename", folders::rename)
        .audited("folder_rename")
        .get(VIEWER, "/api/v1/images/{id}", images::get_one)
        .delete(OPERATOR, "/api/v1/images/{id}", images::delete_image)
        .audited("image_delete")
        .patch(OPERATOR, "/api/v1/images/{id}", images::update_image)
        .audited("image_update")
        .post(OPERATOR, "/api/v1/images/{id}/move", images::move_image)
        .audited("image_move")
        .get(VIEWER, "/api/v1/storage/pools", pools::list)
        .add_router(OPERATOR, Method::POST, "/api/v1/storage/upload", upload)
        .audited("image_upload")
        .get(VIEWER, "/api/v1/sync/status", pools::sync_status)
        // What the vdc forwards to the node: the same handlers, for the cluster only, recorded under
        // the name of the vdc user who asked.
        .post(Access::Cluster, sync_paths::INTERNAL_MOVE, images::move_image)
        .audited("image_move")
        .delete(Access::Cluster, sync_paths::INTERNAL_IMAGE, images::delete_image)
        .audited("image_delete")
        .patch(Access::Cluster, sync_paths::INTERNAL_IMAGE, images::update_image)
        .audited("image_update")
        // Pins: the vdc's VM definitions that boot from an image, which then cannot be deleted.
        .post(Access::Cluster, sync_paths::INTERNAL_PINS, images::pin)
        .delete(Access::Cluster, sync_paths::INTERNAL_PIN, images::unpin);
    http::finish(crate::auth::api::mount(routes), "node", state, guard)
}
