//! What the vdc forwards to the node (`/internal/v1`, the cluster token): moves and deletes its users
//! asked for, through the same code as the node's own routes, and the pins of its VM definitions.

use app::model::{
    DownloadRequest, ErrorBody, IsoMetadata, MoveImageRequest, PinRequest, Task, TaskList, TaskStarted,
    UpdateImageRequest, sync_paths,
};
use axum::{
    Extension,
    extract::{Multipart, State, multipart::MultipartRejection},
};
use http::HeaderMap;
use http::StatusCode;
use uuid::Uuid;

use super::{
    images,
    upload::{UploadForm, UploadParams},
};
use crate::auth::routes::AuditTarget;
use crate::http::{ApiError, Json, PathId};
use crate::node::NodeState;

#[utoipa::path(
    post,
    path = sync_paths::INTERNAL_MOVE,
    tag = "cluster",
    summary = "Move an image (forwarded by the vdc)",
    description = "The vdc forwards a move one of its users asked for; `x-quantix-user` names that user for the audit log.",
    params(
        PathId,
        ("x-quantix-user" = Option<String>, Header, description = "The vdc user who asked."),
    ),
    request_body = MoveImageRequest,
    responses(
        (status = 200, description = "The image in its new folder.", body = IsoMetadata),
        (status = 400, description = "The id or the folder is not valid.", body = ErrorBody),
        (status = 404, description = "No image has this id.", body = ErrorBody),
    )
)]
pub async fn move_image(
    state: State<NodeState>,
    id: PathId,
    body: Json<MoveImageRequest>,
) -> Result<(Extension<AuditTarget>, axum::Json<IsoMetadata>), ApiError> {
    images::move_image(state, id, body).await
}

#[utoipa::path(
    delete,
    path = sync_paths::INTERNAL_IMAGE,
    tag = "cluster",
    summary = "Delete an image (forwarded by the vdc)",
    params(
        PathId,
        ("x-quantix-user" = Option<String>, Header, description = "The vdc user who asked."),
    ),
    responses(
        (status = 200, description = "The image as it was, with the revision of its deletion.", body = IsoMetadata),
        (status = 400, description = "The id is not a UUID.", body = ErrorBody),
        (status = 404, description = "No image has this id.", body = ErrorBody),
        (status = 409, description = "The file is busy, or a VM definition boots from it.", body = ErrorBody),
    )
)]
pub async fn delete_image(
    state: State<NodeState>,
    id: PathId,
) -> Result<(Extension<AuditTarget>, axum::Json<IsoMetadata>), ApiError> {
    images::delete_image(state, id).await
}

#[utoipa::path(
    patch,
    path = sync_paths::INTERNAL_IMAGE,
    tag = "cluster",
    summary = "Correct an image's OS fields or rename its file (forwarded by the vdc)",
    params(
        PathId,
        ("x-quantix-user" = Option<String>, Header, description = "The vdc user who asked."),
    ),
    request_body = UpdateImageRequest,
    responses(
        (status = 200, description = "The image as it is now.", body = IsoMetadata),
        (status = 400, description = "Nothing to change, bad OS fields or a bad file name.", body = ErrorBody),
        (status = 404, description = "No image has this id.", body = ErrorBody),
        (status = 409, description = "The new name is taken or busy, or the pool is not configured.", body = ErrorBody),
    )
)]
pub async fn update_image(
    state: State<NodeState>,
    id: PathId,
    body: Json<UpdateImageRequest>,
) -> Result<(Extension<AuditTarget>, axum::Json<IsoMetadata>), ApiError> {
    images::update_image(state, id, body).await
}

