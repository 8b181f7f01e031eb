//! The node's REST API (the seed's QHCI endpoints), as an axum router over [`NodeState`]. Every route
//! declares who may call it; its method, path and schema are its handler's `#[utoipa::path]`.

mod copies;
mod download;
mod errors;
mod folders;
mod images;
mod internal;
mod metrics;
mod pools;
mod tasks;
mod tus;
mod upload;

pub use upload::UploadForm;

use axum::{Router, extract::DefaultBodyLimit, routing::MethodRouter};
use utoipa_axum::routes;

use super::NodeState;
use crate::auth::{
    Access, Routes,
    routes::{Guard, OPERATOR, VIEWER},
};
use crate::http;

fn tus_layer(r: MethodRouter<NodeState>) -> MethodRouter<NodeState> {
    r.layer(axum::middleware::map_response(tus::protocol_headers))
}

/// The API with every route's access enforced, and the table of those routes (for the pages and tests).
pub fn routes(state: NodeState, guard: Guard) -> (Router, std::sync::Arc<crate::auth::routes::RouteTable>) {
    let routes = Routes::new()
        .route(VIEWER, routes!(images::list))
        .route(VIEWER, routes!(folders::list))
        .route(OPERATOR, routes!(folders::create))
        .audited("folder_create")
        .route(OPERATOR, routes!(folders::delete))
        .audited("folder_delete")
        .route(OPERATOR, routes!(folders::rename))
        .audited("folder_rename")
        .route(VIEWER, routes!(images::get_one))
        .route(OPERATOR, routes!(images::delete_image))
        .audited("image_delete")
        .route(OPERATOR, routes!(images::update_image))
        .audited("image_update")
        .route(OPERATOR, routes!(images::move_image))
        .audited("image_move")
        .route(VIEWER, routes!(pools::list))
        .route_with(OPERATOR, routes!(upload::upload), |r| r.layer(DefaultBodyLimit::disable()))
        .audited("image_upload")
        // Resumable uploads (tus): every answer carries Tus-Resumable.
        .route_with(VIEWER, routes!(tus::options), tus_layer)
        .route_with(VIEWER, routes!(tus::list), tus_layer)
        .route_with(OPERATOR, routes!(tus::create), tus_layer)
        .audited("upload_create")
        .route_with(VIEWER, routes!(tus::head), tus_layer)
        .route_with(OPERATOR, routes!(tus::patch), |r| tus_layer(r).layer(DefaultBodyLimit::disable()))
        .route_with(OPERATOR, routes!(tus::cancel), tus_layer)
        .audited("upload_cancel")
        // Downloads from a URL, and the tasks every background transfer is shown as.
        .route(OPERATOR, routes!(download::download))
        .audited("image_download")
        .route(VIEWER, routes!(tasks::list))
        .route(VIEWER, routes!(tasks::get_one))
        .route(OPERATOR, routes!(tasks::cancel))
        .audited("task_cancel")
        .route(VIEWER, routes!(pools::sync_status))
        .route(VIEWER, routes!(metrics::metrics))
        // What the vdc forwards to the node, for the cluster only, recorded under the name of the vdc
        // user who asked.
        .route(Access::Cluster, routes!(internal::move_image))
        .audited("image_move")
        .route(Access::Cluster, routes!(internal::delete_image))
        .audited("image_delete")
        .route(Access::Cluster, routes!(internal::update_image))
        .audited("image_update")
        // Pins: the vdc's VM definitions that boot from an image, which then cannot be deleted.
        .route(Access::Cluster, routes!(internal::pin))
        .route(Access::Cluster, routes!(internal::unpin))
        // Uploads, downloads and tasks a vdc user asked for on this node.
        .route_with(Access::Cluster, routes!(internal::upload), |r| r.layer(DefaultBodyLimit::disable()))
        .audited("image_upload")
        .route(Access::Cluster, routes!(internal::download))
        .audited("image_download")
        .route(Access::Cluster, routes!(internal::tasks))
        .route(Access::Cluster, routes!(internal::task))
        .route(Access::Cluster, routes!(internal::cancel_task))
        .audited("task_cancel")
        // Copies between nodes: the vdc asks the target; the target reads from the source with a ticket.
        .route(Access::Cluster, routes!(copies::copy))
        .audited("image_copy")
        .route(Access::Ticket, routes!(copies::content));
    http::finish(crate::auth::api::mount(routes), "node", state, guard)
}
