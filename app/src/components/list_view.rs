//! What an image list shows, kept in the page's URL so server rendering, reloads and shared links all
//! show the same view. The host page and the library read and write the same parameters; each shows the
//! controls it needs.

use std::str::FromStr;

use leptos_router::params::ParamsMap;

use crate::model::{FolderPath, ImageQuery, SortKey, SortOrder, encode_query};

/// The URL state of an image list.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct ListView {
    pub folder: FolderPath,
    /// Include the images in the folder's subfolders too.
    pub subfolders: bool,
    pub node: String,
    pub pool: String,
    pub os: String,
    pub q: String,
    pub sort: SortKey,
    pub order: SortOrder,
    /// Group identical ISOs (the library).
    pub group: bool,
}

impl ListView {
    /// Reads the URL's query. `subfolders` is on unless the URL says `sub=0` (or, where the page defaults
    /// it off inside a folder, unless it says `sub=1`).
    pub fn from_query(q: &ParamsMap, subfolders_inside_folders: bool) -> ListView {
        let get = |k: &str| q.get(k).unwrap_or_default();
        let folder = FolderPath::parse(&get("folder")).unwrap_or_default();
        let subfolders = match get("sub").as_str() {
            "0" => false,
            "1" => true,
            _ => subfolders_inside_folders || folder.is_root(),
        };
        ListView {
            folder,
            subfolders,
            node: get("node"),
            pool: get("pool"),
            os: get("os"),
            q: get("q"),
            sort: SortKey::from_str(&get("sort")).unwrap_or_default(),
            order: SortOrder::from_str(&get("order")).unwrap_or_default(),
            group: get("group") == "1",
        }
    }

    /// The page URL showing this view (`base` is the page's path); `sub` is written when it differs from
    /// the page's default, so links stay short.
    pub fn href(&self, base: &str, subfolders_inside_folders: bool) -> String {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        if !self.folder.is_root() {
            pairs.push(("folder", self.folder.to_string()));
        }
        if self.subfolders != (subfolders_inside_folders || self.folder.is_root()) {
            pairs.push(("sub", if self.subfolders { "1" } else { "0" }.into()));
        }
        for (k, v) in [("node", &self.node), ("pool", &self.pool), ("os", &self.os), ("q", &self.q)] {
            if !v.is_empty() {
                pairs.push((k, v.clone()));
            }
        }
        if self.sort != SortKey::default() {
            pairs.push(("sort", self.sort.as_str().into()));
        }
        if self.order != SortOrder::default() {
            pairs.push(("order", self.order.as_str().into()));
        }
        if self.group {
            pairs.push(("group", "1".into()));
        }
        let q = encode_query(pairs.iter().map(|(k, v)| (*k, v.as_str())));
        if q.is_empty() { base.to_owned() } else { format!("{base}?{q}") }
    }

    /// The view of another folder: the same filters, and the page's default for subfolders there.
    pub fn opening(&self, folder: FolderPath, subfolders_inside_folders: bool) -> ListView {
        let subfolders = subfolders_inside_folders || folder.is_root();
        ListView { folder, subfolders, ..self.clone() }
    }

    /// The API query of one page of this view.
    pub fn query(&self, limit: u32, cursor: Option<String>) -> ImageQuery {
        let some = |s: &String| (!s.is_empty()).then(|| s.clone());
        ImageQuery {
            folder: Some(self.folder.to_string()),
            recursive: Some(self.subfolders),
            node_id: some(&self.node),
            pool_id: some(&self.pool),
            os_family: some(&self.os),
            q: some(&self.q),
            arch: None,
            boot: None,
            sort: Some(self.sort),
            order: Some(self.order),
            limit: Some(limit),
            cursor,
            group: self.group.then_some(crate::model::ImageGrouping::Checksum),
        }
    }

    /// Whether anything narrows the folder's images (so a folder count is not the number shown).
    pub fn is_filtered(&self) -> bool {
        !self.subfolders || !self.node.is_empty() || !self.pool.is_empty() || !self.os.is_empty() || !self.q.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(url_query: &str, inside: bool) -> ListView {
        let mut map = ParamsMap::new();
        for pair in url_query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap();
            map.insert(k.to_owned(), v.to_owned());
        }
        ListView::from_query(&map, inside)
    }

    #[test]
    fn round_trips_through_the_url() {
        let v = ListView {
            folder: FolderPath::parse("/linux").unwrap(),
            subfolders: false,
            node: "hv1".into(),
            q: "deb".into(),
            sort: SortKey::Size,
            order: SortOrder::Desc,
            group: true,
            ..Default::default()
        };
        let href = v.href("/images", true);
        assert_eq!(href, "/images?folder=/linux&sub=0&node=hv1&q=deb&sort=size&order=desc&group=1");
        assert_eq!(parse(href.split_once('?').unwrap().1, true), v);
    }

    #[test]
    fn subfolders_default_per_page() {
        // The library includes subfolders everywhere; the host page at the root only.
        assert!(parse("folder=/linux", true).subfolders);
        assert!(!parse("folder=/linux", false).subfolders);
        assert!(parse("", false).subfolders);
        assert!(parse("folder=/linux&sub=1", false).subfolders);
        let v = parse("folder=/linux", false);
        assert_eq!(v.href("/images", false), "/images?folder=/linux");
    }
}
