use app::model::{CreateFolderRequest, ErrorBody, FolderListing, FolderPath, RenameFolderRequest};
use axum::extract::State;
use http::StatusCode;
use serde::Deserialize;

use crate::http::{ApiError, Json, Query};
use crate::node::NodeState;

#[utoipa::path(
    get,
    path = "/api/v1/images/folders",
    tag = "folders",
    summary = "Every folder, with image counts",
    responses((status = 200, description = "The folders (`/` first) and the images in each.", body = FolderListing))
)]
pub async fn list(State(s): State<NodeState>) -> Result<axum::Json<FolderListing>, ApiError> {
    Ok(axum::Json(s.store.folders().await?))
}

/// Creates an empty folder (folders are metadata; nothing is made on disk).
#[utoipa::path(
    post,
    path = "/api/v1/images/folders",
    tag = "folders",
    summary = "Create a folder",
    request_body = CreateFolderRequest,
    responses(
        (status = 201, description = "Created; the folder listing as it is now.", body = FolderListing),
        (status = 400, description = "The path is not a valid folder (`invalid_folder`).", body = ErrorBody),
        (status = 409, description = "The folder exists (`folder_exists`).", body = ErrorBody),
    )
)]
#[tracing::instrument(skip(s))]
pub async fn create(
    State(s): State<NodeState>,
    Json(body): Json<CreateFolderRequest>,
) -> Result<(StatusCode, axum::Json<FolderListing>), ApiError> {
    let folder = FolderPath::parse(&body.path)?;
    Ok((StatusCode::CREATED, axum::Json(s.store.create_folder(&folder).await?)))
}

/// Moves a folder and everything beneath it (images keep their ids; each moved image is a change).
#[utoipa::path(
    post,
    path = "/api/v1/images/folders/rename",
    tag = "folders",
    summary = "Rename a folder",
    request_body = RenameFolderRequest,
    responses(
        (status = 200, description = "Renamed; the folder listing as it is now.", body = FolderListing),
        (status = 400, description = "A path is not valid, or the move is impossible (`invalid_operation`).", body = ErrorBody),
        (status = 404, description = "No such folder (`folder_not_found`).", body = ErrorBody),
        (status = 409, description = "An image of the same name is in the target (`name_taken`).", body = ErrorBody),
    )
)]
#[tracing::instrument(skip(s))]
pub async fn rename(
    State(s): State<NodeState>,
    Json(body): Json<RenameFolderRequest>,
) -> Result<axum::Json<FolderListing>, ApiError> {
    let (from, to) = (FolderPath::parse(&body.from)?, FolderPath::parse(&body.to)?);
    Ok(axum::Json(s.store.rename_folder(&from, &to).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FolderParam {
    /// The folder to delete.
    path: String,
}

/// Deletes an empty folder that was created explicitly.
#[utoipa::path(
    delete,
    path = "/api/v1/images/folders",
    tag = "folders",
    summary = "Delete an empty folder",
    params(FolderParam),
    responses(
        (status = 200, description = "Deleted; the folder listing as it is now.", body = FolderListing),
        (status = 400, description = "Not a valid folder, or the root or a default folder (`invalid_operation`).", body = ErrorBody),
        (status = 404, description = "No such folder.", body = ErrorBody),
        (status = 409, description = "The folder holds images or folders (`folder_not_empty`).", body = ErrorBody),
    )
)]
#[tracing::instrument(skip(s))]
pub async fn delete(
    State(s): State<NodeState>,
    Query(p): Query<FolderParam>,
) -> Result<axum::Json<FolderListing>, ApiError> {
    Ok(axum::Json(s.store.delete_folder(&FolderPath::parse(&p.path)?).await?))
}
