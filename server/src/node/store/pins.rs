//! Pins: the VM definitions of the vdc that boot from an image. The vdc pins an ISO before it commits a
//! definition and unpins it when the definition is deleted; heartbeats bring the node's pins in line
//! with the vdc's definitions, so a pin whose unpin was lost does not hold an image for ever.

use app::model::IsoPin;
use uuid::Uuid;

use super::{NodeStore, StoreError, rows::fetch};

/// A pin younger than this is kept even when the vdc's list lacks it: its definition may be being
/// committed on another replica right now.
const YOUNG_PIN_SECS: i64 = 600;

impl NodeStore {
    /// Pins image `id` for VM `vm_id`; refused if the image does not exist.
    #[tracing::instrument(skip(self))]
    pub async fn pin(&self, id: Uuid, vm_id: Uuid, vm_name: &str) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        fetch(&mut tx, &self.locator, id).await?;
        sqlx::query(
            "INSERT INTO pins (image_id, vm_id, vm_name, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (image_id, vm_id) DO UPDATE SET vm_name = excluded.vm_name",
        )
        .bind(id.to_string())
        .bind(vm_id.to_string())
        .bind(vm_name)
        .bind(crate::now_unix())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    #[tracing::instrument(skip(self))]
    pub async fn unpin(&self, id: Uuid, vm_id: Uuid) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM pins WHERE image_id = $1 AND vm_id = $2")
            .bind(id.to_string())
            .bind(vm_id.to_string())
            .execute(&self.db)
            .await?;
        Ok(())
    }

    /// The names of the VMs that boot from image `id`.
    pub async fn pinned_by(&self, id: Uuid) -> Result<Vec<String>, StoreError> {
        let rows: Vec<(String,)> = sqlx::query_as("SELECT vm_name FROM pins WHERE image_id = $1 ORDER BY vm_name")
            .bind(id.to_string())
            .fetch_all(&self.db)
            .await?;
        Ok(rows.into_iter().map(|(n,)| n).collect())
    }

    /// Makes the pins equal to the vdc's definitions on this node (`pins`), except that young pins the
    /// list lacks are kept. Returns how many pins were added and removed.
    #[tracing::instrument(skip(self, pins), fields(pins = pins.len()))]
    pub async fn reconcile_pins(&self, pins: &[IsoPin], now: i64) -> Result<(usize, usize), StoreError> {
        let mut tx = self.write().await?;
        let held: Vec<(String, String, i64)> =
            sqlx::query_as("SELECT image_id, vm_id, created_at FROM pins").fetch_all(&mut *tx).await?;
        let wanted: std::collections::HashSet<(String, String)> =
            pins.iter().map(|p| (p.image_id.to_string(), p.vm_id.to_string())).collect();
        let mut removed = 0;
        for (image, vm, created_at) in &held {
            if !wanted.contains(&(image.clone(), vm.clone())) && now - created_at >= YOUNG_PIN_SECS {
                sqlx::query("DELETE FROM pins WHERE image_id = $1 AND vm_id = $2")
                    .bind(image)
                    .bind(vm)
                    .execute(&mut *tx)
                    .await?;
                removed += 1;
            }
        }
        let mut added = 0;
        for p in pins {
            let done = sqlx::query(
                "INSERT INTO pins (image_id, vm_id, vm_name, created_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (image_id, vm_id) DO NOTHING",
            )
            .bind(p.image_id.to_string())
            .bind(p.vm_id.to_string())
            .bind(&p.vm_name)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            added += done.rows_affected() as usize;
        }
        tx.commit().await?;
        Ok((added, removed))
    }
}
