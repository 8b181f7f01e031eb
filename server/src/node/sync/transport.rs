//! How sync calls reach the vdc. Production uses HTTP; the convergence test puts a transport that drops,
//! duplicates, delays and reorders in its place.

use std::time::Duration;

use app::model::{
    ErrorBody, HeartbeatRequest, HeartbeatResponse, NotifyImageChangeResponse, NotifyImageChangesRequest,
    SyncNodeImagesRequest, SyncNodeImagesResponse, sync_paths,
};

use crate::config::ClusterToken;
use crate::http::client::{self, PeerTrust};

/// Why a sync call did not get an answer that acknowledges it.
#[derive(Debug, Clone, thiserror::Error)]
pub enum TransportError {
    #[error("the vdc cannot be reached: {0}")]
    Unreachable(String),
    #[error("the vdc refused the call ({status}): {message}")]
    Refused { status: u16, message: String },
}

/// The three calls a node makes. Each either returns the vdc's acknowledgement or an error; an error
/// says nothing about whether the vdc applied the call (a response can be lost), so callers retry and
/// rely on the vdc's revision rule to make repeats harmless.
pub trait SyncTransport: Send + Sync + 'static {
    fn notify(
        &self,
        req: &NotifyImageChangesRequest,
    ) -> impl Future<Output = Result<NotifyImageChangeResponse, TransportError>> + Send;
    fn full_sync(
        &self,
        req: &SyncNodeImagesRequest,
    ) -> impl Future<Output = Result<SyncNodeImagesResponse, TransportError>> + Send;
    fn heartbeat(
        &self,
        req: &HeartbeatRequest,
    ) -> impl Future<Output = Result<HeartbeatResponse, TransportError>> + Send;
}

/// The real thing: JSON over HTTP to the vdc's sync service, with the cluster token.
#[derive(Clone)]
pub struct HttpTransport {
    http: reqwest::Client,
    vdc_url: String,
    token: Option<ClusterToken>,
}

impl HttpTransport {
    pub fn new(
        vdc_url: &str,
        token: Option<ClusterToken>,
        trust: &PeerTrust,
    ) -> Result<Self, crate::http::tls::TlsError> {
        let http = client::client(trust, Duration::from_secs(60))?;
        Ok(Self { http, vdc_url: vdc_url.to_owned(), token })
    }

    async fn call<Req: serde::Serialize, Resp: serde::de::DeserializeOwned>(
        &self,
        method: &str,
        body: &Req,
    ) -> Result<Resp, TransportError> {
        let mut req = self.http.post(format!("{}{method}", self.vdc_url)).json(body);
        if let Some(token) = &self.token {
            req = req.bearer_auth(token.expose());
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
        Err(TransportError::Refused { status: status.as_u16(), message })
    }
}

impl SyncTransport for HttpTransport {
    async fn notify(&self, req: &NotifyImageChangesRequest) -> Result<NotifyImageChangeResponse, TransportError> {
        self.call(sync_paths::NOTIFY_IMAGE_CHANGES, req).await
    }

    async fn full_sync(&self, req: &SyncNodeImagesRequest) -> Result<SyncNodeImagesResponse, TransportError> {
        self.call(sync_paths::SYNC_NODE_IMAGES, req).await
    }

    async fn heartbeat(&self, req: &HeartbeatRequest) -> Result<HeartbeatResponse, TransportError> {
        self.call(sync_paths::HEARTBEAT, req).await
    }
}
