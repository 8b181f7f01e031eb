//! The node role (the seed's QHCI host daemon): storage pools, streaming uploads into virtual folders,
//! metadata in SQLite, and the host UI.

pub mod api;
pub mod content;
pub mod detect;
pub mod download;
pub mod file_tags;
mod identity;
pub mod ingest;
pub mod names;
pub mod os_guess;
pub mod pools;
pub mod store;
pub mod sync;
pub mod tasks;
pub mod watcher;

use std::{net::SocketAddr, sync::Arc};

use app::model::{IsoMetadata, NodeRef, NodeSyncStatus};
use tokio_util::sync::CancellationToken;

pub use identity::Identity;
use ingest::{Ingest, Reservations};
use pools::Pools;
use store::{NodeStore, StoreError};

use crate::auth::{Auth, store::AuthStore};
use crate::config::{ClusterToken, NodeConfig};
use crate::http;
use crate::startup::{Front, StartError, ensure_dir};

/// What every node request handler can reach.
#[derive(Clone)]
pub struct NodeState {
    pub auth: Auth,
    pub identity: Arc<Identity>,
    pub store: NodeStore,
    pub pools: Arc<Pools>,
    pub ingest: Ingest,
    /// Resumable (tus) uploads in progress.
    pub uploads: ingest::resumable::Resumable,
    /// Background transfers and their outcomes.
    pub tasks: tasks::Tasks,
    pub downloads: download::Downloads,
    pub reservations: Reservations,
    pub cluster_token: Option<ClusterToken>,
    pub vdc_url: Option<String>,
    pub sync: sync::SharedSyncState,
    /// Held while an image is pinned or deleted, so a delete and a VM creation that pins its ISO cannot
    /// both succeed.
    pub pin_lock: Arc<tokio::sync::Mutex<()>>,
}

/// Why an image could not be deleted.
#[derive(Debug, thiserror::Error)]
pub enum DeleteError {
    #[error("\"{0}\" is being written right now; try again shortly.")]
    Busy(String),
    #[error("\"{filename}\" is the installation ISO of {}; delete {} on the vdc first.", vm_list(.vms), if .vms.len() == 1 { "that VM definition" } else { "those VM definitions" })]
    Pinned { filename: String, vms: Vec<String> },
    /// The file could not be removed (its row is kept, so nothing is lost track of).
    #[error("cannot delete {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why an image could not be changed as asked (`PATCH`).
#[derive(Debug, thiserror::Error)]
pub enum UpdateError {
    #[error("{0}")]
    InvalidOs(String),
    #[error("{0}")]
    InvalidName(#[from] names::NameError),
    #[error("The new name must keep the extension .{kept}: the format of an image is its content's.")]
    FormatChange { kept: app::model::ImageFormat },
    #[error("Nothing to change: give os_family, os_distribution, os_version or filename.")]
    Nothing,
    #[error("\"{0}\" is being written or renamed right now; try again shortly.")]
    Busy(String),
    #[error("The image's pool is no longer configured on this node; it cannot be renamed.")]
    NoPool,
    #[error("cannot rename {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn vm_list(vms: &[String]) -> String {
    let quoted: Vec<String> = vms.iter().take(5).map(|v| format!("VM \"{v}\"")).collect();
    let more = vms.len().saturating_sub(5);
    if more > 0 { format!("{} and {more} more", quoted.join(", ")) } else { quoted.join(", ") }
}

impl NodeState {
    /// Removes an image's file and then its row, holding its name so the watcher does not race us. A
    /// pinned image (a VM definition boots from it) is refused.
    #[tracing::instrument(skip(self, meta), fields(id = %meta.id, file = %meta.filename))]
    pub async fn delete_image(&self, meta: IsoMetadata) -> Result<IsoMetadata, DeleteError> {
        let _serial = self.pin_lock.lock().await;
        let vms = self.store.pinned_by(meta.id).await?;
        if !vms.is_empty() {
            return Err(DeleteError::Pinned { filename: meta.filename, vms });
        }
        let pool = meta.storage_pool_id.as_ref().and_then(|id| self.pools.get(id.as_str()));
        // A row whose pool is no longer configured has no file this node may touch: only the row goes.
        if let Some(pool) = pool {
            let name = names::ImageFileName::on_disk(&meta.filename)
                .map_err(|e| StoreError::Corrupt(format!("file name of image {}: {e}", meta.id)))?;
            let _held =
                self.reservations.reserve(&pool.id, &name).ok_or_else(|| DeleteError::Busy(meta.filename.clone()))?;
            match tokio::fs::remove_file(pool.path_of(&name)).await {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => return Err(DeleteError::Io { path: meta.path.clone(), source }),
            }
            return Ok(self.store.delete_image(meta.id).await?);
        }
        Ok(self.store.delete_image(meta.id).await?)
    }

