//! Hashing files the watcher registered, and reading what is inside them, off the request path, a
//! bounded number at a time. One pass over the file: its SHA-256 and, for an OVA, the OVF scan; an ISO's
//! descriptors are a few sectors read once the hash is done.

use std::{path::PathBuf, sync::Arc};

use sha2::{Digest, Sha256};
use tokio::sync::{Semaphore, mpsc};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use app::model::ImageFormat;

use crate::node::{
    content::{self, Findings},
    detect::{self, OvaScanner},
    ingest::{Sha256Digest, mtime_ns},
    store::NodeStore,
};

/// What to do with a file, as it looked when queued.
#[derive(Debug, Clone)]
pub struct HashJob {
    pub id: Uuid,
    pub path: PathBuf,
    /// `false`: the checksum is known; only what the content says is wanted (an image registered before
    /// detection existed).
    pub hash: bool,
}

#[derive(Clone)]
pub struct Hasher {
    queue: mpsc::UnboundedSender<HashJob>,
}

/// How the hasher runs.
#[derive(Debug, Clone)]
pub struct HasherOptions {
    /// At most this many files are read at once.
    pub concurrency: usize,
    /// Read what is inside each image too.
    pub detect_content: bool,
}

impl Hasher {
    /// Starts the loop. A file in progress stops at `shutdown` (a 10 GiB file must not hold the process
    /// up; it is read again at the next start).
    pub fn spawn(store: NodeStore, options: HasherOptions, shutdown: CancellationToken) -> Hasher {
        let (queue, mut jobs) = mpsc::unbounded_channel::<HashJob>();
        let permits = Arc::new(Semaphore::new(options.concurrency.max(1)));
        tokio::spawn(async move {
            while let Some(job) = jobs.recv().await {
                let permit = permits.clone().acquire_owned().await.expect("semaphore never closed");
                let (store, shutdown, detect) = (store.clone(), shutdown.clone(), options.detect_content);
                tokio::spawn(async move {
                    hash_one(&store, job, detect, shutdown).await;
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

/// What one pass over a file found.
struct Read {
    size: u64,
    mtime: Option<i64>,
    digest: Option<Sha256Digest>,
    found: Findings,
}

/// Reads the file at `path` once: its SHA-256 (if `hash`) and, with `detect`, what its content says.
fn read_file(path: &std::path::Path, hash: bool, detect: bool, shutdown: &CancellationToken) -> std::io::Result<Read> {
    use std::io::Read as _;
    let filename = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
    let format = ImageFormat::from_filename(&filename).unwrap_or(ImageFormat::Iso);
    // Never through a symbolic link: a link planted in a pool must not make the node read (and report
    // the checksum of) a file outside it.
    let mut file = super::open_regular(path)?;
    let before = file.metadata()?;
    let mut hasher = hash.then(Sha256::new);
    let mut scanner = (detect && format == ImageFormat::Ova).then(OvaScanner::new);
    if hasher.is_some() || scanner.is_some() {
        let mut buf = vec![0u8; 1 << 20];
        loop {
            if shutdown.is_cancelled() {
                return Err(std::io::Error::new(std::io::ErrorKind::Interrupted, "the node is shutting down"));
            }
            let n = file.read(&mut buf)?;
            if n == 0 {
                break;
            }
            hasher.iter_mut().for_each(|h| h.update(&buf[..n]));
            scanner.iter_mut().for_each(|s| s.feed(&buf[..n]));
        }
    }
    let found = match (detect, scanner) {
        (false, _) => Findings::from_filename(&filename),
        (true, Some(scanner)) => Findings::from_ova(&scanner.finish(), &filename),
        (true, None) => Findings::from_iso(&detect::probe_iso(&file), &filename, format),
    };
    let after = std::fs::symlink_metadata(path)?;
    if before.len() != after.len() || before.modified().ok() != after.modified().ok() || !after.is_file() {
        return Err(std::io::Error::other("the file changed while it was read"));
    }
    let digest = hasher.map(|h| Sha256Digest(h.finalize().into()));
    Ok(Read { size: after.len(), mtime: mtime_ns(path), digest, found })
}

async fn hash_one(store: &NodeStore, job: HashJob, detect: bool, shutdown: CancellationToken) {
    let (path, hash) = (job.path.clone(), job.hash);
    let read = tokio::task::spawn_blocking(move || read_file(&path, hash, detect, &shutdown)).await;
    match read {
        Ok(Ok(Read { size, mtime, digest: Some(digest), found })) => {
            match store.set_checksum_if_unchanged(job.id, size, mtime, &digest.to_wire(), &found).await {
                Ok(true) => tracing::info!(id = %job.id, path = %job.path.display(), "checksum computed"),
                Ok(false) => {
                    tracing::debug!(id = %job.id, "file changed before its checksum was stored; it is hashed again")
                }
                Err(e) => tracing::warn!(id = %job.id, error = %e, "cannot store a checksum"),
            }
        }
        Ok(Ok(Read { digest: None, found, .. })) => match store.set_findings(job.id, &found).await {
            Ok(()) => tracing::info!(id = %job.id, path = %job.path.display(), "content detected"),
            Err(e) => tracing::warn!(id = %job.id, error = %e, "cannot store what the content says"),
        },
        // Gone or changing: the watcher registers what happens next and queues it again.
        Ok(Err(e)) => tracing::debug!(path = %job.path.display(), error = %e, "not read"),
        Err(e) => tracing::warn!(error = %e, "hashing task failed"),
    }
}

/// Reads the descriptors of a file at registration (an ISO's few sectors), for its default folder.
/// Blocking.
pub fn findings_at_registration(path: &std::path::Path, filename: &str, format: ImageFormat, detect: bool) -> Findings {
    if detect { content::probe_file(path, filename, format) } else { Findings::from_filename(filename) }
}
