//! Typed calls to the node and vdc REST APIs, usable from pages on both sides of hydration.
//!
//! In the browser a call is a `fetch` to the same origin. During server-side rendering it goes through the
//! very same REST router in-process (no socket), so a page never has a second, private way to read data.

mod transport;

use serde::{Deserialize, Serialize, de::DeserializeOwned};

use crate::model::{
    AuditList, AuditQuery, CopyRequest, CreateFolderRequest, CreateVmRequest, DownloadRequest, ErrorBody,
    FolderListing, ImageGroupList, ImageList, ImageQuery, IsoMetadata, LoginRequest, Me, MoveImageRequest, NodeId,
    NodeList, NodeSyncStatus, PoolList, RenameFolderRequest, Task, TaskList, TaskStarted, VmDefinition, VmList,
};

pub use transport::Api;
#[cfg(feature = "ssr")]
pub use transport::ApiService;

/// Why a call failed, in words a person can act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum ApiError {
    /// The server answered with an error body.
    #[error("{}", .body.message)]
    Status { status: u16, body: ErrorBody },
    #[error("The server could not be reached ({0}). Check that it is running and try again.")]
    Network(String),
    #[error("The server sent an answer this page does not understand ({0}).")]
    Decode(String),
}

impl ApiError {
    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Turns a raw HTTP answer into a typed value or an error.
    ///
    /// `from_str`, like Leptos's hydration of resources: one JSON reader, so the WASM build holds one
    /// deserialiser per type instead of two.
    pub fn decode<T: DeserializeOwned>(status: u16, body: &str) -> Result<T, ApiError> {
        if (200..300).contains(&status) {
            // 204 No Content: an empty body reads as JSON null.
            let body = if body.is_empty() { "null" } else { body };
            return serde_json::from_str(body).map_err(|e| ApiError::Decode(e.to_string()));
        }
        let body = serde_json::from_str::<ErrorBody>(body).unwrap_or_else(|_| ErrorBody {
            error: "http_error".into(),
            message: format!("The server answered {status}: {}", body.chars().take(200).collect::<String>().trim()),
            request_id: None,
        });
        Err(ApiError::Status { status, body })
    }
}

/// `path` for the page's own node, or with `?node_id=` for a host through the vdc.
fn on_node(path: &str, node_id: Option<&str>) -> String {
    match node_id {
        Some(n) => format!("{path}?{}", crate::model::encode_query([("node_id", n)])),
        None => path.to_owned(),
    }
}

impl Api {
    pub async fn list_images(&self, query: &ImageQuery) -> Result<ImageList, ApiError> {
        self.get(&format!("/api/v1/images?{}", query.to_query_string())).await
    }

    /// The vdc's groups of identical images (`query.group` set).
    pub async fn list_image_groups(&self, query: &ImageQuery) -> Result<ImageGroupList, ApiError> {
        self.get(&format!("/api/v1/images?{}", query.to_query_string())).await
    }

    pub async fn folders(&self) -> Result<FolderListing, ApiError> {
        self.get("/api/v1/images/folders").await
    }

    pub async fn create_folder(&self, path: &str) -> Result<FolderListing, ApiError> {
        self.send("POST", "/api/v1/images/folders", &CreateFolderRequest { path: path.to_owned() }).await
    }

    pub async fn rename_folder(&self, from: &str, to: &str) -> Result<FolderListing, ApiError> {
        let body = RenameFolderRequest { from: from.to_owned(), to: to.to_owned() };
        self.send("POST", "/api/v1/images/folders/rename", &body).await
    }

    pub async fn delete_folder(&self, path: &str) -> Result<FolderListing, ApiError> {
        let q = crate::model::encode_query([("path", path)]);
        self.request("DELETE", &format!("/api/v1/images/folders?{q}"), None).await
    }

    pub async fn move_image(&self, id: &str, folder_path: &str) -> Result<IsoMetadata, ApiError> {
        let body = MoveImageRequest { folder_path: folder_path.to_owned() };
        self.send("POST", &format!("/api/v1/images/{id}/move"), &body).await
    }

    pub async fn delete_image(&self, id: &str) -> Result<IsoMetadata, ApiError> {
        self.request("DELETE", &format!("/api/v1/images/{id}"), None).await
    }

    pub async fn create_vm(&self, req: &CreateVmRequest) -> Result<VmDefinition, ApiError> {
        self.send("POST", "/api/v1/vms", req).await
    }

    pub async fn vms(&self) -> Result<VmList, ApiError> {
        self.get("/api/v1/vms").await
    }

    pub async fn delete_vm(&self, id: &str) -> Result<serde_json::Value, ApiError> {
        self.request("DELETE", &format!("/api/v1/vms/{id}"), None).await
    }

    pub async fn pools(&self) -> Result<PoolList, ApiError> {
        self.get("/api/v1/storage/pools").await
    }

    pub async fn sync_status(&self) -> Result<NodeSyncStatus, ApiError> {
        self.get("/api/v1/sync/status").await
    }

    pub async fn nodes(&self) -> Result<NodeList, ApiError> {
        self.get("/api/v1/nodes").await
    }

    /// A node's transfers: the page's own node's (`None`), or a host's through the vdc.
    pub async fn tasks(&self, node_id: Option<&str>) -> Result<TaskList, ApiError> {
        self.get(&on_node("/api/v1/tasks", node_id)).await
    }

    pub async fn cancel_task(&self, id: &str, node_id: Option<&str>) -> Result<Task, ApiError> {
        self.request("DELETE", &on_node(&format!("/api/v1/tasks/{id}"), node_id), None).await
    }

    /// A download into a pool of the page's own node (`None`), or of a host through the vdc.
    pub async fn download(&self, node_id: Option<&NodeId>, req: &DownloadRequest) -> Result<TaskStarted, ApiError> {
        match node_id {
            None => self.send("POST", "/api/v1/storage/download", req).await,
            Some(node_id) => {
                let body = crate::model::NodeDownloadRequest::on(node_id.clone(), req.clone());
                self.send("POST", "/api/v1/storage/download", &body).await
            }
        }
    }

    /// A copy of an image onto another host (the vdc).
    pub async fn copy_image(&self, id: &str, req: &CopyRequest) -> Result<TaskStarted, ApiError> {
        self.send("POST", &format!("/api/v1/images/{id}/copy"), req).await
    }

    pub async fn login(&self, req: &LoginRequest) -> Result<Me, ApiError> {
        self.send("POST", "/api/v1/auth/login", req).await
    }

    pub async fn logout(&self) -> Result<(), ApiError> {
        self.request("POST", "/api/v1/auth/logout", None).await
    }

    pub async fn audit(&self, query: &AuditQuery) -> Result<AuditList, ApiError> {
        let since = query.since.map(|s| s.to_string());
        let limit = query.limit.map(|l| l.to_string());
        let pairs = [
            ("user", query.user.as_deref()),
            ("action", query.action.as_deref()),
            ("since", since.as_deref()),
            ("limit", limit.as_deref()),
        ];
        let q = crate::model::encode_query(pairs.into_iter().filter_map(|(k, v)| v.map(|v| (k, v))));
        self.get(&format!("/api/v1/audit?{q}")).await
    }

    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ApiError> {
        self.request("GET", path, None).await
    }

    pub async fn send<B: Serialize, T: DeserializeOwned>(
        &self,
        method: &str,
        path: &str,
        body: &B,
    ) -> Result<T, ApiError> {
        let json = serde_json::to_string(body).map_err(|e| ApiError::Decode(e.to_string()))?;
        self.request(method, path, Some(json)).await
    }
}
