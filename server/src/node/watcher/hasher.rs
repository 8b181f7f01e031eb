//! Hashing files the watcher registered, off the request path, a bounded number at a time.

use std::{path::PathBuf, sync::Arc};

use sha2::{Digest, Sha256};
use tokio::sync::{Semaphore, mpsc};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::node::{ingest::Sha256Digest, ingest::mtime_ns, store::NodeStore};

/// A file to hash, as it looked when queued.
#[derive(Debug, Clone)]
pub struct HashJob {
    pub id: Uuid,
    pub path: PathBuf,
}

#[derive(Clone)]
pub struct Hasher {
    queue: mpsc::UnboundedSender<HashJob>,
}

impl Hasher {
    /// Starts the hashing loop: at most `concurrency` files hashed at once. A hash in progress stops at
    /// `shutdown` (a 10 GiB file must not hold the process up; it is hashed again at the next start).
    pub fn spawn(store: NodeStore, concurrency: usize, shutdown: CancellationToken) -> Hasher {
        let (queue, mut jobs) = mpsc::unbounded_channel::<HashJob>();
        let permits = Arc::new(Semaphore::new(concurrency.max(1)));
        tokio::spawn(async move {
            while let Some(job) = jobs.recv().await {
                let permit = permits.clone().acquire_owned().await.expect("semaphore never closed");
                let (store, shutdown) = (store.clone(), shutdown.clone());
                tokio::spawn(async move {
                    hash_one(&store, job, shutdown).await;
                    drop(permit);
                });
            }
        });
        Hasher { queue }
    }

    pub fn queue(&self, job: HashJob) {
        // The loop lives as long as the runtime; a send can only fail during shutdown.
        let _ = self.queue.send(job);
    }
}

async fn hash_one(store: &NodeStore, job: HashJob, shutdown: CancellationToken) {
    let path = job.path.clone();
    let hashed = tokio::task::spawn_blocking(move || -> std::io::Result<(u64, Option<i64>, Sha256Digest)> {
        use std::io::Read;
        // Never through a symbolic link: a link planted in a pool must not make the node read (and report
        // the checksum of) a file outside it.
        let mut file = super::open_regular(&path)?;
        let before = file.metadata()?;
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 1 << 20];
        loop {
            if shutdown.is_cancelled() {
                return Err(std::io::Error::new(std::io::ErrorKind::Interrupted, "the node is shutting down"));
            }
            let n = file.read(&mut buf)?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
        }
        let after = std::fs::symlink_metadata(&path)?;
        if before.len() != after.len() || before.modified().ok() != after.modified().ok() || !after.is_file() {
            return Err(std::io::Error::other("the file changed while it was hashed"));
        }
        Ok((after.len(), mtime_ns(&path), Sha256Digest(hasher.finalize().into())))
    })
    .await;
    match hashed {
        Ok(Ok((size, mtime, digest))) => {
            match store.set_checksum_if_unchanged(job.id, size, mtime, &digest.to_wire()).await {
                Ok(true) => tracing::info!(id = %job.id, path = %job.path.display(), "checksum computed"),
                Ok(false) => {
                    tracing::debug!(id = %job.id, "file changed before its checksum was stored; it is hashed again")
                }
                Err(e) => tracing::warn!(id = %job.id, error = %e, "cannot store a checksum"),
            }
        }
        // Gone or changing: the watcher registers what happens next and queues a new hash.
        Ok(Err(e)) => tracing::debug!(path = %job.path.display(), error = %e, "not hashed"),
        Err(e) => tracing::warn!(error = %e, "hashing task failed"),
    }
}
