//! The node's metadata in SQLite: images, explicit folders, the revision counter and the sync outbox.
//!
//! Every change to an image goes through [`changes`]: it takes the next node-wide revision and writes the
//! outbox record in the change's own transaction, so a change the vdc has not acknowledged can never be
//! lost, whatever happens to the process. Folders are not synced as such (the vdc derives them from
//! images and keeps its own created folders): creating or deleting an empty folder records no change.
//!
//! The store never touches a pool: what it knows of them is the [`Locator`] that names a file's path.

mod changes;
mod files;
mod folders;
mod images;
mod outbox;
mod pins;
mod rows;
mod tasks;
mod uploads;

use std::{path::Path, sync::Arc, time::Duration};

use app::model::{FolderPath, FolderPathError};
use sqlx::{
    Sqlite, SqlitePool, Transaction,
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
};
use uuid::Uuid;

pub use changes::UserOs;
pub use files::FileRow;
pub use images::NewImage;
pub use outbox::{OutboxRecord, Snapshot};
pub use tasks::TaskRow;
pub use uploads::UploadRow;

use super::pools::Locator;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/node");

/// Why a metadata operation failed: a refusal the caller can act on, or a fault of ours
/// ([`Corrupt`](StoreError::Corrupt), [`Db`](StoreError::Db), [`Migrate`](StoreError::Migrate)).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("No image has the id {0}.")]
    ImageNotFound(Uuid),
    #[error("Pool \"{pool}\" already holds a file named \"{filename}\".")]
    NameTaken { pool: String, filename: String },
    #[error("The folder {path} is not empty: it holds {images} image(s). Move or delete them first.")]
    FolderNotEmpty { path: FolderPath, images: u64 },
    #[error("There is no folder {0}.")]
    FolderNotFound(FolderPath),
    #[error("A folder {0} already exists.")]
    FolderExists(FolderPath),
    #[error("{0}")]
    InvalidFolder(#[from] FolderPathError),
    #[error("The top-level folder cannot be {0}.")]
    RootFolder(&'static str),
    #[error("{0} is a default folder; it always exists.")]
    DefaultFolder(FolderPath),
    #[error("{from} cannot be moved inside itself ({to}).")]
    IntoItself { from: FolderPath, to: FolderPath },
    /// Stored data that does not read back: a bug or a damaged database, never the caller's fault.
    #[error("stored data is not valid: {0}")]
    Corrupt(String),
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("database migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

#[derive(Clone)]
pub struct NodeStore {
    db: SqlitePool,
    locator: Locator,
    /// Signalled after every committed change, so the sync worker delivers it at once.
    changed: Arc<tokio::sync::Notify>,
    /// The revision counter as this process found it, and where this start raised it to.
    started: Arc<std::sync::OnceLock<Started>>,
    /// The highest lost revision already recovered from (see [`NodeStore::recover_lost_revisions`]).
    recovered: Arc<std::sync::atomic::AtomicU64>,
}

/// What the revision counter was when the process started.
#[derive(Debug, Clone, Copy)]
struct Started {
    /// The last revision the database had issued.
    found: u64,
    /// The counter after the start's raise: revisions from here on are this run's.
    raised_to: u64,
}

type Tx = Transaction<'static, Sqlite>;

impl NodeStore {
    /// Opens (creating if needed) the database at `path` and applies the embedded migrations.
    pub async fn open(path: &Path, locator: Locator) -> Result<NodeStore, StoreError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: an acknowledged change survives power loss, not only a crash of the process.
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        let db = SqlitePoolOptions::new().max_connections(4).connect_with(options).await?;
        MIGRATOR.run(&db).await?;
        let store = NodeStore {
            db,
            locator,
            changed: Default::default(),
            started: Default::default(),
            recovered: Default::default(),
        };
        store.init_revision().await?;
        store.fill_search_keys().await?;
        Ok(store)
    }

    /// Raises the revision counter to at least the current time in microseconds, at every start. The
    /// counter grows by one per change, and a change takes far longer than a microsecond, so it never
    /// runs ahead of the clock: whatever the database is (new, rebuilt, or restored from a backup older
    /// than revisions the vdc already holds), the next change outranks everything issued before.
    async fn init_revision(&self) -> Result<(), StoreError> {
        let micros = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_micros() as i64)
            .unwrap_or(1);
        sqlx::query("INSERT OR IGNORE INTO settings (key, value) VALUES ('revision', $1)")
            .bind(micros.to_string())
            .execute(&self.db)
            .await?;
        let found = self.current_revision().await?;
        self.raise_revision_above(micros as u64 - 1).await?;
        let _ = self.started.set(Started { found, raised_to: self.current_revision().await? });
        Ok(())
    }

    /// Handles revision `seen`, which the vdc holds of this node: if this node issued it in a life its
    /// database no longer remembers — above what the database had issued when this process started, yet
    /// before this start (the database was restored from a backup), or above the counter now (the clock
    /// went back) — every image gets a revision above it, so that what the node holds now outranks what
    /// the vdc kept. Returns how many images were restamped (0: nothing was lost).
    pub async fn recover_lost_revisions(&self, seen: u64) -> Result<usize, StoreError> {
        use std::sync::atomic::Ordering;
        if seen <= self.recovered.load(Ordering::SeqCst) {
            return Ok(0);
        }
        let before_this_run = self.started.get().is_some_and(|s| s.found < seen && seen <= s.raised_to);
        if !before_this_run && self.current_revision().await? >= seen {
            return Ok(0);
        }
        self.raise_revision_above(seen).await?;
        let restamped = self.restamp_all().await?;
        self.recovered.fetch_max(seen, Ordering::SeqCst);
        Ok(restamped.max(1))
    }

    /// The revision the last change took.
    pub async fn current_revision(&self) -> Result<u64, StoreError> {
        let value: i64 = sqlx::query_scalar("SELECT CAST(value AS INTEGER) FROM settings WHERE key = 'revision'")
            .fetch_one(&self.db)
            .await?;
        Ok(value as u64)
    }

    /// Makes the next revision greater than `seen` (a revision this node issued before, as the vdc or a
    /// file's tag remembers it). Returns whether the counter had to move: the database went back in time.
    pub async fn raise_revision_above(&self, seen: u64) -> Result<bool, StoreError> {
        let seen = seen.min(i64::MAX as u64 - 1) as i64;
        let raised = sqlx::query(
            "UPDATE settings SET value = CAST($1 AS TEXT) WHERE key = 'revision' AND CAST(value AS INTEGER) < $1",
        )
        .bind(seen)
        .execute(&self.db)
        .await?;
        Ok(raised.rows_affected() > 0)
    }

    /// A write transaction that takes the write lock up front (no lock upgrade, so no deadlock).
    async fn write(&self) -> Result<Tx, StoreError> {
        Ok(self.db.begin_with("BEGIN IMMEDIATE").await?)
    }

    pub async fn setting(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar("SELECT value FROM settings WHERE key = $1").bind(key).fetch_optional(&self.db).await?)
    }

    pub async fn set_setting(&self, key: &str, value: &str) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(key)
        .bind(value)
        .execute(&self.db)
        .await?;
        Ok(())
    }

    /// Commits a transaction that recorded changes, and wakes whoever waits for changes.
    async fn commit(&self, tx: Tx) -> Result<(), StoreError> {
        tx.commit().await?;
        self.changed.notify_one();
        Ok(())
    }

    /// Notified after each committed change.
    pub fn changes(&self) -> Arc<tokio::sync::Notify> {
        self.changed.clone()
    }

    pub async fn close(&self) {
        self.db.close().await;
    }
}
