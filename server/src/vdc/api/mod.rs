//! The vdc's REST API and the sync endpoints the nodes call. Every route declares who may call it.

mod errors;
mod images;
mod nodes;
mod sync;
mod vms;

use std::sync::Arc;

use app::model::sync_paths;
use axum::{Router, extract::DefaultBodyLimit, http::Method, routing::post};

use super::VdcState;
use crate::auth::{
    Access, Routes,
    routes::{ADMIN, Guard, OPERATOR, RouteTable, VIEWER},
};
use crate::http;

/// A full inventory of thousands of images is larger than axum's 2 MB default.
const SYNC_BODY_LIMIT: usize = 256 << 20;

/// The API with every route's access enforced, and the table of those routes (for the pages and tests).
pub fn routes(state: VdcState, guard: Guard) -> (Router, Arc<RouteTable>) {
    let mut routes = Routes::new()
        .get(VIEWER, "/api/v1/images", images::list)
        .get(VIEWER, "/api/v1/images/folders", images::folders)
        .post(OPERATOR, "/api/v1/images/folders", images::create_folder)
        .audited("folder_create")
        .get(VIEWER, "/api/v1/images/{id}", images::get_one)
        .delete(OPERATOR, "/api/v1/images/{id}", images::delete_image)
        .audited("image_delete")
        .post(OPERATOR, "/api/v1/images/{id}/move", images::move_image)
        .audited("image_move")
        .patch(OPERATOR, "/api/v1/images/{id}", images::update_image)
        .audited("image_update")
        .get(VIEWER, "/api/v1/nodes", nodes::list)
        .delete(ADMIN, "/api/v1/nodes/{node_id}/credential", nodes::reset_credential)
        .audited("node_credential_reset")
        .get(VIEWER, "/api/v1/events", crate::vdc::live::events)
        .get(VIEWER, "/api/v1/vms", vms::list)
        .post(OPERATOR, "/api/v1/vms", vms::create)
        .audited("vm_create")
        .get(VIEWER, "/api/v1/vms/{id}", vms::get_one)
        .delete(OPERATOR, "/api/v1/vms/{id}", vms::delete)
        .audited("vm_delete")
        .get(VIEWER, "/api/v1/vms/{id}/domain.xml", vms::domain_xml);
    // The sync service: a node registers once with the cluster token, and speaks for itself alone with
    // the credential it got.
    routes = routes.post(Access::Cluster, sync_paths::REGISTER_NODE, sync::register);
    for (path, handler) in [
        (sync_paths::NOTIFY_IMAGE_CHANGE, post(sync::notify)),
        (sync_paths::NOTIFY_IMAGE_CHANGES, post(sync::notify_batch)),
        (sync_paths::SYNC_NODE_IMAGES, post(sync::full_sync)),
        (sync_paths::HEARTBEAT, post(sync::heartbeat)),
    ] {
        routes =
            routes.add_router(Access::Node, Method::POST, path, handler.layer(DefaultBodyLimit::max(SYNC_BODY_LIMIT)));
    }
    http::finish(crate::auth::api::mount(routes), "vdc", state, guard)
}
