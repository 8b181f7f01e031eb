//! The cluster-wide catalogue: one repository over sqlx's `Any` driver, on SQLite (embedded default) or
//! PostgreSQL (several vdc replicas share one), chosen by the database URL. The same queries run on both;
//! only the migrations are per backend.

mod digest;
mod feed;
mod folders;
mod groups;
mod images;
mod listing;
mod maintenance;
mod nodes;

mod vms;

use std::{path::Path, time::Duration};

use app::model::FolderPathError;
use sqlx::{Any, AnyPool, Executor, Transaction, any::AnyPoolOptions};
use uuid::Uuid;

pub use feed::{CHANNEL, CatalogueEvent, ChangedImage, Notice};
pub use nodes::{HeartbeatOutcome, NodeRecord, NodeTimings};
pub use vms::VmRecord;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/vdc_sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/vdc_postgres");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Debug, thiserror::Error)]
pub enum CatalogueError {
    #[error("unsupported database URL {0:?}: use sqlite://PATH or postgres://USER@HOST/DB")]
    UnsupportedUrl(String),
    #[error("No image has the id {0}.")]
    ImageNotFound(Uuid),
    #[error("No node has the id \"{0}\".")]
    NodeNotFound(String),
    #[error("A folder {0} already exists.")]
    FolderExists(String),
    #[error("{0}")]
    InvalidFolder(#[from] FolderPathError),
    #[error("A VM named \"{0}\" already exists; choose another name.")]
    VmNameTaken(String),
    #[error("No VM has the id {0}.")]
    VmNotFound(Uuid),
    /// A partial inventory came after the catalogue changed in a bucket it does not cover: the node's
    /// digest no longer holds, so the part cannot stand for the whole. The node sends its whole inventory.
    #[error(
        "The catalogue changed in {0} bucket(s) outside this partial inventory since the digest; send the whole inventory."
    )]
    DigestStale(usize),
    #[error("stored data is not valid: {0}")]
    Corrupt(String),
    #[error("cannot create {path}: {source}")]
    Dir { path: String, source: std::io::Error },
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("database migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

#[derive(Clone)]
pub struct Catalogue {
    db: AnyPool,
    backend: Backend,
    stats: std::sync::Arc<maintenance::Stats>,
    feed: feed::Feed,
}

type Tx = Transaction<'static, Any>;

/// SQLite's primary result code for "database is locked" (the write lock stayed taken for the whole busy
/// timeout); sqlx reports it as the code's number.
const SQLITE_BUSY: &str = "5";

impl Catalogue {
    /// Connects to `url` (creating an SQLite file and its directory if needed) and applies migrations.
    /// The connection pool, for the account store that shares the catalogue's database.
    pub fn pool(&self) -> AnyPool {
        self.db.clone()
    }

    pub async fn open(url: &str) -> Result<Catalogue, CatalogueError> {
        sqlx::any::install_default_drivers();
        let (backend, url) = if let Some(path) = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) {
            let file = path.split('?').next().unwrap_or(path);
            if let Some(dir) = Path::new(file).parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .map_err(|source| CatalogueError::Dir { path: dir.display().to_string(), source })?;
            }
            let url = if path.contains("mode=") { url.to_owned() } else { format!("sqlite://{file}?mode=rwc") };
            (Backend::Sqlite, url)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            (Backend::Postgres, url.to_owned())
        } else {
            return Err(CatalogueError::UnsupportedUrl(url.to_owned()));
        };
        let options = AnyPoolOptions::new()
            .max_connections(if backend == Backend::Sqlite { 4 } else { 16 })
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // The catalogue is a cache the nodes can rebuild: NORMAL durability is enough.
                        for pragma in
                            ["PRAGMA journal_mode = WAL", "PRAGMA synchronous = NORMAL", "PRAGMA busy_timeout = 10000"]
                        {
                            conn.execute(pragma).await?;
                        }
                    }
                    Ok(())
                })
            });
        let db = options.connect(&url).await?;
        match backend {
            Backend::Sqlite => SQLITE_MIGRATIONS.run(&db).await?,
            Backend::Postgres => POSTGRES_MIGRATIONS.run(&db).await?,
        }
        Ok(Catalogue { db, backend, stats: Default::default(), feed: feed::Feed::new(backend) })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// This replica's changes, as they commit (and, from `relay`, other replicas' changes).
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<CatalogueEvent> {
        self.feed.subscribe()
    }

    /// This catalogue's id among the replicas of one database: the origin of the notices it sends.
    pub fn replica(&self) -> Uuid {
        self.feed.origin()
    }

    /// Passes on what another replica changed (or that this one may have missed some) to this replica's
    /// pages.
    pub fn relay(&self, event: CatalogueEvent) {
        self.feed.tell(event);
    }

    /// Tells every replica's pages that a node's state changed. Best effort: what changed is committed
    /// already, and pages reload node states every few seconds anyway.
    pub async fn nodes_changed(&self, node_id: &str) {
        self.feed.tell(CatalogueEvent::Nodes);
        if let Err(e) = self.feed.announce_node(&self.db, node_id).await {
            tracing::warn!(error = %e, node = node_id, "could not tell the other replicas of a node's new state");
        }
    }

    /// Commits a write that changed `changed` (if it changed nothing, no one is told).
    async fn commit_changes(&self, tx: Tx, changed: Vec<ChangedImage>) -> Result<(), CatalogueError> {
        if changed.is_empty() {
            tx.commit().await?;
            return Ok(());
        }
        self.commit_announcing(tx, changed).await
    }

    /// Commits a write, telling the other replicas in the same transaction and this replica's pages once
    /// it committed: the images it changed, or with none, that the folder tree changed.
    async fn commit_announcing(&self, mut tx: Tx, changed: Vec<ChangedImage>) -> Result<(), CatalogueError> {
        self.feed.announce_in(&mut tx, &changed).await?;
        tx.commit().await?;
        self.note_changes(changed.len() as u64);
        self.feed.tell(CatalogueEvent::Images(changed.into()));
        Ok(())
    }

    /// A write transaction. On SQLite it takes the write lock up front, so concurrent writers queue
    /// instead of failing on a lock upgrade.
    async fn write(&self) -> Result<Tx, CatalogueError> {
        Ok(match self.backend {
            Backend::Sqlite => self.db.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.db.begin().await?,
        })
    }

    /// Runs `attempt` (one write transaction) again when PostgreSQL aborted it to break a deadlock or a
    /// serialization conflict with another replica, or SQLite gave up waiting for its write lock; such an
    /// abort changed nothing.
    ///
    /// SQLite's busy handler is not first come, first served: with writers queued back to back (a bulk
    /// ingest 8 calls at a time while the statistics were refreshed), one waited past the busy timeout
    /// (10 s) and its node got a 500 for a change that only had to wait its turn.
    async fn retrying<T, F, Fut>(&self, mut attempt: F) -> Result<T, CatalogueError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, CatalogueError>>,
    {
        let mut tries = 0;
        loop {
            match attempt().await {
                Err(CatalogueError::Db(sqlx::Error::Database(e)))
                    if tries < 5 && matches!(e.code().as_deref(), Some("40P01" | "40001" | SQLITE_BUSY)) =>
                {
                    tries += 1;
                    tracing::debug!(error = %e, tries, "transaction aborted by the database; retrying");
                    tokio::time::sleep(Duration::from_millis(5 * tries)).await;
                }
                other => return other,
            }
        }
    }

    pub async fn close(&self) {
        self.db.close().await;
    }
}
