use app::model::{
    CreateFolderRequest, FolderListing, FolderPath, ImageList, ImageQuery, IsoMetadata, MoveImageRequest,
    UpdateImageRequest,
};
use axum::{Extension, extract::State};
use http::StatusCode;

use crate::auth::{api::Actor, routes::AuditTarget};
use crate::db::ImageFilter;
use crate::http::{ApiError, Json, PathId, Query};
use crate::vdc::VdcState;

pub async fn list(State(s): State<VdcState>, Query(q): Query<ImageQuery>) -> Result<axum::Json<ImageList>, ApiError> {
    Ok(axum::Json(s.catalogue.list(&ImageFilter::parse(q)?).await?))
}

pub async fn get_one(State(s): State<VdcState>, PathId(id): PathId) -> Result<axum::Json<IsoMetadata>, ApiError> {
    Ok(axum::Json(s.catalogue.get(id).await?))
}

pub async fn folders(State(s): State<VdcState>) -> Result<axum::Json<FolderListing>, ApiError> {
    Ok(axum::Json(s.catalogue.folder_tree().await?))
}

#[tracing::instrument(skip(s))]
pub async fn create_folder(
    State(s): State<VdcState>,
    Json(body): Json<CreateFolderRequest>,
) -> Result<(StatusCode, axum::Json<FolderListing>), ApiError> {
    let folder = FolderPath::parse(&body.path)?;
    let listing = s.catalogue.create_folder(&folder, crate::now_unix()).await?;
    s.live.changed();
    Ok((StatusCode::CREATED, axum::Json(listing)))
}

/// The node that holds an image: where moves and deletes are forwarded.
async fn owner(s: &VdcState, image: &IsoMetadata) -> Result<crate::vdc::catalogue::NodeRecord, ApiError> {
    let node_id =
        image.node_id.as_ref().ok_or_else(|| ApiError::internal(format!("image {} has no node", image.id)))?;
    Ok(s.catalogue.node(node_id).await?)
}

/// Forwarded to the owning node; its answer is applied at once.
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
    s.live.changed();
    let target = AuditTarget(format!("{} on {node_id} to {}", moved.filename, moved.folder_path));
    Ok((Extension(target), axum::Json(IsoMetadata { node_id: Some(node_id), ..moved })))
}

/// An operator's correction (OS fields, file name), forwarded to the owning node, which stays the truth;
/// its answer is applied at once.
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
    s.live.changed();
    let target = AuditTarget(format!("{} on {node_id}", updated.path));
    Ok((Extension(target), axum::Json(IsoMetadata { node_id: Some(node_id), ..updated })))
}

/// Forwarded to the owning node; the deletion is applied at once. Refused while a VM boots from it.
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
    s.live.changed();
    let target = AuditTarget(format!("{} on {node_id}", deleted.path));
    Ok((Extension(target), axum::Json(IsoMetadata { node_id: Some(node_id), ..deleted })))
}
