//! The vdc role (the seed's QvDC control plane): the cluster-wide catalogue, the sync endpoints the nodes
//! call, the image library and the VM create wizard.

pub mod api;
pub mod catalogue;
pub mod domain_xml;
pub mod forward;
pub mod live;
pub mod replicas;

use std::{net::SocketAddr, sync::Arc};

use tokio_util::sync::CancellationToken;

use catalogue::{Catalogue, NodeTimings};
use forward::NodeClient;

use crate::auth::{Auth, store::AuthStore};
use crate::config::VdcConfig;
use crate::http;
use crate::startup::{Front, StartError, ensure_dir};

#[derive(Clone)]
pub struct VdcState {
    pub auth: Auth,
    pub catalogue: Catalogue,
    pub nodes: NodeClient,
    pub timings: NodeTimings,
    pub live: live::Live,
}

impl axum::extract::FromRef<VdcState> for Auth {
    fn from_ref(s: &VdcState) -> Auth {
        s.auth.clone()
    }
}

pub struct VdcServer {
    front: Front,
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
        ensure_dir(&config.data_dir)?;
        let auth = Auth::new(
            AuthStore::new(catalogue.pool()),
            config.access.auth_settings("quantix_vdc_session"),
            Some(config.cluster_token.clone()),
        )
        .with_node_credentials();
        let front = Front::open("vdc", listener, auth.clone(), &config.access).await?;
        let nodes = NodeClient::new(config.cluster_token.clone(), &config.node_trust)
            .map_err(|e| StartError::open("the nodes' certificate trust", e))?;
        let state = VdcState {
            auth,
            catalogue,
            nodes,
            timings: NodeTimings { offline_after: config.offline_after, sync_interval: config.sync_interval },
            live: live::Live::new(config.live),
        };
        Ok(VdcServer { front, state, config })
    }

    /// Whether this start created the first admin.
    pub fn created_admin(&self) -> bool {
        self.front.created_admin()
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.front.local_addr()
    }

    pub fn state(&self) -> &VdcState {
        &self.state
    }

    /// The REST API and the library UI.
    pub fn router(&self) -> axum::Router {
        let (api, _) = api::routes(self.state.clone(), self.front.guard());
        crate::site::with_ui(app::Role::Vdc, api, &self.config.site_root, self.front.guard())
    }

    /// Every API route with its declared access.
    pub fn route_table(&self) -> Arc<crate::auth::routes::RouteTable> {
        api::routes(self.state.clone(), self.front.guard()).1
    }

    pub async fn run(self, shutdown: CancellationToken) -> Result<(), StartError> {
        let router = http::observed(self.router());
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
        // Several replicas share a PostgreSQL catalogue: each hears what the others change.
        if catalogue.backend() == catalogue::Backend::Postgres {
            tokio::spawn(replicas::relay(self.config.database_url.clone(), catalogue.clone(), shutdown.clone()));
        }
        let served = self.front.serve(router, shutdown.clone()).await;
        shutdown.cancel();
        let _ = maintenance.await;
        catalogue.close().await;
        served
    }
}
