//! Images in the catalogue: applying node changes under the revision rule, full-inventory reconciliation,
//! and filtered, paged listing.

use std::collections::HashMap;

use app::model::{
    BucketScope, FolderPath, ImageChange, ImageEventType, ImageFormat, IsoMetadata, NodeId, NodeRef, PoolId, SortKey,
    SyncNodeImagesRequest, SyncNodeImagesResponse,
};
use uuid::Uuid;

use super::{Catalogue, CatalogueError, ChangedImage, Tx, nodes};
use crate::db::Sql;
use crate::db::{ContentColumns, Cursor, search_key, search_text};

pub(super) const COLUMNS: &str = concat!(
    "node_id, id, revision, name, filename, folder_path, size_bytes, format, storage_pool_id, path, checksum, \
     os_family, os_distribution, os_version, created_at, updated_at, name_key, ",
    crate::content_columns!()
);

/// Rows per multi-row statement: 27 parameters each (13,500 in all) stays below both backends' limits
/// (SQLite 32,766, PostgreSQL 65,535).
const BATCH_ROWS: usize = 500;

#[derive(sqlx::FromRow)]
pub(super) struct Row {
    node_id: String,
    id: String,
    revision: i64,
    name: String,
    filename: String,
    folder_path: String,
    size_bytes: i64,
    format: String,
    storage_pool_id: Option<String>,
    path: String,
    checksum: Option<String>,
    os_family: Option<String>,
    os_distribution: Option<String>,
    os_version: Option<String>,
    created_at: i64,
    updated_at: i64,
    name_key: String,
    #[sqlx(flatten)]
    content: ContentColumns,
}

impl Row {
    pub(super) fn into_meta(self) -> Result<IsoMetadata, CatalogueError> {
        let corrupt = |what: &str| CatalogueError::Corrupt(format!("{what} of image {}", self.id));
        let mut meta = IsoMetadata {
            id: Uuid::parse_str(&self.id).map_err(|_| corrupt("id"))?,
            folder_path: FolderPath::parse(&self.folder_path).map_err(|_| corrupt("folder"))?,
            format: ImageFormat::from_extension(&self.format).ok_or_else(|| corrupt("format"))?,
            storage_pool_id: self
                .storage_pool_id
                .as_deref()
                .map(PoolId::parse)
                .transpose()
                .map_err(|_| corrupt("pool"))?,
            node_id: Some(NodeId::parse(&self.node_id).map_err(|_| corrupt("node"))?),
            name: self.name,
            filename: self.filename,
            size_bytes: self.size_bytes as u64,
            path: self.path,
            checksum: self.checksum,
            os_family: self.os_family,
            os_distribution: self.os_distribution,
            os_version: self.os_version,
            created_at: self.created_at,
            updated_at: self.updated_at,
            revision: self.revision as u64,
            ..IsoMetadata::default()
        };
        self.content.apply(&mut meta).map_err(corrupt)?;
        Ok(meta)
    }

    pub(super) fn checksum(&self) -> Option<String> {
        self.checksum.clone()
    }

    pub(super) fn cursor(&self, sort: SortKey) -> Cursor {
        let (folder, name, node, id) = (&self.folder_path, &self.name_key, &self.node_id, &self.id);
        Cursor::of(sort, folder, name, self.size_bytes, self.created_at, node, id)
    }
}

/// Keeps, per image id, only the change with the highest revision: one statement may not touch a row
/// twice, and under the revision rule the others would lose anyway.
///
/// The result is ordered by folder and id, so concurrent transactions (several replicas) update the
/// per-folder counters in the same order and rarely deadlock.
fn latest_per_image(changes: impl IntoIterator<Item = (IsoMetadata, bool)>) -> Vec<(IsoMetadata, bool)> {
    let mut by_id: HashMap<Uuid, (IsoMetadata, bool)> = HashMap::new();
    for (image, deleted) in changes {
        match by_id.get(&image.id) {
            Some((kept, _)) if kept.revision >= image.revision => {}
            _ => {
                by_id.insert(image.id, (image, deleted));
            }
        }
    }
    let mut rows: Vec<_> = by_id.into_values().collect();
    rows.sort_by(|(a, _), (b, _)| (&a.folder_path, a.id).cmp(&(&b.folder_path, b.id)));
    rows
}

