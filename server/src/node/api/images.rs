use app::model::{FolderPath, ImageList, ImageQuery, IsoMetadata, MoveImageRequest};
use axum::{Extension, extract::State};

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
