//! Getting image bytes into a pool: "staging file → verify → finalize".
//!
//! Every source (the multipart upload today; resumable tus uploads and download-from-URL next) opens an
//! [`IngestSession`] — which validates the target and reserves the name before a byte is stored — feeds it
//! bytes, and finishes it. A session dropped before `finish` leaves no file and no metadata.

mod checksum;
mod reservations;
pub mod resumable;
mod sha256_state;
mod staging;

use std::sync::Arc;

use app::model::{FolderPath, FolderPathError, ImageFormat, IsoMetadata};
use bytes::Bytes;
use uuid::Uuid;

pub use checksum::{ChecksumError, Sha256Digest};
use reservations::Reservation;
pub use reservations::Reservations;
pub use sha256_state::Sha256State;
pub use staging::{StagingFile, mtime_ns, rename_noreplace};

use super::{
    content::{self, Findings},
    names::{ImageFileName, NameError},
    pools::{Pool, Pools, SpaceClaim},
    store::{NewImage, NodeStore, StoreError},
};

/// Why an ingest was refused or failed. Each maps to one HTTP status in the API layer.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("There is no storage pool \"{0}\" on this node.")]
    UnknownPool(String),
    #[error("This node has no storage pool.")]
    NoPool,
    #[error("{0}")]
    InvalidFolder(#[from] FolderPathError),
    #[error("{0}")]
    InvalidName(#[from] NameError),
    #[error("{0}")]
    InvalidChecksum(#[from] ChecksumError),
    #[error("Pool \"{pool}\" already holds a file named \"{filename}\". Delete it first or choose another name.")]
    NameTaken { pool: String, filename: String },
    #[error("\"{filename}\" is already being uploaded to pool \"{pool}\".")]
    UploadInProgress { pool: String, filename: String },
    #[error("Pool \"{pool}\" has {free} bytes free, not enough for {needed} bytes.")]
    NoSpace { pool: String, needed: u64, free: u64 },
    #[error("Pool \"{pool}\" ran out of space while storing the file; nothing was kept.")]
    DiskFull { pool: String },
    #[error("The file's SHA-256 is {actual}, not the expected {expected}; nothing was kept.")]
    ChecksumMismatch { expected: String, actual: String },
    #[error(
        "The upload ended before the file was complete (the connection closed, or sent nothing for too long); nothing was kept."
    )]
    Incomplete,
    #[error("The request holds no file.")]
    NoFile,
    #[error("{0}")]
    BadRequest(String),
    #[error("storage I/O: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Where a new image goes and what it must be.
#[derive(Debug, Clone, Default)]
pub struct IngestTarget {
    /// `None`: the node's first pool.
    pub pool_id: Option<String>,
    /// `None`: the default folder of the guessed OS.
    pub folder: Option<FolderPath>,
    pub expected_checksum: Option<Sha256Digest>,
}

/// The ingest pipeline of a node: its pools, its store, and the names being written right now.
#[derive(Clone)]
pub struct Ingest {
    pools: Arc<Pools>,
    store: NodeStore,
    reservations: Reservations,
    /// Read what is inside each image (off only to measure what detection costs).
    detect_content: bool,
}

impl Ingest {
    pub fn new(pools: Arc<Pools>, store: NodeStore, reservations: Reservations, detect_content: bool) -> Self {
        Self { pools, store, reservations, detect_content }
    }

    /// Picks and checks the pool; with a declared size, refuses at once when it cannot fit (what other
    /// uploads in progress claimed counts as taken).
    pub async fn pool_for(&self, target: &IngestTarget, declared_size: Option<u64>) -> Result<Arc<Pool>, IngestError> {
        let pool = match &target.pool_id {
            Some(id) => self.pools.get(id).ok_or_else(|| IngestError::UnknownPool(id.clone()))?,
            None => self.pools.default_pool().ok_or(IngestError::NoPool)?,
        }
        .clone();
        if let Some(needed) = declared_size {
            let free = blocking({
                let pool = pool.clone();
                move || pool.available()
            })
            .await?;
            if needed > free {
                return Err(IngestError::NoSpace { pool: pool.id.to_string(), needed, free });
            }
        }
        Ok(pool)
    }

    /// Checks the name and reserves it in `pool`, claims room for `declared_size` bytes (an upload of
    /// unknown size claims as it goes), then opens the staging file.
    pub async fn begin(
        &self,
        pool: Arc<Pool>,
        target: IngestTarget,
        raw_name: &str,
        declared_size: Option<u64>,
    ) -> Result<IngestSession, IngestError> {
        let path = staging::new_path(&pool.iso_dir);
        // An upload of unknown size claims its room as its bytes arrive (see `write`).
        let ticket = self.ticket(pool, target, raw_name, declared_size.unwrap_or(0), &path).await?;
        let scan_ova = self.detect_content && ticket.name.format() == ImageFormat::Ova;
        let staging = StagingFile::create(path, Some(ticket.claim.claimed()), scan_ova).await?;
        Ok(self.session(ticket, staging))
    }

    /// Checks the name and reserves it in `pool`, and claims room for `bytes` (beyond what `staging`
    /// already holds, for an upload taken up again after a restart).
    pub async fn ticket(
        &self,
        pool: Arc<Pool>,
        target: IngestTarget,
        raw_name: &str,
        bytes: u64,
        staging: &std::path::Path,
    ) -> Result<Ticket, IngestError> {
        let name = ImageFileName::parse(raw_name)?;
        let taken = || IngestError::NameTaken { pool: pool.id.to_string(), filename: name.to_string() };
        if self.store.find_by_name(&pool.id, &name).await?.is_some() {
            return Err(taken());
        }
        let reservation = self
            .reservations
            .reserve(&pool.id, &name)
            .ok_or_else(|| IngestError::UploadInProgress { pool: pool.id.to_string(), filename: name.to_string() })?;
        // Anything at the name counts, a dangling symbolic link included (it is not followed).
        if tokio::fs::symlink_metadata(pool.path_of(&name)).await.is_ok() {
            return Err(taken());
        }
        let claim = blocking({
            let (pool, file) = (pool.clone(), staging.to_owned());
            move || pool.claim(bytes, &file)
        })
        .await?
        .map_err(|no| IngestError::NoSpace {
            pool: pool.id.to_string(),
            needed: bytes,
            free: no.available,
        })?;
        Ok(Ticket { pool, name, target, claim, _reservation: reservation })
    }

    /// A session that writes `staging` for the upload `ticket` admitted.
    pub fn session(&self, ticket: Ticket, mut staging: StagingFile) -> IngestSession {
        staging.set_limit(ticket.claim.claimed());
        IngestSession { ticket, staging, detect_content: self.detect_content, store: self.store.clone() }
    }
}

/// What an admitted upload holds until its file is registered or given up: its checked name, reserved
/// so nobody else (upload or watcher) takes it meanwhile, and the room it claimed in its pool.
pub struct Ticket {
    pool: Arc<Pool>,
    name: ImageFileName,
    target: IngestTarget,
    /// The room this upload holds in its pool, so concurrent uploads cannot together overshoot it.
    claim: SpaceClaim,
    _reservation: Reservation,
}

impl Ticket {
    pub fn pool(&self) -> &Arc<Pool> {
        &self.pool
    }

    pub fn name(&self) -> &ImageFileName {
        &self.name
    }

    pub fn target(&self) -> &IngestTarget {
        &self.target
    }
}

/// How much more room an upload of unknown size claims at a time, as its bytes arrive.
pub const CLAIM_STEP: u64 = 64 << 20;

/// Runs blocking file-system work (statvfs, a quota's directory listing) off the async runtime.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> std::io::Result<T> + Send + 'static) -> std::io::Result<T> {
    tokio::task::spawn_blocking(f).await.map_err(std::io::Error::other)?
}

