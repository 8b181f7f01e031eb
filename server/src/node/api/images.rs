use app::model::{ErrorBody, FolderPath, ImageList, ImageQuery, IsoMetadata, MoveImageRequest, UpdateImageRequest};
use axum::{Extension, extract::State};

use crate::auth::routes::AuditTarget;
use crate::db::ImageFilter;
use crate::http::{ApiError, Json, PathId, Query};
use crate::node::NodeState;

/// Paged and searched in SQL. The node answers for itself: a `node_id` naming another node selects
/// nothing.
#[utoipa::path(
    get,
    path = "/api/v1/images",
    tag = "images",
    summary = "This node's images, filtered, sorted and paged",
    params(ImageQuery),
    responses(
        (status = 200, description = "One page of images; `next_cursor` leads to the next.", body = ImageList),
        (status = 400, description = "A filter, the sort, the limit or the cursor is not valid, or `group` was asked (the vdc's).", body = ErrorBody),
    )
)]
#[tracing::instrument(skip(s))]
pub async fn list(State(s): State<NodeState>, Query(q): Query<ImageQuery>) -> Result<axum::Json<ImageList>, ApiError> {
    let filter = ImageFilter::parse(q)?.ungrouped()?;
    if filter.node_id.as_ref().is_some_and(|n| *n != s.identity.id) {
        return Ok(axum::Json(ImageList { images: Vec::new(), next_cursor: None }));
    }
    Ok(axum::Json(s.store.list(&filter).await?))
}

#[utoipa::path(
    get,
    path = "/api/v1/images/{id}",
    tag = "images",
    summary = "One image",
    params(PathId),
    responses(
        (status = 200, description = "The image.", body = IsoMetadata),
        (status = 400, description = "The id is not a UUID (`invalid_id`).", body = ErrorBody),
        (status = 404, description = "No image has this id (`image_not_found`).", body = ErrorBody),
    )
)]
pub async fn get_one(State(s): State<NodeState>, PathId(id): PathId) -> Result<axum::Json<IsoMetadata>, ApiError> {
    Ok(axum::Json(s.store.get(id).await?))
}

/// Moves an image to another folder (metadata only: the file stays where it is).
#[utoipa::path(
    post,
    path = "/api/v1/images/{id}/move",
    tag = "images",
    summary = "Move an image to another folder",
    params(PathId),
    request_body = MoveImageRequest,
    responses(
        (status = 200, description = "The image in its new folder, with its new revision.", body = IsoMetadata),
        (status = 400, description = "The id or the folder is not valid.", body = ErrorBody),
        (status = 404, description = "No image has this id.", body = ErrorBody),
    )
)]
#[tracing::instrument(skip(s))]
pub async fn move_image(
    State(s): State<NodeState>,
    PathId(id): PathId,
    Json(body): Json<MoveImageRequest>,
) -> Result<(Extension<AuditTarget>, axum::Json<IsoMetadata>), ApiError> {
    let folder = FolderPath::parse(&body.folder_path)?;
    let moved = s.store.move_image(id, &folder).await?;
    Ok((Extension(AuditTarget(format!("{} to {}", moved.filename, moved.folder_path))), axum::Json(moved)))
}

/// An operator corrects the OS fields and/or renames the file.
#[utoipa::path(
    patch,
    path = "/api/v1/images/{id}",
    tag = "images",
    summary = "Correct an image's OS fields or rename its file",
    description = "OS fields given become the user's (`os_source: user`, never overwritten by detection); `filename` renames the file on disk, never over another, keeping the id.",
    params(PathId),
    request_body = UpdateImageRequest,
    responses(
        (status = 200, description = "The image as it is now.", body = IsoMetadata),
        (status = 400, description = "Nothing to change, bad OS fields (`invalid_os`), or a bad file name or a change of format (`invalid_filename`).", body = ErrorBody),
        (status = 404, description = "No image has this id.", body = ErrorBody),
        (status = 409, description = "The new name is taken or being written (`busy`, `name_taken`), or the image's pool is not configured (`no_pool`).", body = ErrorBody),
    )
)]
#[tracing::instrument(skip(s))]
pub async fn update_image(
    State(s): State<NodeState>,
    PathId(id): PathId,
    Json(body): Json<UpdateImageRequest>,
) -> Result<(Extension<AuditTarget>, axum::Json<IsoMetadata>), ApiError> {
    let updated = s.update_image(id, &body).await?;
    Ok((Extension(AuditTarget(updated.path.clone())), axum::Json(updated)))
}

/// Deletes the file, then the row; answers the image as it was, with the revision of the deletion.
#[utoipa::path(
    delete,
    path = "/api/v1/images/{id}",
    tag = "images",
    summary = "Delete an image: its file and its metadata",
    params(PathId),
    responses(
        (status = 200, description = "The image as it was, with the revision of its deletion.", body = IsoMetadata),
        (status = 400, description = "The id is not a UUID.", body = ErrorBody),
        (status = 404, description = "No image has this id.", body = ErrorBody),
        (status = 409, description = "The file is being written (`busy`), or a VM definition boots from it (`image_in_use`).", body = ErrorBody),
    )
)]
#[tracing::instrument(skip(s))]
pub async fn delete_image(
    State(s): State<NodeState>,
    PathId(id): PathId,
) -> Result<(Extension<AuditTarget>, axum::Json<IsoMetadata>), ApiError> {
    let meta = s.store.get(id).await?;
    let deleted = s.delete_image(meta).await?;
    Ok((Extension(AuditTarget(deleted.path.clone())), axum::Json(deleted)))
}
