//! Durable sync of a node's changes to the vdc.
//!
//! Every change is already in the outbox (written in the change's own transaction). The worker here
//! delivers outbox records in order, batch by batch, and deletes them only once the vdc acknowledged
//! them; failures are retried with exponential backoff and jitter, forever, across restarts. At start-up
//! and every sync period it also compares its inventory with the vdc's (a digest, then the buckets that
//! differ: `digest.rs`), so the vdc converges even after lost events or a lost database; a heartbeat keeps the vdc's view of the node fresh and lets it ask for an
//! inventory early.

mod digest;
pub mod transport;

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use app::model::{
    BucketScope, HeartbeatRequest, ImageChange, IsoMetadata, NodeRef, NotifyImageChangesRequest, SyncNodeImagesRequest,
    SyncNodeImagesResponse,
};
use rand::Rng;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::pools::Pools;
use super::store::{NodeStore, Snapshot, StoreError};
pub use transport::{HttpTransport, SyncTransport, TransportError};

/// Changes per delivery.
pub const BATCH: u32 = 200;
/// How often a node tells the vdc it is alive (more often when the sync period is shorter than twice
/// this).
pub const HEARTBEAT_EVERY: Duration = Duration::from_secs(10);
const BACKOFF_FIRST: Duration = Duration::from_millis(250);
const BACKOFF_MAX: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Transport(#[from] TransportError),
    #[error("node database: {0}")]
    Store(#[from] StoreError),
    #[error("cannot read the pools' free space: {0}")]
    Pools(std::io::Error),
}

/// What `GET /api/v1/sync/status` shows besides the pending count.
#[derive(Debug, Clone, Default)]
pub struct SyncState {
    pub last_success_at: Option<i64>,
    pub last_error: Option<String>,
    pub last_error_at: Option<i64>,
    pub last_full_sync_at: Option<i64>,
}

/// Shared between the worker and the API.
pub type SharedSyncState = Arc<Mutex<SyncState>>;

pub struct SyncClient<T> {
    store: NodeStore,
    pools: Arc<Pools>,
    transport: T,
    node: NodeRef,
    state: SharedSyncState,
}

impl<T: SyncTransport> SyncClient<T> {
    pub fn new(store: NodeStore, pools: Arc<Pools>, transport: T, node: NodeRef, state: SharedSyncState) -> Self {
        Self { store, pools, transport, node, state }
    }

    fn record<R>(&self, result: &Result<R, SyncError>) {
        let mut s = self.state.lock().expect("sync state lock");
        let now = crate::now_unix();
        match result {
            Ok(_) => s.last_success_at = Some(now),
            Err(e) => {
                s.last_error = Some(e.to_string());
                s.last_error_at = Some(now);
            }
        }
    }

    /// Delivers the oldest pending changes (one batch) and forgets them once the vdc acknowledged them.
    /// Returns how many were delivered; 0 when nothing is pending.
    #[tracing::instrument(skip(self))]
    pub async fn deliver_once(&self) -> Result<usize, SyncError> {
        let records = self.store.pending_changes(BATCH).await?;
        let Some(last) = records.last().map(|r| r.seq) else { return Ok(0) };
        let req = NotifyImageChangesRequest {
            node: self.node.clone(),
            events: records
                .iter()
                .map(|r| ImageChange { image: r.image.clone(), event_type: r.event_type, timestamp: r.created_at })
                .collect(),
        };
        let result = self.transport.notify(&req).await.map_err(SyncError::from);
        self.record(&result);
        result?;
        self.store.acknowledge(last).await?;
        Ok(records.len())
    }

    /// Delivers everything pending.
    pub async fn drain(&self) -> Result<usize, SyncError> {
        let mut total = 0;
        loop {
            match self.deliver_once().await? {
                0 => return Ok(total),
                n => total += n,
            }
        }
    }

    /// One anti-entropy pass over a snapshot of the inventory: its digest first, then only the buckets
    /// the vdc found different (the whole inventory to a vdc without digests). Once the vdc has taken it,
    /// everything up to the snapshot is settled there and no longer needs delivering.
    #[tracing::instrument(skip(self))]
    pub async fn full_sync(&self) -> Result<SyncNodeImagesResponse, SyncError> {
        let snapshot = self.store.snapshot().await?;
        let result = self.reconcile(&snapshot).await.map_err(SyncError::from);
        self.record(&result);
        let counts = result?;
        self.state.lock().expect("sync state lock").last_full_sync_at = Some(crate::now_unix());
        self.store.acknowledge_up_to_revision(snapshot.as_of_revision).await?;
        Ok(counts)
    }

    /// Sends `images` of `snapshot`: all of them, or those of `scope`'s buckets.
    async fn send_inventory(
        &self,
        snapshot: &Snapshot,
        images: Vec<IsoMetadata>,
        scope: Option<BucketScope>,
    ) -> Result<SyncNodeImagesResponse, TransportError> {
        let req = SyncNodeImagesRequest {
            node: self.node.clone(),
            as_of_revision: snapshot.as_of_revision,
            images,
            timestamp: crate::now_unix(),
            scope,
        };
        self.transport.full_sync(&req).await
    }

    /// Tells the vdc the node is alive, and takes in its answer: the pins its VM definitions hold, and
    /// the highest revision it has seen of this node. Returns whether a full inventory is due now (the
    /// vdc lacks one, or this node's database went back in time).
    #[tracing::instrument(skip(self))]
    pub async fn heartbeat(&self) -> Result<bool, SyncError> {
        let pending = self.store.pending_count().await?;
        let pools = self.pools.describe(self.store.count_by_pool().await?).await.map_err(SyncError::Pools)?;
        let result = self.transport.heartbeat(&HeartbeatRequest { node: self.node.clone(), pending, pools }).await;
        let result = result.map_err(SyncError::from);
        self.record(&result);
        let answer = result?;
        if let Some(pins) = &answer.pins {
            let (added, removed) = self.store.reconcile_pins(pins, crate::now_unix()).await?;
            if added + removed > 0 {
                tracing::info!(added, removed, "pins brought in line with the vdc's VM definitions");
            }
        }
        let mut full_sync = answer.full_sync_wanted;
        if let Some(seen) = answer.node_revision {
            let counter = self.store.current_revision().await?;
            let restamped = self.store.recover_lost_revisions(seen).await?;
            if restamped > 0 {
                tracing::warn!(
                    restamped,
                    counter,
                    vdc_has_seen = seen,
                    "this node's database is older than what the vdc holds of it (restored from a backup?): every \
                     image gets a revision above the vdc's and a full inventory is sent"
                );
                full_sync = true;
            }
        }
        Ok(full_sync)
    }

    /// Runs until `shutdown`: an anti-entropy pass at start and every `period`, changes as they happen, a
    /// heartbeat every [`HEARTBEAT_EVERY`] (or half a period); after a failure, waits with backoff and tries again.
    pub async fn run(self, period: Duration, shutdown: CancellationToken) {
        let changes = self.store.changes();
        let heartbeat_every = HEARTBEAT_EVERY.min(period / 2);
        let mut next_full = Instant::now();
        let mut next_beat = Instant::now();
        let mut failures = 0u32;
        loop {
            if shutdown.is_cancelled() {
                return;
            }
            let cycle = async {
                // The heartbeat first: its answer says whether this node's counter must rise before any
                // change it sends can win at the vdc.
                if Instant::now() >= next_beat {
                    if self.heartbeat().await? {
                        next_full = Instant::now();
                    }
                    next_beat = Instant::now() + heartbeat_every;
                }
                if Instant::now() >= next_full {
                    let counts = self.full_sync().await?;
                    tracing::info!(?counts, "anti-entropy pass done: the vdc holds this node's inventory");
                    next_full = Instant::now() + period;
                }
                let delivered = self.drain().await?;
                if delivered > 0 {
                    tracing::debug!(delivered, "changes delivered to the vdc");
                }
                Ok::<(), SyncError>(())
            };
            // A call in flight is abandoned at shutdown: what it carried is still in the outbox.
            let outcome = tokio::select! {
                _ = shutdown.cancelled() => return,
                outcome = cycle => outcome,
            };
            let wait = match outcome {
                Ok(()) => {
                    failures = 0;
                    if next_full <= Instant::now() {
                        continue;
                    }
                    None
                }
                Err(e) => {
                    failures += 1;
                    // Never wait longer than half a sync period: a vdc that comes back is caught up soon.
                    let delay = backoff(failures, BACKOFF_MAX.min(period / 2).max(Duration::from_secs(1)));
                    tracing::warn!(error = %e, retry_in = ?delay, "sync to the vdc failed");
                    Some(delay)
                }
            };
            let wake_at = match wait {
                Some(delay) => Instant::now() + delay,
                None => next_full.min(next_beat),
            };
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep_until(wake_at) => {}
                // New changes are sent at once, unless the vdc is failing: then the backoff stands.
                _ = changes.notified(), if wait.is_none() => {}
            }
        }
    }
}

