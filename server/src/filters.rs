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

/// How a folder filter reads in SQL: `folder_path = exact`, or for a recursive filter also
/// `low <= folder_path < high` — every path that starts with `<folder>/`, by whole segments, in a form an
/// index serves (`/win` never matches `/windows`). `None`: no condition (the root, recursively).
pub fn folder_condition(folder: &FolderPath, recursive: bool) -> Option<(String, Option<(String, String)>)> {
    match (recursive, folder.is_root()) {
        (true, true) => None,
        // '0' is the character after '/'.
        (true, false) => Some((folder.to_string(), Some((format!("{folder}/"), format!("{folder}0"))))),
        (false, _) => Some((folder.to_string(), None)),
    }
}
