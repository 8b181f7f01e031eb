use app::model::{FolderPath, ImageList, ImageQuery, IsoMetadata, MoveImageRequest};
use axum::extract::State;

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
) -> Result<axum::Json<IsoMetadata>, ApiError> {
    let folder = FolderPath::parse(&body.folder_path)?;
    Ok(axum::Json(s.store.move_image(id, &folder).await?))
}

/// Deletes the file, then the row; answers the image as it was, with the revision of the deletion.
#[tracing::instrument(skip(s))]
pub async fn delete_image(State(s): State<NodeState>, PathId(id): PathId) -> Result<axum::Json<IsoMetadata>, ApiError> {
    let meta = s.store.get(id).await?;
    Ok(axum::Json(s.delete_image(meta).await?))
}
