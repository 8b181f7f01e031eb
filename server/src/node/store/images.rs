//! Image rows: insert, read, list, move, delete, and the updates the watcher makes.

use app::model::{FolderPath, ImageEventType, ImageFormat, IsoMetadata, SortKey, SortOrder};

use crate::filters::{FolderCondition, ImageFilter, folder_condition};
use sqlx::{QueryBuilder, Sqlite};
use uuid::Uuid;

use super::{NodeStore, StoreError, Tx, next_revision, record_change};
use crate::node::{names::ImageFileName, os_guess::OsGuess};

/// What the ingest pipeline or the watcher knows about a new file.
#[derive(Debug, Clone)]
pub struct NewImage {
    pub id: Uuid,
    pub pool_id: String,
    pub filename: ImageFileName,
    pub folder: FolderPath,
    pub size_bytes: u64,
    pub checksum: Option<String>,
    pub os: OsGuess,
    pub file_mtime_ns: Option<i64>,
}

#[derive(sqlx::FromRow)]
pub(crate) struct ImageRow {
    id: String,
    pool_id: String,
    filename: String,
    name: String,
    pub(super) folder_path: String,
    size_bytes: i64,
    format: String,
    checksum: Option<String>,
    os_family: Option<String>,
    os_distribution: Option<String>,
    os_version: Option<String>,
    created_at: i64,
    updated_at: i64,
    revision: i64,
}

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Db(sqlx::Error::Decode(format!("stored {what} {value:?} is not valid").into()))
}

/// Appends the folder condition of a list filter.
fn push_folder_filter(qb: &mut QueryBuilder<'_, Sqlite>, folder: &FolderPath, recursive: bool) {
    match folder_condition(folder, recursive) {
        None => {}
        Some(FolderCondition::Exact(f)) => {
            qb.push(" AND folder_path = ").push_bind(f);
        }
        Some(FolderCondition::Subtree { folder, below, children }) => {
            qb.push(" AND folder_path >= ").push_bind(folder.clone()).push(" AND folder_path < ").push_bind(below);
            qb.push(" AND (folder_path = ").push_bind(folder).push(" OR folder_path >= ").push_bind(children).push(")");
        }
    }
}

impl NodeStore {
    pub(super) fn to_meta(&self, row: ImageRow) -> Result<IsoMetadata, StoreError> {
        let id = Uuid::parse_str(&row.id).map_err(|_| corrupt("id", &row.id))?;
        let folder_path = FolderPath::parse(&row.folder_path).map_err(|_| corrupt("folder", &row.folder_path))?;
        let format = ImageFormat::from_extension(&row.format).ok_or_else(|| corrupt("format", &row.format))?;
        let path = self
            .pools
            .get(&row.pool_id)
            .map(|p| p.iso_dir.join(&row.filename).to_string_lossy().into_owned())
            .unwrap_or_default();
        Ok(IsoMetadata {
            id,
            name: row.name,
            filename: row.filename,
            folder_path,
            size_bytes: row.size_bytes as u64,
            format,
            storage_pool_id: Some(row.pool_id),
            path,
            checksum: row.checksum,
            os_family: row.os_family,
            os_distribution: row.os_distribution,
            os_version: row.os_version,
            created_at: row.created_at,
            updated_at: row.updated_at,
            revision: row.revision as u64,
            node_id: None,
        })
    }

