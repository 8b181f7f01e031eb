//! The endpoints nodes call: one change, a batch of changes, a full inventory (or its digest, then the
//! buckets that differ), a heartbeat. Every field
//! a node sends is checked before anything is stored (a node is a peer, not a trusted part of the vdc).

use app::model::{
    ErrorBody, HeartbeatRequest, HeartbeatResponse, ImageChange, NodeRef, NodeRegistered, NotifyImageChangeRequest,
    NotifyImageChangeResponse, NotifyImageChangesRequest, RegisterNodeRequest, SyncNodeDigestRequest,
    SyncNodeDigestResponse, SyncNodeImagesRequest, SyncNodeImagesResponse, sync_paths,
};
use axum::{Extension, extract::State};
use http::StatusCode;

use crate::auth::{Caller, NODE_CREDENTIAL_PREFIX, secret};
use crate::http::{ApiError, Json};
use crate::telemetry::metrics::names;
use crate::vdc::VdcState;

/// `RegisterNode` (cluster token): issues a node its own credential, once. A node id that has one is
/// refused: only its own credential speaks for it, so a holder of the cluster token cannot post as
/// another node.
#[utoipa::path(
    post,
    path = sync_paths::REGISTER_NODE,
    tag = "sync",
    summary = "Register a node: its own credential, once",
    request_body = RegisterNodeRequest,
    responses(
        (status = 201, description = "The node's credential (its proposal, when it made one), shown this once, or again to the node that proposed it.", body = NodeRegistered),
        (status = 400, description = "A field of the body is not accepted.", body = ErrorBody),
        (status = 409, description = "This node id has a credential already (`node_registered`).", body = ErrorBody),
    )
)]
#[tracing::instrument(skip(s, req), fields(node = %req.node.node_id))]
pub async fn register(
    State(s): State<VdcState>,
    Json(req): Json<RegisterNodeRequest>,
) -> Result<(StatusCode, axum::Json<NodeRegistered>), ApiError> {
    let RegisterNodeRequest { node, credential: proposed } = req;
    node.check()?;
    let credential = match proposed {
        Some(c) if is_node_credential(&c) => c,
        Some(_) => {
            return Err(ApiError::bad_request(
                "invalid_body",
                format!("A proposed credential is {NODE_CREDENTIAL_PREFIX} followed by 64 lowercase hex digits."),
            ));
        }
        None => format!("{NODE_CREDENTIAL_PREFIX}{}", secret::random_hex(32)),
    };
    let digest = secret::digest(&credential);
    let store = &s.auth.store;
    let issued = store
        .issue_node_credential(node.node_id.as_str(), &digest, crate::now_unix())
        .await
        .map_err(ApiError::internal)?;
    // The same proposal again: the answer to the first was lost on the way.
    let again =
        !issued && store.node_of_credential(&digest).await.map_err(ApiError::internal)?.as_ref() == Some(&node.node_id);
    if !issued && !again {
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

fn is_node_credential(c: &str) -> bool {
    c.strip_prefix(NODE_CREDENTIAL_PREFIX)
        .is_some_and(|hex| hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
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

/// Applies a node's changes in one transaction and counts them (the catalogue tells the pages).
async fn ingest(
    s: &VdcState,
    node: &NodeRef,
    changes: Vec<ImageChange>,
) -> Result<axum::Json<NotifyImageChangeResponse>, ApiError> {
    let received = changes.len();
    let (applied, ignored) = s.catalogue.apply_changes(node, changes, crate::now_unix()).await?;
    let id = node.node_id.to_string();
    metrics::counter!(names::EVENTS_INGESTED, "node" => id.clone(), "result" => "applied").increment(applied);
    metrics::counter!(names::EVENTS_INGESTED, "node" => id, "result" => "ignored").increment(ignored);
    tracing::info!(node = %node.node_id, received, applied, ignored, "changes from a node");
    Ok(axum::Json(NotifyImageChangeResponse { applied, ignored }))
}

#[utoipa::path(
    post,
    path = sync_paths::NOTIFY_IMAGE_CHANGE,
    tag = "sync",
    summary = "One change on a node (the seed's call)",
    request_body = NotifyImageChangeRequest,
    responses(
        (status = 200, description = "Whether it changed the catalogue (a stale or repeated change is ignored).", body = NotifyImageChangeResponse),
        (status = 400, description = "A field is not accepted.", body = ErrorBody),
        (status = 403, description = "The credential is another node's.", body = ErrorBody),
    )
)]
pub async fn notify(
    State(s): State<VdcState>,
    Extension(caller): Extension<Caller>,
    Json(req): Json<NotifyImageChangeRequest>,
) -> Result<axum::Json<NotifyImageChangeResponse>, ApiError> {
    own_node(&caller, &req.node)?;
    req.check()?;
    let change = ImageChange { image: req.image, event_type: req.event_type, timestamp: req.timestamp };
    ingest(&s, &req.node, vec![change]).await
}

#[utoipa::path(
    post,
    path = sync_paths::NOTIFY_IMAGE_CHANGES,
    tag = "sync",
    summary = "A batch of changes on a node, in order",
    request_body = NotifyImageChangesRequest,
    responses(
        (status = 200, description = "How many changed the catalogue.", body = NotifyImageChangeResponse),
        (status = 400, description = "A field is not accepted.", body = ErrorBody),
        (status = 403, description = "The credential is another node's.", body = ErrorBody),
    )
)]
pub async fn notify_batch(
    State(s): State<VdcState>,
    Extension(caller): Extension<Caller>,
    Json(req): Json<NotifyImageChangesRequest>,
) -> Result<axum::Json<NotifyImageChangeResponse>, ApiError> {
    own_node(&caller, &req.node)?;
    req.check()?;
    ingest(&s, &req.node, req.events).await
}

