//! The image filters of `GET /api/v1/images`, validated once for both roles: every field either honoured
//! or refused, never silently ignored.

use app::model::{
    Firmware, FolderPath, FolderPathError, IdError, ImageGrouping, ImageQuery, NodeId, PoolId, SortKey, SortOrder,
};

use super::Cursor;

/// Largest page either role serves; the default is [`DEFAULT_LIMIT`].
pub const MAX_LIMIT: u32 = 1000;
pub const DEFAULT_LIMIT: u32 = 100;

#[derive(Debug, Clone, Default)]
pub struct ImageFilter {
    pub folder: Option<FolderPath>,
    pub recursive: bool,
    pub node_id: Option<NodeId>,
    pub pool_id: Option<PoolId>,
    pub os_family: Option<String>,
    pub arch: Option<String>,
    /// Images that boot under this firmware.
    pub boot: Option<Firmware>,
    /// Lower-cased, trimmed, never empty.
    pub q: Option<String>,
    pub sort: SortKey,
    pub order: SortOrder,
    pub limit: u32,
    /// Decoded, and made for this sort order.
    pub cursor: Option<Cursor>,
    /// Groups instead of images (the vdc's; a node refuses it).
    pub group: Option<ImageGrouping>,
}

/// Why a list query was refused; each is a 400 with this text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    #[error("{0}")]
    Folder(#[from] FolderPathError),
    #[error("{0}")]
    Id(#[from] IdError),
    #[error("limit must be between 1 and {MAX_LIMIT}.")]
    Limit,
    #[error("The cursor is not valid for this list; start again from the first page.")]
    Cursor,
    #[error("The {0} parameter holds a control character; remove it and try again.")]
    Control(&'static str),
    #[error("boot must be bios or uefi.")]
    Boot,
    #[error(
        "group=checksum groups identical images across hosts: the vdc's catalogue answers it, a host lists only its own."
    )]
    Grouping,
}

impl ImageFilter {
    pub fn parse(q: ImageQuery) -> Result<ImageFilter, FilterError> {
        // A NUL or another control character matches nothing a person typed, and some databases refuse it.
        let texts =
            [("q", &q.q), ("os_family", &q.os_family), ("arch", &q.arch), ("folder", &q.folder), ("cursor", &q.cursor)];
        for (name, value) in texts {
            if value.as_deref().is_some_and(|v| v.chars().any(char::is_control)) {
                return Err(FilterError::Control(name));
            }
        }
        let nonempty = |s: Option<String>| s.filter(|s| !s.is_empty());
        let folder = nonempty(q.folder).map(|f| FolderPath::parse(&f)).transpose()?;
        let limit = q.limit.unwrap_or(DEFAULT_LIMIT);
        if limit == 0 || limit > MAX_LIMIT {
            return Err(FilterError::Limit);
        }
        let sort = q.sort.unwrap_or_default();
        let cursor = match nonempty(q.cursor) {
            None => None,
            Some(raw) => Some(Cursor::decode(&raw).filter(|c| c.sort() == sort).ok_or(FilterError::Cursor)?),
        };
        Ok(ImageFilter {
            folder,
            recursive: q.recursive.unwrap_or(false),
            node_id: nonempty(q.node_id).map(|n| NodeId::parse(&n)).transpose()?,
            pool_id: nonempty(q.pool_id).map(|p| PoolId::parse(&p)).transpose()?,
            os_family: nonempty(q.os_family),
            arch: nonempty(q.arch),
            boot: nonempty(q.boot).map(|b| Firmware::parse(&b).ok_or(FilterError::Boot)).transpose()?,
            q: q.q.map(|s| s.trim().to_lowercase()).filter(|s| !s.is_empty()),
            sort,
            order: q.order.unwrap_or_default(),
            limit,
            cursor,
            group: q.group,
        })
    }
}

impl ImageFilter {
    /// The filter of a list that cannot group (a node's).
    pub fn ungrouped(self) -> Result<ImageFilter, FilterError> {
        match self.group {
            Some(_) => Err(FilterError::Grouping),
            None => Ok(self),
        }
    }

    /// The column that says an image boots under the asked firmware.
    pub fn boot_column(&self) -> Option<&'static str> {
        self.boot.map(|f| match f {
            Firmware::Bios => "boot_bios",
            Firmware::Uefi => "boot_uefi",
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

/// `%term%` for `LIKE … ESCAPE '\'`: the term's own `%`, `_` and `\` match literally.
pub fn like_pattern(term: &str) -> String {
    let escaped = term.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("%{escaped}%")
}

/// Lower case as both roles store it for sorting and search (Unicode-aware, in Rust: SQLite's own
/// `lower()` knows ASCII only).
pub fn search_key(text: &str) -> String {
    text.to_lowercase()
}

/// The text `q` searches in an image: its display name and its filename, lower-cased.
pub fn search_text(name: &str, filename: &str) -> String {
    format!("{}\n{}", search_key(name), search_key(filename))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_is_honoured_or_refused() {
        let q = |f: &dyn Fn(&mut ImageQuery)| {
            let mut q = ImageQuery::default();
            f(&mut q);
            ImageFilter::parse(q)
        };
        assert_eq!(q(&|q| q.limit = Some(0)).unwrap_err(), FilterError::Limit);
        assert_eq!(q(&|q| q.limit = Some(MAX_LIMIT + 1)).unwrap_err(), FilterError::Limit);
        assert!(matches!(q(&|q| q.node_id = Some("a b".into())).unwrap_err(), FilterError::Id(_)));
        assert!(matches!(q(&|q| q.pool_id = Some("../x".into())).unwrap_err(), FilterError::Id(_)));
        assert!(matches!(q(&|q| q.folder = Some("/a/../b".into())).unwrap_err(), FilterError::Folder(_)));
        assert_eq!(q(&|q| q.cursor = Some("nonsense".into())).unwrap_err(), FilterError::Cursor);
        // A cursor made for another order is refused, not misread.
        let by_name = Cursor::of(SortKey::Name, "/", "a", 0, 0, "", "x").encode();
        assert_eq!(
            q(&|q| {
                q.sort = Some(SortKey::Size);
                q.cursor = Some(by_name.clone())
            })
            .unwrap_err(),
            FilterError::Cursor
        );
        let f = q(&|q| q.q = Some("  Ubuntu ".into())).unwrap();
        assert_eq!(f.q.as_deref(), Some("ubuntu"));
        assert_eq!(f.limit, DEFAULT_LIMIT);
    }

    #[test]
    fn like_patterns_match_the_term_literally() {
        assert_eq!(like_pattern("50%_off\\"), "%50\\%\\_off\\\\%");
    }
}
