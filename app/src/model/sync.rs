//! The node → vdc sync protocol (the seed's `NotifyImageChange`, plus a batch and a full-inventory form).

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use uuid::Uuid;

use super::{IsoMetadata, NodeId};

/// Where each party of the sync protocol listens: the one spelling both roles use.
pub mod paths {
    /// The sync service on the vdc (the seed's gRPC-style name); its methods follow.
    pub const SERVICE: &str = "/limiquantix.storage.v1.ImageService";
    pub const NOTIFY_IMAGE_CHANGE: &str = "/limiquantix.storage.v1.ImageService/NotifyImageChange";
    pub const NOTIFY_IMAGE_CHANGES: &str = "/limiquantix.storage.v1.ImageService/NotifyImageChanges";
    pub const SYNC_NODE_IMAGES: &str = "/limiquantix.storage.v1.ImageService/SyncNodeImages";
    /// The first step of an anti-entropy pass: a digest of the inventory; the vdc answers which buckets
    /// differ.
    pub const SYNC_NODE_DIGEST: &str = "/limiquantix.storage.v1.ImageService/SyncNodeDigest";
    /// The second step: the inventory of the buckets that differ, whole within those buckets. Its own
    /// path, so that a vdc replica without digests answers 404 instead of taking a part for the whole.
    pub const SYNC_NODE_IMAGE_BUCKETS: &str = "/limiquantix.storage.v1.ImageService/SyncNodeImageBuckets";
    pub const HEARTBEAT: &str = "/limiquantix.storage.v1.ImageService/Heartbeat";
    /// A node's first call: with the cluster token, it gets its own credential, which every later sync
    /// call carries instead.
    pub const REGISTER_NODE: &str = "/limiquantix.storage.v1.ImageService/RegisterNode";

    /// What the vdc forwards to the node that owns an image (route templates: `{id}` is the image id).
    pub const INTERNAL_IMAGE: &str = "/internal/v1/images/{id}";
    pub const INTERNAL_MOVE: &str = "/internal/v1/images/{id}/move";
    pub const INTERNAL_PINS: &str = "/internal/v1/images/{id}/pins";
    pub const INTERNAL_PIN: &str = "/internal/v1/images/{id}/pins/{vm_id}";
    /// A download, and the tasks, a vdc user asked for on this node.
    pub const INTERNAL_DOWNLOAD: &str = "/internal/v1/storage/download";
    /// An upload from the library, streamed through the vdc.
    pub const INTERNAL_UPLOAD: &str = "/internal/v1/storage/upload";
    pub const INTERNAL_TASKS: &str = "/internal/v1/tasks";
    pub const INTERNAL_TASK: &str = "/internal/v1/tasks/{id}";
    /// A copy the vdc asks a node to make of an image on another node, and the bytes that node then
    /// reads, with the vdc's copy ticket.
    pub const INTERNAL_COPIES: &str = "/internal/v1/copies";
    pub const INTERNAL_CONTENT: &str = "/internal/v1/images/{id}/content";

    /// A route template with its `{id}` filled in.
    pub fn with_id(template: &str, id: impl std::fmt::Display) -> String {
        template.replace("{id}", &id.to_string())
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn methods_live_under_the_service() {
            for method in [
                super::NOTIFY_IMAGE_CHANGE,
                super::NOTIFY_IMAGE_CHANGES,
                super::SYNC_NODE_IMAGES,
                super::SYNC_NODE_DIGEST,
                super::SYNC_NODE_IMAGE_BUCKETS,
                super::HEARTBEAT,
                super::REGISTER_NODE,
            ] {
                assert!(method.starts_with(&format!("{}/", super::SERVICE)), "{method}");
            }
            assert_eq!(super::with_id(super::INTERNAL_MOVE, 7), "/internal/v1/images/7/move");
        }
    }
}

/// What happened to an image. On the wire it is the seed's integer: 1 created, 2 updated, 3 deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImageEventType {
    Created,
    Updated,
    Deleted,
}

impl ImageEventType {
    pub fn code(self) -> i32 {
        match self {
            ImageEventType::Created => 1,
            ImageEventType::Updated => 2,
            ImageEventType::Deleted => 3,
        }
    }

    pub fn from_code(code: i64) -> Option<Self> {
        match code {
            1 => Some(ImageEventType::Created),
            2 => Some(ImageEventType::Updated),
            3 => Some(ImageEventType::Deleted),
            _ => None,
        }
    }
}

impl Serialize for ImageEventType {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i32(self.code())
    }
}

