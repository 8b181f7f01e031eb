//! The pool watcher: registers ISOs that appear in a pool's `iso/` directory by other means (scp, cp),
//! once they have stopped growing, and reports renames and deletions. An actor on its own task: `notify`
//! events arrive through a channel and are debounced here; the rest of the node only sees store changes.
//!
//! At start it reconciles each pool with the database the same way (files that vanished while the node
//! was down are removed, new ones registered, changed ones hashed again).

mod hasher;

use std::{
    collections::{HashMap, HashSet},
    fs::File,
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use notify::{
    Event, EventKind, RecursiveMode, Watcher,
    event::{AccessKind, AccessMode, ModifyKind, RenameMode},
};
use tokio::{sync::mpsc, time::Instant};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use hasher::{HashJob, Hasher, HasherOptions};

use super::{
    file_tags::{self, FileTag},
    ingest::{Reservations, mtime_ns},
    names::ImageFileName,
    pools::{Pool, Pools, STAGING_PREFIX},
    store::{FileRow, NewImage, NodeStore, StoreError},
};

/// How the watcher decides a file is complete, and whether it reads what is inside.
#[derive(Debug, Clone, Copy)]
pub struct WatchTiming {
    /// A file its writer closed is registered once quiet this long.
    pub settle: Duration,
    /// A file nobody closed (yet) is registered once quiet this long.
    pub unclosed: Duration,
    /// Read each image's content (its OS, boot modes, an OVA's descriptor).
    pub detect_content: bool,
}

impl Default for WatchTiming {
    fn default() -> Self {
        Self { settle: Duration::from_millis(500), unclosed: Duration::from_secs(10), detect_content: true }
    }
}

const TICK: Duration = Duration::from_millis(100);
/// A rename's two halves arrive together; a lone "moved from" older than this was a move out.
const RENAME_PAIRING: Duration = Duration::from_millis(500);
const HASH_CONCURRENCY: usize = 2;

/// A file seen changing, not yet registered.
struct Pending {
    pool: Arc<Pool>,
    last_activity: Instant,
    closed: bool,
    /// Size at the last look; registered only when it held still across a look.
    size: Option<u64>,
}

struct WatcherActor {
    pools: Arc<Pools>,
    store: NodeStore,
    reservations: Reservations,
    timing: WatchTiming,
    hasher: Hasher,
    pending: HashMap<PathBuf, Pending>,
    /// "Moved from" halves waiting for their "moved to", by rename cookie.
    moving_out: HashMap<usize, (PathBuf, Instant)>,
    /// Paths already logged as ignored (symbolic links), so each is said once, not every tick.
    ignored: HashSet<PathBuf>,
}

/// Opens `path` for reading only if it is a regular file itself: never through a symbolic link (a link
/// planted in a pool could point anywhere on the host, `/etc/shadow` included).
pub fn open_regular(path: &Path) -> std::io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK).open(path)?;
    if !file.metadata()?.is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    Ok(file)
}

/// What is at `path` itself, links not followed: its metadata if it is a regular file, `None` for anything
/// else (gone, a directory, a symbolic link, a device).
async fn regular_file(path: &Path) -> Option<std::fs::Metadata> {
    tokio::fs::symlink_metadata(path).await.ok().filter(|m| m.is_file())
}

