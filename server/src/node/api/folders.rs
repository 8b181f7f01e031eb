use app::model::{CreateFolderRequest, FolderListing, FolderPath, RenameFolderRequest};
use axum::extract::State;
use http::StatusCode;
use serde::Deserialize;

use crate::http::{ApiError, Json, Query};
use crate::node::NodeState;

pub async fn list(State(s): State<NodeState>) -> Result<axum::Json<FolderListing>, ApiError> {
    Ok(axum::Json(s.store.folders().await?))
}

#[tracing::instrument(skip(s))]
pub async fn create(
    State(s): State<NodeState>,
    Json(body): Json<CreateFolderRequest>,
) -> Result<(StatusCode, axum::Json<FolderListing>), ApiError> {
    let folder = FolderPath::parse(&body.path)?;
    Ok((StatusCode::CREATED, axum::Json(s.store.create_folder(&folder).await?)))
}

#[tracing::instrument(skip(s))]
pub async fn rename(
    State(s): State<NodeState>,
    Json(body): Json<RenameFolderRequest>,
) -> Result<axum::Json<FolderListing>, ApiError> {
    let (from, to) = (FolderPath::parse(&body.from)?, FolderPath::parse(&body.to)?);
    Ok(axum::Json(s.store.rename_folder(&from, &to).await?))
}

#[derive(Debug, Deserialize)]
pub struct FolderParam {
    path: String,
}

#[tracing::instrument(skip(s))]
pub async fn delete(
    State(s): State<NodeState>,
    Query(p): Query<FolderParam>,
) -> Result<axum::Json<FolderListing>, ApiError> {
    Ok(axum::Json(s.store.delete_folder(&FolderPath::parse(&p.path)?).await?))
}
