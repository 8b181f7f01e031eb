//! Storage pools from the node's config: where images live (`<path>/iso/`) and how much room is left.

use std::{
    collections::{BTreeMap, HashMap},
    io,
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
};

use app::model::{PoolId, StoragePool};

use super::names::ImageFileName;
use crate::config::PoolSpec;

/// Prefix of the node's own temporary upload files: hidden, and ignored by the watcher.
pub const STAGING_PREFIX: &str = ".quantix-upload-";
/// Prefix of a resumable upload's staging file (within [`STAGING_PREFIX`], so the watcher ignores it too):
/// the node's database says which are still wanted, so a start does not remove them blindly.
pub const RESUMABLE_PREFIX: &str = ".quantix-upload-resumable-";

#[derive(Debug)]
pub struct Pool {
    pub id: PoolId,
    pub name: String,
    pub root: PathBuf,
    /// `<root>/iso`: the only directory of the pool the node reads or writes.
    pub iso_dir: PathBuf,
    pub quota: Option<u64>,
    /// Space promised to uploads in progress and not on disk yet. Free space alone cannot tell: two
    /// uploads starting together each saw room for themselves (two 20 MiB uploads once both landed in a
    /// pool with 30 MiB left).
    claims: Mutex<Claims>,
}

#[derive(Debug, Default)]
struct Claims {
    next_id: u64,
    /// Per upload: bytes claimed, and its staging file (what is on disk already counts in free space).
    open: HashMap<u64, (u64, PathBuf)>,
}

impl Claims {
    /// Claimed and not yet on disk, over every upload but `except`. Measured on the staging files: bytes
    /// an upload has received but still holds in its queues are neither free nor written, so they count
    /// as claimed until the file holds them.
    fn outstanding(&self, except: Option<u64>) -> u64 {
        self.open
            .iter()
            .filter(|(id, _)| Some(**id) != except)
            .map(|(_, (claimed, file))| claimed.saturating_sub(on_disk(file)))
            .sum()
    }
}

fn on_disk(file: &Path) -> u64 {
    std::fs::symlink_metadata(file).map_or(0, |m| m.len())
}

/// Room an upload holds in its pool; given back when the last clone is dropped (the upload ended,
/// whichever way).
#[derive(Debug, Clone)]
pub struct SpaceClaim(Arc<ClaimInner>);

#[derive(Debug)]
struct ClaimInner {
    pool: Arc<Pool>,
    id: u64,
}

