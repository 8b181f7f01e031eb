//! The vdc's REST API and the sync endpoints the nodes call. Every route declares who may call it; its
//! method, path and schema are its handler's `#[utoipa::path]`.

mod errors;
mod images;
mod metrics;
mod nodes;
mod sync;
mod tasks;
mod upload;
mod vms;

use std::sync::Arc;

use axum::{Router, extract::DefaultBodyLimit, routing::MethodRouter};
use utoipa_axum::routes;

use super::VdcState;
use crate::auth::{
    Access, Routes,
    routes::{ADMIN, Guard, OPERATOR, RouteTable, VIEWER},
};
use crate::http;

/// A full inventory of thousands of images is larger than axum's 2 MB default.
const SYNC_BODY_LIMIT: usize = 256 << 20;

fn sync_body(route: MethodRouter<VdcState>) -> MethodRouter<VdcState> {
    route.layer(DefaultBodyLimit::max(SYNC_BODY_LIMIT))
}

/// The API with every route's access enforced, and the table of those routes (for the pages and tests).
pub fn routes(state: VdcState, guard: Guard) -> (Router, Arc<RouteTable>) {
    let routes = Routes::new()
        .route(VIEWER, routes!(images::list))
        .route(VIEWER, routes!(images::folders))
        .route(OPERATOR, routes!(images::create_folder))
        .audited("folder_create")
        .route(VIEWER, routes!(images::get_one))
        .route(OPERATOR, routes!(images::delete_image))
        .audited("image_delete")
        .route(OPERATOR, routes!(images::move_image))
        .audited("image_move")
        .route(OPERATOR, routes!(images::update_image))
        .audited("image_update")
        .route(VIEWER, routes!(nodes::list))
        .route(ADMIN, routes!(nodes::reset_credential))
        .audited("node_credential_reset")
        .route(VIEWER, routes!(crate::vdc::live::events))
        .route(VIEWER, routes!(vms::list))
        .route(OPERATOR, routes!(vms::create))
        .audited("vm_create")
        .route(VIEWER, routes!(vms::get_one))
        .route(OPERATOR, routes!(vms::delete))
        .audited("vm_delete")
        .route(VIEWER, routes!(vms::domain_xml))
        .route(VIEWER, routes!(metrics::metrics))
        // Downloads and tasks on a chosen node, forwarded to it.
        .route(OPERATOR, routes!(tasks::download))
        .audited("image_download")
        .route(OPERATOR, routes!(tasks::copy))
        .audited("image_copy")
        .route_with(OPERATOR, routes!(upload::upload), |r| r.layer(DefaultBodyLimit::disable()))
        .audited("image_upload")
        .route(VIEWER, routes!(tasks::list))
        .route(VIEWER, routes!(tasks::get_one))
        .route(OPERATOR, routes!(tasks::cancel))
        .audited("task_cancel")
        // The sync service: a node registers once with the cluster token, and speaks for itself alone
        // with the credential it got.
        .route(Access::Cluster, routes!(sync::register))
        .route_with(Access::Node, routes!(sync::notify), sync_body)
        .route_with(Access::Node, routes!(sync::notify_batch), sync_body)
        .route_with(Access::Node, routes!(sync::full_sync), sync_body)
        .route_with(Access::Node, routes!(sync::digest), sync_body)
        .route_with(Access::Node, routes!(sync::bucket_inventory), sync_body)
        .route_with(Access::Node, routes!(sync::heartbeat), sync_body);
    http::finish(crate::auth::api::mount(routes), "vdc", state, guard)
}