/// Exponential up to `cap`, with jitter in its upper half (so many nodes do not retry in step).
pub fn backoff(failures: u32, cap: Duration) -> Duration {
    let exp = BACKOFF_FIRST.saturating_mul(1 << failures.saturating_sub(1).min(16)).min(cap);
    let millis = exp.as_millis() as u64;
    Duration::from_millis(rand::rng().random_range(millis / 2..=millis))
}

/// A standalone node (no vdc) has nobody to deliver to: its outbox is emptied as it fills.
pub async fn discard_outbox(store: NodeStore, shutdown: CancellationToken) {
    let changes = store.changes();
    loop {
        match store.pending_changes(BATCH).await {
            Ok(records) => {
                if let Some(last) = records.last()
                    && let Err(e) = store.acknowledge(last.seq).await
                {
                    tracing::warn!(error = %e, "cannot trim the outbox");
                }
                if records.len() as u32 == BATCH {
                    continue;
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot read the outbox"),
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = changes.notified() => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_to_a_cap_with_jitter() {
        for failures in 1..40 {
            let d = backoff(failures, BACKOFF_MAX);
            assert!(d <= BACKOFF_MAX, "{d:?}");
            assert!(d >= BACKOFF_FIRST / 2, "{d:?}");
        }
        assert!(backoff(1, BACKOFF_MAX) <= BACKOFF_FIRST);
        assert!(backoff(20, BACKOFF_MAX) >= BACKOFF_MAX / 2);
        assert!(backoff(20, Duration::from_secs(2)) <= Duration::from_secs(2));
    }
}
