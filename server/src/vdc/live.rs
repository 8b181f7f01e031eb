//! Live updates for the browser: `GET /api/v1/events`, server-sent events. `change` when the catalogue
//! changed (on any replica; its data lists the changed ids when there are few), `nodes` when a node's
//! state changed (only the host panel reloads), `resync` when the page may have missed events (the
//! page reloads what it shows), and `tick` every few seconds (node states age with time alone).
//!
//! A page may miss events three ways, and each ends in `resync`: its stream fell behind this replica's
//! channel; this replica's listener lost its connection to PostgreSQL (`vdc::replicas`); or the stream
//! itself broke and the browser reconnected (it then sends `Last-Event-ID`, since every event carries
//! an id, and the new stream starts with `resync`).
//!
//! Each stream holds a connection and a file descriptor, so a replica holds a bounded number of them, and
//! one client address a smaller one.

use std::{
    collections::HashMap,
    convert::Infallible,
    net::IpAddr,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use axum::{
    extract::State,
    response::sse::{Event, KeepAlive, Sse},
};
use futures_util::{Stream, StreamExt};
use http::{HeaderMap, StatusCode};
use tokio_stream::wrappers::{BroadcastStream, IntervalStream, errors::BroadcastStreamRecvError};
use tokio_util::sync::CancellationToken;

use super::VdcState;
use super::catalogue::CatalogueEvent;
use crate::config::LiveLimits;
use crate::http::ApiError;

/// How often `tick` is sent.
pub const TICK: Duration = Duration::from_secs(5);

/// A `change` lists its images' ids up to this many; past it the page reloads without knowing which.
const IDS_PER_EVENT: usize = 100;

/// The SSE event a catalogue event is.
fn event(e: &CatalogueEvent) -> Event {
    match e {
        CatalogueEvent::Images(changed) if changed.len() <= IDS_PER_EVENT => {
            let ids: Vec<_> = changed.iter().map(|c| c.id).collect();
            Event::default().event("change").data(serde_json::json!({ "ids": ids }).to_string())
        }
        CatalogueEvent::Images(_) => Event::default().event("change").data("{}"),
        CatalogueEvent::Nodes => Event::default().event("nodes").data("{}"),
        CatalogueEvent::Resync => resync(),
    }
}

fn resync() -> Event {
    Event::default().event("resync").data("{}")
}

#[derive(Clone)]
pub struct Live {
    /// Ends every stream, so a graceful shutdown does not wait on open pages forever.
    closing: CancellationToken,
    limits: LiveLimits,
    open: Arc<Mutex<OpenStreams>>,
    /// The id of the next event sent on any stream (ids only need to be present, for `Last-Event-ID`).
    next_id: Arc<AtomicU64>,
}

#[derive(Default)]
struct OpenStreams {
    total: usize,
    by_address: HashMap<IpAddr, usize>,
}

/// One open stream's place; given back when the stream ends (the client left, or shutdown).
struct Slot {
    open: Arc<Mutex<OpenStreams>>,
    address: Option<IpAddr>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.open.lock().expect("live streams lock");
        open.total -= 1;
        if let Some(a) = self.address
            && let Some(n) = open.by_address.get_mut(&a)
        {
            *n -= 1;
            if *n == 0 {
                open.by_address.remove(&a);
            }
        }
    }
}

impl Live {
    pub fn new(limits: LiveLimits) -> Self {
        Self { closing: CancellationToken::new(), limits, open: Default::default(), next_id: Default::default() }
    }

    pub fn close(&self) {
        self.closing.cancel();
    }

    /// How many streams are open now.
    pub fn open_streams(&self) -> usize {
        self.open.lock().expect("live streams lock").total
    }

    /// A place for one more stream from `address`, or the refusal that says why there is none.
    fn admit(&self, address: Option<IpAddr>) -> Result<Slot, ApiError> {
        let mut open = self.open.lock().expect("live streams lock");
        if open.total >= self.limits.max_clients {
            return Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "too_many_streams",
                format!(
                    "This vdc already sends live updates to {} pages, its limit (--sse-max-clients); the page \
                     still works, reload it to see changes.",
                    open.total
                ),
            ));
        }
        if let Some(a) = address {
            let from_here = open.by_address.entry(a).or_default();
            if *from_here >= self.limits.max_per_address {
                return Err(ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "too_many_streams",
                    format!(
                        "{a} already has {from_here} live-update streams open, the limit per address \
                         (--sse-max-per-address); close some pages of this vdc."
                    ),
                ));
            }
            *from_here += 1;
        }
        open.total += 1;
        Ok(Slot { open: self.open.clone(), address })
    }
}

#[utoipa::path(
    get,
    path = "/api/v1/events",
    tag = "live",
    summary = "Live updates (server-sent events)",
    description = "An endless `text/event-stream`: `change` (the catalogue changed on any replica; data `{\"ids\": [...]}` when at most 100 images changed, `{}` otherwise or for the folder tree), `nodes` (a node's sync state changed), `resync` (this page may have missed changes: reload everything shown; also the first event of a stream that a browser reopened with `Last-Event-ID`) and `tick` (every 5 s). Every event has an id. Streams are capped per replica and per client address.",
    responses(
        (status = 200, description = "The event stream.", content_type = "text/event-stream", body = String),
        (status = 429, description = "This address has too many streams open.", body = app::model::ErrorBody),
        (status = 503, description = "This replica has too many streams open.", body = app::model::ErrorBody),
    )
)]
pub async fn events(
    State(s): State<VdcState>,
    headers: HeaderMap,
    extensions: http::Extensions,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let slot = s.live.admit(crate::auth::routes::peer(&extensions).map(|a| a.ip()))?;
    // A browser reconnecting after a broken stream names the last event it saw: what came between is lost.
    let reconnected = headers.contains_key("last-event-id");
    let events = BroadcastStream::new(s.catalogue.subscribe()).map(|e| match e {
        Ok(e) => event(&e),
        // This stream fell behind and lost events: the page must reload everything it shows.
        Err(BroadcastStreamRecvError::Lagged(_)) => resync(),
    });
    // A stream its client stopped reading for a while gets one tick when it reads again, not one per
    // period missed.
    let mut interval = tokio::time::interval(TICK);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let ticks = IntervalStream::new(interval).map(|_| Event::default().event("tick").data("{}"));
    let first = futures_util::stream::iter(reconnected.then(resync));
    let next_id = s.live.next_id.clone();
    let stream = first
        .chain(futures_util::stream::select(events, ticks))
        .take_until(s.live.closing.clone().cancelled_owned())
        // The slot lives as long as the stream.
        .map(move |e| {
            let _held = &slot;
            Ok(e.id(next_id.fetch_add(1, Ordering::Relaxed).to_string()))
        });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}
