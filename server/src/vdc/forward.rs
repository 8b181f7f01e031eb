//! Calls from the vdc to a node's API: moves and deletes are forwarded to the node that owns the image,
//! which stays the truth; its answer is applied to the catalogue at once.

use std::time::Duration;

use app::model::{
    DownloadRequest, ErrorBody, IsoMetadata, MoveImageRequest, NodeCopyJob, PinRequest, Task, TaskList, TaskStarted,
    UpdateImageRequest, sync_paths,
};
use uuid::Uuid;

use app::model::NodeId;

use crate::auth::ON_BEHALF_OF;
use crate::config::ClusterToken;
use crate::http::client::{self, PeerTrust};
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
    /// For uploads streamed through: no limit on the whole request (a 12 GiB ISO over a slow link takes
    /// hours), only on silence.
    streaming: reqwest::Client,
    token: ClusterToken,
}

/// How long an upload streamed through may go without a byte either way.
const STREAM_IDLE: Duration = Duration::from_secs(120);

impl NodeClient {
    pub fn new(token: ClusterToken, trust: &PeerTrust) -> Result<Self, crate::http::tls::TlsError> {
        let streaming = reqwest::Client::builder()
            .use_preconfigured_tls(client::tls_config(trust)?)
            .connect_timeout(Duration::from_secs(3))
            .read_timeout(STREAM_IDLE)
            .build()
            .map_err(|e| crate::http::tls::TlsError::Config(e.to_string()))?;
        Ok(Self { http: client::client(trust, Duration::from_secs(30))?, streaming, token })
    }

    /// Streams a library user's multipart upload to `node` as it arrives: the vdc holds a chunk at a time,
    /// never the file. `query` is the node's upload query (pool, folder, checksum).
    pub async fn upload(
        &self,
        node: &NodeRecord,
        query: &str,
        body: StreamedBody,
        user: Option<&str>,
    ) -> Result<IsoMetadata, ForwardError> {
        let (base, url) = url_of(node, &format!("{}?{query}", sync_paths::INTERNAL_UPLOAD))?;
        let mut req = self
            .streaming
            .post(url)
            .header(http::header::CONTENT_TYPE, body.content_type)
            .body(reqwest::Body::wrap_stream(body.bytes));
        if let Some(length) = body.length {
            req = req.header(http::header::CONTENT_LENGTH, length);
        }
        let answer = self.send(node, &base, req, user).await?;
        decode(node, &answer)
    }

    /// Moves an image on its node, for the vdc user `user`.
    pub async fn move_image(
        &self,
        node: &NodeRecord,
        id: Uuid,
        folder: &str,
        user: Option<&str>,
    ) -> Result<IsoMetadata, ForwardError> {
        let body = MoveImageRequest { folder_path: folder.to_owned() };
        let path = sync_paths::with_id(sync_paths::INTERNAL_MOVE, id);
        let answer = self.call(node, reqwest::Method::POST, &path, Some(&body), user).await?;
        decode(node, &answer)
    }

    /// Deletes an image on its node, for the vdc user `user`.
    pub async fn delete_image(
        &self,
        node: &NodeRecord,
        id: Uuid,
        user: Option<&str>,
    ) -> Result<IsoMetadata, ForwardError> {
        let path = sync_paths::with_id(sync_paths::INTERNAL_IMAGE, id);
        let answer = self.call::<()>(node, reqwest::Method::DELETE, &path, None, user).await?;
        decode(node, &answer)
    }

    /// Corrects an image on its node (OS fields, file name), for the vdc user `user`.
    pub async fn update_image(
        &self,
        node: &NodeRecord,
        id: Uuid,
        body: &UpdateImageRequest,
        user: Option<&str>,
    ) -> Result<IsoMetadata, ForwardError> {
        let path = sync_paths::with_id(sync_paths::INTERNAL_IMAGE, id);
        let answer = self.call(node, reqwest::Method::PATCH, &path, Some(body), user).await?;
        decode(node, &answer)
    }

    /// Pins image `id` on its node for VM `vm_id`: from then on the node refuses to delete it.
    pub async fn pin(&self, node: &NodeRecord, id: Uuid, vm_id: Uuid, vm_name: &str) -> Result<(), ForwardError> {
        let body = PinRequest { vm_id, vm_name: vm_name.to_owned() };
        let path = sync_paths::with_id(sync_paths::INTERNAL_PINS, id);
        self.call(node, reqwest::Method::POST, &path, Some(&body), None).await.map(drop)
    }

    /// Unpins image `id` for VM `vm_id` (the definition is gone).
    pub async fn unpin(&self, node: &NodeRecord, id: Uuid, vm_id: Uuid) -> Result<(), ForwardError> {
        let path = sync_paths::with_id(sync_paths::INTERNAL_PIN, id).replace("{vm_id}", &vm_id.to_string());
        self.call::<()>(node, reqwest::Method::DELETE, &path, None, None).await.map(drop)
    }