/// Starts watching every pool; reconciles them with the database first, then cancels `scanned` (nothing
/// may report the node's inventory before: it would be missing what the scan registers). Runs until
/// `shutdown`.
pub async fn spawn(
    pools: Arc<Pools>,
    store: NodeStore,
    reservations: Reservations,
    timing: WatchTiming,
    scanned: CancellationToken,
    shutdown: CancellationToken,
) -> notify::Result<tokio::task::JoinHandle<()>> {
    let (tx, mut events) = mpsc::unbounded_channel::<notify::Result<Event>>();
    let mut watcher = notify::recommended_watcher(move |res| {
        let _ = tx.send(res);
    })?;
    // Watch before reconciling, so nothing that happens in between is missed (events for files the
    // reconciliation handled are handled again, harmlessly).
    for pool in pools.iter() {
        watcher.watch(&pool.iso_dir, RecursiveMode::NonRecursive)?;
    }
    let options = HasherOptions { concurrency: HASH_CONCURRENCY, detect_content: timing.detect_content };
    let hasher = Hasher::spawn(store.clone(), options, shutdown.clone());
    let mut actor = WatcherActor {
        pools,
        store,
        reservations,
        timing,
        hasher,
        pending: HashMap::new(),
        moving_out: HashMap::new(),
        ignored: HashSet::new(),
    };
    Ok(tokio::spawn(async move {
        let _watcher = watcher;
        if let Err(e) = actor.reconcile().await {
            tracing::error!(error = %e, "cannot reconcile the pools with the database");
        }
        scanned.cancel();
        let mut tick = tokio::time::interval(TICK);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                Some(event) = events.recv() => match event {
                    Ok(event) => actor.on_event(event).await,
                    Err(e) => tracing::warn!(error = %e, "file watcher error"),
                },
                _ = tick.tick() => actor.on_tick().await,
            }
        }
    }))
}

impl WatcherActor {
    fn pool_of(&self, path: &Path) -> Option<Arc<Pool>> {
        let dir = path.parent()?;
        self.pools.iter().find(|p| p.iso_dir == dir).cloned()
    }

    /// A file of ours to care about: in a pool, an image name, not an upload in progress.
    fn image_file(&self, path: &Path) -> Option<(Arc<Pool>, ImageFileName)> {
        let pool = self.pool_of(path)?;
        let raw = path.file_name()?.to_str()?;
        if raw.starts_with(STAGING_PREFIX) {
            return None;
        }
        let name = ImageFileName::on_disk(raw).ok()?;
        Some((pool, name))
    }

    async fn on_event(&mut self, event: Event) {
        let now = Instant::now();
        match event.kind {
            EventKind::Create(_) | EventKind::Modify(ModifyKind::Data(_)) => {
                for path in &event.paths {
                    self.touch(path, now, false);
                }
            }
            EventKind::Access(AccessKind::Close(AccessMode::Write)) => {
                for path in &event.paths {
                    self.touch(path, now, true);
                }
            }
            EventKind::Modify(ModifyKind::Name(RenameMode::From)) => {
                if let (Some(tracker), Some(path)) = (event.tracker(), event.paths.first()) {
                    self.moving_out.insert(tracker, (path.clone(), now));
                }
            }
            EventKind::Modify(ModifyKind::Name(RenameMode::To)) => {
                // Half of a rename inside the pools (its "both" follows), or a move in.
                let paired = event.tracker().is_some_and(|t| self.moving_out.contains_key(&t));
                if !paired && let Some(path) = event.paths.first() {
                    self.touch(path, now, true);
                }
            }
            EventKind::Modify(ModifyKind::Name(RenameMode::Both)) => {
                if let Some(t) = event.tracker() {
                    self.moving_out.remove(&t);
                }
                if let [from, to] = event.paths.as_slice() {
                    self.renamed(from, to, now).await;
                }
            }
            EventKind::Remove(_) => {
                for path in &event.paths {
                    self.removed(path).await;
                }
            }
            _ => {}
        }
    }

    fn touch(&mut self, path: &Path, now: Instant, closed: bool) {
        let Some((pool, _)) = self.image_file(path) else { return };
        let entry =
            self.pending.entry(path.to_owned()).or_insert(Pending { pool, last_activity: now, closed, size: None });
        entry.last_activity = now;
        entry.closed |= closed;
    }

