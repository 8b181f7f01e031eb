//! Settings of the vdc role.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use clap::Args;
use serde::Deserialize;

use super::access::{AccessConfig, access_args};
use super::file::{self, ConfigError, prefer_cli};
use crate::http::client::PeerTrust;

use super::values::{ClusterToken, de_duration, parse_duration};

access_args! {
/// Flags of `quantix-iso vdc`. Each is also an environment variable and a key of the `--config` file.
#[derive(Args, Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VdcArgs {
    /// TOML file with any of the settings below (keys as the flag names, with `_` for `-`).
    #[arg(long, env = "QUANTIX_VDC_CONFIG", value_name = "FILE")]
    #[serde(skip)]
    pub config: Option<PathBuf>,

    /// Address the vdc API and web UI listen on. [default: 127.0.0.1:3000]
    #[arg(long, env = "QUANTIX_VDC_LISTEN", value_name = "ADDR")]
    pub listen: Option<SocketAddr>,

    /// Catalogue database: sqlite://PATH (embedded, one replica) or postgres://USER@HOST/DB (shared by
    /// several replicas). [default: sqlite://data/vdc/catalogue.db]
    #[arg(long, env = "QUANTIX_DATABASE_URL", value_name = "URL")]
    pub database_url: Option<String>,

    /// Shared secret of the cluster: nodes must send it with every sync call; the vdc sends it when it
    /// forwards a move or delete to a node.
    #[arg(long, env = "QUANTIX_CLUSTER_TOKEN", value_name = "TOKEN", hide_env_values = true)]
    pub cluster_token: Option<ClusterToken>,

    /// The full-inventory period the nodes use; a node without a full sync for twice as long is
    /// "pending" (so is one with changes not yet applied). [default: 5m]
    #[arg(long, env = "QUANTIX_SYNC_INTERVAL", value_name = "DURATION", value_parser = parse_duration)]
    #[serde(default, deserialize_with = "de_duration")]
    pub sync_interval: Option<Duration>,

    /// A node not heard from for this long is "offline", for half as long "stale" (nodes send a
    /// heartbeat at least every 10 s). [default: 45s]
    #[arg(long, env = "QUANTIX_NODE_OFFLINE_AFTER", value_name = "DURATION", value_parser = parse_duration)]
    #[serde(default, deserialize_with = "de_duration")]
    pub offline_after: Option<Duration>,

    /// Directory holding the built web UI (pkg/, favicon.ico). [default: $LEPTOS_SITE_ROOT or target/site]
    #[arg(long, env = "QUANTIX_SITE_ROOT", value_name = "DIR")]
    pub site_root: Option<PathBuf>,

    /// Directory for the vdc's own files: the first admin's password file and a self-signed certificate.
    /// [default: ./data/vdc]
    #[arg(long, env = "QUANTIX_VDC_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// CA certificate (PEM) the vdc trusts for nodes that serve HTTPS, besides the system's roots.
    #[arg(long, env = "QUANTIX_NODE_CA", value_name = "FILE")]
    pub node_ca: Option<PathBuf>,

    /// Most live-update streams (open library pages) this replica holds; beyond, 503. [default: 2000]
    #[arg(long, env = "QUANTIX_SSE_MAX_CLIENTS", value_name = "N")]
    pub sse_max_clients: Option<usize>,

    /// Most live-update streams from one client address; beyond, 429. A load test from one address
    /// raises it. [default: 32]
    #[arg(long, env = "QUANTIX_SSE_MAX_PER_ADDRESS", value_name = "N")]
    pub sse_max_per_address: Option<usize>,
}
}

/// The vdc's resolved settings.
#[derive(Debug, Clone)]
pub struct VdcConfig {
    pub listen: SocketAddr,
    pub database_url: String,
    pub cluster_token: ClusterToken,
    pub sync_interval: Duration,
    pub offline_after: Duration,
    pub site_root: PathBuf,
    pub data_dir: PathBuf,
    pub access: AccessConfig,
    /// How the vdc trusts the nodes' certificates when it forwards a change.
    pub node_trust: PeerTrust,
    pub live: LiveLimits,
}

/// How many live-update streams a replica holds: each is an open connection and a file descriptor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LiveLimits {
    pub max_clients: usize,
    pub max_per_address: usize,
}

impl Default for LiveLimits {
    fn default() -> Self {
        Self { max_clients: 2000, max_per_address: 32 }
    }
}

pub const DEFAULT_DATA_DIR: &str = "data/vdc";
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/vdc/catalogue.db";

impl VdcArgs {
    /// Only the catalogue's URL (for `quantix-iso vdc user …`, which needs no cluster token).
    pub fn database_url(self) -> Result<String, ConfigError> {
        let file: VdcArgs = file::load(self.config.as_deref())?;
        Ok(self.database_url.or(file.database_url).unwrap_or_else(|| DEFAULT_DATABASE_URL.into()))
    }

    pub fn resolve(self) -> Result<VdcConfig, ConfigError> {
        let file: VdcArgs = file::load(self.config.as_deref())?;
        let access = file.access_values();
        let mut a = prefer_cli!(
            self,
            file,
            [
                listen,
                database_url,
                cluster_token,
                sync_interval,
                offline_after,
                site_root,
                data_dir,
                node_ca,
                sse_max_clients,
                sse_max_per_address
            ]
        );
        a.prefer_access(access);
        let Some(cluster_token) = a.cluster_token.clone() else {
            return Err(ConfigError::Invalid(
                "the vdc needs a cluster token (--cluster-token, QUANTIX_CLUSTER_TOKEN or cluster_token in the config \
                 file): nodes must present it, and the vdc presents it to them"
                    .into(),
            ));
        };
        let data_dir = a.data_dir.clone().unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
        Ok(VdcConfig {
            listen: a.listen.unwrap_or_else(|| "127.0.0.1:3000".parse().expect("valid address")),
            access: a.access_values().resolve(&data_dir)?,
            node_trust: PeerTrust { ca: a.node_ca, pinned_sha256: None },
            data_dir,
            database_url: a.database_url.unwrap_or_else(|| DEFAULT_DATABASE_URL.into()),
            cluster_token,
            sync_interval: a.sync_interval.unwrap_or(super::node::DEFAULT_SYNC_INTERVAL),
            offline_after: a.offline_after.unwrap_or(Duration::from_secs(45)),
            site_root: a.site_root.unwrap_or_else(super::default_site_root),
            live: LiveLimits {
                max_clients: a.sse_max_clients.unwrap_or(LiveLimits::default().max_clients).max(1),
                max_per_address: a.sse_max_per_address.unwrap_or(LiveLimits::default().max_per_address).max(1),
            },
        })
    }
}
