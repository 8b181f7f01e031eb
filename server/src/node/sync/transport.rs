//! How sync calls reach the vdc. Production uses HTTP; the convergence test puts a transport that drops,
//! duplicates, delays and reorders in its place.

use std::{path::PathBuf, sync::Arc, time::Duration};

use app::model::{
    ErrorBody, HeartbeatRequest, HeartbeatResponse, NodeRef, NodeRegistered, NotifyImageChangeResponse,
    NotifyImageChangesRequest, RegisterNodeRequest, SyncNodeDigestRequest, SyncNodeDigestResponse,
    SyncNodeImagesRequest, SyncNodeImagesResponse, sync_paths,
};

use tracing::Instrument;

use crate::config::ClusterToken;
use crate::http::client::{self, PeerTrust};
use crate::telemetry::{metrics::names, request_id};

/// Why a sync call did not get an answer that acknowledges it.
#[derive(Debug, Clone, thiserror::Error)]
pub enum TransportError {
    #[error("the vdc cannot be reached: {0}")]
    Unreachable(String),
    /// `request_id` is the call's `x-request-id`: the vdc's log has the refusal under it.
    #[error("the vdc refused the call ({status}, request {request_id}): {message}")]
    Refused { status: u16, message: String, request_id: String },
}

impl TransportError {
    /// The vdc's status, when it answered with a refusal.
    pub fn status(&self) -> Option<u16> {
        match self {
            TransportError::Refused { status, .. } => Some(*status),
            TransportError::Unreachable(_) => None,
        }
    }
}

/// The calls a node makes. Each either returns the vdc's acknowledgement or an error; an error
/// says nothing about whether the vdc applied the call (a response can be lost), so callers retry and
/// rely on the vdc's revision rule to make repeats harmless.
pub trait SyncTransport: Send + Sync + 'static {
    fn notify(
        &self,
        req: &NotifyImageChangesRequest,
    ) -> impl Future<Output = Result<NotifyImageChangeResponse, TransportError>> + Send;
    /// A whole inventory, or (with `req.scope`) the inventory of some buckets.
    fn full_sync(
        &self,
        req: &SyncNodeImagesRequest,
    ) -> impl Future<Output = Result<SyncNodeImagesResponse, TransportError>> + Send;
    /// The digest of the inventory: the vdc answers which buckets differ.
    fn digest(
        &self,
        req: &SyncNodeDigestRequest,
    ) -> impl Future<Output = Result<SyncNodeDigestResponse, TransportError>> + Send;
    fn heartbeat(
        &self,
        req: &HeartbeatRequest,
    ) -> impl Future<Output = Result<HeartbeatResponse, TransportError>> + Send;
}

/// The real thing: JSON over HTTP to the vdc's sync service. The node registers once with the cluster
/// token and keeps the credential it gets in its data directory (0600), which every sync call carries.
#[derive(Clone)]
pub struct HttpTransport {
    http: reqwest::Client,
    vdc_url: String,
    token: Option<ClusterToken>,
    credential: Arc<Credential>,
}

/// The node's own credential: in memory, and in its file (it outlives a lost database).
struct Credential {
    file: PathBuf,
    current: tokio::sync::Mutex<Option<String>>,
}

/// Where a node keeps the credential the vdc issued to it.
pub const CREDENTIAL_FILE: &str = "node-credential";

impl HttpTransport {
    pub fn new(
        vdc_url: &str,
        token: Option<ClusterToken>,
        trust: &PeerTrust,
        data_dir: &std::path::Path,
    ) -> Result<Self, crate::http::tls::TlsError> {
        let http = client::client(trust, Duration::from_secs(60))?;
        let file = data_dir.join(CREDENTIAL_FILE);
        let stored = std::fs::read_to_string(&file).ok().map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
        let credential = Arc::new(Credential { file, current: tokio::sync::Mutex::new(stored) });
        Ok(Self { http, vdc_url: vdc_url.to_owned(), token, credential })
    }

    /// The node's credential, registering with the cluster token first if it has none.
    async fn credential(&self, node: &NodeRef) -> Result<String, TransportError> {
        let mut current = self.credential.current.lock().await;
        if let Some(c) = current.as_ref() {
            return Ok(c.clone());
        }
        let token = self.token.as_ref().map(ClusterToken::expose);
        // The proposal is on disk before it is sent: if the answer is lost (a cut connection, a vdc killed
        // after its commit), the same one is sent again and the vdc takes it as the same registration.
        // (A credential made by the vdc and lost on the way locked the node out until an admin reset it.)
        let proposal = self.credential.file.with_extension("proposed");
        let keep = |file: &std::path::Path, credential: &str| {
            crate::auth::secret::write_private_file(file, credential).map_err(|e| {
                TransportError::Unreachable(format!("cannot keep the node credential in {}: {e}", file.display()))
            })
        };
        let proposed = match std::fs::read_to_string(&proposal).ok().map(|s| s.trim().to_owned()) {
            Some(p) if !p.is_empty() => p,
            _ => {
                let fresh = format!("{}{}", crate::auth::NODE_CREDENTIAL_PREFIX, crate::auth::secret::random_hex(32));
                keep(&proposal, &fresh)?;
                fresh
            }
        };
        let req = RegisterNodeRequest { node: node.clone(), credential: Some(proposed) };
        let registered: NodeRegistered = self.post(sync_paths::REGISTER_NODE, node, &req, token).await?;
        keep(&self.credential.file, &registered.credential)?;
        let _ = std::fs::remove_file(&proposal);
        tracing::info!(file = %self.credential.file.display(), "registered with the vdc; credential kept");
        *current = Some(registered.credential.clone());
        Ok(registered.credential)
    }