/// Why a claim was refused: the space left for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoRoom {
    pub available: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Space {
    pub capacity: u64,
    pub free: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum PoolError {
    #[error("pool id \"{0}\" is configured twice")]
    Duplicate(PoolId),
    #[error("cannot prepare the directory {path} of pool \"{id}\": {source}")]
    Dir { id: PoolId, path: PathBuf, source: io::Error },
}

impl Pool {
    fn open(spec: &PoolSpec) -> Result<Pool, PoolError> {
        let dir_err = |path: &Path, source| PoolError::Dir { id: spec.id.clone(), path: path.to_owned(), source };
        let iso_dir = spec.path.join("iso");
        std::fs::create_dir_all(&iso_dir).map_err(|e| dir_err(&iso_dir, e))?;
        let root = std::fs::canonicalize(&spec.path).map_err(|e| dir_err(&spec.path, e))?;
        Ok(Pool {
            id: spec.id.clone(),
            name: spec.name.clone().unwrap_or_else(|| spec.id.to_string()),
            iso_dir: root.join("iso"),
            root,
            quota: spec.quota,
            claims: Mutex::default(),
        })
    }

    /// Where an image of this name lives. The name is validated, so the result stays inside `iso_dir`.
    pub fn path_of(&self, name: &ImageFileName) -> PathBuf {
        self.iso_dir.join(name.as_str())
    }

    /// Capacity and free bytes: the filesystem's, or what the quota leaves.
    pub fn space(&self) -> io::Result<Space> {
        let st = rustix::fs::statvfs(&self.iso_dir)?;
        let fs = Space { capacity: st.f_blocks * st.f_frsize, free: st.f_bavail * st.f_frsize };
        Ok(match self.quota {
            None => fs,
            Some(quota) => {
                let used = self.bytes_used()?;
                Space { capacity: quota, free: quota.saturating_sub(used).min(fs.free) }
            }
        })
    }

    /// Claims `bytes` for an upload writing `file`, if free space minus what other uploads claimed
    /// leaves room (what `file` already holds is taken from free space already: a resumable upload taken up
    /// again after a restart). Runs statvfs (and, with a quota, a directory listing): call it off the
    /// async runtime.
    pub fn claim(self: &Arc<Self>, bytes: u64, file: &Path) -> io::Result<Result<SpaceClaim, NoRoom>> {
        let mut claims = self.claims.lock().expect("claims lock");
        let available = self.space()?.free.saturating_sub(claims.outstanding(None));
        if bytes.saturating_sub(on_disk(file)) > available {
            return Ok(Err(NoRoom { available }));
        }
        claims.next_id += 1;
        let id = claims.next_id;
        claims.open.insert(id, (bytes, file.to_owned()));
        Ok(Ok(SpaceClaim(Arc::new(ClaimInner { pool: self.clone(), id }))))
    }

    /// Space a new upload could claim now.
    pub fn available(&self) -> io::Result<u64> {
        let claims = self.claims.lock().expect("claims lock");
        Ok(self.space()?.free.saturating_sub(claims.outstanding(None)))
    }

    /// Bytes held by the files of `iso_dir`, temporary uploads included.
    fn bytes_used(&self) -> io::Result<u64> {
        let mut total = 0;
        for entry in std::fs::read_dir(&self.iso_dir)? {
            let meta = entry?.metadata()?;
            if meta.is_file() {
                total += meta.len();
            }
        }
        Ok(total)
    }

    fn describe(&self, image_count: u64) -> io::Result<StoragePool> {
        let space = self.space()?;
        Ok(StoragePool {
            id: self.id.clone(),
            name: self.name.clone(),
            path: self.root.to_string_lossy().into_owned(),
            capacity_bytes: space.capacity,
            free_bytes: space.free,
            image_count,
        })
    }

    /// Removes temporary files left by uploads that a killed process never finished (resumable uploads'
    /// aside: those are resumed or expired by their own registry).
    pub fn remove_stale_staging(&self) -> io::Result<usize> {
        let mut removed = 0;
        for entry in std::fs::read_dir(&self.iso_dir)? {
            let entry = entry?;
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with(STAGING_PREFIX) && !name.starts_with(RESUMABLE_PREFIX) {
                std::fs::remove_file(entry.path())?;
                removed += 1;
            }
        }
        Ok(removed)
    }
}

impl SpaceClaim {
    /// Bytes claimed.
    pub fn claimed(&self) -> u64 {
        let c = &self.0;
        c.pool.claims.lock().expect("claims lock").open.get(&c.id).map_or(0, |(claimed, _)| *claimed)
    }

    /// Claims `want` more bytes, or failing that at least `need`, if there is room. Blocking, like
    /// [`Pool::claim`].
    pub fn extend(&self, want: u64, need: u64) -> io::Result<Result<(), NoRoom>> {
        let c = &self.0;
        let mut claims = c.pool.claims.lock().expect("claims lock");
        let own = claims.open.get(&c.id).map_or(0, |(claimed, file)| claimed.saturating_sub(on_disk(file)));
        let available = c.pool.space()?.free.saturating_sub(claims.outstanding(Some(c.id)) + own);
        let more = if want <= available { want } else { need };
        if more > available {
            return Ok(Err(NoRoom { available }));
        }
        if let Some((claimed, _)) = claims.open.get_mut(&c.id) {
            *claimed += more;
        }
        Ok(Ok(()))
    }
}

impl Drop for ClaimInner {
    fn drop(&mut self) {
        if let Ok(mut claims) = self.pool.claims.lock() {
            claims.open.remove(&self.id);
        }
    }
}

/// The node's pools, by id, in a stable order.
#[derive(Debug, Default)]
pub struct Pools {
    by_id: BTreeMap<PoolId, Arc<Pool>>,
    order: Vec<PoolId>,
}

/// Where each pool keeps its images, and nothing else about the pools: what the metadata store needs to
/// name a file's path (it never looks at the disk itself).
#[derive(Debug, Clone, Default)]
pub struct Locator(Arc<BTreeMap<PoolId, PathBuf>>);

impl Locator {
    /// The path of `filename` in `pool`'s `iso/` directory; `None` for a pool no longer configured.
    pub fn path_of(&self, pool: &str, filename: &str) -> Option<PathBuf> {
        self.0.get(pool).map(|dir| dir.join(filename))
    }
}

impl Pools {
    pub fn open(specs: &[PoolSpec]) -> Result<Pools, PoolError> {
        let mut pools = Pools::default();
        for spec in specs {
            let pool = Pool::open(spec)?;
            if pools.by_id.contains_key(&pool.id) {
                return Err(PoolError::Duplicate(pool.id));
            }
            pools.order.push(pool.id.clone());
            pools.by_id.insert(pool.id.clone(), Arc::new(pool));
        }
        Ok(pools)
    }

    pub fn get(&self, id: &str) -> Option<&Arc<Pool>> {
        self.by_id.get(id)
    }

    /// The pool uploads go to when none is named: the first configured.
    pub fn default_pool(&self) -> Option<&Arc<Pool>> {
        self.order.first().and_then(|id| self.by_id.get(id))
    }

    pub fn iter(&self) -> impl Iterator<Item = &Arc<Pool>> {
        self.order.iter().filter_map(|id| self.by_id.get(id))
    }

    pub fn locator(&self) -> Locator {
        Locator(Arc::new(self.iter().map(|p| (p.id.clone(), p.iso_dir.clone())).collect()))
    }

    /// Every pool as the API shows it, with its image count from `counts`. Runs statvfs (and, for a pool
    /// with a quota, a directory listing) on a blocking thread, off the async runtime.
    pub async fn describe(self: &Arc<Self>, counts: Vec<(PoolId, u64)>) -> io::Result<Vec<StoragePool>> {
        let pools = self.clone();
        tokio::task::spawn_blocking(move || {
            pools
                .iter()
                .map(|p| p.describe(counts.iter().find(|(id, _)| *id == p.id).map(|(_, n)| *n).unwrap_or(0)))
                .collect()
        })
        .await
        .map_err(io::Error::other)?
    }
}
