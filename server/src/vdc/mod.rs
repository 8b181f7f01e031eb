//! The vdc role (the seed's QvDC control plane): the cluster-wide catalogue, the sync endpoints the nodes
//! call, the image library and the VM create wizard.

pub mod api;
pub mod catalogue;
pub mod domain_xml;
pub mod forward;
pub mod live;

use std::net::SocketAddr;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use catalogue::{Catalogue, NodeTimings};
use forward::NodeClient;

use crate::config::{ClusterToken, VdcConfig};
use crate::http;
use crate::startup::StartError;

#[derive(Clone)]
pub struct VdcState {
    pub catalogue: Catalogue,
    pub nodes: NodeClient,
    pub timings: NodeTimings,
    pub cluster_token: Option<ClusterToken>,
    pub live: live::Live,
}

pub struct VdcServer {
    listener: TcpListener,
    state: VdcState,
    config: VdcConfig,
}

impl VdcServer {
    pub async fn build(config: VdcConfig) -> Result<VdcServer, StartError> {
        let catalogue =
            Catalogue::open(&config.database_url).await.map_err(|e| StartError::open("the catalogue database", e))?;
        let listener = http::serve::bind(config.listen)
            .await
            .map_err(|source| StartError::Bind { addr: config.listen, source })?;
        let state = VdcState {
            catalogue,
            nodes: NodeClient::new(config.cluster_token.clone()),
            timings: NodeTimings { offline_after: config.offline_after, sync_interval: config.sync_interval },
            cluster_token: Some(config.cluster_token.clone()),
            live: live::Live::default(),
        };
        Ok(VdcServer { listener, state, config })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("bound listener")
    }

    pub fn state(&self) -> &VdcState {
        &self.state
    }

    pub fn router(&self) -> axum::Router {
        crate::site::with_ui(app::Role::Vdc, api::router(self.state.clone()), &self.config.site_root)
    }

    pub async fn run(self, shutdown: CancellationToken) -> Result<(), StartError> {
        let router = self.router().layer(tower_http::trace::TraceLayer::new_for_http());
        tracing::info!(addr = %self.local_addr(), backend = ?self.state.catalogue.backend(), "vdc serving");
        let catalogue = self.state.catalogue.clone();
        let maintenance = tokio::spawn({
            let (catalogue, shutdown) = (catalogue.clone(), shutdown.clone());
            async move { catalogue.maintain(shutdown).await }
        });
        tokio::spawn({
            let (live, shutdown) = (self.state.live.clone(), shutdown.clone());
            async move {
                shutdown.cancelled().await;
                live.close();
            }
        });
        let served = http::serve::serve(self.listener, router, shutdown.clone()).await;
        shutdown.cancel();
        let _ = maintenance.await;
        catalogue.close().await;
        served.map_err(StartError::Serve)
    }
}
