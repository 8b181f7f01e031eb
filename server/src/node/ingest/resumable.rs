//! Resumable uploads: an upload admitted once (name checked and reserved, its whole length claimed in its
//! pool), then fed in chunks, each by one request, over hours and restarts, through the same staging →
//! verify → finalize as any other ingest.
//!
//! What a resume needs is durable before it is promised: a chunk's bytes are fsynced, then the offset and
//! the SHA-256 state at it are committed to the node's SQLite (`resumable_uploads`), and only then does
//! `HEAD` report the new offset. SQLite rather than a sidecar file beside the staging file: the store is
//! already fsynced per commit (`synchronous = FULL`), the listing and the expiry sweep are queries, and a
//! start finds every upload without scanning pools. The database is the truth; the staging file may hold
//! bytes past the offset (a chunk cut by `kill -9` before its commit), and those are cut off at the next
//! chunk.
//!
//! Transport-neutral: chunks arrive as a stream of bytes, so the node's tus API and whatever forwards to
//! it later share this.

use std::{
    collections::HashMap,
    path::PathBuf,
    sync::{Arc, Mutex},
    time::Duration,
};

use app::model::{FolderPath, IsoMetadata, PoolId, ResumableUpload};
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use sha2::{Digest, Sha256};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::{Ingest, IngestError, IngestTarget, Sha256Digest, Ticket, sha256_state::Sha256State, staging::StagingFile};
use crate::node::{
    pools::{Pools, RESUMABLE_PREFIX},
    store::{NodeStore, StoreError, UploadRow},
};

/// Why a resumable upload's request was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum ResumableError {
    #[error("No upload has the id {0}; it finished, was cancelled, or expired and was removed.")]
    NotFound(Uuid),
    #[error("The upload {0} expired: no byte arrived for too long, so its bytes are being removed. Start again.")]
    Expired(Uuid),
    #[error("Another request is writing upload {0} right now; wait for it to end (HEAD tells its offset), then retry.")]
    Busy(Uuid),
    #[error("The upload holds {durable} bytes; a chunk must start there, not at {given}. Ask HEAD for the offset.")]
    OffsetMismatch { given: u64, durable: u64 },
    #[error("The upload is {length} bytes long; this chunk would end at byte {end}. Nothing of it was kept.")]
    PastLength { length: u64, end: u64 },
    #[error("The chunk's SHA-256 is not the Upload-Checksum sent with it; nothing of it was kept. Send it again.")]
    ChunkChecksumMismatch,
    #[error("The chunk ended before it was complete, and its checksum cannot be verified; nothing of it was kept.")]
    CutWithChecksum,
    #[error(transparent)]
    Ingest(#[from] IngestError),
}

impl From<StoreError> for ResumableError {
    fn from(e: StoreError) -> Self {
        Self::Ingest(e.into())
    }
}

impl From<std::io::Error> for ResumableError {
    fn from(e: std::io::Error) -> Self {
        Self::Ingest(e.into())
    }
}

/// What a chunk did.
#[derive(Debug)]
pub enum Chunk {
    /// Bytes up to `offset` are durable; more are expected before `expires_at`.
    Stored { offset: u64, expires_at: i64 },
    /// The last byte landed: the file is an image now.
    Finished(Box<IsoMetadata>),
}

/// The node's resumable uploads in progress.
#[derive(Clone)]
pub struct Resumable {
    ingest: Ingest,
    store: NodeStore,
    pools: Arc<Pools>,
    expiry: Duration,
    uploads: Arc<Mutex<HashMap<Uuid, Arc<Upload>>>>,
}

struct Upload {
    id: Uuid,
    pool_id: PoolId,
    filename: String,
    folder: Option<FolderPath>,
    length: u64,
    created_at: i64,
    staging: PathBuf,
    /// Held by the one request that writes, cancels or expires the upload (a second is refused, never
    /// queued: its bytes would start at an offset the first is moving); `None` once it ended.
    ticket: tokio::sync::Mutex<Option<Ticket>>,
    progress: Mutex<Progress>,
}

#[derive(Clone)]
struct Progress {
    offset: u64,
    hashed: Sha256State,
    expires_at: i64,
}

impl Upload {
    fn describe(&self) -> ResumableUpload {
        let p = self.progress.lock().expect("progress lock");
        ResumableUpload {
            id: self.id,
            filename: self.filename.clone(),
            pool_id: self.pool_id.clone(),
            folder: self.folder.clone(),
            offset: p.offset,
            length: self.length,
            created_at: self.created_at,
            expires_at: p.expires_at,
        }
    }
}

