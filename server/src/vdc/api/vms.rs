//! VM definitions: created by the wizard, placed on the node holding the ISO, rendered as libvirt XML.

use app::model::{
    CreateVmRequest, ErrorBody, Firmware, ImageFormat, IsoMetadata, NodeId, PoolId, StoragePool, VmDefinition, VmList,
};
use axum::{extract::State, response::IntoResponse};
use http::StatusCode;
use uuid::Uuid;

use crate::http::{ApiError, Json, PathId};
use crate::vdc::{
    VdcState,
    catalogue::{CatalogueError, NodeRecord, VmRecord},
    domain_xml,
    forward::ForwardError,
};

const GIB: u64 = 1 << 30;

/// A definition with what the catalogue says of its ISO now.
async fn definition(s: &VdcState, vm: VmRecord) -> Result<(VmDefinition, Option<IsoMetadata>), ApiError> {
    let iso_id = Uuid::parse_str(&vm.iso_id).map_err(ApiError::internal)?;
    let iso = match s.catalogue.get(iso_id).await {
        Ok(i) => Some(i),
        Err(CatalogueError::ImageNotFound(_)) => None,
        Err(e) => return Err(e.into()),
    };
    let def = VmDefinition {
        id: Uuid::parse_str(&vm.id).map_err(ApiError::internal)?,
        name: vm.name,
        vcpus: vm.vcpus as u32,
        memory_mib: vm.memory_mib as u64,
        disk_gib: vm.disk_gib as u64,
        disk_pool_id: PoolId::parse(&vm.disk_pool_id).map_err(ApiError::internal)?,
        iso_id,
        node_id: NodeId::parse(&vm.node_id).map_err(ApiError::internal)?,
        iso_filename: iso.as_ref().map(|i| i.filename.clone()),
        iso_path: iso.as_ref().map(|i| i.path.clone()),
        created_at: vm.created_at,
        firmware: Firmware::parse(&vm.firmware)
            .ok_or_else(|| ApiError::internal(format!("firmware of VM {}", vm.id)))?,
    };
    Ok((def, iso))
}

async fn pools_of(s: &VdcState, node_id: &NodeId) -> Result<Vec<StoragePool>, ApiError> {
    Ok(s.catalogue.node_pools().await?.remove(node_id).unwrap_or_default())
}

/// Places the VM on the node that holds its ISO; the ISO is pinned there before the definition is
/// committed.
#[utoipa::path(
    post,
    path = "/api/v1/vms",
    tag = "vms",
    summary = "Create a VM definition",
    request_body = CreateVmRequest,
    responses(
        (status = 201, description = "The new definition.", body = VmDefinition),
        (status = 400, description = "A bad name, resources, ISO or pool.", body = ErrorBody),
        (status = 409, description = "The ISO is not ready or gone, the node has no pool, the name is taken, or the pool lacks room for the disk (`insufficient_storage`).", body = ErrorBody),
        (status = 503, description = "The ISO's node cannot be reached.", body = ErrorBody),
    )
)]
#[tracing::instrument(skip(s))]
pub async fn create(
    State(s): State<VdcState>,
    Json(req): Json<CreateVmRequest>,
) -> Result<(StatusCode, axum::Json<VmDefinition>), ApiError> {
    req.check().map_err(|m| ApiError::bad_request("invalid_vm", m))?;
    let iso = match s.catalogue.get(req.iso_id).await {
        Ok(iso) => iso,
        Err(CatalogueError::ImageNotFound(id)) => {
            return Err(ApiError::bad_request("invalid_iso", format!("No ISO with the id {id} is in the catalogue.")));
        }
        Err(e) => return Err(e.into()),
    };
    let node_id = iso.node_id.clone().ok_or_else(|| ApiError::internal(format!("image {} has no node", iso.id)))?;
    if !iso.is_ready() {
        return Err(ApiError::conflict(
            "iso_not_ready",
            format!("{} is still being checked on {node_id}; try again when its checksum is known.", iso.filename),
        ));
    }
    let pools = pools_of(&s, &node_id).await?;
    let pool = match &req.disk_pool_id {
        Some(id) => pools.iter().find(|p| &p.id == id).cloned().ok_or_else(|| {
            let known: Vec<&str> = pools.iter().map(|p| p.id.as_str()).collect();
            ApiError::bad_request(
                "invalid_pool",
                format!("Node {node_id} has no pool \"{id}\" (its pools: {}).", known.join(", ")),
            )
        })?,
        None => pools.iter().max_by_key(|p| p.free_bytes).cloned().ok_or_else(|| {
            ApiError::conflict("no_pool", format!("Node {node_id} has not reported its pools yet; try again shortly."))
        })?,
    };
    // A refusal, not a failure of ours: the caller picks a smaller disk or another pool. (It was 507,
    // which monitoring counts as a server error and clients retry; the fuzzer flagged it.)
    if req.disk_gib.saturating_mul(GIB) > pool.free_bytes {
        return Err(ApiError::conflict(
            "insufficient_storage",
            format!(
                "Pool {} on {node_id} has {} GiB free; the disk needs {} GiB.",
                pool.name,
                pool.free_bytes / GIB,
                req.disk_gib
            ),
        ));
    }
    let vm_id = Uuid::new_v4();
    let record = VmRecord {
        id: vm_id.to_string(),
        name: req.name.clone(),
        vcpus: req.vcpus as i64,
        memory_mib: req.memory_mib as i64,
        disk_gib: req.disk_gib as i64,
        disk_pool_id: pool.id.to_string(),
        iso_id: req.iso_id.to_string(),
        node_id: node_id.to_string(),
        created_at: crate::now_unix(),
        firmware: req.firmware.unwrap_or_default().as_str().to_owned(),
    };
    // Pin, then commit: once the node holds the pin it refuses to delete the ISO, so a delete on the node
    // and this creation cannot both succeed. A node that cannot be reached means no definition.
    let node = s.catalogue.node(node_id.as_str()).await?;
    s.nodes.pin(&node, iso.id, vm_id, &req.name).await.map_err(|e| match e {
        ForwardError::Refused { status: 404, .. } => {
            ApiError::conflict("iso_missing", format!("{} is no longer on {node_id}; pick another ISO.", iso.filename))
        }
        e => e.into(),
    })?;
    if let Err(e) = s.catalogue.create_vm(&record).await {
        unpin(&s, &node, iso.id, vm_id).await;
        return Err(e.into());
    }
    let (def, _) = definition(&s, record).await?;
    Ok((StatusCode::CREATED, axum::Json(def)))
}