    async fn on_tick(&mut self) {
        let now = Instant::now();
        let stale: Vec<usize> =
            self.moving_out.iter().filter(|(_, (_, at))| now - *at > RENAME_PAIRING).map(|(t, _)| *t).collect();
        for tracker in stale {
            if let Some((path, _)) = self.moving_out.remove(&tracker) {
                self.removed(&path).await;
            }
        }
        let due: Vec<PathBuf> = self
            .pending
            .iter()
            .filter(|(_, p)| {
                let quiet = if p.closed { self.timing.settle } else { self.timing.unclosed };
                now - p.last_activity >= quiet
            })
            .map(|(path, _)| path.clone())
            .collect();
        for path in due {
            let size = match tokio::fs::symlink_metadata(&path).await {
                Ok(m) if m.is_file() => m.len(),
                Ok(m) => {
                    self.pending.remove(&path);
                    self.say_ignored(&path, &m);
                    continue;
                }
                Err(_) => {
                    self.pending.remove(&path);
                    continue;
                }
            };
            let p = self.pending.get_mut(&path).expect("due entries are pending");
            if p.size != Some(size) {
                // Still moving (or first look): look again one period later.
                p.size = Some(size);
                p.last_activity = now;
                continue;
            }
            let pending = self.pending.remove(&path).expect("due entries are pending");
            if let Err(e) = self.register(&pending.pool, &path).await {
                tracing::warn!(path = %path.display(), error = %e, "cannot register a file");
            }
        }
    }

    /// Registers the file at `path` (new, or changed since the database last saw it) and queues its hash.
    async fn register(&self, pool: &Pool, path: &Path) -> Result<(), StoreError> {
        let Some((_, name)) = self.image_file(path) else { return Ok(()) };
        if self.reservations.is_reserved(&pool.id, &name) {
            return Ok(()); // the API is writing or deleting this name right now
        }
        let Some(meta) = regular_file(path).await else { return Ok(()) };
        let mtime = mtime_ns(path);
        let id = match self.store.file_row(&pool.id, name.as_str()).await? {
            Some(row) if row.matches(meta.len(), mtime) => {
                if row.checksum.is_some() {
                    return Ok(());
                }
                row.uuid()?
            }
            Some(row) => {
                let id = row.uuid()?;
                tracing::info!(%id, path = %path.display(), "file changed on disk");
                self.store.file_changed(id, meta.len(), mtime).await?;
                id
            }
            None => {
                if let Some(other) = self.store.find_by_name(&pool.id, &name).await? {
                    tracing::warn!(
                        path = %path.display(),
                        registered = %other.filename,
                        "ignored: the pool holds this name already, written in another Unicode normalisation"
                    );
                    return Ok(());
                }
                // An ISO's few descriptor sectors now, for its folder; an OVA is read whole as it is hashed.
                let detect = self.timing.detect_content;
                let checked = detect && name.format() != app::model::ImageFormat::Ova;
                let found = {
                    let (path, filename, format) = (path.to_owned(), name.to_string(), name.format());
                    tokio::task::spawn_blocking(move || {
                        hasher::findings_at_registration(&path, &filename, format, detect)
                    })
                    .await
                    .unwrap_or_else(|_| crate::node::content::Findings::from_filename(name.as_str()))
                };
                let mut new = NewImage {
                    id: Uuid::new_v4(),
                    pool_id: pool.id.clone(),
                    folder: found.default_folder(),
                    filename: name,
                    size_bytes: meta.len(),
                    checksum: None,
                    content_checked: checked,
                    found,
                    file_mtime_ns: mtime,
                };
                // A file that carries its identity (the node's database was lost or restored, or the file
                // came from another pool with its attributes) keeps it, unless that id is in use here.
                if let Some(tag) = file_tags::read(path)
                    && self.store.get(tag.id).await.is_err()
                {
                    new.id = tag.id;
                    new.folder = tag.folder.clone();
                    new.checksum = tag.checksum_if_unchanged(meta.len(), mtime).map(str::to_owned);
                }
                let hashed = new.checksum.is_some();
                let meta = self.store.insert_image(new).await?;
                tracing::info!(id = %meta.id, path = %path.display(), hashed, "new file registered");
                if hashed {
                    return Ok(());
                }
                meta.id
            }
        };
        self.hasher.queue(HashJob { id, path: path.to_owned(), hash: true });
        Ok(())
    }

