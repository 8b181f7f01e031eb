//! Image rows: insert, read, list (filtered, searched and paged in SQL), move, delete, rename.

use app::model::{FolderPath, ImageEventType, ImageList, IsoMetadata, OsSource, PoolId, SortOrder};
use sqlx::{QueryBuilder, Sqlite};
use uuid::Uuid;

use super::{
    NodeStore, StoreError,
    changes::{self, ImageUpdate, UserOs},
    folders::ensure_folder,
    rows::{COLUMNS, ImageRow, fetch},
};
use crate::db::{
    Cursor, FolderCondition, ImageFilter, OnUniqueViolation, SortValue, folder_condition, like_pattern, search_key,
    search_text, sort_columns,
};
use crate::node::{content::Findings, names::ImageFileName};

/// What the ingest pipeline or the watcher knows about a new file.
#[derive(Debug, Clone)]
pub struct NewImage {
    pub id: Uuid,
    pub pool_id: PoolId,
    pub filename: ImageFileName,
    pub folder: FolderPath,
    pub size_bytes: u64,
    pub checksum: Option<String>,
    /// OS fields and content facts; `content_checked`: the content was read (or there was none to read).
    pub found: Findings,
    pub content_checked: bool,
    pub file_mtime_ns: Option<i64>,
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

/// `AND (sort columns) > (cursor values)` (or `<` descending): the rows after the cursor's.
fn push_cursor(qb: &mut QueryBuilder<'_, Sqlite>, f: &ImageFilter, cursor: &Cursor) {
    let cmp = match f.order {
        SortOrder::Asc => " > ",
        SortOrder::Desc => " < ",
    };
    qb.push(format!(" AND ({})", sort_columns(f.sort, false).join(", "))).push(cmp).push("(");
    let mut values = qb.separated(", ");
    for value in cursor.values(false) {
        match value {
            SortValue::Text(t) => values.push_bind(t),
            SortValue::Int(i) => values.push_bind(i),
        };
    }
    qb.push(")");
}

impl NodeStore {
    #[tracing::instrument(skip(self, new), fields(id = %new.id, file = %new.filename))]
    pub async fn insert_image(&self, new: NewImage) -> Result<IsoMetadata, StoreError> {
        let mut tx = self.write().await?;
        let now = crate::now_unix();
        let revision = changes::next_revision(&mut tx).await?;
        sqlx::query(
            "INSERT INTO images (id, pool_id, filename, name, folder_path, size_bytes, format, checksum, os_family,
                os_distribution, os_version, created_at, updated_at, revision, file_mtime_ns, name_key, search_text,
                filename_key, os_source, volume_id, arch, os_edition, boot_bios, boot_uefi, detection_error, ova_json,
                content_checked)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21,
                $22, $23, $24, $25, $26)",
        )
        .bind(new.id.to_string())
        .bind(new.pool_id.as_str())
        .bind(new.filename.as_str())
        .bind(new.filename.stem())
        .bind(new.folder.as_str())
        .bind(new.size_bytes as i64)
        .bind(new.filename.format().extension())
        .bind(&new.checksum)
        .bind(new.found.os.family)
        .bind(&new.found.os.distribution)
        .bind(&new.found.os.version)
        .bind(now)
        .bind(revision as i64)
        .bind(new.file_mtime_ns)
        .bind(search_key(new.filename.stem()))
        .bind(search_text(new.filename.stem(), new.filename.as_str()))
        .bind(new.filename.key())
        .bind(new.found.source.map(OsSource::as_str))
        .bind(&new.found.volume_id)
        .bind(&new.found.arch)
        .bind(&new.found.edition)
        .bind(new.found.boot.map(|b| b.bios as i64))
        .bind(new.found.boot.map(|b| b.uefi as i64))
        .bind(&new.found.error)
        .bind(new.found.ova.as_ref().map(|o| serde_json::to_string(o).expect("an OVA's facts serialise")))
        .bind(new.content_checked)
        .execute(&mut *tx)
        .await
        .on_unique_violation(|| StoreError::NameTaken {
            pool: new.pool_id.to_string(),
            filename: new.filename.to_string(),
        })?;
        let meta = fetch(&mut tx, &self.locator, new.id).await?;
        changes::record(&mut tx, ImageEventType::Created, &meta).await?;
        self.commit(tx).await?;
        Ok(meta)
    }

    pub async fn get(&self, id: Uuid) -> Result<IsoMetadata, StoreError> {
        let row: Option<ImageRow> = sqlx::query_as(&format!("SELECT {COLUMNS} FROM images WHERE id = $1"))
            .bind(id.to_string())
            .fetch_optional(&self.db)
            .await?;
        row.ok_or(StoreError::ImageNotFound(id))?.into_meta(&self.locator)
    }

    /// The image registered under `name` in `pool_id` (or under a name that differs from it only by
    /// Unicode normalisation), if any.
    pub async fn find_by_name(&self, pool_id: &str, name: &ImageFileName) -> Result<Option<IsoMetadata>, StoreError> {
        let row: Option<ImageRow> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM images WHERE pool_id = $1 AND (filename_key = $2 OR filename = $3) LIMIT 1"
        ))
        .bind(pool_id)
        .bind(name.key())
        .bind(name.as_str())
        .fetch_optional(&self.db)
        .await?;
        row.map(|r| r.into_meta(&self.locator)).transpose()
    }

    /// One page of the images `filter` selects, in its order; `next_cursor` when more follow. The node
    /// answers for itself only: a filter naming another node selects nothing.
    #[tracing::instrument(skip(self))]
    pub async fn list(&self, filter: &ImageFilter) -> Result<ImageList, StoreError> {
        let mut qb = QueryBuilder::<Sqlite>::new(format!("SELECT {COLUMNS} FROM images WHERE 1 = 1"));
        if let Some(folder) = &filter.folder {
            push_folder_filter(&mut qb, folder, filter.recursive);
        }
        if let Some(pool) = &filter.pool_id {
            qb.push(" AND pool_id = ").push_bind(pool.to_string());
        }
        if let Some(family) = &filter.os_family {
            qb.push(" AND os_family = ").push_bind(family.clone());
        }
        if let Some(arch) = &filter.arch {
            qb.push(" AND arch = ").push_bind(arch.clone());
        }
        if let Some(column) = filter.boot_column() {
            qb.push(format!(" AND {column} = 1"));
        }
        if let Some(q) = &filter.q {
            qb.push(" AND search_text LIKE ").push_bind(like_pattern(q)).push(" ESCAPE '\\'");
        }
        if let Some(cursor) = &filter.cursor {
            push_cursor(&mut qb, filter, cursor);
        }
        let dir = match filter.order {
            SortOrder::Asc => "ASC",
            SortOrder::Desc => "DESC",
        };
        let order: Vec<String> = sort_columns(filter.sort, false).iter().map(|c| format!("{c} {dir}")).collect();
        qb.push(format!(" ORDER BY {} LIMIT ", order.join(", "))).push_bind(filter.limit as i64 + 1);
        let mut rows: Vec<ImageRow> = qb.build_query_as().fetch_all(&self.db).await?;
        let next_cursor = if rows.len() > filter.limit as usize {
            rows.truncate(filter.limit as usize);
            rows.last().map(|r| {
                let created = r.created_at;
                Cursor::of(filter.sort, &r.folder_path, &r.name_key, r.size_bytes, created, "", &r.id).encode()
            })
        } else {
            None
        };
        let images = rows.into_iter().map(|r| r.into_meta(&self.locator)).collect::<Result<_, _>>()?;
        Ok(ImageList { images, next_cursor })
    }

    /// Images per pool id.
    pub async fn count_by_pool(&self) -> Result<Vec<(PoolId, u64)>, StoreError> {
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT pool_id, COUNT(*) FROM images GROUP BY pool_id").fetch_all(&self.db).await?;
        rows.into_iter()
            .map(|(p, n)| Ok((PoolId::parse(&p).map_err(|e| StoreError::Corrupt(e.to_string()))?, n as u64)))
            .collect()
    }

    /// Puts an image into `folder` (which then exists explicitly). Moving to where it is changes nothing.
    #[tracing::instrument(skip(self))]
    pub async fn move_image(&self, id: Uuid, folder: &FolderPath) -> Result<IsoMetadata, StoreError> {
        let mut tx = self.write().await?;
        let current = fetch(&mut tx, &self.locator, id).await?;
        if &current.folder_path == folder {
            return Ok(current);
        }
        ensure_folder(&mut tx, folder).await?;
        let meta = changes::update(&mut tx, &self.locator, id, ImageUpdate::Folder(folder)).await?;
        self.commit(tx).await?;
        Ok(meta)
    }

    /// Removes an image's row (the caller has removed its file) and records the deletion.
    #[tracing::instrument(skip(self))]
    pub async fn delete_image(&self, id: Uuid) -> Result<IsoMetadata, StoreError> {
        let mut tx = self.write().await?;
        let mut meta = fetch(&mut tx, &self.locator, id).await?;
        meta.revision = changes::next_revision(&mut tx).await?;
        meta.updated_at = crate::now_unix();
        sqlx::query("DELETE FROM images WHERE id = $1").bind(id.to_string()).execute(&mut *tx).await?;
        changes::record(&mut tx, ImageEventType::Deleted, &meta).await?;
        self.commit(tx).await?;
        Ok(meta)
    }

    /// An operator's correction of the OS fields: from now on they are the user's.
    #[tracing::instrument(skip(self))]
    pub async fn set_user_os(&self, id: Uuid, os: &UserOs) -> Result<IsoMetadata, StoreError> {
        let mut tx = self.write().await?;
        let meta = changes::update(&mut tx, &self.locator, id, ImageUpdate::UserOs(os)).await?;
        self.commit(tx).await?;
        Ok(meta)
    }

    /// A file renamed on disk keeps its id and folder; only its names change.
    #[tracing::instrument(skip(self))]
    pub async fn rename_file(&self, id: Uuid, pool: &PoolId, name: &ImageFileName) -> Result<IsoMetadata, StoreError> {
        let mut tx = self.write().await?;
        let meta = changes::update(&mut tx, &self.locator, id, ImageUpdate::File { pool, name }).await?;
        self.commit(tx).await?;
        Ok(meta)
    }

    /// Gives every image a new revision (see [`ImageUpdate::Restamp`]); returns how many.
    #[tracing::instrument(skip(self))]
    pub async fn restamp_all(&self) -> Result<usize, StoreError> {
        let mut tx = self.write().await?;
        let ids: Vec<(String,)> = sqlx::query_as("SELECT id FROM images ORDER BY id").fetch_all(&mut *tx).await?;
        for (id,) in &ids {
            changes::update(&mut tx, &self.locator, super::rows::parse_id(id)?, ImageUpdate::Restamp).await?;
        }
        self.commit(tx).await?;
        Ok(ids.len())
    }

    /// Rows written before the search columns existed get them (Rust's lower case is Unicode-aware,
    /// SQLite's is not, so this cannot be a migration).
    pub(super) async fn fill_search_keys(&self) -> Result<(), StoreError> {
        let rows: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT id, name, filename FROM images WHERE name_key = '' OR search_text = '' OR filename_key = ''",
        )
        .fetch_all(&self.db)
        .await?;
        for (id, name, filename) in rows {
            let key: String = unicode_normalization::UnicodeNormalization::nfc(filename.as_str()).collect();
            sqlx::query("UPDATE images SET name_key = $1, search_text = $2, filename_key = $3 WHERE id = $4")
                .bind(search_key(&name))
                .bind(search_text(&name, &filename))
                .bind(key)
                .bind(id)
                .execute(&self.db)
                .await?;
        }
        Ok(())
    }
}