    pub async fn insert_image(&self, new: NewImage) -> Result<IsoMetadata, StoreError> {
        let mut tx = self.write().await?;
        let now = crate::now_unix();
        let revision = next_revision(&mut tx).await?;
        let inserted = sqlx::query(
            "INSERT INTO images (id, pool_id, filename, name, folder_path, size_bytes, format, checksum, os_family,
                os_distribution, os_version, created_at, updated_at, revision, file_mtime_ns)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, $13, $14)",
        )
        .bind(new.id.to_string())
        .bind(&new.pool_id)
        .bind(new.filename.as_str())
        .bind(new.filename.stem())
        .bind(new.folder.as_str())
        .bind(new.size_bytes as i64)
        .bind(new.filename.format().extension())
        .bind(&new.checksum)
        .bind(new.os.family)
        .bind(&new.os.distribution)
        .bind(&new.os.version)
        .bind(now)
        .bind(revision as i64)
        .bind(new.file_mtime_ns)
        .execute(&mut *tx)
        .await;
        match inserted {
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                return Err(StoreError::NameTaken { pool: new.pool_id, filename: new.filename.to_string() });
            }
            other => other?,
        };
        let meta = fetch(&mut tx, self, new.id).await?;
        record_change(&mut tx, ImageEventType::Created, &meta).await?;
        self.commit(tx).await?;
        Ok(meta)
    }

    pub async fn get(&self, id: Uuid) -> Result<IsoMetadata, StoreError> {
        let row: Option<ImageRow> =
            sqlx::query_as("SELECT * FROM images WHERE id = $1").bind(id.to_string()).fetch_optional(&self.db).await?;
        self.to_meta(row.ok_or(StoreError::ImageNotFound(id))?)
    }

    /// The image registered under `filename` in `pool_id`, if any.
    pub async fn find_by_name(&self, pool_id: &str, filename: &str) -> Result<Option<IsoMetadata>, StoreError> {
        let row: Option<ImageRow> = sqlx::query_as("SELECT * FROM images WHERE pool_id = $1 AND filename = $2")
            .bind(pool_id)
            .bind(filename)
            .fetch_optional(&self.db)
            .await?;
        row.map(|r| self.to_meta(r)).transpose()
    }

    pub async fn list(&self, filter: &ImageFilter) -> Result<Vec<IsoMetadata>, StoreError> {
        let mut qb = QueryBuilder::<Sqlite>::new("SELECT * FROM images WHERE 1 = 1");
        if let Some(folder) = &filter.folder {
            push_folder_filter(&mut qb, folder, filter.recursive);
        }
        if let Some(pool) = &filter.pool_id {
            qb.push(" AND pool_id = ").push_bind(pool.clone());
        }
        if let Some(family) = &filter.os_family {
            qb.push(" AND os_family = ").push_bind(family.clone());
        }
        let dir = match filter.order {
            SortOrder::Asc => "ASC",
            SortOrder::Desc => "DESC",
        };
        let order = match filter.sort {
            SortKey::Folder => format!(" ORDER BY folder_path {dir}, name {dir}, id {dir}"),
            SortKey::Name => format!(" ORDER BY name {dir}, id {dir}"),
            SortKey::Size => format!(" ORDER BY size_bytes {dir}, id {dir}"),
            SortKey::Created => format!(" ORDER BY created_at {dir}, id {dir}"),
        };
        qb.push(order);
        let rows: Vec<ImageRow> = qb.build_query_as().fetch_all(&self.db).await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            // Case-insensitive for every script, which SQLite's lower() is not.
            if let Some(q) = &filter.q
                && !row.name.to_lowercase().contains(q.as_str())
                && !row.filename.to_lowercase().contains(q.as_str())
            {
                continue;
            }
            out.push(self.to_meta(row)?);
        }
        Ok(out)
    }

    /// Images per pool id.
    pub async fn count_by_pool(&self) -> Result<Vec<(String, u64)>, StoreError> {
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT pool_id, COUNT(*) FROM images GROUP BY pool_id").fetch_all(&self.db).await?;
        Ok(rows.into_iter().map(|(p, n)| (p, n as u64)).collect())
    }

    /// Puts an image into `folder` (which then exists explicitly). Moving to where it is changes nothing.
    pub async fn move_image(&self, id: Uuid, folder: &FolderPath) -> Result<IsoMetadata, StoreError> {
        let mut tx = self.write().await?;
        let current = fetch(&mut tx, self, id).await?;
        if &current.folder_path == folder {
            return Ok(current);
        }
        super::folders::ensure_folder(&mut tx, folder).await?;
        let meta = update(&mut tx, self, id, "folder_path = $1", Some(folder.to_string())).await?;
        self.commit(tx).await?;
        Ok(meta)
    }

    /// Removes an image's row (the caller has removed its file) and records the deletion.
    pub async fn delete_image(&self, id: Uuid) -> Result<IsoMetadata, StoreError> {
        let mut tx = self.write().await?;
        let mut meta = fetch(&mut tx, self, id).await?;
        meta.revision = next_revision(&mut tx).await?;
        meta.updated_at = crate::now_unix();
        sqlx::query("DELETE FROM images WHERE id = $1").bind(id.to_string()).execute(&mut *tx).await?;
        record_change(&mut tx, ImageEventType::Deleted, &meta).await?;
        self.commit(tx).await?;
        Ok(meta)
    }

    /// A file renamed on disk keeps its id and folder; only its names change.
    pub async fn rename_file(&self, id: Uuid, filename: &ImageFileName) -> Result<IsoMetadata, StoreError> {
        let mut tx = self.write().await?;
        sqlx::query("UPDATE images SET name = $1, format = $2 WHERE id = $3")
            .bind(filename.stem())
            .bind(filename.format().extension())
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        let meta = update(&mut tx, self, id, "filename = $1", Some(filename.to_string())).await?;
        self.commit(tx).await?;
        Ok(meta)
    }
}

pub(super) async fn fetch(tx: &mut Tx, store: &NodeStore, id: Uuid) -> Result<IsoMetadata, StoreError> {
    let row: Option<ImageRow> =
        sqlx::query_as("SELECT * FROM images WHERE id = $1").bind(id.to_string()).fetch_optional(&mut **tx).await?;
    store.to_meta(row.ok_or(StoreError::ImageNotFound(id))?)
}

/// Sets one column (`assignment` binds `$1`; `None` is NULL), bumps the revision and records the update.
pub(super) async fn update(
    tx: &mut Tx,
    store: &NodeStore,
    id: Uuid,
    assignment: &str,
    value: Option<String>,
) -> Result<IsoMetadata, StoreError> {
    let revision = next_revision(tx).await?;
    let sql = format!("UPDATE images SET {assignment}, updated_at = $2, revision = $3 WHERE id = $4");
    let done = sqlx::query(&sql)
        .bind(value)
        .bind(crate::now_unix())
        .bind(revision as i64)
        .bind(id.to_string())
        .execute(&mut **tx)
        .await;
    match done {
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            return Err(StoreError::Conflict("Another image in this pool already has that file name.".into()));
        }
        other => other?,
    };
    let meta = fetch(tx, store, id).await?;
    record_change(tx, ImageEventType::Updated, &meta).await?;
    Ok(meta)
}