/// The vdc is about to commit a VM definition that boots from the image. 404 if the image is gone (the
/// definition is then not made).
#[utoipa::path(
    post,
    path = sync_paths::INTERNAL_PINS,
    tag = "cluster",
    summary = "Pin an image for a VM definition",
    params(PathId),
    request_body = PinRequest,
    responses(
        (status = 204, description = "Pinned: the node refuses to delete the image until it is unpinned."),
        (status = 400, description = "The id or the body is not valid.", body = ErrorBody),
        (status = 404, description = "No image has this id.", body = ErrorBody),
    )
)]
#[tracing::instrument(skip(s))]
pub async fn pin(
    State(s): State<NodeState>,
    PathId(id): PathId,
    Json(body): Json<PinRequest>,
) -> Result<StatusCode, ApiError> {
    app::model::text::find_hidden(&body.vm_name)
        .map_or(Ok(()), |(_, why)| Err(ApiError::bad_request("invalid_body", format!("The VM name holds {why}."))))?;
    let _serial = s.pin_lock.lock().await;
    s.store.pin(id, body.vm_id, &body.vm_name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The VM definition is gone. Unpinning what is not pinned succeeds (a repeat after a lost answer).
#[utoipa::path(
    delete,
    path = sync_paths::INTERNAL_PIN,
    tag = "cluster",
    summary = "Unpin an image",
    params(
        PathId,
        ("vm_id" = Uuid, Path, description = "The VM definition's id."),
    ),
    responses(
        (status = 204, description = "Not pinned by this VM (any more)."),
        (status = 400, description = "An id is not a UUID.", body = ErrorBody),
    )
)]
#[tracing::instrument(skip(s))]
pub async fn unpin(
    State(s): State<NodeState>,
    axum::extract::Path((id, vm_id)): axum::extract::Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let parse = |v: &str| {
        Uuid::parse_str(v).map_err(|_| {
            ApiError::bad_request(
                "invalid_id",
                format!("\"{}\" is not a valid id (a UUID).", app::model::text::shown(v)),
            )
        })
    };
    s.store.unpin(parse(&id)?, parse(&vm_id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    post,
    path = sync_paths::INTERNAL_DOWNLOAD,
    tag = "cluster",
    summary = "Download an image from a URL (forwarded by the vdc)",
    params(("x-quantix-user" = Option<String>, Header, description = "The vdc user who asked.")),
    request_body = DownloadRequest,
    responses(
        (status = 202, description = "Started.", body = TaskStarted),
        (status = 400, description = "A URL that is not valid or is refused, or a bad name, folder, checksum or pool.", body = ErrorBody),
        (status = 409, description = "The name is taken.", body = ErrorBody),
    )
)]
pub async fn download(
    state: State<NodeState>,
    body: Json<DownloadRequest>,
) -> Result<(StatusCode, Extension<AuditTarget>, axum::Json<TaskStarted>), ApiError> {
    super::download::download(state, body).await
}

#[utoipa::path(
    get,
    path = sync_paths::INTERNAL_TASKS,
    tag = "cluster",
    summary = "The node's tasks (for the vdc)",
    responses((status = 200, description = "Running tasks first, then recent ones.", body = TaskList)),
)]
pub async fn tasks(state: State<NodeState>) -> Result<axum::Json<TaskList>, ApiError> {
    super::tasks::list(state).await
}

#[utoipa::path(
    get,
    path = sync_paths::INTERNAL_TASK,
    tag = "cluster",
    summary = "One of the node's tasks (for the vdc)",
    params(PathId),
    responses(
        (status = 200, description = "The task.", body = Task),
        (status = 404, description = "No such task.", body = ErrorBody),
    )
)]
pub async fn task(state: State<NodeState>, id: PathId) -> Result<axum::Json<Task>, ApiError> {
    super::tasks::get_one(state, id).await
}

#[utoipa::path(
    delete,
    path = sync_paths::INTERNAL_TASK,
    tag = "cluster",
    summary = "Cancel one of the node's tasks (forwarded by the vdc)",
    params(PathId, ("x-quantix-user" = Option<String>, Header, description = "The vdc user who asked.")),
    responses(
        (status = 202, description = "Cancelling.", body = Task),
        (status = 404, description = "No such task.", body = ErrorBody),
        (status = 409, description = "The task is over already.", body = ErrorBody),
        (status = 423, description = "A chunk of the upload is being written.", body = ErrorBody),
    )
)]
pub async fn cancel_task(
    state: State<NodeState>,
    id: PathId,
) -> Result<(StatusCode, Extension<AuditTarget>, axum::Json<Task>), ApiError> {
    super::tasks::cancel(state, id).await
}

#[utoipa::path(
    post,
    path = sync_paths::INTERNAL_UPLOAD,
    tag = "cluster",
    summary = "Upload an image (streamed through the vdc from a library user)",
    description = "The same upload as `POST /api/v1/storage/upload`, its body streamed through the vdc as it arrives.",
    params(UploadParams, ("x-quantix-user" = Option<String>, Header, description = "The vdc user who asked.")),
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "The new image.", body = IsoMetadata),
        (status = 400, description = "Not multipart, no file part, a bad file name, folder or checksum, or an incomplete body.", body = ErrorBody),
        (status = 404, description = "No pool has this id (`unknown_pool`).", body = ErrorBody),
        (status = 409, description = "The name is taken or being uploaded, or the node has no pool.", body = ErrorBody),
        (status = 422, description = "The bytes do not hash to `checksum` (`checksum_mismatch`).", body = ErrorBody),
        (status = 507, description = "The pool lacks the room (`insufficient_storage`).", body = ErrorBody),
    )
)]
pub async fn upload(
    state: State<NodeState>,
    query: crate::http::Query<UploadParams>,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<(StatusCode, Extension<AuditTarget>, axum::Json<IsoMetadata>), ApiError> {
    super::upload::upload(state, query, headers, multipart).await
}
