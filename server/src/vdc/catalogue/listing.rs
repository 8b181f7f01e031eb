//! Filtered, sorted, keyset-paged listing. Each query is planned so it reads a bounded number of rows,
//! whatever the planner knows: a search with few hits is answered hits-first, a large subtree in a
//! non-folder order is read along that order's index.

use app::model::{ImageList, SortKey, SortOrder};

use super::{
    Backend, Catalogue, CatalogueError,
    images::{COLUMNS, Row},
};
use crate::db::{Cursor, FolderCondition, ImageFilter, SortValue, Sql, folder_condition, like_pattern, sort_columns};

/// A subtree with more live images than this, listed in a non-folder order, is read along that order's
/// index (filtering by folder); a smaller one is read by folder and sorted.
const SORT_INDEX_ABOVE: i64 = 2000;
/// A search with at most this many hits is answered by sorting the hits; with more, by reading along
/// the sort order's index and testing each row (hits are then dense). Measured break-even points.
const SQLITE_HITS_FIRST_UP_TO: i64 = 5000;
const POSTGRES_HITS_FIRST_UP_TO: i64 = 20000;

impl Catalogue {
    pub async fn list(&self, f: &ImageFilter) -> Result<ImageList, CatalogueError> {
        let hits_first = match &f.q {
            Some(q) => self.search_hits(q).await?.is_some_and(|hits| {
                hits <= match self.backend {
                    Backend::Sqlite => SQLITE_HITS_FIRST_UP_TO,
                    Backend::Postgres => POSTGRES_HITS_FIRST_UP_TO,
                }
            }),
            None => false,
        };
        let condition = f.folder.as_ref().and_then(|folder| folder_condition(folder, f.recursive));
        // SQLite plans without value statistics, so it is told; PostgreSQL's planner knows the folder
        // distribution from its statistics (kept fresh by `maintain`) and decides better itself.
        let along_sort_index = match &condition {
            Some(FolderCondition::Subtree { folder, below, children })
                if self.backend == Backend::Sqlite && f.sort != SortKey::Folder && !hits_first =>
            {
                self.subtree_size(folder, below, children).await? > SORT_INDEX_ABOVE
            }
            _ => false,
        };
        let mut sql = Sql::new("");
        if hits_first {
            // MATERIALIZED: collect the hits first, then sort only them (both backends honour it).
            sql.push(&format!("WITH hits AS MATERIALIZED (SELECT {COLUMNS} FROM images WHERE deleted = FALSE"));
            self.push_filters(&mut sql, f, condition, false);
            sql.push(&format!(") SELECT {COLUMNS} FROM hits WHERE TRUE"));
        } else {
            sql.push(&format!("SELECT {COLUMNS} FROM images WHERE deleted = FALSE"));
            self.push_filters(&mut sql, f, condition, along_sort_index);
        }
        if let Some(cursor) = &f.cursor {
            push_cursor(&mut sql, f, cursor);
        }
        let dir = match f.order {
            SortOrder::Asc => "ASC",
            SortOrder::Desc => "DESC",
        };
        let order: Vec<String> = sort_columns(f.sort, true).iter().map(|k| format!("{k} {dir}")).collect();
        sql.push(&format!(" ORDER BY {} LIMIT ", order.join(", "))).bind(f.limit as i64 + 1);
        let mut rows: Vec<Row> = sql.fetch_all(&self.db).await?;
        let next_cursor = if rows.len() > f.limit as usize {
            rows.truncate(f.limit as usize);
            rows.last().map(|r| r.cursor(f.sort).encode())
        } else {
            None
        };
        let images = rows.into_iter().map(Row::into_meta).collect::<Result<_, _>>()?;
        Ok(ImageList { images, next_cursor })
    }

