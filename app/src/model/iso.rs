//! The image record every part of the system exchanges.

use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{BootModes, FolderPath, NodeId, OsSource, OvaInfo, PoolId};

/// One ISO/IMG/OVA file on a node, with its catalogue metadata. `Default` is an empty record (a nil id, the
/// root folder): for building one field by field, the content fields left unknown.
///
/// The seed's struct plus what a real catalogue needs (`updated_at`, `revision`, `node_id`). One Rust type,
/// one serde shape (snake_case) for the node, the control plane and the browser.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct IsoMetadata {
    pub id: Uuid,
    /// Display name: the filename without its extension.
    pub name: String,
    /// The file's name on disk, inside its pool's `iso/` directory.
    pub filename: String,
    pub folder_path: FolderPath,
    pub size_bytes: u64,
    pub format: ImageFormat,
    pub storage_pool_id: Option<PoolId>,
    /// Absolute path on the node's disk.
    pub path: String,
    /// `sha256:<hex>`; `None` while the node is still hashing the file.
    pub checksum: Option<String>,
    pub os_family: Option<String>,
    pub os_distribution: Option<String>,
    pub os_version: Option<String>,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub updated_at: i64,
    /// Bumped by the node on every change; the vdc never applies a revision older than the one it holds.
    pub revision: u64,
    /// The node holding the file: set by the vdc, `None` in a node's own answers.
    pub node_id: Option<NodeId>,
    /// Where the OS fields came from; `None` when nothing said anything.
    #[serde(default)]
    pub os_source: Option<OsSource>,
    /// The volume label the image's descriptors carry (ISO 9660, Joliet or UDF).
    #[serde(default)]
    pub volume_id: Option<String>,
    /// `x86_64`, `aarch64`…, as the content states it.
    #[serde(default)]
    pub arch: Option<String>,
    /// The product's word for the medium: `desktop`, `server`, `live`, `netinst`…
    #[serde(default)]
    pub os_edition: Option<String>,
    /// The firmware the image boots under (its El Torito entries).
    #[serde(default)]
    pub boot: Option<BootModes>,
    /// Why the content could not be read (the image is kept; its content fields stay unknown).
    #[serde(default)]
    pub detection_error: Option<String>,
    /// For an OVA: what its OVF descriptor says. (Bundles of pages that show none of it skip reading it.)
    #[serde(default)]
    #[cfg_attr(not(feature = "ova"), serde(skip_deserializing))]
    pub ova: Option<OvaInfo>,
}

impl IsoMetadata {
    /// Ready to boot from: fully hashed.
    pub fn is_ready(&self) -> bool {
        self.checksum.is_some()
    }

    /// The first 12 characters of the checksum's digits, for tables. By characters, not bytes: a checksum
    /// is only trusted to be text.
    pub fn short_checksum(&self) -> Option<&str> {
        self.checksum.as_deref().map(|c| {
            let hex = c.strip_prefix("sha256:").unwrap_or(c);
            hex.char_indices().nth(12).map_or(hex, |(end, _)| &hex[..end])
        })
    }

    /// The holding node's id as text (empty in a node's own answers).
    pub fn node(&self) -> &str {
        self.node_id.as_ref().map_or("", NodeId::as_str)
    }

    /// The pool's id as text (empty if none is recorded).
    pub fn pool(&self) -> &str {
        self.storage_pool_id.as_ref().map_or("", PoolId::as_str)
    }
}

/// The formats a pool holds, by file extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ImageFormat {
    #[default]
    Iso,
    Img,
    Ova,
}

impl ImageFormat {
    pub const ALL: [ImageFormat; 3] = [ImageFormat::Iso, ImageFormat::Img, ImageFormat::Ova];

    pub fn extension(self) -> &'static str {
        match self {
            ImageFormat::Iso => "iso",
            ImageFormat::Img => "img",
            ImageFormat::Ova => "ova",
        }
    }

    /// The format of a stored extension (`iso`, `img`, `ova`), exactly.
    pub fn from_extension(ext: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.extension() == ext)
    }

    /// The format named by a filename's extension (case-insensitive), if it is one we hold.
    pub fn from_filename(filename: &str) -> Option<Self> {
        let (_, ext) = filename.rsplit_once('.')?;
        Self::ALL.into_iter().find(|f| ext.eq_ignore_ascii_case(f.extension()))
    }
}

impl fmt::Display for ImageFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.extension())
    }
}

/// Operating-system families the catalogue filters by. Stored as plain strings so an older vdc keeps
/// working when a newer node learns a new family.
pub mod os_family {
    pub const WINDOWS: &str = "windows";
    pub const LINUX: &str = "linux";
    pub const BSD: &str = "bsd";
    pub const OTHER: &str = "other";
    pub const ALL: [&str; 4] = [WINDOWS, LINUX, BSD, OTHER];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_checksum_is_cut_by_characters_never_inside_one() {
        let mut image: IsoMetadata = serde_json::from_value(serde_json::json!({
            "id": uuid::Uuid::nil(), "name": "a", "filename": "a.iso", "folder_path": "/", "size_bytes": 1,
            "format": "iso", "storage_pool_id": null, "path": "/p/a.iso", "checksum": null, "os_family": null,
            "os_distribution": null, "os_version": null, "created_at": 0, "updated_at": 0, "revision": 1,
            "node_id": null
        }))
        .unwrap();
        image.checksum = Some(format!("sha256:{}", "ab".repeat(32)));
        assert_eq!(image.short_checksum(), Some("abababababab"));
        // Multi-byte characters (a peer's garbage) are counted as characters; slicing by bytes panicked.
        image.checksum = Some("sha256:é".into());
        assert_eq!(image.short_checksum(), Some("é"));
        image.checksum = Some(format!("sha256:{}", "日本".repeat(10)));
        assert_eq!(image.short_checksum(), Some("日本日本日本日本日本日本"));
    }
}
