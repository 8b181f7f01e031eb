//! What an image file carries about itself: its id, folder, revision and checksum, in an extended
//! attribute (`user.quantix.image`). The database is the node's index of its files; the tags let a node
//! whose database was lost, or restored from an old backup, rebuild each image's identity from the file
//! before it reports anything, so VM definitions keep booting from the same ids, folders survive, and a
//! multi-GB file is not hashed again.
//!
//! Tags follow every change the store commits (best effort: a failed write is logged, the database stays
//! the truth while it exists). Where a filesystem has no extended attributes (tmpfs before Linux 6.6,
//! some network filesystems) nothing is kept: after a lost database its images come back under new ids,
//! in their OS's default folder, and are hashed again. The node says so once per pool.

use std::{
    collections::HashSet,
    io,
    path::{Path, PathBuf},
    sync::Mutex,
};

use app::model::{FolderPath, IsoMetadata};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The attribute's name; `user.` is the namespace any file owner may write.
pub const ATTR: &str = "user.quantix.image";
/// Longest tag read back (a folder is at most 255 bytes; the rest is small).
const MAX_TAG: usize = 2048;

/// An image as its file remembers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileTag {
    pub id: Uuid,
    pub folder: FolderPath,
    /// The revision of the change that wrote this tag: a tag newer than the database's row is the truth.
    pub revision: u64,
    /// `sha256:…`, valid while the file's size and mtime are still `size` and `mtime_ns`.
    pub checksum: Option<String>,
    pub size: u64,
    pub mtime_ns: Option<i64>,
}

impl FileTag {
    /// The tag of `meta`, whose file looked like `mtime_ns` when the node last examined it.
    pub fn of(meta: &IsoMetadata, mtime_ns: Option<i64>) -> FileTag {
        FileTag {
            id: meta.id,
            folder: meta.folder_path.clone(),
            revision: meta.revision,
            checksum: meta.checksum.clone(),
            size: meta.size_bytes,
            mtime_ns,
        }
    }

    /// The checksum, if the file still looks as it did when it was tagged.
    pub fn checksum_if_unchanged(&self, size: u64, mtime_ns: Option<i64>) -> Option<&str> {
        let unchanged = self.size == size && mtime_ns.is_some() && self.mtime_ns == mtime_ns;
        if unchanged { self.checksum.as_deref() } else { None }
    }
}

/// Reads the tag of the file at `path` (never through a symbolic link); `None` when it has none, or
/// one this node cannot read.
pub fn read(path: &Path) -> Option<FileTag> {
    let mut buf = [0u8; MAX_TAG];
    let n = rustix::fs::lgetxattr(path, ATTR, &mut buf[..]).ok()?;
    serde_json::from_slice(&buf[..n]).ok()
}

/// Writes `tag` on the file at `path` (never through a symbolic link).
pub fn write(path: &Path, tag: &FileTag) -> io::Result<()> {
    let value = serde_json::to_vec(tag).expect("a tag serialises");
    rustix::fs::lsetxattr(path, ATTR, &value, rustix::fs::XattrFlags::empty()).map_err(io::Error::from)
}

/// Directories already reported as unable to keep tags, so each is said once.
static UNTAGGABLE: Mutex<Option<HashSet<PathBuf>>> = Mutex::new(None);

/// Writes `tag`, logging (once per directory) a filesystem that cannot keep it.
pub fn write_or_warn(path: &Path, tag: &FileTag) {
    let Err(e) = write(path, tag) else { return };
    let dir = path.parent().unwrap_or(path).to_owned();
    let unsupported = e.raw_os_error() == Some(libc::ENOTSUP);
    let first =
        UNTAGGABLE.lock().map(|mut seen| seen.get_or_insert_with(HashSet::new).insert(dir.clone())).unwrap_or(false);
    if !first {
        return;
    }
    if unsupported {
        tracing::warn!(
            dir = %dir.display(),
            "this filesystem has no extended attributes: should the node's database be lost, images here come back \
             under new ids, in their default folder, and are hashed again"
        );
    } else if e.kind() != io::ErrorKind::NotFound {
        tracing::warn!(path = %path.display(), error = %e, "cannot tag an image file with its identity");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tag_survives_a_round_trip_and_is_not_read_through_a_link() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.iso");
        std::fs::write(&file, b"x").unwrap();
        let tag = FileTag {
            id: Uuid::new_v4(),
            folder: FolderPath::parse("/linux/debian").unwrap(),
            revision: 42,
            checksum: Some(format!("sha256:{}", "0".repeat(64))),
            size: 1,
            mtime_ns: Some(7),
        };
        if let Err(e) = write(&file, &tag) {
            skip_without_xattrs(e);
            return;
        }
        assert_eq!(read(&file), Some(tag.clone()));
        let link = dir.path().join("b.iso");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        assert_eq!(read(&link), None, "a link's target is never read");
        assert_eq!(tag.checksum_if_unchanged(1, Some(7)), tag.checksum.as_deref());
        assert_eq!(tag.checksum_if_unchanged(2, Some(7)), None);
        assert_eq!(tag.checksum_if_unchanged(1, Some(8)), None);
    }

    fn skip_without_xattrs(e: io::Error) {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "CI=true, yet the temp dir has no xattrs: {e}");
        eprintln!("skipped: no extended attributes here ({e})");
    }
}
