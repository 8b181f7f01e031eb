//! What the node knows about the files behind its images: used by the watcher and by start-up
//! reconciliation to tell a new, changed, vanished or unhashed file.

use uuid::Uuid;

use super::{
    NodeStore, StoreError,
    changes::{self, ImageUpdate},
    folders::ensure_folder,
    rows::{fetch, parse_id},
};
use crate::node::{content::Findings, file_tags::FileTag};

/// An image's file as last examined.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct FileRow {
    pub id: String,
    pub pool_id: String,
    pub filename: String,
    pub size_bytes: i64,
    pub file_mtime_ns: Option<i64>,
    pub checksum: Option<String>,
    pub folder_path: String,
    pub revision: i64,
}

impl FileRow {
    pub fn uuid(&self) -> Result<Uuid, StoreError> {
        parse_id(&self.id)
    }

    /// Whether the file on disk still looks as it did when the row was written.
    pub fn matches(&self, size: u64, mtime_ns: Option<i64>) -> bool {
        self.size_bytes as u64 == size && self.file_mtime_ns == mtime_ns
    }
}

const SELECT: &str =
    "SELECT id, pool_id, filename, size_bytes, file_mtime_ns, checksum, folder_path, revision FROM images";

impl NodeStore {
    pub async fn file_rows(&self) -> Result<Vec<FileRow>, StoreError> {
        Ok(sqlx::query_as(SELECT).fetch_all(&self.db).await?)
    }

    pub async fn file_row(&self, pool_id: &str, filename: &str) -> Result<Option<FileRow>, StoreError> {
        Ok(sqlx::query_as(&format!("{SELECT} WHERE pool_id = $1 AND filename = $2"))
            .bind(pool_id)
            .bind(filename)
            .fetch_optional(&self.db)
            .await?)
    }

    /// The file changed behind the node's back: new size, and its old checksum no longer holds.
    #[tracing::instrument(skip(self))]
    pub async fn file_changed(&self, id: Uuid, size: u64, mtime_ns: Option<i64>) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        changes::update(&mut tx, &self.locator, id, ImageUpdate::Contents { size, mtime_ns }).await?;
        self.commit(tx).await
    }

    /// Sets a computed checksum and what the content says, unless the file changed while it was being
    /// hashed (then another hash is on its way). Returns whether it was set.
    #[tracing::instrument(skip(self, found))]
    pub async fn set_checksum_if_unchanged(
        &self,
        id: Uuid,
        size: u64,
        mtime_ns: Option<i64>,
        checksum: &str,
        found: &Findings,
    ) -> Result<bool, StoreError> {
        let mut tx = self.write().await?;
        let current: Option<FileRow> =
            sqlx::query_as(&format!("{SELECT} WHERE id = $1")).bind(id.to_string()).fetch_optional(&mut *tx).await?;
        match current {
            Some(row) if row.matches(size, mtime_ns) => {
                changes::update(&mut tx, &self.locator, id, ImageUpdate::Hashed { checksum, found }).await?;
                self.commit(tx).await?;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// Records what the content of an image registered before detection existed says.
    #[tracing::instrument(skip(self, found))]
    pub async fn set_findings(&self, id: Uuid, found: &Findings) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        changes::update(&mut tx, &self.locator, id, ImageUpdate::Findings(found)).await?;
        self.commit(tx).await
    }

    /// Images whose content was never read (registered before detection existed), with their paths.
    pub async fn unchecked(&self) -> Result<Vec<FileRow>, StoreError> {
        Ok(sqlx::query_as(&format!("{SELECT} WHERE content_checked = 0")).fetch_all(&self.db).await?)
    }

    /// Brings an image in line with its file's tag, which is newer than the row (the database went back
    /// in time): its folder, and its checksum when the file is unchanged since it was tagged.
    #[tracing::instrument(skip(self, tag))]
    pub async fn adopt_tag(&self, id: Uuid, tag: &FileTag, size: u64, mtime_ns: Option<i64>) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        let current = fetch(&mut tx, &self.locator, id).await?;
        if current.folder_path != tag.folder {
            ensure_folder(&mut tx, &tag.folder).await?;
            changes::update(&mut tx, &self.locator, id, ImageUpdate::Folder(&tag.folder)).await?;
        }
        if current.checksum.is_none()
            && current.size_bytes == size
            && let Some(checksum) = tag.checksum_if_unchanged(size, mtime_ns)
        {
            changes::update(&mut tx, &self.locator, id, ImageUpdate::Checksum(checksum)).await?;
        }
        self.commit(tx).await
    }
}