/// One image being received. Dropping it before [`finish`](Self::finish) discards everything.
pub struct IngestSession {
    ticket: Ticket,
    staging: StagingFile,
    store: NodeStore,
    detect_content: bool,
}

impl IngestSession {
    pub fn name(&self) -> &ImageFileName {
        &self.ticket.name
    }

    pub async fn write(&mut self, chunk: Bytes) -> Result<(), IngestError> {
        let need = self.staging.written() + chunk.len() as u64;
        let claimed = self.ticket.claim.claimed();
        if need > claimed {
            let claim = self.ticket.claim.clone();
            let short = need - claimed;
            if blocking(move || claim.extend(short.max(CLAIM_STEP), short)).await?.is_err() {
                return Err(IngestError::DiskFull { pool: self.ticket.pool.id.to_string() });
            }
            self.staging.set_limit(self.ticket.claim.claimed());
        }
        self.staging.write(chunk).await.map_err(|e| self.storage_error(e))
    }

    /// Makes the bytes durable, verifies them, moves the file into place and records it.
    /// Whatever happens, the staging file is gone afterwards (a resumed upload's too): in place, or
    /// removed.
    #[tracing::instrument(skip(self), fields(pool = %self.ticket.pool.id, file = %self.ticket.name))]
    pub async fn finish(mut self) -> Result<IsoMetadata, IngestError> {
        self.staging.remove_on_drop(true);
        let staged = self.staging.finish().await.map_err(|e| self.storage_error(e))?;
        let Ticket { pool, name, target, .. } = &self.ticket;
        if let Some(expected) = &target.expected_checksum
            && expected != &staged.sha256
        {
            return Err(IngestError::ChecksumMismatch {
                expected: expected.to_wire(),
                actual: staged.sha256.to_wire(),
            });
        }
        let found = self.findings(staged.ova).await;
        let dest = pool.path_of(name);
        let mtime_ns = self.staging.finalize(&dest).await.map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => {
                IngestError::NameTaken { pool: pool.id.to_string(), filename: name.to_string() }
            }
            _ => IngestError::Io(e),
        })?;
        let folder = target.folder.clone().unwrap_or_else(|| found.default_folder());
        let new = NewImage {
            id: Uuid::new_v4(),
            pool_id: pool.id.clone(),
            filename: name.clone(),
            folder,
            size_bytes: staged.len,
            checksum: Some(staged.sha256.to_wire()),
            found,
            content_checked: self.detect_content,
            file_mtime_ns: mtime_ns,
        };
        match self.store.insert_image(new).await {
            Ok(meta) => Ok(meta),
            Err(e) => {
                // No row, so no file either: the file must not outlive a failed registration.
                if let Err(rm) = tokio::fs::remove_file(&dest).await {
                    tracing::error!(path = %dest.display(), error = %rm, "cannot remove a file whose registration failed");
                }
                Err(e.into())
            }
        }
    }

    /// What the content says: an OVA's scan (made as the bytes went by, else by reading the staged file),
    /// or the descriptors of the staged ISO (at most 1 MiB read back). Detection never fails an upload: the bytes are the user's.
    async fn findings(&self, ova: Option<crate::node::detect::OvaProbe>) -> Findings {
        let (name, format) = (self.ticket.name.as_str().to_owned(), self.ticket.name.format());
        if !self.detect_content {
            return Findings::from_filename(&name);
        }
        if let Some(ova) = ova {
            return Findings::from_ova(&ova, &name);
        }
        let path = self.staging.path().to_owned();
        tokio::task::spawn_blocking(move || match format {
            // Not scanned on the way in (a resumable upload): read once more, at disk speed.
            ImageFormat::Ova => content::scan_ova_file(&path, &name),
            _ => content::probe_file(&path, &name, format),
        })
        .await
        .unwrap_or_else(|e| {
            tracing::error!(error = %e, "content detection failed");
            Findings::from_filename(self.ticket.name.as_str())
        })
    }

    fn storage_error(&self, e: staging::StagingError) -> IngestError {
        match e {
            staging::StagingError::Full => IngestError::DiskFull { pool: self.ticket.pool.id.to_string() },
            staging::StagingError::Io(e) => IngestError::Io(e),
        }
    }
}
