//! Copies of an image between nodes, which the vdc arranges: it asks the target node to make the copy
//! (`/internal/v1/copies`, the cluster token), and gives it a ticket with which the source node lets it
//! read the image's bytes (`/internal/v1/images/{id}/content`), with Range so a dropped copy resumes.

use app::model::{ErrorBody, NodeCopyJob, TaskStarted, sync_paths};
use axum::{
    Extension,
    extract::{Request, State},
    response::{IntoResponse, Response},
};
use http::StatusCode;
use tower::ServiceExt;

use crate::auth::{
    routes::AuditTarget,
    ticket::{CopyTicket, TICKET_HEADER},
};
use crate::http::{ApiError, Json, PathId};
use crate::node::{NodeState, names::ImageFileName};

fn ticket_refused(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "ticket_refused", message)
}

/// Which ticket `req` carries, if it is this cluster's, unexpired, and for image `id` on this node.
fn check_ticket(s: &NodeState, req: &Request, id: uuid::Uuid) -> Result<CopyTicket, ApiError> {
    let sealed = req.headers().get(TICKET_HEADER).and_then(|v| v.to_str().ok()).ok_or_else(|| {
        ticket_refused(format!(
            "Reading an image's bytes needs a copy ticket from the vdc in {TICKET_HEADER} (ask the vdc: POST /api/v1/images/{{id}}/copy)."
        ))
    })?;
    let token = s.cluster_token.as_ref().ok_or_else(|| {
        ticket_refused(
            "This node is not part of a cluster (it has no cluster token), so it cannot check a copy ticket.",
        )
    })?;
    let ticket = CopyTicket::open(sealed, token, crate::now_unix()).map_err(|e| ticket_refused(e.to_string()))?;
    if ticket.image_id != id || ticket.source != s.identity.id {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "ticket_not_for_this",
            format!(
                "The copy ticket is for image {} on node {}, not for image {id} on this node ({}).",
                ticket.image_id, ticket.source, s.identity.id
            ),
        ));
    }
    Ok(ticket)
}

#[utoipa::path(
    get,
    path = sync_paths::INTERNAL_CONTENT,
    tag = "cluster",
    summary = "An image's bytes, for a copy to another node",
    description = "What a node making a copy reads, with the ticket the vdc issued for it. `Range: bytes=<from>-` resumes a dropped copy (206 with `Content-Range`).",
    params(PathId, ("x-quantix-ticket" = String, Header, description = "The vdc's copy ticket.")),
    responses(
        (status = 200, description = "The image's bytes.", content_type = "application/octet-stream"),
        (status = 206, description = "The bytes from the offset asked for.", content_type = "application/octet-stream"),
        (status = 400, description = "The id is not a UUID.", body = ErrorBody),
        (status = 404, description = "No image has this id, or its file is gone.", body = ErrorBody),
        (status = 416, description = "The range is past the end of the file."),
    )
)]
#[tracing::instrument(skip(s, req))]
pub async fn content(State(s): State<NodeState>, PathId(id): PathId, req: Request) -> Result<Response, ApiError> {
    let ticket = check_ticket(&s, &req, id)?;
    let meta = s.store.get(id).await?;
    let gone =
        || ApiError::not_found("image_not_found", format!("The file of image {id} is not on this node any more."));
    let pool = meta.storage_pool_id.as_ref().and_then(|p| s.pools.get(p.as_str())).ok_or_else(gone)?;
    let name = ImageFileName::on_disk(&meta.filename).map_err(|_| gone())?;
    tracing::info!(image = %id, file = %meta.filename, to = %ticket.target, "serving a copy");
    let served = tower_http::services::ServeFile::new(pool.path_of(&name))
        .oneshot(req)
        .await
        .unwrap_or_else(|never| match never {});
    if served.status() == StatusCode::NOT_FOUND {
        return Err(gone());
    }
    Ok(served.into_response())
}

#[utoipa::path(
    post,
    path = sync_paths::INTERNAL_COPIES,
    tag = "cluster",
    summary = "Copy an image from another node (asked by the vdc)",
    description = "Starts a task that reads the image from the source node with the vdc's ticket, resuming with Range after a dropped connection, and keeps it only if its bytes hash to the source's checksum.",
    params(("x-quantix-user" = Option<String>, Header, description = "The vdc user who asked.")),
    request_body = NodeCopyJob,
    responses(
        (status = 202, description = "Started; follow it at `GET /api/v1/tasks/{task_id}`.", body = TaskStarted),
        (status = 400, description = "A bad URL, ticket, name, folder, checksum or pool.", body = ErrorBody),
        (status = 409, description = "The pool already holds a file of that name (`name_taken`).", body = ErrorBody),
    )
)]
#[tracing::instrument(skip(s, job))]
pub async fn copy(
    State(s): State<NodeState>,
    Json(job): Json<NodeCopyJob>,
) -> Result<(StatusCode, Extension<AuditTarget>, axum::Json<TaskStarted>), ApiError> {
    let audit = format!("{} into pool {}", job.source.label, job.pool_id);
    let task_id = s.downloads.copy(job).await?;
    Ok((StatusCode::ACCEPTED, Extension(AuditTarget(audit)), axum::Json(TaskStarted { task_id })))
}
