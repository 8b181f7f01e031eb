//! Wire types: plain serde, snake_case, compiled into the server and the WASM client alike.

mod auth;
mod content;
/// The bucket hashing of inventory digests, shared by node and vdc (server side only).
#[cfg(feature = "ssr")]
pub mod digest;
mod error;
mod folder;
mod ids;
mod iso;
mod listing;
mod nodes;
mod peer_check;
mod pool;
#[cfg(feature = "ssr")]
mod schemas;
mod sync;
mod task;
pub mod text;
mod vm;

pub use auth::{
    AuditEntry, AuditList, AuditQuery, CSRF_HEADER, CreateTokenRequest, CreateUserRequest, LoginRequest, MAX_USERNAME,
    Me, SignedIn, TokenCreated, TokenInfo, TokenList, UpdateUserRequest, UserInfo, UserList, UserRole, check_username,
};
pub use content::{BootModes, Firmware, ManifestState, OsSource, OvaDisk, OvaInfo};
pub use error::ErrorBody;
pub use folder::{DEFAULT_FOLDERS, FORBIDDEN_CHARS, FolderPath, FolderPathError, MAX_BYTES, MAX_DEPTH};
pub use ids::{IdError, MAX_ID_LEN, NodeId, PoolId};
pub use iso::{ImageFormat, IsoMetadata, os_family};
pub use listing::{
    CreateFolderRequest, FolderCount, FolderListing, ImageGroup, ImageGroupList, ImageGrouping, ImageList,
    ImageLocation, ImageQuery, MoveImageRequest, RenameFolderRequest, SortKey, SortOrder, UpdateImageRequest,
};
pub use nodes::{Health, NodeInfo, NodeList, NodeSyncState, NodeSyncStatus};
pub use peer_check::{PeerFieldError, is_sha256_checksum};
pub use pool::{PoolList, ResumableUpload, ResumableUploadList, StoragePool};
pub use sync::{
    BucketScope, HeartbeatRequest, HeartbeatResponse, ImageChange, ImageEventType, InventoryDigest, IsoPin, NodeRef,
    NodeRegistered, NotifyImageChangeRequest, NotifyImageChangeResponse, NotifyImageChangesRequest, PinRequest,
    RegisterNodeRequest, SyncNodeDigestRequest, SyncNodeDigestResponse, SyncNodeImagesRequest, SyncNodeImagesResponse,
    is_http_url, paths as sync_paths,
};
pub use task::{
    CopyRequest, CopySource, DownloadRequest, NodeCopyJob, NodeDownloadRequest, Task, TaskKind, TaskList, TaskStarted,
    TaskState, UserOsFields,
};
pub use vm::{CreateVmRequest, Proposal, VmDefinition, VmList, firmware_problem, limits as vm_limits};

/// Encodes `key=value` pairs for a URL query (RFC 3986: everything but unreserved characters escaped).
pub fn encode_query<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut out = String::new();
    for (k, v) in pairs {
        if !out.is_empty() {
            out.push('&');
        }
        percent_encode_into(&mut out, k);
        out.push('=');
        percent_encode_into(&mut out, v);
    }
    out
}

fn percent_encode_into(out: &mut String, s: &str) {
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
}

#[cfg(test)]
mod wire_tests;