/// The revision rule, as one conditional statement: insert, or overwrite only a row holding an older
/// revision. Returns the rows it changed.
async fn upsert(tx: &mut Tx, node_id: &str, rows: &[(IsoMetadata, bool)]) -> Result<Vec<ChangedImage>, CatalogueError> {
    let mut changed = Vec::new();
    for chunk in rows.chunks(BATCH_ROWS) {
        let mut sql = Sql::new(concat!(
            "INSERT INTO images (node_id, id, revision, deleted, name, filename, folder_path, size_bytes, format, \
                 storage_pool_id, path, checksum, os_family, os_distribution, os_version, created_at, updated_at, \
                 name_key, search_text, ",
            crate::content_columns!(),
            ") VALUES "
        ));
        for (i, (m, deleted)) in chunk.iter().enumerate() {
            if i > 0 {
                sql.push(", ");
            }
            sql.push("(")
                .bind(node_id.to_owned())
                .push(", ")
                .bind(m.id.to_string())
                .push(", ")
                .bind(m.revision as i64)
                .push(", ")
                .bind(*deleted)
                .push(", ")
                .bind(m.name.clone())
                .push(", ")
                .bind(m.filename.clone())
                .push(", ")
                .bind(m.folder_path.to_string())
                .push(", ")
                .bind(m.size_bytes as i64)
                .push(", ")
                .bind(m.format.extension().to_owned())
                .push(", ")
                .bind(m.storage_pool_id.as_ref().map(PoolId::to_string))
                .push(", ")
                .bind(m.path.clone())
                .push(", ")
                .bind(m.checksum.clone())
                .push(", ")
                .bind(m.os_family.clone())
                .push(", ")
                .bind(m.os_distribution.clone())
                .push(", ")
                .bind(m.os_version.clone())
                .push(", ")
                .bind(m.created_at)
                .push(", ")
                .bind(m.updated_at)
                .push(", ")
                .bind(search_key(&m.name))
                .push(", ")
                .bind(search_text(&m.name, &m.filename));
            let c = ContentColumns::of(m);
            sql.push(", ").bind(c.os_source).push(", ").bind(c.volume_id).push(", ").bind(c.arch);
            sql.push(", ").bind(c.os_edition).push(", ").bind(c.boot_bios).push(", ").bind(c.boot_uefi);
            sql.push(", ").bind(c.detection_error).push(", ").bind(c.ova_json).push(")");
        }
        sql.push(
            " ON CONFLICT (node_id, id) DO UPDATE SET revision = excluded.revision, deleted = excluded.deleted, \
             name = excluded.name, filename = excluded.filename, folder_path = excluded.folder_path, \
             size_bytes = excluded.size_bytes, format = excluded.format, storage_pool_id = excluded.storage_pool_id, \
             path = excluded.path, checksum = excluded.checksum, os_family = excluded.os_family, \
             os_distribution = excluded.os_distribution, os_version = excluded.os_version, \
             created_at = excluded.created_at, updated_at = excluded.updated_at, name_key = excluded.name_key, \
             search_text = excluded.search_text, os_source = excluded.os_source, volume_id = excluded.volume_id, \
             arch = excluded.arch, os_edition = excluded.os_edition, boot_bios = excluded.boot_bios, \
             boot_uefi = excluded.boot_uefi, detection_error = excluded.detection_error, ova_json = excluded.ova_json \
             WHERE images.revision < excluded.revision RETURNING id, revision",
        );
        changed.extend(changed_rows(sql.fetch_all(&mut **tx).await?)?);
    }
    Ok(changed)
}

/// The `(id, revision)` rows a statement's `RETURNING` gave back.
fn changed_rows(rows: Vec<(String, i64)>) -> Result<Vec<ChangedImage>, CatalogueError> {
    rows.into_iter()
        .map(|(id, revision)| {
            let id = Uuid::parse_str(&id).map_err(|_| CatalogueError::Corrupt(format!("image id {id:?}")))?;
            Ok(ChangedImage { id, revision: revision as u64 })
        })
        .collect()
}

/// Drops the images whose id another node holds: an id names one image in the whole cluster, so the
/// first node to report it keeps it (a node cannot overwrite, or shadow, another's image by reusing its
/// id). What is dropped is logged; the node's next inventory offers it again once the id is free.
async fn drop_foreign_ids(
    tx: &mut Tx,
    node_id: &str,
    rows: Vec<(IsoMetadata, bool)>,
) -> Result<Vec<(IsoMetadata, bool)>, CatalogueError> {
    if rows.is_empty() {
        return Ok(rows);
    }
    let mut taken: HashMap<String, String> = HashMap::new();
    for chunk in rows.chunks(BATCH_ROWS) {
        let mut sql = Sql::new("SELECT id, node_id FROM images WHERE deleted = FALSE AND node_id <> ");
        sql.bind(node_id.to_owned()).push(" AND id IN ").bind_list(chunk.iter().map(|(m, _)| m.id.to_string()));
        taken.extend(sql.fetch_all::<(String, String), _>(&mut **tx).await?);
    }
    if taken.is_empty() {
        return Ok(rows);
    }
    Ok(rows
        .into_iter()
        .filter(|(m, _)| match taken.get(&m.id.to_string()) {
            None => true,
            Some(holder) => {
                tracing::warn!(image = %m.id, node = node_id, holder, "ignored: another node holds an image with this id");
                false
            }
        })
        .collect())
}

