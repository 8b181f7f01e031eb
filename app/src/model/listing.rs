//! Listings and queries of images and folders, shared by the node and the vdc.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::{FolderPath, IsoMetadata};

/// `GET /api/v1/images` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ImageList {
    pub images: Vec<IsoMetadata>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// Filters and paging of `GET /api/v1/images`. Every field is optional; folder-type fields are raw
/// strings so the server can answer a bad one with a precise message.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct ImageQuery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub folder: Option<String>,
    /// With `folder`: include everything beneath it too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recursive: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pool_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_family: Option<String>,
    /// `x86_64`, `aarch64`…: images whose content states this architecture.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arch: Option<String>,
    /// `bios` or `uefi`: images that boot under this firmware.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub boot: Option<String>,
    /// Case-insensitive substring of the name or filename.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", param(inline))]
    pub sort: Option<SortKey>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", param(inline))]
    pub order: Option<SortOrder>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    /// vdc only: `checksum` answers groups of identical images (the same SHA-256) over the whole filtered
    /// result, as an `ImageGroupList`, instead of images.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", param(inline))]
    pub group: Option<ImageGrouping>,
}

/// How `GET /api/v1/images` groups its result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ImageGrouping {
    /// One group per SHA-256; an image not hashed yet stands alone.
    Checksum,
}

/// `GET /api/v1/images?group=checksum` answer (vdc): one page of groups, in the order of each group's
/// first image under the asked sort.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ImageGroupList {
    pub groups: Vec<ImageGroup>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// Identical images on one or more hosts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ImageGroup {
    /// The shared SHA-256 (`sha256:<hex>`); absent for an image not hashed yet, alone in its group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum: Option<String>,
    /// How many images of the filtered result the group holds (one per location).
    pub copies: u64,
    /// The group's first image under the asked sort, standing for all.
    pub image: IsoMetadata,
    /// Every image of the group within the filter, the first one included.
    pub locations: Vec<ImageLocation>,
}

/// Where one copy of a group is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ImageLocation {
    pub node_id: super::NodeId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_pool_id: Option<super::PoolId>,
    pub id: uuid::Uuid,
    pub folder_path: FolderPath,
}

impl ImageQuery {
    /// The query as `key=value&…` (without `?`), for building request URLs.
    pub fn to_query_string(&self) -> String {
        let pairs: [(&str, Option<String>); 13] = [
            ("folder", self.folder.clone()),
            ("recursive", self.recursive.map(|r| r.to_string())),
            ("node_id", self.node_id.clone()),
            ("pool_id", self.pool_id.clone()),
            ("os_family", self.os_family.clone()),
            ("arch", self.arch.clone()),
            ("boot", self.boot.clone()),
            ("q", self.q.clone()),
            ("sort", self.sort.map(|s| s.as_str().to_owned())),
            ("order", self.order.map(|o| o.as_str().to_owned())),
            ("limit", self.limit.map(|l| l.to_string())),
            ("cursor", self.cursor.clone()),
            ("group", self.group.map(|_| "checksum".to_owned())),
        ];
        super::encode_query(pairs.iter().filter_map(|(k, v)| v.as_deref().map(|v| (*k, v))))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SortKey {
    /// Folder, then name: the default.
    #[default]
    Folder,
    Name,
    Size,
    Created,
}

impl SortKey {
    pub const ALL: [SortKey; 4] = [SortKey::Folder, SortKey::Name, SortKey::Size, SortKey::Created];

    pub fn as_str(self) -> &'static str {
        match self {
            SortKey::Folder => "folder",
            SortKey::Name => "name",
            SortKey::Size => "size",
            SortKey::Created => "created",
        }
    }
}

/// The key as the API and page URLs write it (`folder`, `name`, `size`, `created`).
impl std::str::FromStr for SortKey {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        Self::ALL.into_iter().find(|k| k.as_str() == s).ok_or(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SortOrder {
    #[default]
    Asc,
    Desc,
}

impl SortOrder {
    pub fn as_str(self) -> &'static str {
        match self {
            SortOrder::Asc => "asc",
            SortOrder::Desc => "desc",
        }
    }
}

impl std::str::FromStr for SortOrder {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        [SortOrder::Asc, SortOrder::Desc].into_iter().find(|o| o.as_str() == s).ok_or(())
    }
}

/// Image counts of one folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct FolderCount {
    /// Images directly in the folder.
    pub direct: u64,
    /// Images in the folder and everything beneath it.
    pub total: u64,
}

