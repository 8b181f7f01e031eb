//! The staging file: bytes stream into a hidden temporary file in the pool's `iso/` directory while a
//! second thread hashes them, then the file is made durable and renamed into place without replacing
//! anything.
//!
//! Memory is bounded: bytes are gathered into 1 MiB blocks and at most [`QUEUE`] blocks wait for each
//! thread, whatever the file's size. Writeback is started as the file grows and the page cache is
//! released behind it, so the final `fsync` is short and a multi-GB upload does not evict the host's
//! cache.

use std::{
    fs::File,
    io::{self, Write},
    os::fd::AsRawFd,
    path::{Path, PathBuf},
};

use bytes::{Bytes, BytesMut};
use sha2::{Digest, Sha256};
use tokio::{sync::mpsc, task::JoinHandle};

use super::checksum::Sha256Digest;
use crate::node::pools::STAGING_PREFIX;

const BLOCK: usize = 1 << 20;
const QUEUE: usize = 4;
/// Writeback is started, and waited for one window behind, every this many bytes.
const WRITEBACK_WINDOW: u64 = 8 << 20;

#[derive(Debug, thiserror::Error)]
pub enum StagingError {
    #[error("the filesystem or the pool's quota is full")]
    Full,
    #[error(transparent)]
    Io(#[from] io::Error),
}

fn classify(e: io::Error) -> StagingError {
    match e.raw_os_error() {
        Some(libc::ENOSPC) | Some(libc::EDQUOT) => StagingError::Full,
        _ => StagingError::Io(e),
    }
}

enum Msg {
    Block(Bytes),
    /// Everything was sent: make it durable (writer) or produce the digest (hasher).
    Done,
}

pub struct Staged {
    pub len: u64,
    pub sha256: Sha256Digest,
}

pub struct StagingFile {
    path: PathBuf,
    /// Remove the file on drop: true until it has been renamed into place.
    armed: bool,
    block: BytesMut,
    len: u64,
    limit: Option<u64>,
    to_writer: Option<mpsc::Sender<Msg>>,
    to_hasher: Option<mpsc::Sender<Msg>>,
    writer: Option<JoinHandle<io::Result<()>>>,
    hasher: Option<JoinHandle<Option<Sha256Digest>>>,
}

impl StagingFile {
    /// Creates a new hidden file in `dir`; `limit` caps its size (a pool quota).
    pub async fn create(dir: &Path, limit: Option<u64>) -> io::Result<StagingFile> {
        let path = dir.join(format!("{STAGING_PREFIX}{}.part", uuid::Uuid::new_v4()));
        let file = tokio::fs::OpenOptions::new().write(true).create_new(true).open(&path).await?.into_std().await;
        let (to_writer, from_net) = mpsc::channel(QUEUE);
        let (to_hasher, for_hash) = mpsc::channel(QUEUE);
        Ok(StagingFile {
            path,
            armed: true,
            block: BytesMut::with_capacity(BLOCK),
            len: 0,
            limit,
            to_writer: Some(to_writer),
            to_hasher: Some(to_hasher),
            writer: Some(tokio::task::spawn_blocking(move || write_loop(file, from_net))),
            hasher: Some(tokio::task::spawn_blocking(move || hash_loop(for_hash))),
        })
    }

    pub async fn write(&mut self, mut chunk: Bytes) -> Result<(), StagingError> {
        self.len += chunk.len() as u64;
        if self.limit.is_some_and(|limit| self.len > limit) {
            return Err(StagingError::Full);
        }
        while !chunk.is_empty() {
            let room = BLOCK - self.block.len();
            let take = room.min(chunk.len());
            self.block.extend_from_slice(&chunk.split_to(take));
            if self.block.len() == BLOCK {
                self.send_block().await?;
            }
        }
        Ok(())
    }

    async fn send_block(&mut self) -> Result<(), StagingError> {
        let block = std::mem::replace(&mut self.block, BytesMut::with_capacity(BLOCK)).freeze();
        let to_hasher = self.to_hasher.as_ref().expect("open");
        let to_writer = self.to_writer.as_ref().expect("open");
        let (h, w) = tokio::join!(to_hasher.send(Msg::Block(block.clone())), to_writer.send(Msg::Block(block)));
        if w.is_err() || h.is_err() {
            // A thread stopped early: only the writer can fail, and its error says why.
            return Err(self.writer_result().await.err().unwrap_or_else(|| io::Error::other("writer stopped").into()));
        }
        Ok(())
    }

    async fn writer_result(&mut self) -> Result<(), StagingError> {
        match self.writer.take() {
            Some(handle) => handle.await.map_err(|e| io::Error::other(e.to_string()))?.map_err(classify),
            None => Ok(()),
        }
    }

