//! Downloads, copies and tasks on a chosen node, forwarded to it: the node runs them and is the truth
//! about them; the vdc keeps nothing of its own.

use app::model::{
    CopyRequest, CopySource, ErrorBody, NodeCopyJob, NodeDownloadRequest, NodeId, OsSource, Task, TaskList,
    TaskStarted, UserOsFields, sync_paths,
};
use axum::{Extension, extract::State};
use http::StatusCode;
use serde::Deserialize;

use crate::auth::{
    api::Actor,
    routes::AuditTarget,
    ticket::{COPY_TICKET_LIFETIME_SECS, CopyTicket},
};
use crate::http::{ApiError, Json, PathId, Query};
use crate::vdc::{VdcState, forward::ForwardError};

/// `?node_id=`: the node whose tasks are meant.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct OnNode {
    /// The node that runs the tasks.
    #[param(value_type = String)]
    node_id: NodeId,
}

#[utoipa::path(
    post,
    path = "/api/v1/storage/download",
    tag = "tasks",
    summary = "Download an image from a URL onto a node",
    description = "Forwarded to the node `node_id`, which checks the URL and its target addresses against its own settings and runs the download as a task.",
    request_body = NodeDownloadRequest,
    responses(
        (status = 202, description = "Started on the node; follow it at `GET /api/v1/tasks/{task_id}?node_id=`.", body = TaskStarted),
        (status = 400, description = "A URL that is not valid or is refused, or a bad file name, folder, checksum or pool.", body = ErrorBody),
        (status = 404, description = "No node has this id (`node_not_found`).", body = ErrorBody),
        (status = 409, description = "The pool already holds a file of that name (`name_taken`).", body = ErrorBody),
        (status = 503, description = "The node cannot be reached.", body = ErrorBody),
    )
)]
#[tracing::instrument(skip(s, actor, body))]
pub async fn download(
    State(s): State<VdcState>,
    actor: Actor,
    Json(body): Json<NodeDownloadRequest>,
) -> Result<(StatusCode, Extension<AuditTarget>, axum::Json<TaskStarted>), ApiError> {
    let (node_id, req) = body.for_node();
    let node = s.catalogue.node(node_id.as_str()).await?;
    let audit = AuditTarget(format!("{} into pool {} on {node_id}", req.url, req.pool_id));
    let started = s.nodes.download(&node, &req, actor.caller.name().as_deref()).await?;
    Ok((StatusCode::ACCEPTED, Extension(audit), axum::Json(started)))
}

#[utoipa::path(
    post,
    path = "/api/v1/images/{id}/copy",
    tag = "tasks",
    summary = "Copy an image to another node",
    description = "The node `node_id` reads the image from the node that holds it, with a ticket the vdc issues for that one image, as a task (resumed with Range after a dropped connection), and keeps it only if its bytes hash to the source's checksum. The copy keeps the folder (unless `folder` says otherwise) and a person's OS fields; the library then shows the image on both nodes.",
    params(PathId),
    request_body = CopyRequest,
    responses(
        (status = 202, description = "Started on the target node; follow it at `GET /api/v1/tasks/{task_id}?node_id=`.", body = TaskStarted),
        (status = 400, description = "A bad body, folder or pool.", body = ErrorBody),
        (status = 404, description = "No such image (`image_not_found`) or node (`node_not_found`).", body = ErrorBody),
        (status = 409, description = "The image is not hashed yet (`not_hashed`), is already in that pool (`already_there`), or the target pool holds a file of that name (`name_taken`).", body = ErrorBody),
        (status = 503, description = "A node cannot be reached, or has not said where its API is.", body = ErrorBody),
    )
)]
#[tracing::instrument(skip(s, actor, body))]
pub async fn copy(
    State(s): State<VdcState>,
    actor: Actor,
    PathId(id): PathId,
    Json(body): Json<CopyRequest>,
) -> Result<(StatusCode, Extension<AuditTarget>, axum::Json<TaskStarted>), ApiError> {
    let image = s.catalogue.get(id).await?;
    let checksum = image.checksum.clone().ok_or_else(|| {
        ApiError::conflict(
            "not_hashed",
            format!("\"{}\" is still being hashed on its node; copy it once its checksum is known.", image.filename),
        )
    })?;
    let source_id = image.node_id.clone().ok_or_else(|| ApiError::internal(format!("image {id} has no node")))?;
    let source = s.catalogue.node(source_id.as_str()).await?;
    let target = s.catalogue.node(body.node_id.as_str()).await?;
    if source.id == target.id && image.storage_pool_id.as_ref() == Some(&body.pool_id) {
        return Err(ApiError::conflict(
            "already_there",
            format!(
                "\"{}\" is already in pool {} on {}; choose another host or pool.",
                image.filename, body.pool_id, target.name
            ),
        ));
    }
    let source_api = source
        .api_url
        .as_deref()
        .ok_or_else(|| ForwardError::NoUrl { id: source.id.clone(), name: source.name.clone() })?;
    let ticket = s.nodes.copy_ticket(&CopyTicket {
        image_id: id,
        source: source.id.clone(),
        target: target.id.clone(),
        expires_at: crate::now_unix() + COPY_TICKET_LIFETIME_SECS,
    });
    let user_os = (image.os_source == Some(OsSource::User)).then(|| UserOsFields {
        os_family: image.os_family.clone(),
        os_distribution: image.os_distribution.clone(),
        os_version: image.os_version.clone(),
    });
    let job = NodeCopyJob {
        source: CopySource {
            url: format!("{source_api}{}", sync_paths::with_id(sync_paths::INTERNAL_CONTENT, id)),
            ticket,
            label: format!(
                "{}/{} on {}",
                image.folder_path.as_str().trim_end_matches('/'),
                image.filename,
                source.name
            ),
        },
        pool_id: body.pool_id.clone(),
        folder: body.folder.unwrap_or_else(|| image.folder_path.clone()),
        filename: image.filename.clone(),
        checksum,
        user_os,
    };
    let audit = AuditTarget(format!("{} from {} to pool {} on {}", image.filename, source.id, body.pool_id, target.id));
    let started = s.nodes.copy(&target, &job, actor.caller.name().as_deref()).await?;
    Ok((StatusCode::ACCEPTED, Extension(audit), axum::Json(started)))
}