/// `GET /api/v1/images/folders` answer: every folder (the seed's `folders` list, sorted, `/` first) and
/// the image counts of each.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct FolderListing {
    pub folders: Vec<FolderPath>,
    pub counts: BTreeMap<FolderPath, FolderCount>,
}

impl FolderListing {
    /// Builds the listing from folders created explicitly and per-folder image counts: the root and the
    /// default folders always appear, and so does every ancestor of every folder.
    pub fn build(
        created: impl IntoIterator<Item = FolderPath>,
        direct_counts: impl IntoIterator<Item = (FolderPath, u64)>,
    ) -> Self {
        let mut counts: BTreeMap<FolderPath, FolderCount> = BTreeMap::new();
        let mut all: BTreeSet<FolderPath> = FolderPath::defaults().collect();
        all.insert(FolderPath::root());
        all.extend(created);
        for (folder, n) in direct_counts {
            counts.entry(folder.clone()).or_default().direct += n;
            for f in folder.ancestors().into_iter().chain([folder.clone()]) {
                counts.entry(f).or_default().total += n;
            }
            all.insert(folder);
        }
        let with_ancestors: BTreeSet<FolderPath> =
            all.iter().flat_map(|f| f.ancestors().into_iter().chain([f.clone()])).collect();
        for f in &with_ancestors {
            counts.entry(f.clone()).or_default();
        }
        FolderListing { folders: with_ancestors.into_iter().collect(), counts }
    }

    pub fn count(&self, folder: &FolderPath) -> FolderCount {
        self.counts.get(folder).copied().unwrap_or_default()
    }

    /// The direct children of `folder`, sorted by name.
    pub fn children<'a>(&'a self, folder: &'a FolderPath) -> impl Iterator<Item = &'a FolderPath> + 'a {
        self.folders.iter().filter(move |f| f.parent().as_ref() == Some(folder))
    }
}

/// `POST /api/v1/images/folders` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CreateFolderRequest {
    pub path: String,
}

/// `POST /api/v1/images/folders/rename` body: moves a folder and everything beneath it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RenameFolderRequest {
    pub from: String,
    pub to: String,
}

/// `POST /api/v1/images/{id}/move` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MoveImageRequest {
    pub folder_path: String,
}

/// `PATCH /api/v1/images/{id}` body: an operator's correction. OS fields given become the image's, with
/// `os_source: user` (no later detection overwrites them); `filename` renames the file on disk, keeping
/// the image's id and never replacing another file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateImageRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_family: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_distribution: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
}

impl UpdateImageRequest {
    /// Whether any OS field is given.
    pub fn sets_os(&self) -> bool {
        self.os_family.is_some() || self.os_distribution.is_some() || self.os_version.is_some()
    }

    /// Checks the OS fields (the filename is the node's to check): a family is a plain lower-case name,
    /// the others short text without control, bidirectional or zero-width characters. The message is a
    /// sentence to show.
    pub fn check_os(&self) -> Result<(), String> {
        if let Some(f) = &self.os_family {
            let plain = f.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            if !plain || !(1..=32).contains(&f.len()) {
                return Err(format!(
                    "\"{}\" is not an OS family: use 1 to 32 of a-z, 0-9 and '-' (windows, linux, bsd, other).",
                    super::text::shown(f)
                ));
            }
        }
        for (what, v) in [("OS distribution", &self.os_distribution), ("OS version", &self.os_version)] {
            if let Some(v) = v {
                if v.is_empty() || v.len() > 64 {
                    return Err(format!("The {what} must be 1 to 64 bytes long."));
                }
                if let Some((_, why)) = super::text::find_hidden(v) {
                    return Err(format!("The {what} holds {why}."));
                }
            }
        }
        Ok(())
    }
}
