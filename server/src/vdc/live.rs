//! Live updates for the browser: `GET /api/v1/events`, server-sent events. `change` when this replica
//! changed the catalogue, `nodes` when a node's state changed (only the host panel reloads), `resync` when
//! a stream fell behind and may have missed events (the page reloads what it shows), and `tick` every
//! few seconds (node states age with time alone).
//!
//! Each stream holds a connection and a file descriptor, so a replica holds a bounded number of them, and
//! one client address a smaller one.

use std::{
    collections::HashMap,
    convert::Infallible,
    net::IpAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    extract::State,
    response::sse::{Event, KeepAlive, Sse},
};
use futures_util::{Stream, StreamExt};
use http::StatusCode;
use tokio::sync::broadcast;
use tokio_stream::wrappers::{BroadcastStream, IntervalStream, errors::BroadcastStreamRecvError};
use tokio_util::sync::CancellationToken;

use super::VdcState;
use crate::config::LiveLimits;
use crate::http::ApiError;

/// How often `tick` is sent.
pub const TICK: Duration = Duration::from_secs(5);

/// What an open page is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiveEvent {
    /// The catalogue changed.
    Change,
    /// A node's sync state, pools or name changed; the images did not.
    Nodes,
}

impl LiveEvent {
    fn name(self) -> &'static str {
        match self {
            LiveEvent::Change => "change",
            LiveEvent::Nodes => "nodes",
        }
    }
}

#[derive(Clone)]
pub struct Live {
    events: broadcast::Sender<LiveEvent>,
    /// Ends every stream, so a graceful shutdown does not wait on open pages forever.
    closing: CancellationToken,
    limits: LiveLimits,
    open: Arc<Mutex<OpenStreams>>,
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
        Self { events: broadcast::channel(64).0, closing: CancellationToken::new(), limits, open: Default::default() }
    }

    /// Tells every open page that the catalogue changed.
    pub fn changed(&self) {
        let _ = self.events.send(LiveEvent::Change);
    }

    /// Tells every open page that a node's state changed.
    pub fn nodes_changed(&self) {
        let _ = self.events.send(LiveEvent::Nodes);
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
    description = "An endless `text/event-stream`: `change` (the catalogue changed), `nodes` (a node's sync state changed), `resync` (this stream fell behind: reload everything shown) and `tick` (every 5 s). Streams are capped per replica and per client address.",
    responses(
        (status = 200, description = "The event stream.", content_type = "text/event-stream", body = String),
        (status = 429, description = "This address has too many streams open.", body = app::model::ErrorBody),
        (status = 503, description = "This replica has too many streams open.", body = app::model::ErrorBody),
    )
)]
pub async fn events(
    State(s): State<VdcState>,
    extensions: http::Extensions,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let slot = s.live.admit(crate::auth::routes::peer(&extensions).map(|a| a.ip()))?;
    let events = BroadcastStream::new(s.live.events.subscribe()).map(|e| match e {
        Ok(e) => Event::default().event(e.name()).data("{}"),
        // This stream fell behind and lost events: the page must reload everything it shows.
        Err(BroadcastStreamRecvError::Lagged(_)) => Event::default().event("resync").data("{}"),
    });
    let ticks = IntervalStream::new(tokio::time::interval(TICK)).map(|_| Event::default().event("tick").data("{}"));
    let stream = futures_util::stream::select(events, ticks)
        .take_until(s.live.closing.clone().cancelled_owned())
        // The slot lives as long as the stream.
        .map(move |e| {
            let _held = &slot;
            Ok(e)
        });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}