/// Unpins, as a courtesy to the node: if it cannot be reached now, its next heartbeat answer (which lists
/// the pins the vdc's definitions hold) removes the pin.
async fn unpin(s: &VdcState, node: &NodeRecord, iso: Uuid, vm: Uuid) {
    if let Err(e) = s.nodes.unpin(node, iso, vm).await {
        tracing::warn!(node = %node.id, %iso, %vm, error = %e, "cannot unpin an ISO now; the node's next heartbeat will");
    }
}

#[utoipa::path(
    get,
    path = "/api/v1/vms",
    tag = "vms",
    summary = "Every VM definition",
    responses((status = 200, description = "The definitions.", body = VmList))
)]
pub async fn list(State(s): State<VdcState>) -> Result<axum::Json<VmList>, ApiError> {
    let mut vms = Vec::new();
    for vm in s.catalogue.vms().await? {
        vms.push(definition(&s, vm).await?.0);
    }
    Ok(axum::Json(VmList { vms }))
}

#[utoipa::path(
    get,
    path = "/api/v1/vms/{id}",
    tag = "vms",
    summary = "One VM definition",
    params(PathId),
    responses(
        (status = 200, description = "The definition.", body = VmDefinition),
        (status = 400, description = "The id is not a UUID.", body = ErrorBody),
        (status = 404, description = "No VM definition has this id.", body = ErrorBody),
    )
)]
pub async fn get_one(State(s): State<VdcState>, PathId(id): PathId) -> Result<axum::Json<VmDefinition>, ApiError> {
    let vm = s.catalogue.vm(id).await?;
    Ok(axum::Json(definition(&s, vm).await?.0))
}

#[utoipa::path(
    delete,
    path = "/api/v1/vms/{id}",
    tag = "vms",
    summary = "Delete a VM definition (its ISO is unpinned)",
    params(PathId),
    responses(
        (status = 204, description = "Deleted."),
        (status = 400, description = "The id is not a UUID.", body = ErrorBody),
        (status = 404, description = "No VM definition has this id.", body = ErrorBody),
    )
)]
#[tracing::instrument(skip(s))]
pub async fn delete(State(s): State<VdcState>, PathId(id): PathId) -> Result<StatusCode, ApiError> {
    let vm = s.catalogue.vm(id).await?;
    s.catalogue.delete_vm(id).await?;
    if let (Ok(node), Ok(iso)) = (s.catalogue.node(&vm.node_id).await, Uuid::parse_str(&vm.iso_id)) {
        unpin(&s, &node, iso, id).await;
    }
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    get,
    path = "/api/v1/vms/{id}/domain.xml",
    tag = "vms",
    summary = "A VM definition as libvirt domain XML",
    params(PathId),
    responses(
        (status = 200, description = "The domain XML.", content_type = "application/xml", body = String),
        (status = 400, description = "The id is not a UUID.", body = ErrorBody),
        (status = 404, description = "No VM definition has this id.", body = ErrorBody),
        (status = 409, description = "Its ISO is gone, or it cannot be written as XML.", body = ErrorBody),
    )
)]
pub async fn domain_xml(State(s): State<VdcState>, PathId(id): PathId) -> Result<impl IntoResponse, ApiError> {
    let vm = s.catalogue.vm(id).await?;
    let (def, iso) = definition(&s, vm).await?;
    let iso = iso.ok_or_else(|| {
        ApiError::conflict(
            "iso_missing",
            format!("The ISO of {} is no longer in the catalogue; the VM cannot boot from it.", def.name),
        )
    })?;
    let pool_path = pools_of(&s, &def.node_id)
        .await?
        .into_iter()
        .find(|p| p.id == def.disk_pool_id)
        .map(|p| p.path)
        .unwrap_or_else(|| format!("/var/lib/quantix/{}", def.disk_pool_id));
    let disk = format!("{pool_path}/vms/{}.qcow2", def.name);
    let media = match iso.format {
        ImageFormat::Ova => domain_xml::Media::Appliance(&iso.path),
        _ => domain_xml::Media::Cdrom(&iso.path),
    };
    let xml =
        domain_xml::render(&def, media, &disk).map_err(|e| ApiError::conflict("not_representable", e.to_string()))?;
    Ok(([(http::header::CONTENT_TYPE, "application/xml; charset=utf-8")], xml))
}