    /// An operator's correction: OS fields (which become the user's) and a new file name (the file is
    /// renamed on disk, never over another, and keeps its id), both names held so the watcher does not
    /// race us.
    #[tracing::instrument(skip(self, req))]
    pub async fn update_image(
        &self,
        id: uuid::Uuid,
        req: &app::model::UpdateImageRequest,
    ) -> Result<IsoMetadata, UpdateError> {
        req.check_os().map_err(UpdateError::InvalidOs)?;
        if !req.sets_os() && req.filename.is_none() {
            return Err(UpdateError::Nothing);
        }
        let mut meta = self.store.get(id).await?;
        if let Some(raw) = &req.filename {
            let new = names::ImageFileName::parse(raw)?;
            if new.format() != meta.format {
                return Err(UpdateError::FormatChange { kept: meta.format });
            }
            if new.as_str() != meta.filename {
                meta = self.rename_file(&meta, &new).await?;
            }
        }
        if req.sets_os() {
            let os = store::UserOs {
                family: req.os_family.clone(),
                distribution: req.os_distribution.clone(),
                version: req.os_version.clone(),
            };
            meta = self.store.set_user_os(id, &os).await?;
        }
        Ok(meta)
    }

    async fn rename_file(&self, meta: &IsoMetadata, new: &names::ImageFileName) -> Result<IsoMetadata, UpdateError> {
        let pool = meta.storage_pool_id.as_ref().and_then(|p| self.pools.get(p.as_str())).ok_or(UpdateError::NoPool)?;
        let old = names::ImageFileName::on_disk(&meta.filename)
            .map_err(|e| StoreError::Corrupt(format!("file name of image {}: {e}", meta.id)))?;
        let busy = |name: &names::ImageFileName| UpdateError::Busy(name.to_string());
        let _old_held = self.reservations.reserve(&pool.id, &old).ok_or_else(|| busy(&old))?;
        let _new_held = self.reservations.reserve(&pool.id, new).ok_or_else(|| busy(new))?;
        let taken = || StoreError::NameTaken { pool: pool.id.to_string(), filename: new.to_string() };
        if self.store.find_by_name(&pool.id, new).await?.is_some_and(|other| other.id != meta.id) {
            return Err(taken().into());
        }
        let (from, to) = (pool.path_of(&old), pool.path_of(new));
        let renamed = tokio::task::spawn_blocking(move || ingest::rename_noreplace(&from, &to))
            .await
            .map_err(|e| std::io::Error::other(e.to_string()));
        match renamed.and_then(|r| r) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Err(taken().into()),
            Err(source) => return Err(UpdateError::Io { path: meta.path.clone(), source }),
        }
        Ok(self.store.rename_file(meta.id, &pool.id, new).await?)
    }

    pub async fn sync_status(&self) -> Result<NodeSyncStatus, StoreError> {
        let pending = self.store.pending_count().await?;
        let s = self.sync.lock().expect("sync state lock").clone();
        Ok(NodeSyncStatus {
            node_id: self.identity.id.clone(),
            node_name: self.identity.name.clone(),
            vdc_url: self.vdc_url.clone(),
            pending,
            last_success_at: s.last_success_at,
            last_error: s.last_error,
            last_error_at: s.last_error_at,
            last_full_sync_at: s.last_full_sync_at,
        })
    }

