//! The sync outbox: each image's latest change waiting for the vdc's acknowledgement (at most one record
//! per image), and consistent inventory snapshots.

use app::model::{ImageEventType, IsoMetadata};

use super::{
    NodeStore, StoreError,
    rows::{COLUMNS, ImageRow},
};

#[derive(Debug, Clone)]
pub struct OutboxRecord {
    pub seq: i64,
    pub event_type: ImageEventType,
    pub image: IsoMetadata,
    pub created_at: i64,
}

/// The node's whole inventory at one revision.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub as_of_revision: u64,
    pub images: Vec<IsoMetadata>,
}

impl NodeStore {
    /// The oldest `limit` unacknowledged changes, in the order they were made.
    pub async fn pending_changes(&self, limit: u32) -> Result<Vec<OutboxRecord>, StoreError> {
        let rows: Vec<(i64, i64, String, i64)> =
            sqlx::query_as("SELECT seq, event_type, image_json, created_at FROM outbox ORDER BY seq LIMIT $1")
                .bind(limit as i64)
                .fetch_all(&self.db)
                .await?;
        rows.into_iter()
            .map(|(seq, event, json, created_at)| {
                let event_type = ImageEventType::from_code(event).ok_or_else(|| {
                    StoreError::Corrupt(format!("outbox record {seq} has unknown event type {event}"))
                })?;
                let image = serde_json::from_str(&json)
                    .map_err(|e| StoreError::Corrupt(format!("outbox record {seq} is unreadable: {e}")))?;
                Ok(OutboxRecord { seq, event_type, image, created_at })
            })
            .collect()
    }

    /// Forgets the changes up to and including `seq`: the vdc has them.
    pub async fn acknowledge(&self, seq: i64) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM outbox WHERE seq <= $1").bind(seq).execute(&self.db).await?;
        Ok(())
    }

    /// Forgets the changes a full inventory at `as_of_revision` already carried to the vdc.
    pub async fn acknowledge_up_to_revision(&self, as_of_revision: u64) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM outbox WHERE revision <= $1").bind(as_of_revision as i64).execute(&self.db).await?;
        Ok(())
    }

    pub async fn pending_count(&self) -> Result<u64, StoreError> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox").fetch_one(&self.db).await?;
        Ok(n as u64)
    }

    /// When the oldest unacknowledged change was made (Unix seconds), counting changes folded into a
    /// later record of the same image; `None` when none waits.
    pub async fn oldest_pending_at(&self) -> Result<Option<i64>, StoreError> {
        Ok(sqlx::query_scalar("SELECT MIN(pending_since) FROM outbox").fetch_one(&self.db).await?)
    }

    /// Every image and the revision counter, read in one transaction so they agree.
    pub async fn snapshot(&self) -> Result<Snapshot, StoreError> {
        let mut tx = self.db.begin().await?;
        let revision: String =
            sqlx::query_scalar("SELECT value FROM settings WHERE key = 'revision'").fetch_one(&mut *tx).await?;
        let rows: Vec<ImageRow> =
            sqlx::query_as(&format!("SELECT {COLUMNS} FROM images ORDER BY id")).fetch_all(&mut *tx).await?;
        tx.commit().await?;
        Ok(Snapshot {
            as_of_revision: revision
                .parse()
                .map_err(|_| StoreError::Corrupt(format!("revision counter {revision:?}")))?,
            images: rows.into_iter().map(|r| r.into_meta(&self.locator)).collect::<Result<_, _>>()?,
        })
    }
}
