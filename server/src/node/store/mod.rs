//! The node's metadata in SQLite: images, explicit folders, the revision counter and the sync outbox.
//!
//! Every change bumps the node-wide revision and writes its outbox record in the same transaction, so a
//! change the vdc has not acknowledged can never be lost, whatever happens to the process.

mod files;
mod folders;
mod images;
mod outbox;

use std::{path::Path, sync::Arc, time::Duration};

use app::model::{FolderPath, FolderPathError, ImageEventType, IsoMetadata};
use sqlx::{
    Sqlite, SqlitePool, Transaction,
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
};
use uuid::Uuid;

pub use files::FileRow;
use images::ImageRow;
pub use images::NewImage;
pub use outbox::{OutboxRecord, Snapshot};

use super::pools::Pools;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/node");

/// Why a metadata operation failed.
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
    #[error("{0}")]
    Rule(String),
    #[error("{0}")]
    Conflict(String),
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("database migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

#[derive(Clone)]
pub struct NodeStore {
    db: SqlitePool,
    pools: Arc<Pools>,
    /// Signalled after every committed change, so the sync worker delivers it at once.
    changed: Arc<tokio::sync::Notify>,
}

type Tx = Transaction<'static, Sqlite>;

impl NodeStore {
    /// Opens (creating if needed) the database at `path` and applies the embedded migrations.
    pub async fn open(path: &Path, pools: Arc<Pools>) -> Result<NodeStore, StoreError> {
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
        let store = NodeStore { db, pools, changed: Default::default() };
        store.init_revision().await?;
        Ok(store)
    }

    /// Starts the revision counter at the current time in microseconds, so a node whose database was
    /// rebuilt still outranks every revision the vdc holds from before.
    async fn init_revision(&self) -> Result<(), StoreError> {
        let micros = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_micros() as i64)
            .unwrap_or(1);
        sqlx::query("INSERT OR IGNORE INTO settings (key, value) VALUES ('revision', $1)")
            .bind(micros.to_string())
            .execute(&self.db)
            .await?;
        Ok(())
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

    /// The node's pools with their space and image counts.
    pub async fn describe_pools(&self) -> Result<Vec<app::model::StoragePool>, StoreError> {
        let counts = self.count_by_pool().await?;
        let pools = self.pools.clone();
        tokio::task::spawn_blocking(move || pools.describe(&counts))
            .await
            .map_err(|e| StoreError::Rule(e.to_string()))?
            .map_err(|e| StoreError::Rule(format!("cannot read the pools' free space: {e}")))
    }

    pub async fn close(&self) {
        self.db.close().await;
    }
}

/// Takes the next revision inside `tx`.
async fn next_revision(tx: &mut Tx) -> Result<u64, StoreError> {
    let value: i64 = sqlx::query_scalar(
        "UPDATE settings SET value = CAST(value AS INTEGER) + 1 WHERE key = 'revision' RETURNING CAST(value AS INTEGER)",
    )
    .fetch_one(&mut **tx)
    .await?;
    Ok(value as u64)
}

/// Records a change for delivery to the vdc, inside the transaction that made it.
async fn record_change(tx: &mut Tx, event: ImageEventType, image: &IsoMetadata) -> Result<(), StoreError> {
    let json = serde_json::to_string(image).expect("metadata serialises");
    sqlx::query("INSERT INTO outbox (event_type, revision, image_json, created_at) VALUES ($1, $2, $3, $4)")
        .bind(event.code())
        .bind(image.revision as i64)
        .bind(json)
        .bind(crate::now_unix())
        .execute(&mut **tx)
        .await?;
    Ok(())
}
