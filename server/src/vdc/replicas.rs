//! Live updates across replicas: on PostgreSQL each replica `LISTEN`s on the catalogue's channel and passes
//! what the other replicas changed to its own pages (the notices are sent inside the transactions that
//! made the changes, see `catalogue::feed`).
//!
//! Notifications are not queued for a listener that is not connected, so a listener that lost its
//! connection cannot know what it missed: once it listens again, its pages are told to resync, and they
//! reload what they show from the database, which has everything.

use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};
use tokio_util::sync::CancellationToken;

use super::catalogue::{CHANNEL, Catalogue, CatalogueEvent, Notice};
use crate::telemetry::metrics::names;

/// A listener that heard nothing for this long checks that its connection still answers: a connection
/// cut without a reset (a dead peer, a dropped route) would otherwise wait for ever.
const IDLE_CHECK: Duration = Duration::from_secs(30);
/// How long that check, and a connection attempt, may take.
const CHECK_TIMEOUT: Duration = Duration::from_secs(5);
/// Reconnection backoff bounds.
const FIRST_RETRY: Duration = Duration::from_millis(250);
const LAST_RETRY: Duration = Duration::from_secs(10);

/// What the listener's connection is called in `pg_stat_activity` (an operator, or a test, can find it).
pub fn application_name(catalogue: &Catalogue) -> String {
    format!("quantix-vdc-listener {}", catalogue.replica())
}

/// Runs until `shutdown`: listens, relays, and after any loss of the connection reconnects and resyncs.
pub async fn relay(url: String, catalogue: Catalogue, shutdown: CancellationToken) {
    let mut first = true;
    let mut retry = FIRST_RETRY;
    loop {
        let listener = tokio::select! {
            _ = shutdown.cancelled() => return,
            l = listen(&url, &catalogue) => l,
        };
        let mut listener = match listener {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(error = %e, retry_in = ?retry, "cannot listen for other replicas' changes");
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = tokio::time::sleep(retry) => {}
                }
                retry = (retry * 2).min(LAST_RETRY);
                continue;
            }
        };
        retry = FIRST_RETRY;
        metrics::gauge!(names::REPLICA_LISTENER_UP).set(1.0);
        if first {
            tracing::info!("listening for other replicas' changes");
        } else {
            // Whatever was committed while no one listened is in the database; the pages read it again.
            tracing::info!("listening for other replicas' changes again; pages resync");
            metrics::counter!(names::REPLICA_RESYNCS).increment(1);
            catalogue.relay(CatalogueEvent::Resync);
        }
        first = false;
        let lost = tokio::select! {
            _ = shutdown.cancelled() => return,
            lost = hear(&mut listener, &catalogue) => lost,
        };
        metrics::gauge!(names::REPLICA_LISTENER_UP).set(0.0);
        tracing::warn!(reason = %lost, "lost the connection that hears other replicas' changes; reconnecting");
    }
}

/// A listener on its own connection (not one of the catalogue's pool: it is held for ever).
async fn listen(url: &str, catalogue: &Catalogue) -> Result<PgListener, sqlx::Error> {
    let options: PgConnectOptions = url.parse()?;
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(CHECK_TIMEOUT)
        .connect_lazy_with(options.application_name(&application_name(catalogue)));
    let mut listener = PgListener::connect_with(&pool).await?;
    listener.ignore_pool_close_event(true);
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

/// Relays notices until the connection is lost; returns why.
async fn hear(listener: &mut PgListener, catalogue: &Catalogue) -> String {
    loop {
        // `try_recv` is cancel-safe: a timeout loses no notification.
        let next = match tokio::time::timeout(IDLE_CHECK, listener.try_recv()).await {
            Ok(next) => next,
            Err(_) => {
                match tokio::time::timeout(CHECK_TIMEOUT, sqlx::query("SELECT 1").execute(&mut *listener)).await {
                    Ok(Ok(_)) => continue,
                    Ok(Err(e)) => return e.to_string(),
                    Err(_) => return format!("no answer to a check within {CHECK_TIMEOUT:?}"),
                }
            }
        };
        match next {
            Ok(Some(first)) => {
                // What has arrived meanwhile goes out with it, as one event of each kind: a burst of
                // changes on another replica does not make every page reload once per notice.
                let mut batch = vec![first];
                while batch.len() < 64
                    && let Some(n) = listener.next_buffered()
                {
                    batch.push(n);
                }
                relay_batch(catalogue, batch.iter().map(|n| n.payload()));
            }
            // sqlx reconnected already, but what was sent meanwhile is lost: start again, and resync.
            Ok(None) => return "the connection closed".to_owned(),
            Err(e) => return e.to_string(),
        }
    }
}

fn relay_batch<'a>(catalogue: &Catalogue, payloads: impl Iterator<Item = &'a str>) {
    // Some, even empty: the folder tree changed.
    let mut images: Option<Vec<_>> = None;
    let mut nodes = false;
    for payload in payloads {
        let notice: Notice = match serde_json::from_str(payload) {
            Ok(n) => n,
            Err(e) => {
                // Another version of the vdc, or someone else on the channel: a page reload is safe.
                tracing::warn!(error = %e, payload, "a notice this replica cannot read; pages resync");
                catalogue.relay(CatalogueEvent::Resync);
                continue;
            }
        };
        if notice.origin == catalogue.replica() {
            continue;
        }
        match notice.event() {
            CatalogueEvent::Images(changed) => images.get_or_insert_default().extend(changed.iter().copied()),
            CatalogueEvent::Nodes => nodes = true,
            CatalogueEvent::Resync => catalogue.relay(CatalogueEvent::Resync),
        }
    }
    if let Some(images) = images {
        catalogue.relay(CatalogueEvent::Images(images.into()));
    }
    if nodes {
        catalogue.relay(CatalogueEvent::Nodes);
    }
}