    pub(super) fn push_filters(
        &self,
        sql: &mut Sql,
        f: &ImageFilter,
        condition: Option<FolderCondition>,
        along_sort_index: bool,
    ) {
        match condition {
            None => {}
            Some(FolderCondition::Exact(folder)) => {
                sql.push(" AND folder_path = ").bind(folder);
            }
            Some(FolderCondition::Subtree { folder, below, children }) => {
                // `|| ''` hides a term from index selection: the sibling filter always (it must never split
                // the range into two scans), the range itself when the sort order's index should lead.
                let range = if along_sort_index { "(folder_path || '')" } else { "folder_path" };
                sql.push(&format!(" AND {range} >= ")).bind(folder.clone());
                sql.push(&format!(" AND {range} < ")).bind(below);
                sql.push(" AND ((folder_path || '') = ")
                    .bind(folder)
                    .push(" OR (folder_path || '') >= ")
                    .bind(children);
                sql.push(")");
            }
        }
        let node = f.node_id.as_ref().map(|n| n.to_string());
        let pool = f.pool_id.as_ref().map(|p| p.to_string());
        let equal = [
            ("node_id", node),
            ("storage_pool_id", pool),
            ("os_family", f.os_family.clone()),
            ("arch", f.arch.clone()),
        ];
        for (column, value) in equal {
            if let Some(v) = value {
                sql.push(&format!(" AND {column} = ")).bind(v);
            }
        }
        if let Some(column) = f.boot_column() {
            sql.push(&format!(" AND {column} = 1"));
        }
        if let Some(q) = &f.q {
            self.push_search(sql, q);
        }
    }

    /// `q`: SQLite's trigram index answers MATCH (three characters or more); PostgreSQL's answers the LIKE
    /// itself. The LIKE decides in every case.
    fn push_search(&self, sql: &mut Sql, q: &str) {
        if self.backend == Backend::Sqlite && q.chars().count() >= 3 {
            let phrase = format!("\"{}\"", q.replace('"', "\"\""));
            sql.push(" AND pk IN (SELECT rowid FROM images_search WHERE images_search MATCH ").bind(phrase).push(")");
        }
        sql.push(" AND search_text LIKE ").bind(like_pattern(q)).push(" ESCAPE '\\'");
    }

    /// About how many images match `q`, from the trigram index: SQLite counts its full-text hits (no
    /// further than just past the threshold), PostgreSQL's planner estimates them from its statistics.
    /// `None` for a term too short for trigrams.
    async fn search_hits(&self, q: &str) -> Result<Option<i64>, CatalogueError> {
        if q.chars().count() < 3 {
            return Ok(None);
        }
        match self.backend {
            Backend::Sqlite => {
                let mut sql = Sql::new(
                    "SELECT CAST(COUNT(*) AS BIGINT) FROM (SELECT 1 FROM images_search WHERE images_search MATCH ",
                );
                sql.bind(format!("\"{}\"", q.replace('"', "\"\""))).push(" LIMIT ").bind(SQLITE_HITS_FIRST_UP_TO + 1);
                sql.push(") hits");
                let rows: Vec<(i64,)> = sql.fetch_all(&self.db).await?;
                Ok(rows.first().map(|(n,)| *n))
            }
            Backend::Postgres => {
                let mut sql = Sql::new("EXPLAIN SELECT 1 FROM images WHERE deleted = FALSE AND search_text LIKE ");
                sql.bind(like_pattern(q)).push(" ESCAPE '\\'");
                let plan: Vec<(String,)> = sql.fetch_all(&self.db).await?;
                // The top line reads "… (cost=… rows=N width=…)".
                Ok(plan.first().and_then(|(line,)| {
                    let rows = line.split("rows=").nth(1)?;
                    rows.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
                }))
            }
        }
    }

    /// Live images in a subtree, from the per-folder counters.
    async fn subtree_size(&self, folder: &str, below: &str, children: &str) -> Result<i64, CatalogueError> {
        let mut sql =
            Sql::new("SELECT CAST(COALESCE(SUM(images), 0) AS BIGINT) FROM folder_counts WHERE folder_path = ");
        sql.bind(folder.to_owned()).push(" OR (folder_path >= ").bind(children.to_owned());
        sql.push(" AND folder_path < ").bind(below.to_owned()).push(")");
        let rows: Vec<(i64,)> = sql.fetch_all(&self.db).await?;
        Ok(rows.first().map(|(n,)| *n).unwrap_or(0))
    }
}

/// `AND (sort columns) > (cursor values)` (or `<` descending): the page after the cursor's row.
pub(super) fn push_cursor(sql: &mut Sql, f: &ImageFilter, cursor: &Cursor) {
    let cmp = match f.order {
        SortOrder::Asc => " > ",
        SortOrder::Desc => " < ",
    };
    sql.push(&format!(" AND ({})", sort_columns(f.sort, true).join(", "))).push(cmp).push("(");
    for (i, value) in cursor.values(true).into_iter().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        match value {
            SortValue::Text(t) => sql.bind(t),
            SortValue::Int(n) => sql.bind(n),
        };
    }
    sql.push(")");
}