/// Every row the catalogue holds of a node, tombstones too: id → (revision, deleted).
pub(super) async fn node_rows(tx: &mut Tx, node_id: &str) -> Result<HashMap<String, (i64, bool)>, CatalogueError> {
    // The Any driver cannot decode SQLite booleans: read the flag as a number.
    let mut sql = Sql::new(
        "SELECT id, revision, CAST(CASE WHEN deleted THEN 1 ELSE 0 END AS BIGINT) FROM images WHERE node_id = ",
    );
    sql.bind(node_id.to_owned());
    Ok(sql
        .fetch_all::<(String, i64, i64), _>(&mut **tx)
        .await?
        .into_iter()
        .map(|(id, rev, del)| (id, (rev, del != 0)))
        .collect())
}

/// What a full inventory as of `as_of` settles once applied: everything at or below `as_of` is decided
/// by it, so the tombstones that guarded against older events are no longer needed (the floor, raised to
/// `as_of`, guards instead).
pub(super) async fn settle(tx: &mut Tx, node_id: &str, as_of: i64, now: i64) -> Result<(), CatalogueError> {
    let mut sql = Sql::new("DELETE FROM images WHERE node_id = ");
    sql.bind(node_id.to_owned()).push(" AND deleted = TRUE AND revision <= ").bind(as_of);
    sql.execute(&mut **tx).await?;
    nodes::record_full_sync(tx, node_id, now, as_of).await
}

impl Catalogue {
    /// Applies a node's changes in one transaction. Stale and repeated events change nothing; so does an
    /// event older than the node's last full inventory for an image the catalogue no longer has (it would
    /// bring back a deleted image).
    pub async fn apply_changes(
        &self,
        node: &NodeRef,
        changes: Vec<ImageChange>,
        now: i64,
    ) -> Result<(u64, u64), CatalogueError> {
        let total = changes.len() as u64;
        let seen = changes.iter().map(|c| c.image.revision as i64).max();
        let rows = latest_per_image(changes.into_iter().map(|c| (c.image, c.event_type == ImageEventType::Deleted)));
        let applied = self
            .retrying(|| async {
                let mut tx = self.write().await?;
                let floor = nodes::touch(&mut tx, node, now, None, seen).await?;
                let rows = self.drop_below_floor(&mut tx, node.node_id.as_str(), floor, rows.clone()).await?;
                let rows = drop_foreign_ids(&mut tx, node.node_id.as_str(), rows).await?;
                let changed = upsert(&mut tx, node.node_id.as_str(), &rows).await?;
                let applied = changed.len() as u64;
                self.commit_changes(tx, changed).await?;
                Ok(applied)
            })
            .await?;
        Ok((applied, total - applied.min(total)))
    }

    async fn drop_below_floor(
        &self,
        tx: &mut Tx,
        node_id: &str,
        floor: Option<i64>,
        rows: Vec<(IsoMetadata, bool)>,
    ) -> Result<Vec<(IsoMetadata, bool)>, CatalogueError> {
        let Some(floor) = floor else { return Ok(rows) };
        let (old, fresh): (Vec<_>, Vec<_>) = rows.into_iter().partition(|(m, _)| (m.revision as i64) <= floor);
        if old.is_empty() {
            return Ok(fresh);
        }
        // Old events still apply to images the catalogue holds (the revision rule decides), never revive.
        let mut sql = Sql::new("SELECT id FROM images WHERE node_id = ");
        sql.bind(node_id.to_owned()).push(" AND id IN ").bind_list(old.iter().map(|(m, _)| m.id.to_string()));
        let present: Vec<(String,)> = sql.fetch_all(&mut **tx).await?;
        let present: std::collections::HashSet<String> = present.into_iter().map(|(id,)| id).collect();
        Ok(fresh.into_iter().chain(old.into_iter().filter(|(m, _)| present.contains(&m.id.to_string()))).collect())
    }

