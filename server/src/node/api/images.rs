use app::model::{FolderPath, ImageList, ImageQuery, IsoMetadata, MoveImageRequest};
use axum::extract::{Path, State};

use super::errors::parse_id;
use crate::filters::ImageFilter;
use crate::http::{ApiError, Json, Query};
use crate::node::NodeState;

pub async fn list(State(s): State<NodeState>, Query(q): Query<ImageQuery>) -> Result<axum::Json<ImageList>, ApiError> {
    let images = s.store.list(&ImageFilter::parse(q)?).await?;
    Ok(axum::Json(ImageList { images, next_cursor: None }))
}

pub async fn get_one(State(s): State<NodeState>, Path(id): Path<String>) -> Result<axum::Json<IsoMetadata>, ApiError> {
    Ok(axum::Json(s.store.get(parse_id(&id)?).await?))
}

pub async fn move_image(
    State(s): State<NodeState>,
    Path(id): Path<String>,
    Json(body): Json<MoveImageRequest>,
) -> Result<axum::Json<IsoMetadata>, ApiError> {
    let id = parse_id(&id)?;
    let folder = FolderPath::parse(&body.folder_path)?;
    Ok(axum::Json(s.store.move_image(id, &folder).await?))
}

/// Deletes the file, then the row; answers the image as it was, with the revision of the deletion.
pub async fn delete_image(
    State(s): State<NodeState>,
    Path(id): Path<String>,
) -> Result<axum::Json<IsoMetadata>, ApiError> {
    let id = parse_id(&id)?;
    let meta = s.store.get(id).await?;
    Ok(axum::Json(s.delete_image(meta).await?))
}