    /// Sends the rest, waits until the bytes are on disk, and returns the size and digest.
    pub async fn finish(&mut self) -> Result<Staged, StagingError> {
        if !self.block.is_empty() {
            self.send_block().await?;
        }
        let (to_writer, to_hasher) = (self.to_writer.take().expect("open"), self.to_hasher.take().expect("open"));
        let _ = to_hasher.send(Msg::Done).await;
        if to_writer.send(Msg::Done).await.is_err() {
            self.writer_result().await?;
        }
        self.writer_result().await?;
        let digest = self
            .hasher
            .take()
            .expect("open")
            .await
            .map_err(|e| io::Error::other(e.to_string()))?
            .ok_or_else(|| io::Error::other("hasher stopped early"))?;
        Ok(Staged { len: self.len, sha256: digest })
    }

    /// Renames the finished file to `dest`, refusing to replace an existing file, and makes the rename
    /// durable. Returns the file's modification time (ns).
    pub async fn finalize(&mut self, dest: &Path) -> io::Result<Option<i64>> {
        let (from, to) = (self.path.clone(), dest.to_owned());
        let mtime = tokio::task::spawn_blocking(move || -> io::Result<Option<i64>> {
            rename_noreplace(&from, &to)?;
            if let Some(dir) = to.parent() {
                File::open(dir)?.sync_all()?;
            }
            Ok(mtime_ns(&to))
        })
        .await
        .map_err(|e| io::Error::other(e.to_string()))??;
        self.armed = false;
        Ok(mtime)
    }
}

impl Drop for StagingFile {
    fn drop(&mut self) {
        // Closing the channels without `Done` tells both threads to stop without syncing.
        self.to_writer.take();
        self.to_hasher.take();
        if self.armed
            && let Err(e) = std::fs::remove_file(&self.path)
            && e.kind() != io::ErrorKind::NotFound
        {
            tracing::error!(path = %self.path.display(), error = %e, "cannot remove an abandoned upload");
        }
    }
}

pub fn mtime_ns(path: &Path) -> Option<i64> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| m.mtime() * 1_000_000_000 + m.mtime_nsec())
}

fn write_loop(mut file: File, mut rx: mpsc::Receiver<Msg>) -> io::Result<()> {
    let fd = file.as_raw_fd();
    let (mut written, mut started, mut settled) = (0u64, 0u64, 0u64);
    while let Some(msg) = rx.blocking_recv() {
        match msg {
            Msg::Block(block) => {
                file.write_all(&block)?;
                written += block.len() as u64;
                if written - started >= WRITEBACK_WINDOW {
                    // Start writing this window out now; wait for the previous one and drop it from the
                    // page cache. The disk works while the network delivers.
                    sync_range(fd, started, written - started, libc::SYNC_FILE_RANGE_WRITE);
                    if started > settled {
                        let flags = libc::SYNC_FILE_RANGE_WAIT_BEFORE
                            | libc::SYNC_FILE_RANGE_WRITE
                            | libc::SYNC_FILE_RANGE_WAIT_AFTER;
                        sync_range(fd, settled, started - settled, flags);
                        let _ = rustix::fs::fadvise(
                            &file,
                            settled,
                            std::num::NonZeroU64::new(started - settled),
                            rustix::fs::Advice::DontNeed,
                        );
                        settled = started;
                    }
                    started = written;
                }
            }
            Msg::Done => {
                file.sync_all()?;
                let _ = rustix::fs::fadvise(&file, 0, None, rustix::fs::Advice::DontNeed);
                return Ok(());
            }
        }
    }
    Err(io::Error::new(io::ErrorKind::Interrupted, "upload abandoned"))
}

/// Best effort: on filesystems without `sync_file_range` the final fsync does all the work.
fn sync_range(fd: i32, offset: u64, len: u64, flags: libc::c_uint) {
    // SAFETY: `fd` is an open file owned by the caller for the duration of the call.
    unsafe {
        libc::sync_file_range(fd, offset as libc::off64_t, len as libc::off64_t, flags);
    }
}

fn hash_loop(mut rx: mpsc::Receiver<Msg>) -> Option<Sha256Digest> {
    let mut hasher = Sha256::new();
    while let Some(msg) = rx.blocking_recv() {
        match msg {
            Msg::Block(block) => hasher.update(&block),
            Msg::Done => return Some(Sha256Digest(hasher.finalize().into())),
        }
    }
    None
}

fn rename_noreplace(from: &Path, to: &Path) -> io::Result<()> {
    use rustix::fs::{CWD, RenameFlags, renameat_with};
    match renameat_with(CWD, from, CWD, to, RenameFlags::NOREPLACE) {
        Ok(()) => Ok(()),
        // Filesystems without RENAME_NOREPLACE: a hard link fails just the same if `to` exists.
        Err(e) if e == rustix::io::Errno::INVAL || e == rustix::io::Errno::NOSYS => {
            std::fs::hard_link(from, to)?;
            std::fs::remove_file(from)
        }
        Err(e) => Err(e.into()),
    }
}