    /// A file vanished (deleted, or moved out of the pools).
    async fn removed(&mut self, path: &Path) {
        self.pending.remove(path);
        let Some((pool, name)) = self.image_file(path) else { return };
        if self.reservations.is_reserved(&pool.id, &name) {
            return;
        }
        let result = async {
            if let Some(row) = self.store.file_row(&pool.id, name.as_str()).await? {
                // It may be back already (replaced): only a missing file (or something that is no longer a
                // regular file, such as a link put in its place) removes the image.
                if regular_file(path).await.is_none() {
                    let vms = self.store.pinned_by(row.uuid()?).await?;
                    let meta = self.store.delete_image(row.uuid()?).await?;
                    if vms.is_empty() {
                        tracing::info!(id = %meta.id, path = %path.display(), "file gone; image removed");
                    } else {
                        // Not preventable (rm needs no permission of ours), so it is reported loudly.
                        tracing::error!(id = %meta.id, path = %path.display(), ?vms, "the installation ISO of VM definitions was removed from disk by other means; those VMs cannot boot from it");
                    }
                }
            }
            Ok::<(), StoreError>(())
        };
        if let Err(e) = result.await {
            tracing::warn!(path = %path.display(), error = %e, "cannot remove a vanished file's image");
        }
    }

    /// A rename: inside one pool it keeps the image (id, folder); anything else is a removal and an
    /// arrival.
    async fn renamed(&mut self, from: &Path, to: &Path, now: Instant) {
        let (old, new) = (self.image_file(from), self.image_file(to));
        let result = async {
            match (old, new) {
                (Some((from_pool, old_name)), Some((to_pool, new_name))) if from_pool.id == to_pool.id => {
                    if self.reservations.is_reserved(&from_pool.id, &old_name) {
                        return Ok(());
                    }
                    // A file renamed over another replaces it.
                    if let Some(replaced) = self.store.file_row(&to_pool.id, new_name.as_str()).await? {
                        self.store.delete_image(replaced.uuid()?).await?;
                    }
                    match self.store.file_row(&from_pool.id, old_name.as_str()).await? {
                        Some(row) => {
                            let meta = self.store.rename_file(row.uuid()?, &to_pool.id, &new_name).await?;
                            tracing::info!(id = %meta.id, to = %to.display(), "file renamed; image kept");
                        }
                        // Not registered yet: it carries on as a pending file under its new name.
                        None => {
                            self.pending.remove(from);
                            self.touch(to, now, true);
                        }
                    }
                }
                _ => {
                    self.removed(from).await;
                    self.touch(to, now, true);
                }
            }
            Ok::<(), StoreError>(())
        };
        if let Err(e) = result.await {
            tracing::warn!(from = %from.display(), to = %to.display(), error = %e, "cannot apply a rename");
        }
    }

    /// Logs, once per path, why an image-named entry of a pool is not registered.
    fn say_ignored(&mut self, path: &Path, meta: &std::fs::Metadata) {
        if !self.ignored.insert(path.to_owned()) {
            return;
        }
        let why = if meta.file_type().is_symlink() {
            "it is a symbolic link; the node never follows links, so that nothing outside its pools is read or offered to VMs"
        } else {
            "it is not a regular file"
        };
        tracing::warn!(path = %path.display(), "ignored: {why}");
    }

