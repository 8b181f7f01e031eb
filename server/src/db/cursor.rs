//! Opaque page cursors: the sort-key values of the last row of a page. Both roles page the same way: the
//! next page is the rows whose sort values come after the cursor's, in the list's order.

use app::model::SortKey;
use serde::{Deserialize, Serialize};

/// Where the next page starts: after the row with these sort values. `node` is the vdc's tie-breaker
/// (a node's own lists leave it empty).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Cursor {
    Folder { folder: String, name: String, node: String, id: String },
    Name { name: String, node: String, id: String },
    Size { size: i64, node: String, id: String },
    Created { created: i64, node: String, id: String },
}

/// One sort value of a cursor, for binding into a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SortValue {
    Text(String),
    Int(i64),
}

impl Cursor {
    /// The cursor of a row, from its sort values.
    pub fn of(sort: SortKey, folder: &str, name_key: &str, size: i64, created: i64, node: &str, id: &str) -> Cursor {
        let (node, id) = (node.to_owned(), id.to_owned());
        match sort {
            SortKey::Folder => Cursor::Folder { folder: folder.to_owned(), name: name_key.to_owned(), node, id },
            SortKey::Name => Cursor::Name { name: name_key.to_owned(), node, id },
            SortKey::Size => Cursor::Size { size, node, id },
            SortKey::Created => Cursor::Created { created, node, id },
        }
    }

    pub fn sort(&self) -> SortKey {
        match self {
            Cursor::Folder { .. } => SortKey::Folder,
            Cursor::Name { .. } => SortKey::Name,
            Cursor::Size { .. } => SortKey::Size,
            Cursor::Created { .. } => SortKey::Created,
        }
    }

    /// The sort values in the order of [`sort_columns`], without the node when `with_node` is false.
    pub fn values(&self, with_node: bool) -> Vec<SortValue> {
        let text = |s: &String| SortValue::Text(s.clone());
        let (mut values, node, id) = match self {
            Cursor::Folder { folder, name, node, id } => (vec![text(folder), text(name)], node, id),
            Cursor::Name { name, node, id } => (vec![text(name)], node, id),
            Cursor::Size { size, node, id } => (vec![SortValue::Int(*size)], node, id),
            Cursor::Created { created, node, id } => (vec![SortValue::Int(*created)], node, id),
        };
        if with_node {
            values.push(text(node));
        }
        values.push(text(id));
        values
    }

    pub fn encode(&self) -> String {
        hex::encode(serde_json::to_vec(self).expect("cursor serialises"))
    }

    pub fn decode(s: &str) -> Option<Cursor> {
        serde_json::from_slice(&hex::decode(s).ok()?).ok()
    }
}

/// The columns a list is ordered by (a unique order, so keyset paging never skips or repeats a row); the
/// vdc breaks ties by node too.
pub fn sort_columns(sort: SortKey, with_node: bool) -> Vec<&'static str> {
    let mut columns = match sort {
        SortKey::Folder => vec!["folder_path", "name_key"],
        SortKey::Name => vec!["name_key"],
        SortKey::Size => vec!["size_bytes"],
        SortKey::Created => vec!["created_at"],
    };
    if with_node {
        columns.push("node_id");
    }
    columns.push("id");
    columns
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_line_up_with_their_columns() {
        for sort in [SortKey::Folder, SortKey::Name, SortKey::Size, SortKey::Created] {
            let c = Cursor::of(sort, "/linux", "debian", 42, 1_700_000_000, "hv1", "some-id");
            assert_eq!(Cursor::decode(&c.encode()), Some(c.clone()));
            assert_eq!(c.sort(), sort);
            for with_node in [false, true] {
                assert_eq!(c.values(with_node).len(), sort_columns(sort, with_node).len());
            }
        }
        assert_eq!(Cursor::decode("zz"), None);
        assert_eq!(Cursor::decode(&hex::encode("{}")), None);
    }
}
