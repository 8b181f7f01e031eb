//! Settings of the vdc role.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use clap::Args;
use serde::Deserialize;

use super::file::{self, ConfigError, prefer_cli};
use super::values::{ClusterToken, de_duration, parse_duration};

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
}

impl VdcArgs {
    pub fn resolve(self) -> Result<VdcConfig, ConfigError> {
        let file: VdcArgs = file::load(self.config.as_deref())?;
        let a = prefer_cli!(self, file, [listen, database_url, cluster_token, sync_interval, offline_after, site_root]);
        let Some(cluster_token) = a.cluster_token else {
            return Err(ConfigError::Invalid(
                "the vdc needs a cluster token (--cluster-token, QUANTIX_CLUSTER_TOKEN or cluster_token in the config \
                 file): nodes must present it, and the vdc presents it to them"
                    .into(),
            ));
        };
        Ok(VdcConfig {
            listen: a.listen.unwrap_or_else(|| "127.0.0.1:3000".parse().expect("valid address")),
            database_url: a.database_url.unwrap_or_else(|| "sqlite://data/vdc/catalogue.db".into()),
            cluster_token,
            sync_interval: a.sync_interval.unwrap_or(super::node::DEFAULT_SYNC_INTERVAL),
            offline_after: a.offline_after.unwrap_or(Duration::from_secs(45)),
            site_root: a.site_root.unwrap_or_else(super::default_site_root),
        })
    }
}
