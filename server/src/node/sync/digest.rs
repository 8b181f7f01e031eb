//! The anti-entropy pass: a digest of the inventory first (about 20 bytes per 16 images), then the
//! inventory of only the buckets the vdc found different. A node in sync sends its digest and nothing
//! else; a vdc that lost its database finds every non-empty bucket different and gets everything.

use app::model::{BucketScope, InventoryDigest, SyncNodeDigestRequest, SyncNodeImagesResponse};

use super::{SyncClient, SyncTransport, TransportError};
use crate::node::store::Snapshot;

/// The vdc has no such endpoint: an older version, which takes only whole inventories.
const NOT_FOUND: u16 = 404;
/// The vdc's catalogue moved outside the buckets sent since it compared the digest: it applied nothing.
const CONFLICT: u16 = 409;

impl<T: SyncTransport> SyncClient<T> {
    /// Brings the vdc level with `snapshot`, sending as little of it as the vdc's answers allow.
    pub(super) async fn reconcile(&self, snapshot: &Snapshot) -> Result<SyncNodeImagesResponse, TransportError> {
        let pairs: Vec<_> = snapshot.images.iter().map(|m| (m.id, m.revision)).collect();
        let digest = InventoryDigest::of_inventory(&pairs);
        let req = SyncNodeDigestRequest {
            node: self.node.clone(),
            as_of_revision: snapshot.as_of_revision,
            digest: digest.clone(),
            timestamp: crate::now_unix(),
        };
        let differing = match self.transport.digest(&req).await {
            Ok(answer) => answer.differing,
            Err(e) if e.status() == Some(NOT_FOUND) => {
                tracing::info!("the vdc takes no digest (an older version): the whole inventory is sent");
                return self.send_inventory(snapshot, snapshot.images.clone(), None).await;
            }
            Err(e) => return Err(e),
        };
        // A vdc answering out of range would make the scope refused; what it names beyond the digest is
        // nothing this node holds.
        let mut buckets: Vec<u32> = differing.into_iter().filter(|&b| b < digest.bucket_count).collect();
        buckets.sort_unstable();
        buckets.dedup();
        if buckets.is_empty() {
            return Ok(SyncNodeImagesResponse { unchanged: pairs.len() as u64, ..Default::default() });
        }
        let scope = BucketScope { digest, buckets };
        let (images, untouched): (Vec<_>, Vec<_>) = snapshot.images.iter().cloned().partition(|m| scope.holds(m.id));
        let buckets = scope.buckets.len();
        match self.send_inventory(snapshot, images, Some(scope)).await {
            Ok(mut counts) => {
                tracing::info!(buckets, ?counts, "the buckets that differed were sent to the vdc");
                counts.unchanged += untouched.len() as u64;
                Ok(counts)
            }
            Err(e) if matches!(e.status(), Some(NOT_FOUND | CONFLICT)) => {
                tracing::info!(error = %e, "the buckets could not be applied alone: the whole inventory is sent");
                self.send_inventory(snapshot, snapshot.images.clone(), None).await
            }
            Err(e) => Err(e),
        }
    }
}