impl<'de> Deserialize<'de> for ImageEventType {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let code = i64::deserialize(d)?;
        Self::from_code(code).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "unknown event_type {code}: expected 1 (created), 2 (updated) or 3 (deleted)"
            ))
        })
    }
}

/// Who is calling: sent with every sync call so the vdc learns the node's name and where its API is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NodeRef {
    pub node_id: NodeId,
    #[serde(default)]
    pub node_name: Option<String>,
    /// Base URL of the node's API, used by the vdc to forward moves and deletes: http(s) only.
    #[serde(default, deserialize_with = "de_http_url")]
    pub node_api_url: Option<String>,
}

/// Whether `s` is a plain `http://` or `https://` URL with a host: the only URLs from the wire a page may
/// put in an `href` (a `javascript:` one would run in the reader's session).
pub fn is_http_url(s: &str) -> bool {
    let rest = s.strip_prefix("http://").or_else(|| s.strip_prefix("https://"));
    rest.is_some_and(|r| {
        let host = r.split(['/', '?', '#']).next().unwrap_or("");
        !host.is_empty() && !host.contains('@')
    }) && s.len() <= 2048
        && !s.chars().any(|c| c.is_control() || c.is_whitespace() || matches!(c, '"' | '<' | '>' | '\\' | '`'))
}

fn de_http_url<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let url = Option::<String>::deserialize(d)?;
    match url {
        Some(u) if !is_http_url(&u) => Err(serde::de::Error::custom(format!(
            "node_api_url must be an http:// or https:// URL with a host, not {:?}",
            u.chars().take(100).collect::<String>()
        ))),
        u => Ok(u),
    }
}

/// `POST /limiquantix.storage.v1.ImageService/NotifyImageChange`: one change on one node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NotifyImageChangeRequest {
    #[serde(flatten)]
    pub node: NodeRef,
    /// The image as it is after the change; for a delete, as it was, with the revision of the delete.
    pub image: IsoMetadata,
    pub event_type: ImageEventType,
    /// Unix seconds at which the node made the change.
    pub timestamp: i64,
}

/// One change inside a batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ImageChange {
    pub image: IsoMetadata,
    pub event_type: ImageEventType,
    pub timestamp: i64,
}

/// `POST /limiquantix.storage.v1.ImageService/NotifyImageChanges`: several changes from one node, in the
/// order the node made them; applied in one transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NotifyImageChangesRequest {
    #[serde(flatten)]
    pub node: NodeRef,
    pub events: Vec<ImageChange>,
}

/// The answer to a notify: how many of the events changed the catalogue (the rest were stale or repeats).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NotifyImageChangeResponse {
    pub applied: u64,
    pub ignored: u64,
}

/// `POST /limiquantix.storage.v1.ImageService/SyncNodeImages`: a node's full inventory (anti-entropy).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SyncNodeImagesRequest {
    #[serde(flatten)]
    pub node: NodeRef,
    /// The node's revision counter when it took this snapshot: an image the vdc holds for this node
    /// with a revision at or below it, and absent from `images`, is gone from the node.
    pub as_of_revision: u64,
    pub images: Vec<IsoMetadata>,
    pub timestamp: i64,
    /// Set on `SyncNodeImageBuckets` only: `images` is the inventory of these buckets alone, and the vdc
    /// reconciles only them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<BucketScope>,
}

/// A node's inventory summarised: its images spread over `bucket_count` buckets by a hash of their id,
/// each bucket hashed over its sorted (id, revision) pairs. Two sides holding the same images at the same
/// revisions have the same digest; a bucket whose hashes differ holds what one side lacks. The hashing
/// lives in `app::model::digest`, the one implementation both roles use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct InventoryDigest {
    /// Chosen by the node from its image count (about 16 images a bucket); the vdc
    /// hashes its rows into the same number of buckets.
    pub bucket_count: u32,
    /// One per bucket, in bucket order: the first 8 bytes of the bucket's SHA-256, 16 lowercase hex digits.
    pub buckets: Vec<String>,
}

impl InventoryDigest {
    /// The most buckets a digest may have: 1 M images in 65,536 buckets is a 1.2 MiB digest, still far
    /// smaller than their inventory.
    pub const MAX_BUCKETS: u32 = 1 << 16;
    /// Hex digits of one bucket's hash (8 bytes: a false match between two different buckets is a 2⁻⁶⁴
    /// chance).
    pub const HASH_HEX_LEN: usize = 16;
}

/// `POST /limiquantix.storage.v1.ImageService/SyncNodeDigest`: the digest of a node's inventory as of
/// `as_of_revision`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SyncNodeDigestRequest {
    #[serde(flatten)]
    pub node: NodeRef,
    pub as_of_revision: u64,
    pub digest: InventoryDigest,
    pub timestamp: i64,
}

