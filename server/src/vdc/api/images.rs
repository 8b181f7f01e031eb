use app::model::{
    CreateFolderRequest, ErrorBody, FolderListing, FolderPath, ImageGroupList, ImageList, ImageQuery, IsoMetadata,
    MoveImageRequest, UpdateImageRequest,
};
use axum::{Extension, extract::State};
use http::StatusCode;

use crate::auth::{api::Actor, routes::AuditTarget};
use crate::db::ImageFilter;
use crate::http::{ApiError, Json, PathId, Query};
use crate::vdc::VdcState;

/// `GET /api/v1/images`: images, or with `group=checksum` groups of identical images.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum ImageListing {
    Images(ImageList),
    Groups(ImageGroupList),
}

#[utoipa::path(
    get,
    path = "/api/v1/images",
    tag = "images",
    summary = "The cluster's catalogue, filtered, sorted and paged (or grouped by checksum)",
    params(ImageQuery),
    responses(
        (status = 200, description = "One page of images (an `ImageList`), or with `group=checksum` one page of groups of identical images over the whole filtered result (an `ImageGroupList`); `next_cursor` leads to the next.", body = ImageListing),
        (status = 400, description = "A filter, the sort, the limit or the cursor is not valid.", body = ErrorBody),
    )
)]
pub async fn list(
    State(s): State<VdcState>,
    Query(q): Query<ImageQuery>,
) -> Result<axum::Json<ImageListing>, ApiError> {
    let filter = ImageFilter::parse(q)?;
    Ok(axum::Json(match filter.group {
        Some(app::model::ImageGrouping::Checksum) => ImageListing::Groups(s.catalogue.list_groups(&filter).await?),
        None => ImageListing::Images(s.catalogue.list(&filter).await?),
    }))
}

#[utoipa::path(
    get,
    path = "/api/v1/images/{id}",
    tag = "images",
    summary = "One image of the catalogue",
    params(PathId),
    responses(
        (status = 200, description = "The image, with the node that holds it.", body = IsoMetadata),
        (status = 400, description = "The id is not a UUID.", body = ErrorBody),
        (status = 404, description = "No image has this id.", body = ErrorBody),
    )
)]
pub async fn get_one(State(s): State<VdcState>, PathId(id): PathId) -> Result<axum::Json<IsoMetadata>, ApiError> {
    Ok(axum::Json(s.catalogue.get(id).await?))
}

#[utoipa::path(
    get,
    path = "/api/v1/images/folders",
    tag = "folders",
    summary = "The cluster's folder tree, with image counts",
    responses((status = 200, description = "Every folder and the images in each.", body = FolderListing))
)]
pub async fn folders(State(s): State<VdcState>) -> Result<axum::Json<FolderListing>, ApiError> {
    Ok(axum::Json(s.catalogue.folder_tree().await?))
}

#[utoipa::path(
    post,
    path = "/api/v1/images/folders",
    tag = "folders",
    summary = "Create a folder in the catalogue",
    request_body = CreateFolderRequest,
    responses(
        (status = 201, description = "Created; the folder tree as it is now.", body = FolderListing),
        (status = 400, description = "The path is not a valid folder.", body = ErrorBody),
        (status = 409, description = "The folder exists.", body = ErrorBody),
    )
)]
#[tracing::instrument(skip(s))]
pub async fn create_folder(
    State(s): State<VdcState>,
    Json(body): Json<CreateFolderRequest>,
) -> Result<(StatusCode, axum::Json<FolderListing>), ApiError> {
    let folder = FolderPath::parse(&body.path)?;
    let listing = s.catalogue.create_folder(&folder, crate::now_unix()).await?;
    Ok((StatusCode::CREATED, axum::Json(listing)))
}

/// The node that holds an image: where moves and deletes are forwarded.
async fn owner(s: &VdcState, image: &IsoMetadata) -> Result<crate::vdc::catalogue::NodeRecord, ApiError> {
    let node_id =
        image.node_id.as_ref().ok_or_else(|| ApiError::internal(format!("image {} has no node", image.id)))?;
    Ok(s.catalogue.node(node_id).await?)
}