    /// How the node names itself in sync calls.
    pub fn node_ref(&self) -> NodeRef {
        NodeRef {
            node_id: self.identity.id.clone(),
            node_name: Some(self.identity.name.clone()),
            node_api_url: Some(self.identity.api_url.clone()),
        }
    }
}

impl axum::extract::FromRef<NodeState> for Auth {
    fn from_ref(s: &NodeState) -> Auth {
        s.auth.clone()
    }
}

/// A node ready to serve: listener bound, database open, pools prepared, first admin made.
pub struct NodeServer {
    front: Front,
    state: NodeState,
    config: NodeConfig,
}

impl NodeServer {
    pub async fn build(config: NodeConfig) -> Result<NodeServer, StartError> {
        let pools = Arc::new(Pools::open(&config.pools).map_err(|e| StartError::open("the storage pools", e))?);
        for pool in pools.iter() {
            match pool.remove_stale_staging() {
                Ok(0) => {}
                Ok(n) => tracing::info!(pool = %pool.id, removed = n, "removed unfinished uploads from a previous run"),
                Err(e) => tracing::warn!(pool = %pool.id, error = %e, "cannot clean unfinished uploads"),
            }
        }
        ensure_dir(&config.data_dir)?;
        let db_path = config.data_dir.join("node.db");
        let store = NodeStore::open(&db_path, pools.locator())
            .await
            .map_err(|e| StartError::open(format!("the node database {}", db_path.display()), e))?;
        let listener = http::serve::bind(config.listen)
            .await
            .map_err(|source| StartError::Bind { addr: config.listen, source })?;
        let local = listener.local_addr().map_err(StartError::Serve)?;
        let identity = Arc::new(
            Identity::resolve(&config, &store, local)
                .await
                .map_err(|e| StartError::open(format!("the node database {}", db_path.display()), e))?,
        );
        let open_db = |e| StartError::open(format!("the node database {}", db_path.display()), e);
        let auth = Auth::new(
            AuthStore::open_sqlite(&db_path).await.map_err(open_db)?,
            config.access.auth_settings("quantix_node_session"),
            config.cluster_token.clone(),
        );
        let front = Front::open("node", listener, auth.clone(), &config.access).await?;
        let reservations = Reservations::default();
        let ingest = Ingest::new(pools.clone(), store.clone(), reservations.clone(), config.content_detection);
        // Before the watcher starts: the uploads taken up again hold their names from the first moment.
        let uploads =
            ingest::resumable::Resumable::recover(ingest.clone(), store.clone(), pools.clone(), config.upload_expiry)
                .await
                .map_err(|e| StartError::open("the resumable uploads in the node database", e))?;
        let tasks = tasks::Tasks::open(store.clone())
            .await
            .map_err(|e| StartError::open("the tasks in the node database", e))?;
        let fetcher = download::Fetcher::new(
            download::TargetPolicy::new(config.download_allow.clone()),
            config.download_idle_timeout,
            &http::client::PeerTrust::default(),
        )
        .map_err(|e| StartError::open("the download client's certificate trust", e))?;
        // Copies read from the cluster's own nodes, whose certificates are the cluster's.
        let cluster_fetcher =
            download::Fetcher::new(download::TargetPolicy::cluster(), config.download_idle_timeout, &config.vdc_trust)
                .map_err(|e| StartError::open("the copy client's certificate trust", e))?;
        let downloads =
            download::Downloads::new(ingest.clone(), store.clone(), tasks.clone(), fetcher, cluster_fetcher);
        let state = NodeState {
            auth,
            identity,
            ingest,
            uploads,
            tasks,
            downloads,
            store,
            pools,
            reservations,
            cluster_token: config.cluster_token.clone(),
            vdc_url: config.vdc_url.clone(),
            sync: Default::default(),
            pin_lock: Default::default(),
        };
        Ok(NodeServer { front, state, config })
    }

    /// Whether this start created the first admin.
    pub fn created_admin(&self) -> bool {
        self.front.created_admin()
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.front.local_addr()
    }

    pub fn state(&self) -> &NodeState {
        &self.state
    }

    /// The REST API and the host UI.
    pub fn router(&self) -> axum::Router {
        let (api, _) = api::routes(self.state.clone(), self.front.guard());
        crate::site::with_ui(app::Role::Node, api, &self.config.site_root, self.front.guard())
    }

    /// Every API route with its declared access.
    pub fn route_table(&self) -> Arc<crate::auth::routes::RouteTable> {
        api::routes(self.state.clone(), self.front.guard()).1
    }

    /// Serves until `shutdown` is cancelled, with the pool watcher and the sync to the vdc running.
    pub async fn run(self, shutdown: CancellationToken) -> Result<(), StartError> {
        let router = http::observed(self.router());
        let state = self.state.clone();
        let timing = watcher::WatchTiming {
            settle: self.config.watch_settle,
            unclosed: self.config.watch_settle * 20,
            detect_content: self.config.content_detection,
        };
        let sweeping = tokio::spawn(state.uploads.clone().sweep_until(shutdown.clone()));
        let scanned = CancellationToken::new();
        let watching = watcher::spawn(
            state.pools.clone(),
            state.store.clone(),
            state.reservations.clone(),
            timing,
            scanned.clone(),
            shutdown.clone(),
        )
        .await
        .map_err(|e| StartError::open("a watch on the storage pools", e))?;
        let syncing = match &self.config.vdc_url {
            Some(url) => {
                let transport = sync::HttpTransport::new(
                    url,
                    self.config.cluster_token.clone(),
                    &self.config.vdc_trust,
                    &self.config.data_dir,
                )
                .map_err(|e| StartError::open("the vdc's certificate trust", e))?;
                let client = sync::SyncClient::new(
                    state.store.clone(),
                    state.pools.clone(),
                    transport,
                    state.node_ref(),
                    state.sync.clone(),
                );
                let (shutdown, period) = (shutdown.clone(), self.config.sync_interval);
                tokio::spawn(async move {
                    // The first inventory waits for the pools' scan: sent before, it would lack what the scan
                    // registers, and the vdc would drop those images for a moment.
                    tokio::select! {
                        _ = shutdown.cancelled() => return,
                        _ = scanned.cancelled() => {}
                    }
                    client.run(period, shutdown).await
                })
            }
            None => tokio::spawn(sync::discard_outbox(state.store.clone(), shutdown.clone())),
        };
        tracing::info!(
            node = %state.identity.id,
            addr = %self.local_addr(),
            pools = state.pools.iter().count(),
            vdc = self.config.vdc_url.as_deref().unwrap_or("none (standalone)"),
            "node serving"
        );
        let served = self.front.serve(router, shutdown.clone()).await;
        shutdown.cancel();
        let _ = tokio::join!(watching, syncing, sweeping);
        state.store.close().await;
        state.auth.store.close().await;
        served
    }
}