/// The vdc's answer to a digest: the buckets whose hash differs from what it holds of the node. Empty:
/// the vdc holds exactly the node's inventory, and took the digest as a full inventory.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SyncNodeDigestResponse {
    /// Bucket numbers, ascending.
    pub differing: Vec<u32>,
}

/// Which buckets a partial inventory covers, with the digest the node sent first: the vdc reconciles
/// the listed buckets and applies the inventory only if every other bucket still hashes as in `digest`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct BucketScope {
    pub digest: InventoryDigest,
    /// Bucket numbers, ascending, each below `digest.bucket_count`.
    pub buckets: Vec<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SyncNodeImagesResponse {
    pub added: u64,
    pub updated: u64,
    pub removed: u64,
    pub unchanged: u64,
}

/// `POST /limiquantix.storage.v1.ImageService/Heartbeat`: the node is alive, with `pending` changes it has
/// not delivered yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct HeartbeatRequest {
    #[serde(flatten)]
    pub node: NodeRef,
    pub pending: u64,
    /// The node's storage pools with their free space, so the vdc can place VM disks and show the
    /// pool filter. Absent from older nodes.
    #[serde(default)]
    pub pools: Vec<super::StoragePool>,
}

/// The vdc's answer to a heartbeat.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct HeartbeatResponse {
    /// The vdc has no full inventory of this node (it is new to the vdc, or the vdc lost its data):
    /// send one now rather than at the next period.
    pub full_sync_wanted: bool,
    /// The highest revision of this node the vdc has seen. A node whose counter is below it issued that
    /// revision in a past life: its database went back in time (restored from a backup, or lost), so it
    /// raises its counter above this and sends a full inventory. Absent from older vdcs.
    #[serde(default)]
    pub node_revision: Option<u64>,
    /// The images of this node that the vdc's VM definitions boot from: the node's pins follow this
    /// list. Absent from older vdcs (then pins are left alone).
    #[serde(default)]
    pub pins: Option<Vec<IsoPin>>,
}

/// `RegisterNode` body: who the node is, and the credential it proposes. A node writes its proposal to
/// disk before sending it, so a registration whose answer was lost (a cut connection, a vdc killed after
/// its commit) is completed by sending the same one again; the vdc answers it as the same registration.
/// Without a proposal (older nodes) the vdc makes the credential.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RegisterNodeRequest {
    #[serde(flatten)]
    pub node: NodeRef,
    /// `qxn_` and 64 lowercase hex digits.
    #[serde(default)]
    pub credential: Option<String>,
}

impl std::fmt::Debug for RegisterNodeRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegisterNodeRequest")
            .field("node", &self.node)
            .field("credential", &self.credential.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// The answer to `RegisterNode`: the node's own credential, shown once (the vdc keeps only its digest).
/// Sent as `Authorization: Bearer <credential>` on every later sync call.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NodeRegistered {
    pub node_id: NodeId,
    pub credential: String,
}

impl std::fmt::Debug for NodeRegistered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeRegistered").field("node_id", &self.node_id).field("credential", &"<redacted>").finish()
    }
}

/// A VM definition that boots from an image of the node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct IsoPin {
    pub image_id: Uuid,
    pub vm_id: Uuid,
    pub vm_name: String,
}

/// `POST /internal/v1/images/{id}/pins`: the vdc is about to commit a VM definition booting from the
/// image; until it is unpinned the node refuses to delete it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PinRequest {
    pub vm_id: Uuid,
    pub vm_name: String,
}

#[cfg(test)]
mod url_tests {
    use super::*;

    #[test]
    fn only_http_urls_with_a_host_come_from_the_wire() {
        for ok in ["http://10.0.0.7:3001", "https://hv-07.example/", "http://[fe80::1]:3001"] {
            assert!(is_http_url(ok), "{ok}");
        }
        for bad in [
            "javascript:alert(document.domain)//",
            "JAVASCRIPT:alert(1)",
            "data:text/html,x",
            "http://",
            "https:///path",
            "http://user@evil.example",
            "http://a b",
            "http://a\"onmouseover=x",
            "//evil.example",
        ] {
            assert!(!is_http_url(bad), "{bad}");
        }
        let body = r#"{"node_id":"hv1","node_api_url":"javascript:alert(1)//"}"#;
        let e = serde_json::from_str::<NodeRef>(body).unwrap_err().to_string();
        assert!(e.contains("node_api_url must be an http"), "{e}");
    }
}
