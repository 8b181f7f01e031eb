//! Keeps the query planner's statistics fresh: once enough images changed since the last time, the
//! catalogue is re-analysed (PostgreSQL's autovacuum would get there too, but only after a minute or
//! more; SQLite never analyses by itself).

use std::{
    sync::{
        Arc,
        atomic::{AtomicI64, Ordering},
    },
    time::Duration,
};

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::{Backend, Catalogue};
use crate::db::Sql;

#[derive(Default)]
pub(super) struct Stats {
    changed: AtomicI64,
    /// Live images at the last analysis.
    live: AtomicI64,
    due: Notify,
}

impl Stats {
    pub(super) fn note(&self, changed_rows: u64) {
        let changed = self.changed.fetch_add(changed_rows as i64, Ordering::Relaxed) + changed_rows as i64;
        if changed >= (self.live.load(Ordering::Relaxed) / 10).max(500) {
            self.due.notify_one();
        }
    }
}

impl Catalogue {
    pub(super) fn note_changes(&self, rows: u64) {
        if rows > 0 {
            self.stats.note(rows);
        }
    }

    /// Runs until `shutdown`: analyses when due, and at least every few minutes if anything changed.
    pub async fn maintain(&self, shutdown: CancellationToken) {
        let stats: Arc<Stats> = self.stats.clone();
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = stats.due.notified() => {}
                _ = tokio::time::sleep(Duration::from_secs(300)) => {}
            }
            // Let a burst of writes settle a moment before reading the table.
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
            if stats.changed.swap(0, Ordering::Relaxed) == 0 {
                continue;
            }
            if let Err(e) = self.analyze().await {
                tracing::warn!(error = %e, "cannot refresh the catalogue's statistics");
            }
        }
    }

    async fn analyze(&self) -> Result<(), sqlx::Error> {
        match self.backend {
            // A bounded sample per index keeps this quick on any size.
            Backend::Sqlite => {
                // One connection: the limit is a setting of the connection that runs ANALYZE.
                let mut conn = self.db.acquire().await?;
                Sql::new("PRAGMA analysis_limit = 1000").execute(&mut *conn).await?;
                Sql::new("ANALYZE").execute(&mut *conn).await?;
            }
            Backend::Postgres => {
                Sql::new("ANALYZE images").execute(&self.db).await?;
            }
        }
        let live: Vec<(i64,)> =
            Sql::new("SELECT CAST(COALESCE(SUM(images), 0) AS BIGINT) FROM folder_counts").fetch_all(&self.db).await?;
        let live = live.first().map(|(n,)| *n).unwrap_or(0);
        self.stats.live.store(live, Ordering::Relaxed);
        tracing::debug!(live, "catalogue statistics refreshed");
        Ok(())
    }
}