/// Forwarded to the owning node; its answer is applied at once.
#[utoipa::path(
    post,
    path = "/api/v1/images/{id}/move",
    tag = "images",
    summary = "Move an image to another folder (on its node)",
    params(PathId),
    request_body = MoveImageRequest,
    responses(
        (status = 200, description = "The image in its new folder, as its node answered.", body = IsoMetadata),
        (status = 400, description = "The id or the folder is not valid.", body = ErrorBody),
        (status = 404, description = "No image has this id.", body = ErrorBody),
        (status = 503, description = "The image's node cannot be reached (`node_unreachable`).", body = ErrorBody),
    )
)]
#[tracing::instrument(skip(s))]
pub async fn move_image(
    State(s): State<VdcState>,
    actor: Actor,
    PathId(id): PathId,
    Json(body): Json<MoveImageRequest>,
) -> Result<(Extension<AuditTarget>, axum::Json<IsoMetadata>), ApiError> {
    FolderPath::parse(&body.folder_path)?;
    let image = s.catalogue.get(id).await?;
    let node = owner(&s, &image).await?;
    let node_id = node.id.clone();
    let moved = s.nodes.move_image(&node, id, &body.folder_path, actor.caller.name().as_deref()).await?;
    s.catalogue.apply_node_answer(&node_id, moved.clone(), false).await?;
    let target = AuditTarget(format!("{} on {node_id} to {}", moved.filename, moved.folder_path));
    Ok((Extension(target), axum::Json(IsoMetadata { node_id: Some(node_id), ..moved })))
}

/// An operator's correction (OS fields, file name), forwarded to the owning node, which stays the truth;
/// its answer is applied at once.
#[utoipa::path(
    patch,
    path = "/api/v1/images/{id}",
    tag = "images",
    summary = "Correct an image's OS fields or rename its file (on its node)",
    params(PathId),
    request_body = UpdateImageRequest,
    responses(
        (status = 200, description = "The image as its node answered.", body = IsoMetadata),
        (status = 400, description = "Nothing to change, bad OS fields, or a bad file name.", body = ErrorBody),
        (status = 404, description = "No image has this id.", body = ErrorBody),
        (status = 409, description = "The node refused: the new name is taken or busy.", body = ErrorBody),
        (status = 503, description = "The image's node cannot be reached.", body = ErrorBody),
    )
)]
#[tracing::instrument(skip(s))]
pub async fn update_image(
    State(s): State<VdcState>,
    actor: Actor,
    PathId(id): PathId,
    Json(body): Json<UpdateImageRequest>,
) -> Result<(Extension<AuditTarget>, axum::Json<IsoMetadata>), ApiError> {
    body.check_os().map_err(|m| ApiError::bad_request("invalid_os", m))?;
    let image = s.catalogue.get(id).await?;
    let node = owner(&s, &image).await?;
    let node_id = node.id.clone();
    let updated = s.nodes.update_image(&node, id, &body, actor.caller.name().as_deref()).await?;
    s.catalogue.apply_node_answer(&node_id, updated.clone(), false).await?;
    let target = AuditTarget(format!("{} on {node_id}", updated.path));
    Ok((Extension(target), axum::Json(IsoMetadata { node_id: Some(node_id), ..updated })))
}

/// Forwarded to the owning node; the deletion is applied at once. Refused while a VM boots from it.
#[utoipa::path(
    delete,
    path = "/api/v1/images/{id}",
    tag = "images",
    summary = "Delete an image (on its node)",
    params(PathId),
    responses(
        (status = 200, description = "The image as it was, with the revision of its deletion.", body = IsoMetadata),
        (status = 400, description = "The id is not a UUID.", body = ErrorBody),
        (status = 404, description = "No image has this id.", body = ErrorBody),
        (status = 409, description = "A VM definition boots from it (`iso_in_use`), or the node refused.", body = ErrorBody),
        (status = 503, description = "The image's node cannot be reached.", body = ErrorBody),
    )
)]
#[tracing::instrument(skip(s))]
pub async fn delete_image(
    State(s): State<VdcState>,
    actor: Actor,
    PathId(id): PathId,
) -> Result<(Extension<AuditTarget>, axum::Json<IsoMetadata>), ApiError> {
    let image = s.catalogue.get(id).await?;
    let users = s.catalogue.vms_using(id).await?;
    if !users.is_empty() {
        return Err(ApiError::conflict(
            "iso_in_use",
            format!(
                "{} is the installation media of VM {}; delete {} first.",
                image.filename,
                users.join(", "),
                if users.len() == 1 { "that VM definition" } else { "those VM definitions" }
            ),
        ));
    }
    let node = owner(&s, &image).await?;
    let node_id = node.id.clone();
    let deleted = s.nodes.delete_image(&node, id, actor.caller.name().as_deref()).await?;
    s.catalogue.apply_node_answer(&node_id, deleted.clone(), true).await?;
    let target = AuditTarget(format!("{} on {node_id}", deleted.path));
    Ok((Extension(target), axum::Json(IsoMetadata { node_id: Some(node_id), ..deleted })))
}