    /// Makes the node's set of images equal to its full inventory, under the same revision rule: images
    /// absent from it and not changed since the snapshot are removed. With a scope, the same within the
    /// scope's buckets, applied only if the other buckets still match the node's digest
    /// ([`CatalogueError::DigestStale`] otherwise).
    pub async fn sync_inventory(
        &self,
        req: SyncNodeImagesRequest,
        now: i64,
    ) -> Result<SyncNodeImagesResponse, CatalogueError> {
        let inventory = latest_per_image(req.images.into_iter().map(|m| (m, false)));
        let node = req.node;
        let as_of = req.as_of_revision as i64;
        let scope = req.scope.as_ref();
        self.retrying(|| self.sync_inventory_once(&node, as_of, &inventory, scope, now)).await
    }

    async fn sync_inventory_once(
        &self,
        node: &NodeRef,
        as_of: i64,
        inventory: &[(IsoMetadata, bool)],
        scope: Option<&BucketScope>,
        now: i64,
    ) -> Result<SyncNodeImagesResponse, CatalogueError> {
        let node_id = node.node_id.to_string();
        let seen = inventory.iter().map(|(m, _)| m.revision as i64).chain([as_of]).max();
        let mut tx = self.write().await?;
        let floor = nodes::touch(&mut tx, node, now, None, seen).await?;
        let before = node_rows(&mut tx, &node_id).await?;
        // A partial inventory speaks only for its buckets, and only while every other bucket still holds
        // what the node's digest says: then this transaction does what the whole inventory would.
        let before = match scope {
            Some(scope) => super::digest::within_scope(before, scope)?,
            None => before,
        };
        // An inventory is the node's whole truth as of `as_of`: everything in it exists then. Only one
        // older than the last one applied (delivered late) may hold images deleted since, and for those
        // the floor rule of events applies. (Applying it to a current inventory once dropped every image
        // a restored node re-registered below the floor, for ever.)
        let inventory = match floor {
            Some(floor) if as_of < floor => {
                self.drop_below_floor(&mut tx, &node_id, Some(floor), inventory.to_vec()).await?
            }
            _ => inventory.to_vec(),
        };
        let inventory = drop_foreign_ids(&mut tx, &node_id, inventory).await?;
        let mut counts = SyncNodeImagesResponse::default();
        let mut listed = std::collections::HashSet::with_capacity(inventory.len());
        for (m, _) in &inventory {
            listed.insert(m.id.to_string());
            match before.get(&m.id.to_string()) {
                None => counts.added += 1,
                // A tombstone the inventory outranks: the image is back.
                Some((rev, true)) if *rev < m.revision as i64 => counts.added += 1,
                Some((rev, false)) if *rev < m.revision as i64 => counts.updated += 1,
                Some(_) => counts.unchanged += 1,
            }
        }
        let mut changed = upsert(&mut tx, &node_id, &inventory).await?;
        let mut gone: Vec<String> = before
            .iter()
            .filter(|(id, (rev, deleted))| !deleted && *rev <= as_of && !listed.contains(*id))
            .map(|(id, _)| id.clone())
            .collect();
        gone.sort();
        for chunk in gone.chunks(BATCH_ROWS) {
            let mut sql = Sql::new("UPDATE images SET deleted = TRUE, revision = ");
            sql.bind(as_of).push(", updated_at = ").bind(now).push(" WHERE node_id = ").bind(node_id.clone());
            sql.push(" AND deleted = FALSE AND revision <= ")
                .bind(as_of)
                .push(" AND id IN ")
                .bind_list(chunk.iter().cloned())
                .push(" RETURNING id, revision");
            let removed = changed_rows(sql.fetch_all(&mut *tx).await?)?;
            counts.removed += removed.len() as u64;
            changed.extend(removed);
        }
        settle(&mut tx, &node_id, as_of, now).await?;
        self.commit_changes(tx, changed).await?;
        Ok(counts)
    }

    /// Applies what a node answered to a forwarded move or delete, at once.
    pub async fn apply_node_answer(
        &self,
        node_id: &str,
        image: IsoMetadata,
        deleted: bool,
    ) -> Result<(), CatalogueError> {
        let mut tx = self.write().await?;
        let changed = upsert(&mut tx, node_id, &[(image, deleted)]).await?;
        self.commit_changes(tx, changed).await
    }

    /// One live image by id (ids are UUIDs, unique across nodes).
    pub async fn get(&self, id: Uuid) -> Result<IsoMetadata, CatalogueError> {
        let mut sql = Sql::new(&format!("SELECT {COLUMNS} FROM images WHERE deleted = FALSE AND id = "));
        sql.bind(id.to_string());
        let row = sql.fetch_all::<Row, _>(&self.db).await?.into_iter().next();
        row.ok_or(CatalogueError::ImageNotFound(id))?.into_meta()
    }
}
