//! The image filters of `GET /api/v1/images`, validated once for both roles.

use app::model::{FolderPath, ImageQuery, SortKey, SortOrder};

use crate::http::ApiError;

/// Largest page the vdc serves; the default is [`DEFAULT_LIMIT`].
pub const MAX_LIMIT: u32 = 1000;
pub const DEFAULT_LIMIT: u32 = 100;

#[derive(Debug, Clone, Default)]
pub struct ImageFilter {
    pub folder: Option<FolderPath>,
    pub recursive: bool,
    pub node_id: Option<String>,
    pub pool_id: Option<String>,
    pub os_family: Option<String>,
    /// Lower-cased, trimmed, never empty.
    pub q: Option<String>,
    pub sort: SortKey,
    pub order: SortOrder,
    pub limit: u32,
    pub cursor: Option<String>,
}

impl ImageFilter {
    pub fn parse(q: ImageQuery) -> Result<ImageFilter, ApiError> {
        let folder = q
            .folder
            .as_deref()
            .filter(|f| !f.is_empty())
            .map(FolderPath::parse)
            .transpose()
            .map_err(|e| ApiError::bad_request("invalid_folder", e.to_string()))?;
        let limit = q.limit.unwrap_or(DEFAULT_LIMIT);
        if limit == 0 || limit > MAX_LIMIT {
            return Err(ApiError::bad_request("invalid_query", format!("limit must be between 1 and {MAX_LIMIT}.")));
        }
        let nonempty = |s: Option<String>| s.filter(|s| !s.is_empty());
        Ok(ImageFilter {
            folder,
            recursive: q.recursive.unwrap_or(false),
            node_id: nonempty(q.node_id),
            pool_id: nonempty(q.pool_id),
            os_family: nonempty(q.os_family),
            q: q.q.map(|s| s.trim().to_lowercase()).filter(|s| !s.is_empty()),
            sort: q.sort.unwrap_or_default(),
            order: q.order.unwrap_or_default(),
            limit,
            cursor: nonempty(q.cursor),
        })
    }
}

/// How a folder filter reads in SQL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FolderCondition {
    /// `folder_path = folder`
    Exact(String),
    /// The folder and everything beneath it, by whole segments (`/win` never matches `/windows`):
    /// `folder_path >= folder AND folder_path < below AND (folder_path = folder OR folder_path >= children)`.
    /// The first two terms are one range an index scans in order; the third drops the siblings that share
    /// the prefix (`/windows-old`), which sort between `folder` and `folder/`.
    Subtree { folder: String, below: String, children: String },
}

/// The condition of a folder filter; `None` for the root, recursively (everything).
pub fn folder_condition(folder: &FolderPath, recursive: bool) -> Option<FolderCondition> {
    match (recursive, folder.is_root()) {
        (true, true) => None,
        // '0' is the character after '/'.
        (true, false) => Some(FolderCondition::Subtree {
            folder: folder.to_string(),
            below: format!("{folder}0"),
            children: format!("{folder}/"),
        }),
        (false, _) => Some(FolderCondition::Exact(folder.to_string())),
    }
}
