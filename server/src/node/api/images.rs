use app::model::{FolderPath, ImageList, ImageQuery, IsoMetadata, MoveImageRequest, PinRequest, UpdateImageRequest};
use axum::{Extension, extract::State};
use http::StatusCode;
use uuid::Uuid;

use crate::auth::routes::AuditTarget;
use crate::db::ImageFilter;
use crate::http::{ApiError, Json, PathId, Query};
use crate::node::NodeState;

/// Paged and searched in SQL. The node answers for itself: a `node_id` naming another node selects
/// nothing.
#[tracing::instrument(skip(s))]
pub async fn list(State(s): State<NodeState>, Query(q): Query<ImageQuery>) -> Result<axum::Json<ImageList>, ApiError> {
    let filter = ImageFilter::parse(q)?;
    if filter.node_id.as_ref().is_some_and(|n| *n != s.identity.id) {
        return Ok(axum::Json(ImageList { images: Vec::new(), next_cursor: None }));
    }
    Ok(axum::Json(s.store.list(&filter).await?))
}

pub async fn get_one(State(s): State<NodeState>, PathId(id): PathId) -> Result<axum::Json<IsoMetadata>, ApiError> {
    Ok(axum::Json(s.store.get(id).await?))
}

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

/// `PATCH /api/v1/images/{id}`: an operator corrects the OS fields and/or renames the file.
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
#[tracing::instrument(skip(s))]
pub async fn delete_image(
    State(s): State<NodeState>,
    PathId(id): PathId,
) -> Result<(Extension<AuditTarget>, axum::Json<IsoMetadata>), ApiError> {
    let meta = s.store.get(id).await?;
    let deleted = s.delete_image(meta).await?;
    Ok((Extension(AuditTarget(deleted.path.clone())), axum::Json(deleted)))
}

/// `POST /internal/v1/images/{id}/pins`: the vdc is about to commit a VM definition that boots from the
/// image. 404 if the image is gone (the definition is then not made).
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

/// `DELETE /internal/v1/images/{id}/pins/{vm_id}`: the VM definition is gone. Unpinning what is not
/// pinned succeeds (a repeat after a lost answer).
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
