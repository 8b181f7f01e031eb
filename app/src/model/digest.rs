//! How an inventory digest is computed: the one implementation the node (which sends it) and the vdc
//! (which hashes what it holds of the node the same way) share, so the two can only disagree about
//! images, never about hashing.

use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{BucketScope, InventoryDigest};

/// Images per bucket the node aims at: one changed image then costs about 16 images on the wire, and
/// 500 images make 32 buckets, whose digest (19 bytes a bucket in JSON) keeps an in-sync pass under 1 KiB.
pub const IMAGES_PER_BUCKET: usize = 16;
const MAX_BUCKETS: u32 = InventoryDigest::MAX_BUCKETS;

/// The bucket count a node with `images` images uses: `images / 16`, rounded up. Not a power of two: the
/// digest then grows with the inventory (about 1.2 bytes an image) instead of doubling at 513 images.
pub fn bucket_count_for(images: usize) -> u32 {
    images.div_ceil(IMAGES_PER_BUCKET).clamp(1, MAX_BUCKETS as usize) as u32
}

/// The bucket of an image: by a hash of its id, not the id's own bits, so ids made in sequence (or by a
/// tool that fixes some bits) still spread evenly.
pub fn bucket_of(id: Uuid, bucket_count: u32) -> u32 {
    let h = Sha256::digest(id.as_bytes());
    let n = u64::from_be_bytes(h[..8].try_into().expect("8 bytes"));
    (n % bucket_count.max(1) as u64) as u32
}

impl InventoryDigest {
    /// The digest of `images` ((id, revision) pairs, in any order) in `bucket_count` buckets.
    pub fn of(images: impl IntoIterator<Item = (Uuid, u64)>, bucket_count: u32) -> InventoryDigest {
        let bucket_count = bucket_count.clamp(1, MAX_BUCKETS);
        let mut buckets: Vec<Vec<(Uuid, u64)>> = vec![Vec::new(); bucket_count as usize];
        for (id, revision) in images {
            buckets[bucket_of(id, bucket_count) as usize].push((id, revision));
        }
        let buckets = buckets
            .into_iter()
            .map(|mut pairs| {
                pairs.sort_unstable();
                let mut h = Sha256::new();
                for (id, revision) in pairs {
                    h.update(id.as_bytes());
                    h.update(revision.to_be_bytes());
                }
                let h = h.finalize();
                format!("{:016x}", u64::from_be_bytes(h[..8].try_into().expect("8 bytes")))
            })
            .collect();
        InventoryDigest { bucket_count, buckets }
    }

    /// The digest a node sends of its inventory, in as many buckets as its size calls for.
    pub fn of_inventory(images: &[(Uuid, u64)]) -> InventoryDigest {
        Self::of(images.iter().copied(), bucket_count_for(images.len()))
    }

    /// The buckets whose hash differs from `other`'s (every bucket, when the counts differ).
    pub fn differing(&self, other: &InventoryDigest) -> Vec<u32> {
        (0..self.bucket_count)
            .filter(|&b| {
                self.bucket_count != other.bucket_count || self.buckets.get(b as usize) != other.buckets.get(b as usize)
            })
            .collect()
    }
}

impl BucketScope {
    /// Whether the image with this id falls in one of the scope's buckets.
    pub fn holds(&self, id: Uuid) -> bool {
        self.buckets.binary_search(&bucket_of(id, self.digest.bucket_count)).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: u128) -> Vec<(Uuid, u64)> {
        (1..=n).map(|k| (Uuid::from_u128(k), 7)).collect()
    }

    #[test]
    fn the_bucket_count_grows_with_the_inventory() {
        assert_eq!(bucket_count_for(0), 1);
        assert_eq!(bucket_count_for(16), 1);
        assert_eq!(bucket_count_for(17), 2);
        assert_eq!(bucket_count_for(500), 32);
        assert_eq!(bucket_count_for(600), 38);
        assert_eq!(bucket_count_for(100_000_000), MAX_BUCKETS);
    }

    #[test]
    fn order_does_not_matter_but_a_revision_does() {
        let images = ids(500);
        let a = InventoryDigest::of_inventory(&images);
        let mut reversed = images.clone();
        reversed.reverse();
        assert_eq!(a, InventoryDigest::of(reversed, a.bucket_count));
        assert!(a.buckets.iter().all(|h| h.len() == InventoryDigest::HASH_HEX_LEN));

        let mut moved = images.clone();
        moved[42].1 = 8;
        let b = InventoryDigest::of(moved, a.bucket_count);
        assert_eq!(a.differing(&b), vec![bucket_of(images[42].0, a.bucket_count)]);
    }

    #[test]
    fn sequential_ids_spread_over_every_bucket() {
        let count = bucket_count_for(500);
        let mut sizes = vec![0; count as usize];
        for (id, _) in ids(500) {
            sizes[bucket_of(id, count) as usize] += 1;
        }
        assert!(sizes.iter().all(|&n| (3..=40).contains(&n)), "{sizes:?}");
    }

    #[test]
    fn a_scope_holds_the_images_of_its_buckets() {
        let digest = InventoryDigest::of_inventory(&ids(100));
        let id = Uuid::from_u128(5);
        let scope = BucketScope { buckets: vec![bucket_of(id, digest.bucket_count)], digest };
        assert!(scope.holds(id));
        assert!(ids(100).iter().filter(|(i, _)| scope.holds(*i)).count() < 100);
    }
}
