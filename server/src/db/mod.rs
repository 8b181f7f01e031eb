//! What the two roles' databases have in common (the node's SQLite store and the vdc's catalogue never
//! import each other): the validated list filter, keyset cursors, and how a constraint violation becomes
//! a domain error.

mod content;
mod cursor;
mod filter;
mod sql;

pub use content::{CONTENT_COLUMNS, ContentColumns, ova_json};
pub use cursor::{Cursor, SortValue, sort_columns};
pub use filter::{
    DEFAULT_LIMIT, FilterError, FolderCondition, ImageFilter, MAX_LIMIT, folder_condition, like_pattern, search_key,
    search_text,
};
pub use sql::Sql;

/// Maps a unique-constraint violation to the caller's domain error (a name taken, a VM name in use), and
/// any other database error through `From`.
pub trait OnUniqueViolation<T> {
    fn on_unique_violation<E: From<sqlx::Error>>(self, taken: impl FnOnce() -> E) -> Result<T, E>;
}

impl<T> OnUniqueViolation<T> for Result<T, sqlx::Error> {
    fn on_unique_violation<E: From<sqlx::Error>>(self, taken: impl FnOnce() -> E) -> Result<T, E> {
        match self {
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Err(taken()),
            other => other.map_err(E::from),
        }
    }
}
