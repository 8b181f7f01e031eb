//! Calls from the vdc to a node's API: moves and deletes are forwarded to the node that owns the image,
//! which stays the truth; its answer is applied to the catalogue at once.

use std::time::Duration;

use app::model::{ErrorBody, IsoMetadata, MoveImageRequest, sync_paths};
use uuid::Uuid;

use app::model::NodeId;

use crate::config::ClusterToken;
use crate::http::auth::SCHEME;
use crate::vdc::catalogue::NodeRecord;

#[derive(Debug, thiserror::Error)]
pub enum ForwardError {
    #[error("Node \"{name}\" ({id}) has not told the vdc where its API is; nothing was changed.")]
    NoUrl { id: NodeId, name: String },
    #[error(
        "Node \"{name}\" ({id}) cannot be reached at {url} ({detail}); nothing was changed. Try again when it is back online."
    )]
    Unreachable { id: NodeId, name: String, url: String, detail: String },
    /// The node answered with an error: passed on as it is.
    #[error("{}", .body.message)]
    Refused { status: u16, body: ErrorBody },
}

#[derive(Clone)]
pub struct NodeClient {
    http: reqwest::Client,
    token: ClusterToken,
}

impl NodeClient {
    pub fn new(token: ClusterToken) -> Self {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(3))
            .timeout(Duration::from_secs(30))
            .build()
            .expect("HTTP client");
        Self { http, token }
    }

    pub async fn move_image(&self, node: &NodeRecord, id: Uuid, folder: &str) -> Result<IsoMetadata, ForwardError> {
        let body = MoveImageRequest { folder_path: folder.to_owned() };
        self.call(node, reqwest::Method::POST, &sync_paths::with_id(sync_paths::INTERNAL_MOVE, id), Some(&body)).await
    }

    pub async fn delete_image(&self, node: &NodeRecord, id: Uuid) -> Result<IsoMetadata, ForwardError> {
        let path = sync_paths::with_id(sync_paths::INTERNAL_IMAGE, id);
        self.call::<()>(node, reqwest::Method::DELETE, &path, None).await
    }

    async fn call<B: serde::Serialize>(
        &self,
        node: &NodeRecord,
        method: reqwest::Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<IsoMetadata, ForwardError> {
        let base = node
            .api_url
            .as_deref()
            .ok_or_else(|| ForwardError::NoUrl { id: node.id.clone(), name: node.name.clone() })?;
        let url = format!("{base}{path}");
        let unreachable = |detail: String| ForwardError::Unreachable {
            id: node.id.clone(),
            name: node.name.clone(),
            url: base.to_owned(),
            detail,
        };
        let mut req = self
            .http
            .request(method, &url)
            .header(http::header::AUTHORIZATION, format!("{SCHEME}{}", self.token.expose()));
        if let Some(body) = body {
            req = req.json(body);
        }
        let resp = req.send().await.map_err(|e| unreachable(crate::http::error_chain(&e)))?;
        let status = resp.status();
        let bytes = resp.bytes().await.map_err(|e| unreachable(crate::http::error_chain(&e)))?;
        if status.is_success() {
            return serde_json::from_slice(&bytes).map_err(|e| unreachable(format!("unreadable answer: {e}")));
        }
        let body = serde_json::from_slice::<ErrorBody>(&bytes).unwrap_or_else(|_| ErrorBody {
            error: "node_error".into(),
            message: format!("Node \"{}\" answered {status}.", node.name),
        });
        Err(ForwardError::Refused { status: status.as_u16(), body })
    }
}