    /// Brings the database in line with the pools: vanished files removed, new and changed ones
    /// registered, unhashed ones hashed, images of pools no longer configured removed, and rows older than
    /// their file's tag brought up to it (the database was restored from a backup). Files that have been
    /// still for a while are registered at once, so the first inventory the node sends is complete; those
    /// still being written settle as live events do.
    async fn reconcile(&mut self) -> Result<(), StoreError> {
        let now = Instant::now();
        let mut on_disk: HashMap<(String, String), PathBuf> = HashMap::new();
        let mut not_files = Vec::new();
        for pool in self.pools.iter() {
            let Ok(entries) = std::fs::read_dir(&pool.iso_dir) else { continue };
            for entry in entries.flatten() {
                let path = entry.path();
                // The entry's own type: a symbolic link is not followed.
                let Ok(kind) = entry.file_type() else { continue };
                let Some((pool, name)) = self.image_file(&path) else { continue };
                if kind.is_file() {
                    on_disk.insert((pool.id.to_string(), name.to_string()), path);
                } else if let Ok(meta) = std::fs::symlink_metadata(&path) {
                    not_files.push((path, meta));
                }
            }
        }
        for (path, meta) in not_files {
            self.say_ignored(&path, &meta);
        }
        for row in self.store.file_rows().await? {
            let key = (row.pool_id.clone(), row.filename.clone());
            match on_disk.remove(&key) {
                None => {
                    if self.pools.get(&row.pool_id).is_none() {
                        tracing::warn!(pool = %row.pool_id, file = %row.filename, "pool no longer configured; image removed");
                    } else {
                        tracing::info!(pool = %row.pool_id, file = %row.filename, "file vanished while the node was down; image removed");
                    }
                    self.store.delete_image(row.uuid()?).await?;
                }
                Some(path) => {
                    let meta = std::fs::symlink_metadata(&path).ok();
                    let mtime = mtime_ns(&path);
                    if let (Some(tag), Some(m)) = (file_tags::read(&path), &meta)
                        && tag.revision > row.revision as u64
                    {
                        self.adopt(&row, &tag, &path, m.len(), mtime).await?;
                        continue;
                    }
                    let unchanged = meta.as_ref().is_some_and(|m| row.matches(m.len(), mtime));
                    if !unchanged {
                        self.touch(&path, now, true);
                    } else if row.checksum.is_none() {
                        self.hasher.queue(HashJob { id: row.uuid()?, path, hash: true });
                    }
                }
            }
        }
        for path in on_disk.into_values() {
            if self.complete_at_start(&path) {
                if let Some(pool) = self.pool_of(&path) {
                    self.register(&pool, &path).await?;
                }
            } else {
                self.touch(&path, now, true);
            }
        }
        // Images whose content was never read (from before detection existed, or an OVA whose checksum
        // its tag gave back): read once, in the background, a bounded number at a time.
        if self.timing.detect_content {
            for row in self.store.unchecked().await? {
                if let Some(path) = self.pools.get(&row.pool_id).map(|p| p.iso_dir.join(&row.filename)) {
                    self.hasher.queue(HashJob { id: row.uuid()?, path, hash: row.checksum.is_none() });
                }
            }
        }
        Ok(())
    }

    /// Whether a file found at start is complete: it carries a tag that still describes it (the node
    /// wrote the tag when the file was whole; the database has lost its row), or it has not been modified
    /// for the time a file nobody closed must wait. Such files are registered before the first inventory.
    fn complete_at_start(&self, path: &Path) -> bool {
        let Ok(meta) = std::fs::symlink_metadata(path) else { return false };
        if file_tags::read(path)
            .is_some_and(|t| t.size == meta.len() && t.mtime_ns.is_some() && t.mtime_ns == mtime_ns(path))
        {
            return true;
        }
        let age = meta.modified().ok().and_then(|t| t.elapsed().ok());
        age.is_some_and(|age| age >= self.timing.unclosed)
    }

    /// A file whose tag is newer than its row: the database went back in time. The same image is brought
    /// up to its tag; a file that now holds another image (deleted and uploaded again since) replaces the
    /// row's.
    async fn adopt(
        &self,
        row: &FileRow,
        tag: &FileTag,
        path: &Path,
        size: u64,
        mtime: Option<i64>,
    ) -> Result<(), StoreError> {
        let id = row.uuid()?;
        if tag.id == id {
            tracing::info!(%id, path = %path.display(), "the database is older than this file's tag: brought up to it");
            return self.store.adopt_tag(id, tag, size, mtime).await;
        }
        tracing::info!(old = %id, new = %tag.id, path = %path.display(), "the database is older than this file: it holds another image now");
        self.store.delete_image(id).await?;
        let Some(pool) = self.pool_of(path) else { return Ok(()) };
        self.register(&pool, path).await
    }
}
