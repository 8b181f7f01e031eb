//! Digest anti-entropy: comparing a node's inventory digest with what the catalogue holds of the node,
//! and guarding the partial inventory that follows.
//!
//! Why a digest pass may count as a full inventory (raise the floor, `last_full_sync_revision`, to its
//! `as_of` and drop the tombstones at or below it), as `sync_inventory` does:
//!
//! The floor means "every image the catalogue has no row for is absent from the node as of the floor":
//! an event at or below it for such an image is stale (it predates the image's deletion) and is dropped.
//! A full inventory earns that by replacing, in one transaction, the catalogue's view of the node with
//! the node's snapshot. A digest that matches on every bucket earns it the same way *if the comparison
//! and the settling happen in one transaction*: at that instant the catalogue's live (id, revision) pairs
//! are the snapshot's, which is exactly the state the whole inventory would have left (it would have
//! added, updated and removed nothing). So `compare` settles only when it found no difference, in the
//! transaction that compared.
//!
//! A pass with differences takes two transactions, and between them notifications may land: a stale
//! one (revision at or below `as_of`) can revive an image the node deleted in a bucket the digest found
//! equal, and raising the floor afterwards would then vouch for a wrong row. So the partial inventory
//! carries the digest again, and is applied only if every bucket it does not cover still hashes, in the
//! applying transaction, to the node's digest: then that transaction again leaves exactly what the whole
//! inventory would have (the covered buckets reconciled whole, the others already equal), and the floor
//! follows. If any other bucket moved, nothing is applied (`DigestStale`) and the node sends its whole
//! inventory; a bucket moved by a newer change (above `as_of`) costs the same, a rare extra inventory,
//! rather than a floor no comparison backs.

use std::collections::HashMap;

use app::model::{BucketScope, InventoryDigest, SyncNodeDigestRequest, SyncNodeDigestResponse};
use uuid::Uuid;

use super::images::{node_rows, settle};
use super::{Catalogue, CatalogueError, nodes};

/// The digest of the live rows among `rows` (tombstones are not in the node's inventory either).
fn live_digest(rows: &HashMap<String, (i64, bool)>, bucket_count: u32) -> Result<InventoryDigest, CatalogueError> {
    let live = rows
        .iter()
        .filter(|(_, (_, deleted))| !deleted)
        .map(|(id, (rev, _))| Ok((parse_id(id)?, *rev as u64)))
        .collect::<Result<Vec<_>, CatalogueError>>()?;
    Ok(InventoryDigest::of(live, bucket_count))
}

fn parse_id(id: &str) -> Result<Uuid, CatalogueError> {
    Uuid::parse_str(id).map_err(|_| CatalogueError::Corrupt(format!("id of image {id}")))
}

/// The rows of the scope's buckets, once every other bucket is found to hold what the node's digest
/// says; [`CatalogueError::DigestStale`] otherwise.
pub(super) fn within_scope(
    rows: HashMap<String, (i64, bool)>,
    scope: &BucketScope,
) -> Result<HashMap<String, (i64, bool)>, CatalogueError> {
    let held = live_digest(&rows, scope.digest.bucket_count)?;
    let moved = held.differing(&scope.digest).into_iter().filter(|b| scope.buckets.binary_search(b).is_err()).count();
    if moved > 0 {
        return Err(CatalogueError::DigestStale(moved));
    }
    let mut within = HashMap::new();
    for (id, row) in rows {
        if scope.holds(parse_id(&id)?) {
            within.insert(id, row);
        }
    }
    Ok(within)
}

impl Catalogue {
    /// Compares a node's digest with what the catalogue holds of it. No difference: the digest is taken
    /// as the full inventory it summarises (see the module's comment for why that is sound).
    pub async fn compare_digest(
        &self,
        req: &SyncNodeDigestRequest,
        now: i64,
    ) -> Result<SyncNodeDigestResponse, CatalogueError> {
        let node_id = req.node.node_id.to_string();
        let as_of = req.as_of_revision as i64;
        self.retrying(|| async {
            let mut tx = self.write().await?;
            nodes::touch(&mut tx, &req.node, now, None, Some(as_of)).await?;
            let rows = node_rows(&mut tx, &node_id).await?;
            let differing = live_digest(&rows, req.digest.bucket_count)?.differing(&req.digest);
            if differing.is_empty() {
                settle(&mut tx, &node_id, as_of, now).await?;
            }
            tx.commit().await?;
            Ok(SyncNodeDigestResponse { differing })
        })
        .await
    }
}