#[utoipa::path(
    post,
    path = sync_paths::SYNC_NODE_IMAGES,
    tag = "sync",
    summary = "A node's full inventory (anti-entropy)",
    request_body = SyncNodeImagesRequest,
    responses(
        (status = 200, description = "What the inventory changed.", body = SyncNodeImagesResponse),
        (status = 400, description = "A field is not accepted.", body = ErrorBody),
        (status = 403, description = "The credential is another node's.", body = ErrorBody),
    )
)]
pub async fn full_sync(
    State(s): State<VdcState>,
    Extension(caller): Extension<Caller>,
    Json(req): Json<SyncNodeImagesRequest>,
) -> Result<axum::Json<SyncNodeImagesResponse>, ApiError> {
    if req.scope.is_some() {
        return Err(ApiError::bad_request(
            "invalid_body",
            format!("A partial inventory (with a scope) goes to {}.", sync_paths::SYNC_NODE_IMAGE_BUCKETS),
        ));
    }
    inventory(&s, &caller, req).await
}

#[utoipa::path(
    post,
    path = sync_paths::SYNC_NODE_IMAGE_BUCKETS,
    tag = "sync",
    summary = "The inventory of the buckets a digest found different",
    request_body = SyncNodeImagesRequest,
    responses(
        (status = 200, description = "What the inventory changed within its buckets.", body = SyncNodeImagesResponse),
        (status = 400, description = "A field is not accepted, the scope is missing, or an image lies outside it.", body = ErrorBody),
        (status = 403, description = "The credential is another node's.", body = ErrorBody),
        (status = 409, description = "A bucket outside the scope changed since the digest (`digest_stale`): nothing was applied; send the whole inventory.", body = ErrorBody),
    )
)]
pub async fn bucket_inventory(
    State(s): State<VdcState>,
    Extension(caller): Extension<Caller>,
    Json(req): Json<SyncNodeImagesRequest>,
) -> Result<axum::Json<SyncNodeImagesResponse>, ApiError> {
    if req.scope.is_none() {
        return Err(ApiError::bad_request(
            "invalid_body",
            format!(
                "A partial inventory names its buckets in scope; a whole one goes to {}.",
                sync_paths::SYNC_NODE_IMAGES
            ),
        ));
    }
    inventory(&s, &caller, req).await
}

/// Reconciles an inventory (whole, or within its scope) and counts it (the catalogue tells the pages).
async fn inventory(
    s: &VdcState,
    caller: &Caller,
    req: SyncNodeImagesRequest,
) -> Result<axum::Json<SyncNodeImagesResponse>, ApiError> {
    own_node(caller, &req.node)?;
    req.check()?;
    let node = req.node.node_id.to_string();
    let buckets = req.scope.as_ref().map(|scope| scope.buckets.len());
    let counts = s.catalogue.sync_inventory(req, crate::now_unix()).await?;
    for (outcome, n) in [
        ("added", counts.added),
        ("updated", counts.updated),
        ("removed", counts.removed),
        ("unchanged", counts.unchanged),
    ] {
        metrics::counter!(names::INVENTORY_IMAGES, "node" => node.clone(), "outcome" => outcome).increment(n);
    }
    tracing::info!(%node, ?counts, ?buckets, "inventory from a node");
    Ok(axum::Json(counts))
}

#[utoipa::path(
    post,
    path = sync_paths::SYNC_NODE_DIGEST,
    tag = "sync",
    summary = "The digest of a node's inventory: which buckets differ",
    request_body = SyncNodeDigestRequest,
    responses(
        (status = 200, description = "The buckets whose hash differs from what the vdc holds of the node; none: the digest counted as a full inventory.", body = SyncNodeDigestResponse),
        (status = 400, description = "A field is not accepted.", body = ErrorBody),
        (status = 403, description = "The credential is another node's.", body = ErrorBody),
    )
)]
pub async fn digest(
    State(s): State<VdcState>,
    Extension(caller): Extension<Caller>,
    Json(req): Json<SyncNodeDigestRequest>,
) -> Result<axum::Json<SyncNodeDigestResponse>, ApiError> {
    own_node(&caller, &req.node)?;
    req.check()?;
    let answer = s.catalogue.compare_digest(&req, crate::now_unix()).await?;
    tracing::info!(
        node = %req.node.node_id,
        buckets = req.digest.bucket_count,
        differing = answer.differing.len(),
        "inventory digest from a node"
    );
    Ok(axum::Json(answer))
}

#[utoipa::path(
    post,
    path = sync_paths::HEARTBEAT,
    tag = "sync",
    summary = "A node is alive: its pending count and pools",
    request_body = HeartbeatRequest,
    responses(
        (status = 200, description = "Whether a full inventory is wanted, the highest revision seen of the node, and its pins.", body = HeartbeatResponse),
        (status = 400, description = "A field is not accepted.", body = ErrorBody),
        (status = 403, description = "The credential is another node's.", body = ErrorBody),
    )
)]
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
        s.catalogue.nodes_changed(req.node.node_id.as_str()).await;
    }
    Ok(axum::Json(answer))
}
