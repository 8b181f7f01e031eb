//! Download from a URL into a pool: a task that streams the file into the same ingest pipeline as an
//! upload (claim, staging file, verify, finalize), resuming with HTTP Range when the connection drops.
//!
//! Refusals that need no transfer (scheme, credentials, a target on a refused range, a bad name, pool,
//! folder or checksum, a name taken) answer the request at once; what only the transfer reveals (the
//! server's answer, its size against the pool's room, a redirect to a refused range, the checksum)
//! fails the task, in words. Whichever way it fails, the ingest session removes what was staged and
//! releases the name and the room.

mod fetch;
mod guard;

use std::time::Duration;

use app::model::{DownloadRequest, IsoMetadata, NodeCopyJob, TaskKind};
use futures_util::StreamExt;
use http::HeaderValue;
use reqwest::Url;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

pub use fetch::{FetchError, Fetcher};
pub use guard::{Cidr, Refusal, ResolveError, TargetPolicy};

use super::{
    ingest::{Ingest, IngestError, IngestTarget, Sha256Digest},
    names::ImageFileName,
    store::{NodeStore, StoreError, UserOs},
    tasks::{NewTask, Outcome, TaskHandle, Tasks},
};

/// Why a download request was refused before any transfer.
#[derive(Debug, thiserror::Error)]
pub enum DownloadError {
    #[error("The URL is not valid: {0}.")]
    InvalidUrl(String),
    #[error("The URL's path ends in no file name; give the image's filename.")]
    NoFilename,
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error(transparent)]
    Unresolvable(ResolveError),
    #[error("{0} did not resolve within {1} s; check the URL, and the node's DNS.")]
    ResolveTimeout(String, u64),
    #[error("The copy ticket cannot be sent in a header.")]
    BadTicket,
    #[error(transparent)]
    Ingest(#[from] IngestError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// How long the request waits for the host name to resolve before it answers.
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(5);
/// Resumes after dropped connections before a download gives up.
const MAX_RESUMES: u32 = 5;

/// The node's downloads, and its copies of other nodes' images.
#[derive(Clone)]
pub struct Downloads {
    ingest: Ingest,
    store: NodeStore,
    tasks: Tasks,
    /// For URLs users give: checked against the node's [`TargetPolicy`].
    fetcher: std::sync::Arc<Fetcher>,
    /// For the cluster's own nodes, which the vdc names.
    cluster: std::sync::Arc<Fetcher>,
}

/// What one download reads and where it goes, checked.
struct Job {
    url: Url,
    target: IngestTarget,
    name: ImageFileName,
    /// A copy from another node: the vdc's ticket, and a person's OS fields to keep.
    copy: Option<(HeaderValue, Option<UserOs>)>,
}

/// Why a transfer ended without an image.
enum Failure {
    Fetch(FetchError),
    Ingest(IngestError),
    Cancelled,
}

impl From<FetchError> for Failure {
    fn from(e: FetchError) -> Self {
        Failure::Fetch(e)
    }
}

impl From<IngestError> for Failure {
    fn from(e: IngestError) -> Self {
        Failure::Ingest(e)
    }
}

impl Downloads {
    pub fn new(ingest: Ingest, store: NodeStore, tasks: Tasks, fetcher: Fetcher, cluster: Fetcher) -> Downloads {
        Downloads { ingest, store, tasks, fetcher: std::sync::Arc::new(fetcher), cluster: std::sync::Arc::new(cluster) }
    }

    /// Checks what can be checked at once, records the task and starts it; its id.
    #[tracing::instrument(skip(self, req), fields(url = %req.url))]
    pub async fn start(&self, req: DownloadRequest) -> Result<Uuid, DownloadError> {
        let url = Url::parse(req.url.trim()).map_err(|e| DownloadError::InvalidUrl(e.to_string()))?;
        let policy = self.fetcher.policy();
        policy.check_url(&url)?;
        if let Some(host) = url.host_str().filter(|h| !h.starts_with('['))
            && host.parse::<std::net::IpAddr>().is_err()
        {
            match tokio::time::timeout(RESOLVE_TIMEOUT, policy.resolve(host)).await {
                Ok(Ok(_)) => {}
                Ok(Err(ResolveError::Refused(why))) => return Err(why.into()),
                Ok(Err(lookup)) => return Err(DownloadError::Unresolvable(lookup)),
                Err(_) => return Err(DownloadError::ResolveTimeout(host.to_owned(), RESOLVE_TIMEOUT.as_secs())),
            }
        }
        let raw_name = match req.filename.as_deref().map(str::trim).filter(|f| !f.is_empty()) {
            Some(name) => name.to_owned(),
            None => last_segment(&url).ok_or(DownloadError::NoFilename)?,
        };
        let name = ImageFileName::parse(&raw_name).map_err(IngestError::from)?;
        let target = IngestTarget {
            pool_id: Some(req.pool_id.to_string()),
            folder: req.folder.clone(),
            expected_checksum: req
                .checksum
                .as_deref()
                .filter(|c| !c.is_empty())
                .map(Sha256Digest::parse)
                .transpose()
                .map_err(IngestError::from)?,
        };
        let source = url.to_string();
        self.launch(TaskKind::Download, source, Job { url, target, name, copy: None }).await
    }

    /// Starts a copy of another node's image, which the vdc asked for with a ticket to read it.
    #[tracing::instrument(skip(self, job), fields(source = %job.source.label))]
    pub async fn copy(&self, job: NodeCopyJob) -> Result<Uuid, DownloadError> {
        let url = Url::parse(&job.source.url).map_err(|e| DownloadError::InvalidUrl(e.to_string()))?;
        self.cluster.policy().check_url(&url)?;
        let ticket = HeaderValue::from_str(&job.source.ticket).map_err(|_| DownloadError::BadTicket)?;
        let name = ImageFileName::parse(&job.filename).map_err(IngestError::from)?;
        let target = IngestTarget {
            pool_id: Some(job.pool_id.to_string()),
            folder: Some(job.folder),
            expected_checksum: Some(Sha256Digest::parse(&job.checksum).map_err(IngestError::from)?),
        };
        let user_os = job.user_os.map(|os| UserOs {
            family: os.os_family,
            distribution: os.os_distribution,
            version: os.os_version,
        });
        self.launch(TaskKind::Copy, job.source.label, Job { url, target, name, copy: Some((ticket, user_os)) }).await
    }

    /// Records the task and starts it; its id.
    async fn launch(&self, kind: TaskKind, source: String, job: Job) -> Result<Uuid, DownloadError> {
        let pool = self.ingest.pool_for(&job.target, None).await?;
        // Early word for the admin; the ticket checks again, and reserves the name, once the size is known.
        if self.store.find_by_name(&pool.id, &job.name).await?.is_some() {
            return Err(IngestError::NameTaken { pool: pool.id.to_string(), filename: job.name.to_string() }.into());
        }
        let task = self
            .tasks
            .start(NewTask {
                kind,
                source: Some(source),
                pool_id: pool.id.clone(),
                filename: job.name.to_string(),
                folder: job.target.folder.clone(),
            })
            .await?;
        let id = task.id();
        tracing::info!(task = %id, kind = kind.as_str(), file = %job.name, pool = %pool.id, "transfer started");
        tokio::spawn(self.clone().run(task, job));
        Ok(id)
    }

    async fn run(self, task: TaskHandle, job: Job) {
        let user_os = job.copy.as_ref().and_then(|(_, os)| os.clone());
        let outcome = match self.transfer(&task, job).await {
            Ok(meta) => {
                tracing::info!(task = %task.id(), image = %meta.id, file = %meta.filename, size = meta.size_bytes, "transfer finished");
                if let Some(os) = user_os
                    && let Err(e) = self.store.set_user_os(meta.id, &os).await
                {
                    // The bytes are verified and kept; only the correction is missing, which can be redone.
                    tracing::warn!(image = %meta.id, error = %e, "the copy could not keep the source's OS fields");
                }
                Outcome::Succeeded(meta.id)
            }
            Err(Failure::Cancelled) => {
                tracing::info!(task = %task.id(), "download cancelled");
                Outcome::Cancelled
            }
            Err(Failure::Fetch(e)) => {
                tracing::info!(task = %task.id(), error = %e, "download failed");
                Outcome::Failed(format!("{e} Nothing was kept."))
            }
            Err(Failure::Ingest(e)) => {
                let words = match &e {
                    // Our fault, not the source's: the details go to the log.
                    IngestError::Store(_) => {
                        tracing::error!(task = %task.id(), error = %e, "download failed");
                        "The node could not record the image (a database error, in its log); nothing was kept.".into()
                    }
                    IngestError::Io(io) => {
                        tracing::error!(task = %task.id(), error = %e, "download failed");
                        format!("The node could not write the file to its pool ({io}); nothing was kept.")
                    }
                    _ => {
                        tracing::info!(task = %task.id(), error = %e, "download failed");
                        e.to_string()
                    }
                };
                Outcome::Failed(words)
            }
        };
        task.finish(outcome).await;
    }

    /// Reads the file into an ingest session, resuming after a dropped connection; cancellable until
    /// the last byte is in (finishing is not interrupted: the file is then being put in place).
    async fn transfer(&self, task: &TaskHandle, job: Job) -> Result<IsoMetadata, Failure> {
        let cancelled = task.cancelled();
        let (fetcher, ticket) = match &job.copy {
            Some((ticket, _)) => (&self.cluster, Some(ticket)),
            None => (&self.fetcher, None),
        };
        let resp = unless(cancelled, async { Ok::<_, Failure>(fetcher.get(&job.url, None, ticket).await?) }).await?;
        let (total, validator) = fetch::whole_file(&resp)?;
        task.progress(0, Some(total)).await;
        let pool = self.ingest.pool_for(&job.target, Some(total)).await?;
        let mut session = self.ingest.begin(pool, job.target, job.name.as_str(), Some(total)).await?;
        let idle = fetcher.idle();
        let mut body = resp.bytes_stream().boxed();
        let (mut written, mut resumes) = (0u64, 0u32);
        loop {
            let next =
                unless(cancelled, async { Ok::<_, Failure>(tokio::time::timeout(idle, body.next()).await) }).await?;
            let mut broke = match next {
                Ok(Some(Ok(chunk))) => {
                    if written + chunk.len() as u64 > total {
                        return Err(FetchError::TooLong(total).into());
                    }
                    written += chunk.len() as u64;
                    session.write(chunk).await?;
                    task.progress(written, Some(total)).await;
                    continue;
                }
                Ok(None) if written == total => break,
                Ok(None) => FetchError::Short { got: written, total },
                Ok(Some(Err(e))) => FetchError::Dropped(crate::http::error_chain(&e)),
                Err(_) => FetchError::Stalled(idle.as_secs()),
            };
            body = loop {
                resumes += 1;
                if resumes > MAX_RESUMES {
                    return Err(FetchError::GaveUp { last: Box::new(broke), attempts: MAX_RESUMES }.into());
                }
                tracing::info!(task = %task.id(), at = written, attempt = resumes, why = %broke, "download resumes");
                let pause = Duration::from_millis(250 << resumes.min(4));
                let resumed = unless(cancelled, async {
                    tokio::time::sleep(pause).await;
                    let resp = fetcher.get(&job.url, Some((written, &validator)), ticket).await?;
                    fetch::rest_of_file(&resp, written, total)?;
                    Ok::<_, Failure>(resp)
                })
                .await;
                match resumed {
                    Ok(resp) => break resp.bytes_stream().boxed(),
                    Err(Failure::Fetch(e)) if e.is_transient() => broke = e,
                    Err(Failure::Fetch(then)) => {
                        return Err(FetchError::ResumeFailed { broke: Box::new(broke), then: Box::new(then) }.into());
                    }
                    Err(e) => return Err(e),
                }
            };
        }
        Ok(session.finish().await?)
    }
}

/// `work`, unless the task is cancelled first.
async fn unless<T>(
    cancelled: &CancellationToken,
    work: impl Future<Output = Result<T, Failure>>,
) -> Result<T, Failure> {
    tokio::select! {
        biased;
        _ = cancelled.cancelled() => Err(Failure::Cancelled),
        done = work => done,
    }
}

/// The URL's last path segment, percent-decoded: the default file name.
fn last_segment(url: &Url) -> Option<String> {
    let raw = url.path_segments()?.next_back().filter(|s| !s.is_empty())?;
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_name_is_the_last_segment_decoded() {
        let cases = [
            ("https://m.example/debian/debian-12.iso", Some("debian-12.iso")),
            ("https://m.example/a/Fedora%2044.iso?x=1#y", Some("Fedora 44.iso")),
            ("https://m.example/dir/", None),
            ("https://m.example", None),
            ("https://m.example/%ff.iso", None),
            ("https://m.example/100%.iso", Some("100%.iso")),
        ];
        for (url, name) in cases {
            assert_eq!(last_segment(&Url::parse(url).unwrap()).as_deref(), name, "{url}");
        }
    }
}