impl Resumable {
    /// The registry, with the uploads a previous run left taken up again: each re-reserves its name and
    /// re-claims its room. One whose pool, file or state is gone, or that expired, is removed, and so is
    /// a staging file no upload owns.
    pub async fn recover(
        ingest: Ingest,
        store: NodeStore,
        pools: Arc<Pools>,
        expiry: Duration,
    ) -> Result<Resumable, StoreError> {
        let this = Resumable { ingest, store, pools, expiry, uploads: Default::default() };
        for row in this.store.uploads().await? {
            let id = row.id.clone();
            match this.readopt(row).await {
                Ok(upload) => {
                    this.uploads.lock().expect("uploads lock").insert(upload.id, Arc::new(upload));
                }
                Err(why) => {
                    tracing::warn!(upload = %id, %why, "a resumable upload from a previous run is given up");
                    this.store.delete_upload(&id).await?;
                }
            }
        }
        for pool in this.pools.iter() {
            let Ok(entries) = std::fs::read_dir(&pool.iso_dir) else { continue };
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                let Some(id) = name.strip_prefix(RESUMABLE_PREFIX).and_then(|r| r.strip_suffix(".part")) else {
                    continue;
                };
                let owned =
                    Uuid::parse_str(id).is_ok_and(|id| this.uploads.lock().expect("uploads lock").contains_key(&id));
                if !owned {
                    let _ = std::fs::remove_file(entry.path());
                }
            }
        }
        Ok(this)
    }

    async fn readopt(&self, row: UploadRow) -> Result<Upload, String> {
        let id = Uuid::parse_str(&row.id).map_err(|e| e.to_string())?;
        let pool = self.pools.get(&row.pool_id).ok_or("its pool is no longer configured")?.clone();
        let staging = staging_path(&pool.iso_dir, id);
        let hashed = Sha256State::from_bytes(&row.hash_state).map_err(|e| e.to_string())?;
        let (offset, length) = (row.durable_offset as u64, row.length as u64);
        let on_disk = std::fs::symlink_metadata(&staging).map_err(|e| format!("its staging file: {e}"))?.len();
        if on_disk < offset || hashed.hashed_bytes() != offset {
            return Err(format!("its staging file holds {on_disk} bytes, fewer than the {offset} recorded"));
        }
        if row.expires_at <= crate::now_unix() {
            let _ = std::fs::remove_file(&staging);
            return Err("it expired".into());
        }
        let folder = row.folder.as_deref().map(FolderPath::parse).transpose().map_err(|e| e.to_string())?;
        let target = IngestTarget {
            pool_id: Some(row.pool_id.clone()),
            folder: folder.clone(),
            expected_checksum: row
                .expected_checksum
                .as_deref()
                .map(Sha256Digest::parse)
                .transpose()
                .map_err(|e| e.to_string())?,
        };
        let ticket = match self.ingest.ticket(pool, target, &row.filename, length, &staging).await {
            Ok(ticket) => ticket,
            Err(e) => {
                let _ = std::fs::remove_file(&staging);
                return Err(e.to_string());
            }
        };
        Ok(Upload {
            id,
            pool_id: ticket.pool().id.clone(),
            filename: ticket.name().to_string(),
            folder,
            length,
            created_at: row.created_at,
            staging,
            ticket: tokio::sync::Mutex::new(Some(ticket)),
            progress: Mutex::new(Progress { offset, hashed, expires_at: row.expires_at }),
        })
    }

    /// Admits an upload of `length` bytes, with the same checks as any ingest before its first byte: the
    /// pool, the room, the name (free and reserved from now on).
    #[tracing::instrument(skip(self, target))]
    pub async fn create(
        &self,
        target: IngestTarget,
        filename: &str,
        length: u64,
    ) -> Result<ResumableUpload, ResumableError> {
        let pool = self.ingest.pool_for(&target, Some(length)).await?;
        let id = Uuid::new_v4();
        let staging = staging_path(&pool.iso_dir, id);
        let ticket = self.ingest.ticket(pool, target, filename, length, &staging).await?;
        let file = staging.clone();
        tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            std::fs::File::create_new(&file)?;
            std::fs::File::open(file.parent().expect("in a pool"))?.sync_all()
        })
        .await
        .map_err(std::io::Error::other)??;
        let now = crate::now_unix();
        let t = ticket.target();
        let row = UploadRow {
            id: id.to_string(),
            pool_id: ticket.pool().id.to_string(),
            filename: ticket.name().to_string(),
            folder: t.folder.as_ref().map(|f| f.to_string()),
            expected_checksum: t.expected_checksum.map(|c| c.to_wire()),
            length: length as i64,
            durable_offset: 0,
            hash_state: Sha256State::default().to_bytes(),
            created_at: now,
            expires_at: self.expires_from(now),
        };
        if let Err(e) = self.store.insert_upload(&row).await {
            let _ = tokio::fs::remove_file(&staging).await;
            return Err(e.into());
        }
        let upload = Upload {
            id,
            pool_id: ticket.pool().id.clone(),
            filename: row.filename,
            folder: t.folder.clone(),
            length,
            created_at: now,
            staging,
            progress: Mutex::new(Progress { offset: 0, hashed: Sha256State::default(), expires_at: row.expires_at }),
            ticket: tokio::sync::Mutex::new(Some(ticket)),
        };
        let described = upload.describe();
        self.uploads.lock().expect("uploads lock").insert(id, Arc::new(upload));
        Ok(described)
    }

    fn expires_from(&self, now: i64) -> i64 {
        now + self.expiry.as_secs() as i64
    }

    fn get(&self, id: Uuid) -> Result<Arc<Upload>, ResumableError> {
        let upload =
            self.uploads.lock().expect("uploads lock").get(&id).cloned().ok_or(ResumableError::NotFound(id))?;
        if upload.progress.lock().expect("progress lock").expires_at <= crate::now_unix() {
            return Err(ResumableError::Expired(id));
        }
        Ok(upload)
    }

    /// The upload as it stands: its offset is what is durable, whatever a chunk in progress has sent.
    pub fn status(&self, id: Uuid) -> Result<ResumableUpload, ResumableError> {
        Ok(self.get(id)?.describe())
    }

    /// Every upload still waiting for bytes.
    pub fn list(&self) -> Vec<ResumableUpload> {
        let mut all: Vec<_> = self.uploads.lock().expect("uploads lock").values().map(|u| u.describe()).collect();
        all.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        all
    }

    /// Appends the bytes of `body` at `offset`, which must be the durable offset. With `checksum` (the
    /// SHA-256 of the chunk), a chunk that does not match is discarded whole. A body that breaks off
    /// keeps what arrived (made durable), unless a checksum was promised. `declared` (the request's
    /// `Content-Length`) lets a chunk past the end be refused before a byte is read.
    #[tracing::instrument(skip(self, body, checksum))]
    pub async fn append<E: std::fmt::Display>(
        &self,
        id: Uuid,
        offset: u64,
        declared: Option<u64>,
        checksum: Option<[u8; 32]>,
        body: impl Stream<Item = Result<Bytes, E>>,
    ) -> Result<Chunk, ResumableError> {
        let upload = self.get(id)?;
        let mut ticket = upload.ticket.try_lock().map_err(|_| ResumableError::Busy(id))?;
        if ticket.is_none() {
            return Err(ResumableError::NotFound(id));
        }
        let Progress { offset: durable, hashed, .. } = upload.progress.lock().expect("progress lock").clone();
        if offset != durable {
            return Err(ResumableError::OffsetMismatch { given: offset, durable });
        }
        let length = upload.length;
        if let Some(n) = declared
            && durable + n > length
        {
            return Err(ResumableError::PastLength { length, end: durable + n });
        }
        let mut staging = StagingFile::resume(&upload.staging, durable, hashed, length).await?;
        let (end, cut) = match self.receive(&upload, &mut staging, checksum, body).await {
            Ok(received) => received,
            Err(e) => {
                // Nothing was committed, so the durable offset is as it was; the writer is waited for, so
                // that none of its bytes lands after the next chunk began.
                staging.stop().await;
                return Err(e);
            }
        };
        if cut.is_none() && end == length {
            let session = self.ingest.session(ticket.take().expect("checked above"), staging);
            let finished = session.finish().await;
            // Whichever way it went, the upload is over: the session kept the file as an image or removed it.
            self.forget(&upload).await?;
            return Ok(Chunk::Finished(Box::new(finished?)));
        }
        let staged = staging.finish().await.map_err(|e| self.storage_error(&upload, e))?;
        let expires_at = self.expires_from(crate::now_unix());
        self.store.advance_upload(&id.to_string(), staged.len, &staged.state.to_bytes(), expires_at).await?;
        *upload.progress.lock().expect("progress lock") =
            Progress { offset: staged.len, hashed: staged.state, expires_at };
        if let Some(why) = cut {
            tracing::info!(upload = %id, offset = staged.len, %why, "a chunk broke off; what arrived is kept");
        }
        Ok(Chunk::Stored { offset: staged.len, expires_at })
    }

    /// Streams `body` into `staging`; the offset it reached and, if the body broke off, why. Refuses a
    /// chunk past the upload's length, or one whose `checksum` does not match (or cannot be checked).
    async fn receive<E: std::fmt::Display>(
        &self,
        upload: &Upload,
        staging: &mut StagingFile,
        checksum: Option<[u8; 32]>,
        body: impl Stream<Item = Result<Bytes, E>>,
    ) -> Result<(u64, Option<String>), ResumableError> {
        let length = upload.length;
        let mut chunk_hash = checksum.map(|_| Sha256::new());
        let mut end = staging.written();
        let mut cut = None;
        futures_util::pin_mut!(body);
        while let Some(next) = body.next().await {
            let bytes = match next {
                Ok(bytes) => bytes,
                Err(e) => {
                    cut = Some(e.to_string());
                    break;
                }
            };
            end += bytes.len() as u64;
            if end > length {
                return Err(ResumableError::PastLength { length, end });
            }
            if let Some(h) = &mut chunk_hash {
                h.update(&bytes);
            }
            staging.write(bytes).await.map_err(|e| self.storage_error(upload, e))?;
        }
        if let (Some(want), Some(h)) = (checksum, chunk_hash) {
            if cut.is_some() {
                return Err(ResumableError::CutWithChecksum);
            }
            if <[u8; 32]>::from(h.finalize()) != want {
                return Err(ResumableError::ChunkChecksumMismatch);
            }
        }
        Ok((end, cut))
    }

    /// Cancels an upload: its staging file is removed, its name and room freed.
    #[tracing::instrument(skip(self))]
    pub async fn cancel(&self, id: Uuid) -> Result<(), ResumableError> {
        let upload =
            self.uploads.lock().expect("uploads lock").get(&id).cloned().ok_or(ResumableError::NotFound(id))?;
        let mut ticket = upload.ticket.try_lock().map_err(|_| ResumableError::Busy(id))?;
        if ticket.take().is_none() {
            return Err(ResumableError::NotFound(id));
        }
        self.discard(&upload).await
    }

    /// Removes the uploads that expired; one busy with a chunk is left for the next sweep.
    pub async fn sweep(&self) -> Result<usize, ResumableError> {
        let now = crate::now_unix();
        let expired: Vec<Arc<Upload>> = self
            .uploads
            .lock()
            .expect("uploads lock")
            .values()
            .filter(|u| u.progress.lock().expect("progress lock").expires_at <= now)
            .cloned()
            .collect();
        let mut removed = 0;
        for upload in expired {
            let Ok(mut ticket) = upload.ticket.try_lock() else { continue };
            if ticket.take().is_some() {
                self.discard(&upload).await?;
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// Sweeps expired uploads until `shutdown`, a few times per expiry period (at most every minute).
    pub async fn sweep_until(self, shutdown: CancellationToken) {
        let period = (self.expiry / 4).clamp(Duration::from_secs(1), Duration::from_secs(60));
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(period) => {}
            }
            match self.sweep().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(removed = n, "removed expired resumable uploads"),
                Err(e) => tracing::warn!(error = %e, "cannot remove expired resumable uploads"),
            }
        }
    }

    async fn discard(&self, upload: &Upload) -> Result<(), ResumableError> {
        match tokio::fs::remove_file(&upload.staging).await {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
            _ => {}
        }
        self.forget(upload).await
    }

    async fn forget(&self, upload: &Upload) -> Result<(), ResumableError> {
        self.uploads.lock().expect("uploads lock").remove(&upload.id);
        self.store.delete_upload(&upload.id.to_string()).await?;
        Ok(())
    }

    fn storage_error(&self, upload: &Upload, e: super::staging::StagingError) -> ResumableError {
        match e {
            super::staging::StagingError::Full => IngestError::DiskFull { pool: upload.pool_id.to_string() }.into(),
            super::staging::StagingError::Io(e) => e.into(),
        }
    }
}

fn staging_path(iso_dir: &std::path::Path, id: Uuid) -> PathBuf {
    iso_dir.join(format!("{RESUMABLE_PREFIX}{id}.part"))
}
