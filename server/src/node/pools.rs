//! Storage pools from the node's config: where images live (`<path>/iso/`) and how much room is left.

use std::{
    collections::BTreeMap,
    io,
    path::{Path, PathBuf},
    sync::Arc,
};

use app::model::StoragePool;

use super::names::ImageFileName;
use crate::config::PoolSpec;

/// Prefix of the node's own temporary upload files: hidden, and ignored by the watcher.
pub const STAGING_PREFIX: &str = ".quantix-upload-";

#[derive(Debug)]
pub struct Pool {
    pub id: String,
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
    #[error("pool id {0:?} is not valid: use 1 to 64 letters, digits, '.', '_' or '-'")]
    BadId(String),
    #[error("pool id {0:?} is configured twice")]
    Duplicate(String),
    #[error("cannot prepare the directory {path} of pool {id:?}: {source}")]
    Dir { id: String, path: PathBuf, source: io::Error },
}

/// Whether `s` is usable as a pool or node identifier.
pub fn is_valid_id(s: &str) -> bool {
    (1..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

impl Pool {
    fn open(spec: &PoolSpec) -> Result<Pool, PoolError> {
        if !is_valid_id(&spec.id) {
            return Err(PoolError::BadId(spec.id.clone()));
        }
        let dir_err = |path: &Path, source| PoolError::Dir { id: spec.id.clone(), path: path.to_owned(), source };
        let iso_dir = spec.path.join("iso");
        std::fs::create_dir_all(&iso_dir).map_err(|e| dir_err(&iso_dir, e))?;
        let root = std::fs::canonicalize(&spec.path).map_err(|e| dir_err(&spec.path, e))?;
        Ok(Pool {
            id: spec.id.clone(),
            name: spec.name.clone().unwrap_or_else(|| spec.id.clone()),
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

    pub fn describe(&self, image_count: u64) -> io::Result<StoragePool> {
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
    by_id: BTreeMap<String, Arc<Pool>>,
    order: Vec<String>,
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

    /// Every pool as the API shows it, with its image count from `counts`. Blocking (statvfs, and a
    /// directory listing for pools with a quota).
    pub fn describe(&self, counts: &[(String, u64)]) -> io::Result<Vec<StoragePool>> {
        self.iter()
            .map(|p| p.describe(counts.iter().find(|(id, _)| *id == p.id).map(|(_, n)| *n).unwrap_or(0)))
            .collect()
    }
}