    /// Starts a download on the node, for the vdc user `user`.
    pub async fn download(
        &self,
        node: &NodeRecord,
        body: &DownloadRequest,
        user: Option<&str>,
    ) -> Result<TaskStarted, ForwardError> {
        let answer = self.call(node, reqwest::Method::POST, sync_paths::INTERNAL_DOWNLOAD, Some(body), user).await?;
        decode(node, &answer)
    }

    /// Asks `node` to copy an image from another node, for the vdc user `user`.
    pub async fn copy(
        &self,
        node: &NodeRecord,
        job: &NodeCopyJob,
        user: Option<&str>,
    ) -> Result<TaskStarted, ForwardError> {
        let answer = self.call(node, reqwest::Method::POST, sync_paths::INTERNAL_COPIES, Some(job), user).await?;
        decode(node, &answer)
    }

    /// The ticket with which a node reads one image from another (signed with the cluster token).
    pub fn copy_ticket(&self, ticket: &crate::auth::ticket::CopyTicket) -> String {
        ticket.seal(&self.token)
    }

    /// The node's tasks.
    pub async fn tasks(&self, node: &NodeRecord) -> Result<TaskList, ForwardError> {
        let answer = self.call::<()>(node, reqwest::Method::GET, sync_paths::INTERNAL_TASKS, None, None).await?;
        decode(node, &answer)
    }

    /// One of the node's tasks.
    pub async fn task(&self, node: &NodeRecord, id: Uuid) -> Result<Task, ForwardError> {
        let path = sync_paths::with_id(sync_paths::INTERNAL_TASK, id);
        let answer = self.call::<()>(node, reqwest::Method::GET, &path, None, None).await?;
        decode(node, &answer)
    }

    /// Cancels one of the node's tasks, for the vdc user `user`.
    pub async fn cancel_task(&self, node: &NodeRecord, id: Uuid, user: Option<&str>) -> Result<Task, ForwardError> {
        let path = sync_paths::with_id(sync_paths::INTERNAL_TASK, id);
        let answer = self.call::<()>(node, reqwest::Method::DELETE, &path, None, user).await?;
        decode(node, &answer)
    }

    /// Calls the node; returns the body of a successful answer.
    async fn call<B: serde::Serialize>(
        &self,
        node: &NodeRecord,
        method: reqwest::Method,
        path: &str,
        body: Option<&B>,
        user: Option<&str>,
    ) -> Result<bytes::Bytes, ForwardError> {
        let (base, url) = url_of(node, path)?;
        let mut req = self.http.request(method, &url);
        if let Some(body) = body {
            req = req.json(body);
        }
        self.send(node, &base, req, user).await
    }

    /// Sends `req` to the node with the cluster token, the user who asked and the request's id.
    async fn send(
        &self,
        node: &NodeRecord,
        base: &str,
        req: reqwest::RequestBuilder,
        user: Option<&str>,
    ) -> Result<bytes::Bytes, ForwardError> {
        let unreachable = |detail: String| ForwardError::Unreachable {
            id: node.id.clone(),
            name: node.name.clone(),
            url: base.to_owned(),
            detail,
        };
        let mut req = req.bearer_auth(self.token.expose());
        if let Some(user) = user {
            req = req.header(ON_BEHALF_OF, user);
        }
        // The node's log then files the forwarded call under the id of the request that asked for it.
        if let Some(id) = crate::telemetry::request_id::current() {
            req = req.header(crate::telemetry::request_id::HEADER, id);
        }
        let resp = req.send().await.map_err(|e| unreachable(crate::http::error_chain(&e)))?;
        let status = resp.status();
        let bytes = resp.bytes().await.map_err(|e| unreachable(crate::http::error_chain(&e)))?;
        if status.is_success() {
            return Ok(bytes);
        }
        let body = serde_json::from_slice::<ErrorBody>(&bytes).unwrap_or_else(|_| ErrorBody {
            error: "node_error".into(),
            message: format!("Node \"{}\" answered {status}.", node.name),
            request_id: None,
        });
        Err(ForwardError::Refused { status: status.as_u16(), body })
    }
}

/// A request body passed on as it arrives.
pub struct StreamedBody {
    pub content_type: http::HeaderValue,
    pub length: Option<u64>,
    pub bytes: axum::body::BodyDataStream,
}

/// The node's API base and the URL of `path` on it.
fn url_of(node: &NodeRecord, path: &str) -> Result<(String, String), ForwardError> {
    let base =
        node.api_url.clone().ok_or_else(|| ForwardError::NoUrl { id: node.id.clone(), name: node.name.clone() })?;
    let url = format!("{base}{path}");
    Ok((base, url))
}

/// What a node answered with.
fn decode<T: serde::de::DeserializeOwned>(node: &NodeRecord, answer: &[u8]) -> Result<T, ForwardError> {
    serde_json::from_slice(answer).map_err(|e| ForwardError::Unreachable {
        id: node.id.clone(),
        name: node.name.clone(),
        url: node.api_url.clone().unwrap_or_default(),
        detail: format!("unreadable answer: {e}"),
    })
}
