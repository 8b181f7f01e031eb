//! Storage pools from the node's config: where images live (`<path>/iso/`) and how much room is left.

use std::{
    collections::BTreeMap,
    io,
    path::{Path, PathBuf},
    sync::Arc,
};

use app::model::{PoolId, StoragePool};

use super::names::ImageFileName;
use crate::config::PoolSpec;

/// Prefix of the node's own temporary upload files: hidden, and ignored by the watcher.
pub const STAGING_PREFIX: &str = ".quantix-upload-";

#[derive(Debug)]
pub struct Pool {
    pub id: PoolId,
    pub name: String,
    pub root: PathBuf,
    /// `<root>/iso`: the only directory of the pool the node reads or writes.
    pub iso_dir: PathBuf,
    pub quota: Option<u64>,
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

    /// Removes temporary files left by uploads that a killed process never finished.
    pub fn remove_stale_staging(&self) -> io::Result<usize> {
        let mut removed = 0;
        for entry in std::fs::read_dir(&self.iso_dir)? {
            let entry = entry?;
            if entry.file_name().to_string_lossy().starts_with(STAGING_PREFIX) {
                std::fs::remove_file(entry.path())?;
                removed += 1;
            }
        }
        Ok(removed)
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
