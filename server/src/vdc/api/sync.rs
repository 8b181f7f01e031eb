//! The endpoints nodes call: one change, a batch of changes, a full inventory, a heartbeat.

use app::model::{
    HeartbeatRequest, HeartbeatResponse, ImageChange, NotifyImageChangeRequest, NotifyImageChangeResponse,
    NotifyImageChangesRequest, SyncNodeImagesRequest, SyncNodeImagesResponse,
};
use axum::extract::State;

use crate::http::{ApiError, Json};
use crate::vdc::VdcState;

pub async fn notify(
    State(s): State<VdcState>,
    Json(req): Json<NotifyImageChangeRequest>,
) -> Result<axum::Json<NotifyImageChangeResponse>, ApiError> {
    let change = ImageChange { image: req.image, event_type: req.event_type, timestamp: req.timestamp };
    let (applied, ignored) = s.catalogue.apply_changes(&req.node, vec![change], crate::now_unix()).await?;
    if applied > 0 {
        s.live.changed();
    }
    Ok(axum::Json(NotifyImageChangeResponse { applied, ignored }))
}

pub async fn notify_batch(
    State(s): State<VdcState>,
    Json(req): Json<NotifyImageChangesRequest>,
) -> Result<axum::Json<NotifyImageChangeResponse>, ApiError> {
    let (applied, ignored) = s.catalogue.apply_changes(&req.node, req.events, crate::now_unix()).await?;
    if applied > 0 {
        s.live.changed();
    }
    Ok(axum::Json(NotifyImageChangeResponse { applied, ignored }))
}

pub async fn full_sync(
    State(s): State<VdcState>,
    Json(req): Json<SyncNodeImagesRequest>,
) -> Result<axum::Json<SyncNodeImagesResponse>, ApiError> {
    let counts = s.catalogue.sync_inventory(req, crate::now_unix()).await?;
    if counts.added + counts.updated + counts.removed > 0 {
        s.live.changed();
    }
    Ok(axum::Json(counts))
}

pub async fn heartbeat(
    State(s): State<VdcState>,
    Json(req): Json<HeartbeatRequest>,
) -> Result<axum::Json<HeartbeatResponse>, ApiError> {
    let full_sync_wanted = s.catalogue.heartbeat(&req.node, req.pending, &req.pools, crate::now_unix()).await?;
    s.live.changed();
    Ok(axum::Json(HeartbeatResponse { full_sync_wanted }))
}
