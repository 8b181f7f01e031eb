//! Resumable uploads' progress: one row per upload still receiving bytes, written at creation and at
//! each durable offset, deleted when the upload ends whichever way.

use super::{NodeStore, StoreError};

/// A resumable upload as stored. Its values were validated when it was created.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UploadRow {
    pub id: String,
    pub pool_id: String,
    pub filename: String,
    pub folder: Option<String>,
    pub expected_checksum: Option<String>,
    pub length: i64,
    pub durable_offset: i64,
    pub hash_state: Vec<u8>,
    pub created_at: i64,
    pub expires_at: i64,
}

impl NodeStore {
    #[tracing::instrument(skip(self, row), fields(id = %row.id))]
    pub async fn insert_upload(&self, row: &UploadRow) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO resumable_uploads (id, pool_id, filename, folder, expected_checksum, length, \
             durable_offset, hash_state, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&row.id)
        .bind(&row.pool_id)
        .bind(&row.filename)
        .bind(&row.folder)
        .bind(&row.expected_checksum)
        .bind(row.length)
        .bind(row.durable_offset)
        .bind(&row.hash_state)
        .bind(row.created_at)
        .bind(row.expires_at)
        .execute(&self.db)
        .await?;
        Ok(())
    }

    /// Records that the staging file of `id` holds `offset` bytes durably, hashing to `hash_state`.
    pub async fn advance_upload(
        &self,
        id: &str,
        offset: u64,
        hash_state: &[u8],
        expires_at: i64,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE resumable_uploads SET durable_offset = $2, hash_state = $3, expires_at = $4 WHERE id = $1")
            .bind(id)
            .bind(offset as i64)
            .bind(hash_state)
            .bind(expires_at)
            .execute(&self.db)
            .await?;
        Ok(())
    }

    pub async fn delete_upload(&self, id: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM resumable_uploads WHERE id = $1").bind(id).execute(&self.db).await?;
        Ok(())
    }

    pub async fn uploads(&self) -> Result<Vec<UploadRow>, StoreError> {
        Ok(sqlx::query_as("SELECT * FROM resumable_uploads ORDER BY created_at, id").fetch_all(&self.db).await?)
    }
}