    /// A sync call with the node's credential. A refused credential (an admin reset it) is forgotten,
    /// so the next try registers again.
    async fn call<Req: serde::Serialize, Resp: serde::de::DeserializeOwned>(
        &self,
        method: &str,
        node: &NodeRef,
        body: &Req,
    ) -> Result<Resp, TransportError> {
        let credential = self.credential(node).await?;
        let result = self.post(method, node, body, Some(&credential)).await;
        if let Err(TransportError::Refused { status: 401, .. }) = &result {
            let mut current = self.credential.current.lock().await;
            if current.as_deref() == Some(credential.as_str()) {
                tracing::warn!("the vdc refused this node's credential; the node registers again");
                *current = None;
                let _ = std::fs::remove_file(&self.credential.file);
            }
        }
        result
    }

    async fn post<Req: serde::Serialize, Resp: serde::de::DeserializeOwned>(
        &self,
        method: &str,
        node: &NodeRef,
        body: &Req,
        bearer: Option<&str>,
    ) -> Result<Resp, TransportError> {
        // Each call has its own id, sent to the vdc and logged here: the vdc's log lines of the call carry
        // the same one, so a batch can be followed from this log to the vdc's.
        let request_id = request_id::generate();
        let call = method.rsplit('/').next().unwrap_or(method);
        let span = tracing::info_span!("sync_call", call, request_id = %request_id);
        let result = self.send(method, body, bearer, &request_id).instrument(span.clone()).await;
        let _in_span = span.enter();
        let outcome = match &result {
            Ok(_) => "ok",
            Err(TransportError::Unreachable(_)) => "unreachable",
            Err(TransportError::Refused { .. }) => "refused",
        };
        let labels = [("node", node.node_id.to_string()), ("call", call.to_owned()), ("result", outcome.to_owned())];
        metrics::counter!(names::SYNC_CALLS, &labels).increment(1);
        // Heartbeats every few seconds would drown the log; the calls that carry changes are worth a line.
        if method == sync_paths::HEARTBEAT {
            tracing::debug!(outcome, "sync call answered");
        } else {
            tracing::info!(outcome, "sync call answered");
        }
        result
    }

    async fn send<Req: serde::Serialize, Resp: serde::de::DeserializeOwned>(
        &self,
        method: &str,
        body: &Req,
        bearer: Option<&str>,
        request_id: &str,
    ) -> Result<Resp, TransportError> {
        let mut req =
            self.http.post(format!("{}{method}", self.vdc_url)).header(request_id::HEADER, request_id).json(body);
        if let Some(bearer) = bearer {
            req = req.bearer_auth(bearer);
        }
        let resp = req.send().await.map_err(|e| TransportError::Unreachable(crate::http::error_chain(&e)))?;
        let status = resp.status();
        let bytes = resp.bytes().await.map_err(|e| TransportError::Unreachable(crate::http::error_chain(&e)))?;
        if status.is_success() {
            return serde_json::from_slice(&bytes)
                .map_err(|e| TransportError::Unreachable(format!("unreadable answer to {method}: {e}")));
        }
        let message = serde_json::from_slice::<ErrorBody>(&bytes)
            .map(|b| b.message)
            .unwrap_or_else(|_| String::from_utf8_lossy(&bytes).chars().take(200).collect());
        Err(TransportError::Refused { status: status.as_u16(), message, request_id: request_id.to_owned() })
    }
}

impl SyncTransport for HttpTransport {
    async fn notify(&self, req: &NotifyImageChangesRequest) -> Result<NotifyImageChangeResponse, TransportError> {
        self.call(sync_paths::NOTIFY_IMAGE_CHANGES, &req.node, req).await
    }

    async fn full_sync(&self, req: &SyncNodeImagesRequest) -> Result<SyncNodeImagesResponse, TransportError> {
        let path = if req.scope.is_some() { sync_paths::SYNC_NODE_IMAGE_BUCKETS } else { sync_paths::SYNC_NODE_IMAGES };
        self.call(path, &req.node, req).await
    }

    async fn digest(&self, req: &SyncNodeDigestRequest) -> Result<SyncNodeDigestResponse, TransportError> {
        self.call(sync_paths::SYNC_NODE_DIGEST, &req.node, req).await
    }

    async fn heartbeat(&self, req: &HeartbeatRequest) -> Result<HeartbeatResponse, TransportError> {
        self.call(sync_paths::HEARTBEAT, &req.node, req).await
    }
}