#[utoipa::path(
    get,
    path = "/api/v1/tasks",
    tag = "tasks",
    summary = "A node's running and recent transfers",
    params(OnNode),
    responses(
        (status = 200, description = "The node's tasks, as it lists them.", body = TaskList),
        (status = 400, description = "No valid `node_id`.", body = ErrorBody),
        (status = 404, description = "No node has this id (`node_not_found`).", body = ErrorBody),
        (status = 503, description = "The node cannot be reached.", body = ErrorBody),
    )
)]
pub async fn list(State(s): State<VdcState>, Query(q): Query<OnNode>) -> Result<axum::Json<TaskList>, ApiError> {
    let node = s.catalogue.node(q.node_id.as_str()).await?;
    Ok(axum::Json(s.nodes.tasks(&node).await?))
}

#[utoipa::path(
    get,
    path = "/api/v1/tasks/{id}",
    tag = "tasks",
    summary = "One transfer on a node",
    params(PathId, OnNode),
    responses(
        (status = 200, description = "The task.", body = Task),
        (status = 400, description = "No valid `node_id`, or the id is not a UUID.", body = ErrorBody),
        (status = 404, description = "No such node (`node_not_found`) or task (`task_not_found`).", body = ErrorBody),
        (status = 503, description = "The node cannot be reached.", body = ErrorBody),
    )
)]
pub async fn get_one(
    State(s): State<VdcState>,
    PathId(id): PathId,
    Query(q): Query<OnNode>,
) -> Result<axum::Json<Task>, ApiError> {
    let node = s.catalogue.node(q.node_id.as_str()).await?;
    Ok(axum::Json(s.nodes.task(&node, id).await?))
}

#[utoipa::path(
    delete,
    path = "/api/v1/tasks/{id}",
    tag = "tasks",
    summary = "Cancel a transfer on a node",
    params(PathId, OnNode),
    responses(
        (status = 202, description = "Cancelling: the task as the node answered.", body = Task),
        (status = 400, description = "No valid `node_id`, or the id is not a UUID.", body = ErrorBody),
        (status = 404, description = "No such node (`node_not_found`) or task (`task_not_found`).", body = ErrorBody),
        (status = 409, description = "The task is over already (`task_over`).", body = ErrorBody),
        (status = 423, description = "A chunk of the upload is being written (`upload_busy`).", body = ErrorBody),
        (status = 503, description = "The node cannot be reached.", body = ErrorBody),
    )
)]
#[tracing::instrument(skip(s, actor))]
pub async fn cancel(
    State(s): State<VdcState>,
    actor: Actor,
    PathId(id): PathId,
    Query(q): Query<OnNode>,
) -> Result<(StatusCode, Extension<AuditTarget>, axum::Json<Task>), ApiError> {
    let node = s.catalogue.node(q.node_id.as_str()).await?;
    let task = s.nodes.cancel_task(&node, id, actor.caller.name().as_deref()).await?;
    let audit = AuditTarget(format!("{} {} on {}", task.kind.as_str(), task.filename, q.node_id));
    Ok((StatusCode::ACCEPTED, Extension(audit), axum::Json(task)))
}
