//! Opaque page cursors: the sort-key values of the last row of a page.

use serde::{Deserialize, Serialize};

use super::CatalogueError;

/// Where the next page starts: after the row with these sort values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Cursor {
    Folder { folder: String, name: String, node: String, id: String },
    Name { name: String, node: String, id: String },
    Size { size: i64, node: String, id: String },
    Created { created: i64, node: String, id: String },
}

impl Cursor {
    pub fn encode(&self) -> String {
        hex::encode(serde_json::to_vec(self).expect("cursor serialises"))
    }

    pub fn decode(s: &str) -> Result<Cursor, CatalogueError> {
        let bytes = hex::decode(s).map_err(|_| CatalogueError::InvalidCursor)?;
        serde_json::from_slice(&bytes).map_err(|_| CatalogueError::InvalidCursor)
    }
}
