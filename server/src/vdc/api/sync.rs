//! The endpoints nodes call: one change, a batch of changes, a full inventory, a heartbeat. Every field
//! a node sends is checked before anything is stored (a node is a peer, not a trusted part of the vdc).

use app::model::{
    HeartbeatRequest, HeartbeatResponse, ImageChange, NodeRef, NodeRegistered, NotifyImageChangeRequest,
    NotifyImageChangeResponse, NotifyImageChangesRequest, SyncNodeImagesRequest, SyncNodeImagesResponse,
};
use axum::{Extension, extract::State};
use http::StatusCode;

use crate::auth::{Caller, NODE_CREDENTIAL_PREFIX, secret};
use crate::http::{ApiError, Json};
use crate::vdc::VdcState;

/// `RegisterNode` (cluster token): issues a node its own credential, once. A node id that has one is
/// refused: only its own credential speaks for it, so a holder of the cluster token cannot post as
/// another node.
#[tracing::instrument(skip(s, node), fields(node = %node.node_id))]
pub async fn register(
    State(s): State<VdcState>,
    Json(node): Json<NodeRef>,
) -> Result<(StatusCode, axum::Json<NodeRegistered>), ApiError> {
    node.check()?;
    let credential = format!("{NODE_CREDENTIAL_PREFIX}{}", secret::random_hex(32));
    let issued = s
        .auth
        .store
        .issue_node_credential(node.node_id.as_str(), &secret::digest(&credential), crate::now_unix())
        .await
        .map_err(ApiError::internal)?;
    if !issued {
        return Err(ApiError::conflict(
            "node_registered",
            format!(
                "Node {} is registered already and must use its own credential. If it lost it (a new data \
                 directory), an admin resets it: DELETE /api/v1/nodes/{}/credential.",
                node.node_id, node.node_id
            ),
        ));
    }
    tracing::info!(node = %node.node_id, "node registered; it gets its own credential");
    Ok((StatusCode::CREATED, axum::Json(NodeRegistered { node_id: node.node_id, credential })))
}

/// A sync call speaks for the node whose credential it carries, and for no other.
fn own_node(caller: &Caller, node: &NodeRef) -> Result<(), ApiError> {
    match caller {
        Caller::Node { node_id } if *node_id == node.node_id => Ok(()),
        Caller::Node { node_id } => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("This credential belongs to node {node_id}; it cannot speak for node {}.", node.node_id),
        )),
        _ => Err(ApiError::new(StatusCode::FORBIDDEN, "forbidden", "Sync calls carry the node's own credential.")),
    }
}

pub async fn notify(
    State(s): State<VdcState>,
    Extension(caller): Extension<Caller>,
    Json(req): Json<NotifyImageChangeRequest>,
) -> Result<axum::Json<NotifyImageChangeResponse>, ApiError> {
    own_node(&caller, &req.node)?;
    req.check()?;
    let change = ImageChange { image: req.image, event_type: req.event_type, timestamp: req.timestamp };
    let (applied, ignored) = s.catalogue.apply_changes(&req.node, vec![change], crate::now_unix()).await?;
    if applied > 0 {
        s.live.changed();
    }
    Ok(axum::Json(NotifyImageChangeResponse { applied, ignored }))
}

pub async fn notify_batch(
    State(s): State<VdcState>,
    Extension(caller): Extension<Caller>,
    Json(req): Json<NotifyImageChangesRequest>,
) -> Result<axum::Json<NotifyImageChangeResponse>, ApiError> {
    own_node(&caller, &req.node)?;
    req.check()?;
    let (applied, ignored) = s.catalogue.apply_changes(&req.node, req.events, crate::now_unix()).await?;
    if applied > 0 {
        s.live.changed();
    }
    Ok(axum::Json(NotifyImageChangeResponse { applied, ignored }))
}

pub async fn full_sync(
    State(s): State<VdcState>,
    Extension(caller): Extension<Caller>,
    Json(req): Json<SyncNodeImagesRequest>,
) -> Result<axum::Json<SyncNodeImagesResponse>, ApiError> {
    own_node(&caller, &req.node)?;
    req.check()?;
    let counts = s.catalogue.sync_inventory(req, crate::now_unix()).await?;
    if counts.added + counts.updated + counts.removed > 0 {
        s.live.changed();
    }
    Ok(axum::Json(counts))
}

pub async fn heartbeat(
    State(s): State<VdcState>,
    Extension(caller): Extension<Caller>,
    Json(req): Json<HeartbeatRequest>,
) -> Result<axum::Json<HeartbeatResponse>, ApiError> {
    own_node(&caller, &req.node)?;
    req.check()?;
    let now = crate::now_unix();
    let (answer, outcome) = s.catalogue.answer_heartbeat(&req, now).await?;
    // Most heartbeats change nothing a page shows: those are not events (an idle cluster once made every
    // open library reload its list every few seconds).
    if outcome.visible_change(&req.node, req.pending, now, s.timings) {
        s.live.nodes_changed();
    }
    Ok(axum::Json(answer))
}
