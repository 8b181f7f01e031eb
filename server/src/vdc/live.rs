//! Live updates for the browser: `GET /api/v1/events`, server-sent events. `change` whenever this
//! replica changed the catalogue, `tick` every few seconds (node states age with time alone).

use std::{convert::Infallible, time::Duration};

use axum::{
    extract::State,
    response::sse::{Event, KeepAlive, Sse},
};
use futures_util::{Stream, StreamExt};
use tokio::sync::broadcast;
use tokio_stream::wrappers::{BroadcastStream, IntervalStream};
use tokio_util::sync::CancellationToken;

use super::VdcState;

/// How often `tick` is sent.
pub const TICK: Duration = Duration::from_secs(5);

#[derive(Clone)]
pub struct Live {
    changes: broadcast::Sender<()>,
    /// Ends every stream, so a graceful shutdown does not wait on open pages forever.
    closing: CancellationToken,
}

impl Default for Live {
    fn default() -> Self {
        Self { changes: broadcast::channel(64).0, closing: CancellationToken::new() }
    }
}

impl Live {
    /// Tells every open page that the catalogue changed.
    pub fn changed(&self) {
        let _ = self.changes.send(());
    }

    pub fn close(&self) {
        self.closing.cancel();
    }
}

pub async fn events(State(s): State<VdcState>) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    // A lagging receiver has missed changes: one `change` covers them all.
    let changes = BroadcastStream::new(s.live.changes.subscribe()).map(|_| Event::default().event("change").data("{}"));
    let ticks = IntervalStream::new(tokio::time::interval(TICK)).map(|_| Event::default().event("tick").data("{}"));
    let events = futures_util::stream::select(changes, ticks).take_until(s.live.closing.clone().cancelled_owned());
    Sse::new(events.map(Ok)).keep_alive(KeepAlive::default())
}
