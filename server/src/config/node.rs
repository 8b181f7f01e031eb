//! Settings of the node role.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use app::model::NodeId;
use clap::Args;
use serde::Deserialize;

use super::access::{AccessConfig, access_args};
use super::file::{self, ConfigError, prefer_cli};
use super::values::{ClusterToken, PoolSpec, de_duration, de_short_duration, parse_duration, parse_short_duration};
use crate::http::client::PeerTrust;
use crate::node::download::Cidr;

access_args! {
/// Flags of `quantix-iso node`. Each is also an environment variable and a key of the `--config` file.
#[derive(Args, Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeArgs {
    /// TOML file with any of the settings below (keys as the flag names, with `_` for `-`; pools as
    /// `[[pools]]` tables with `id`, `name`, `path` and an optional `quota`).
    #[arg(long, env = "QUANTIX_NODE_CONFIG", value_name = "FILE")]
    #[serde(skip)]
    pub config: Option<PathBuf>,

    /// Address the node API and host UI listen on. [default: 127.0.0.1:3001]
    #[arg(long, env = "QUANTIX_NODE_LISTEN", value_name = "ADDR")]
    pub listen: Option<SocketAddr>,

    /// Stable identifier of this node in the cluster (letters, digits, `.`, `_`, `-`). [default: generated
    /// once and kept in the data directory]
    #[arg(long, env = "QUANTIX_NODE_ID", value_name = "ID")]
    pub node_id: Option<NodeId>,

    /// Name shown for this node in the UIs. [default: the host name]
    #[arg(long, env = "QUANTIX_NODE_NAME", value_name = "NAME")]
    pub node_name: Option<String>,

    /// Directory for the node's metadata database and identity. [default: ./data/node]
    #[arg(long, env = "QUANTIX_NODE_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// A storage pool, as ID[:NAME]=PATH; images live in PATH/iso/. Repeat for several pools (in the
    /// environment: comma-separated). At least one is required.
    #[arg(long = "pool", env = "QUANTIX_NODE_POOLS", value_name = "ID[:NAME]=PATH", value_delimiter = ',')]
    #[serde(default)]
    pub pools: Vec<PoolSpec>,

    /// Base URL of the control plane (vdc) to sync image changes to, e.g. http://vdc.example:3000.
    /// [default: none: the node runs standalone]
    #[arg(long, env = "QUANTIX_VDC_URL", value_name = "URL")]
    pub vdc_url: Option<String>,

    /// Base URL at which the vdc reaches this node's API (to forward moves and deletes).
    /// [default: http://<listen address>]
    #[arg(long, env = "QUANTIX_NODE_ADVERTISE_URL", value_name = "URL")]
    pub advertise_url: Option<String>,

    /// Shared secret of the cluster: sent with every call to the vdc and required on calls from it.
    #[arg(long, env = "QUANTIX_CLUSTER_TOKEN", value_name = "TOKEN", hide_env_values = true)]
    pub cluster_token: Option<ClusterToken>,

    /// How often the node sends its full inventory to the vdc (anti-entropy), e.g. 300s, 5m.
    /// [default: 5m]
    #[arg(long, env = "QUANTIX_SYNC_INTERVAL", value_name = "DURATION", value_parser = parse_duration)]
    #[serde(default, deserialize_with = "de_duration")]
    pub sync_interval: Option<Duration>,

    /// How long a file copied into a pool must stay unchanged after its writer closed it before it is
    /// registered (a file nobody closed waits 20 times as long). [default: 500ms]
    #[arg(long, env = "QUANTIX_WATCH_SETTLE", value_name = "DURATION", value_parser = parse_short_duration)]
    #[serde(default, deserialize_with = "de_short_duration")]
    pub watch_settle: Option<Duration>,

    /// Directory holding the built web UI (pkg/, favicon.ico). [default: $LEPTOS_SITE_ROOT or target/site]
    #[arg(long, env = "QUANTIX_SITE_ROOT", value_name = "DIR")]
    pub site_root: Option<PathBuf>,

    /// Read what is inside each image (an ISO's volume descriptors, an OVA's OVF) for its OS, boot modes
    /// and VM hardware; `off` leaves only the filename's guess (to measure what detection costs).
    /// [default: on]
    #[arg(long, env = "QUANTIX_CONTENT_DETECTION", value_name = "on|off", value_parser = parse_switch)]
    pub content_detection: Option<bool>,

    /// How long a resumable (tus) upload that receives no byte is kept before its staging file is removed
    /// and its room freed, e.g. 24h, 30m. [default: 24h]
    #[arg(long, env = "QUANTIX_UPLOAD_EXPIRY", value_name = "DURATION", value_parser = parse_duration)]
    #[serde(default, deserialize_with = "de_duration")]
    pub upload_expiry: Option<Duration>,

    /// An address range downloads from a URL may reach although it is refused by default (loopback,
    /// link-local, private and other non-public ranges), as CIDR, e.g. 10.20.0.0/16 for a local mirror.
    /// Repeat for several (in the environment: comma-separated).
    #[arg(long = "download-allow", env = "QUANTIX_DOWNLOAD_ALLOW", value_name = "CIDR", value_delimiter = ',')]
    #[serde(default)]
    pub download_allow: Vec<Cidr>,

    /// How long a download waits for the server (to connect, to answer, for the next bytes) before it
    /// counts the connection as dropped, e.g. 60s. [default: 60s]
    #[arg(long, env = "QUANTIX_DOWNLOAD_IDLE_TIMEOUT", value_name = "DURATION", value_parser = parse_duration)]
    #[serde(default, deserialize_with = "de_duration")]
    pub download_idle_timeout: Option<Duration>,

    /// Trust the vdc's HTTPS certificate when this CA (PEM) signed it, besides the system's roots.
    #[arg(long, env = "QUANTIX_VDC_CA", value_name = "FILE")]
    pub vdc_ca: Option<PathBuf>,

    /// Trust exactly the vdc certificate with this SHA-256 fingerprint (hex, colons optional), as a
    /// self-signed vdc logs it; nothing else is checked.
    #[arg(long, env = "QUANTIX_VDC_CERT_SHA256", value_name = "HEX")]
    pub vdc_cert_sha256: Option<String>,
}
}

/// `AB:CD:…` or `abcd…`: 32 bytes.
fn parse_fingerprint(s: &str) -> Result<[u8; 32], ConfigError> {
    let hex_digits: String = s.chars().filter(|c| *c != ':').collect();
    let mut out = [0u8; 32];
    hex::decode_to_slice(hex_digits.trim(), &mut out).map_err(|_| {
        ConfigError::Invalid(format!("--vdc-cert-sha256 {s:?} is not a SHA-256 fingerprint (64 hex digits)"))
    })?;
    Ok(out)
}

/// The node's resolved settings.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    pub listen: SocketAddr,
    pub node_id: Option<NodeId>,
    pub node_name: Option<String>,
    pub data_dir: PathBuf,
    pub pools: Vec<PoolSpec>,
    pub vdc_url: Option<String>,
    pub advertise_url: Option<String>,
    pub cluster_token: Option<ClusterToken>,
    pub sync_interval: Duration,
    pub watch_settle: Duration,
    pub site_root: PathBuf,
    pub access: AccessConfig,
    pub vdc_trust: PeerTrust,
    pub content_detection: bool,
    pub upload_expiry: Duration,
    pub download_allow: Vec<Cidr>,
    pub download_idle_timeout: Duration,
}

pub const DEFAULT_DOWNLOAD_IDLE_TIMEOUT: Duration = Duration::from_secs(60);
pub const DEFAULT_UPLOAD_EXPIRY: Duration = Duration::from_secs(24 * 3600);
pub const DEFAULT_DATA_DIR: &str = "data/node";
pub const DEFAULT_SYNC_INTERVAL: Duration = Duration::from_secs(300);
pub const DEFAULT_WATCH_SETTLE: Duration = Duration::from_millis(500);

impl NodeArgs {
    fn prefer(self, file: NodeArgs) -> NodeArgs {
        let pools_from_file = self.pools.is_empty();
        let allow_from_file = self.download_allow.is_empty();
        let access = file.access_values();
        let mut merged = prefer_cli!(
            self,
            file.clone(),
            [
                listen,
                node_id,
                node_name,
                data_dir,
                vdc_url,
                advertise_url,
                cluster_token,
                sync_interval,
                watch_settle,
                site_root,
                content_detection,
                upload_expiry,
                download_idle_timeout,
                vdc_ca,
                vdc_cert_sha256
            ]
        );
        merged.prefer_access(access);
        if pools_from_file {
            merged.pools = file.pools;
        }
        if allow_from_file {
            merged.download_allow = file.download_allow;
        }
        merged
    }

    /// Only where the node keeps its data (for `quantix-iso node user …`, which needs no pools).
    pub fn data_dir(self) -> Result<PathBuf, ConfigError> {
        let file: NodeArgs = file::load(self.config.as_deref())?;
        Ok(self.data_dir.or(file.data_dir).unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR)))
    }

    pub fn resolve(self) -> Result<NodeConfig, ConfigError> {
        let file: NodeArgs = file::load(self.config.as_deref())?;
        let a = self.prefer(file);
        if a.pools.is_empty() {
            return Err(ConfigError::Invalid(
                "the node has no storage pool: pass --pool ID=PATH (or QUANTIX_NODE_POOLS, or [[pools]] in the config file)".into(),
            ));
        }
        if a.vdc_url.is_some() && a.cluster_token.is_none() {
            return Err(ConfigError::Invalid(
                "a node that syncs to a vdc needs the cluster token (--cluster-token or QUANTIX_CLUSTER_TOKEN)".into(),
            ));
        }
        let data_dir = a.data_dir.clone().unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
        let vdc_trust = PeerTrust {
            ca: a.vdc_ca.clone(),
            pinned_sha256: a.vdc_cert_sha256.as_deref().map(parse_fingerprint).transpose()?,
        };
        Ok(NodeConfig {
            listen: a.listen.unwrap_or_else(|| "127.0.0.1:3001".parse().expect("valid address")),
            node_id: a.node_id.clone(),
            node_name: a.node_name.clone(),
            access: a.access_values().resolve(&data_dir)?,
            vdc_trust,
            data_dir,
            pools: a.pools,
            vdc_url: a.vdc_url.map(|u| u.trim_end_matches('/').to_owned()),
            advertise_url: a.advertise_url.map(|u| u.trim_end_matches('/').to_owned()),
            cluster_token: a.cluster_token,
            sync_interval: a.sync_interval.unwrap_or(DEFAULT_SYNC_INTERVAL),
            watch_settle: a.watch_settle.unwrap_or(DEFAULT_WATCH_SETTLE),
            site_root: a.site_root.unwrap_or_else(super::default_site_root),
            content_detection: a.content_detection.unwrap_or(true),
            upload_expiry: a.upload_expiry.unwrap_or(DEFAULT_UPLOAD_EXPIRY),
            download_allow: a.download_allow,
            download_idle_timeout: a.download_idle_timeout.unwrap_or(DEFAULT_DOWNLOAD_IDLE_TIMEOUT),
        })
    }
}

/// `on` or `off` (also `true`/`false`).
fn parse_switch(s: &str) -> Result<bool, String> {
    match s.trim() {
        "on" | "true" => Ok(true),
        "off" | "false" => Ok(false),
        other => Err(format!("{other:?} is neither on nor off")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_beat_the_file_and_pools_come_from_either() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("node.toml");
        std::fs::write(
            &path,
            r#"
listen = "0.0.0.0:9001"
node_name = "from-file"
download_allow = ["10.20.0.0/16", "fd00::/8"]
sync_interval = "2m"
[[pools]]
id = "bulk"
name = "Bulk HDD"
path = "/data/hdd"
quota = "10GiB"
"#,
        )
        .unwrap();
        let cli = NodeArgs { config: Some(path), node_name: Some("from-flag".into()), ..Default::default() };
        let c = cli.resolve().unwrap();
        assert_eq!(c.listen.to_string(), "0.0.0.0:9001");
        assert_eq!(c.node_name.as_deref(), Some("from-flag"));
        assert_eq!(c.sync_interval, Duration::from_secs(120));
        assert_eq!(c.pools[0].quota, Some(10 << 30));
        assert_eq!(c.pools[0].name.as_deref(), Some("Bulk HDD"));
        assert_eq!(c.download_allow, ["10.20.0.0/16".parse().unwrap(), "fd00::/8".parse().unwrap()]);
        assert_eq!(c.download_idle_timeout, DEFAULT_DOWNLOAD_IDLE_TIMEOUT);
    }

    #[test]
    fn unknown_keys_and_missing_pools_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("node.toml");
        std::fs::write(&path, "listne = \"x\"\n").unwrap();
        let err = NodeArgs { config: Some(path), ..Default::default() }.resolve().unwrap_err().to_string();
        assert!(err.contains("listne"), "{err}");
        let err = NodeArgs::default().resolve().unwrap_err().to_string();
        assert!(err.contains("--pool"), "{err}");
    }

    #[test]
    fn a_node_id_that_is_not_valid_is_refused_when_the_config_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("node.toml");
        std::fs::write(&path, "node_id = \"hv 07/../x\"\n[[pools]]\nid = \"p\"\npath = \"/tmp/p\"\n").unwrap();
        let err = NodeArgs { config: Some(path), ..Default::default() }.resolve().unwrap_err().to_string();
        assert!(err.contains("node id"), "{err}");
    }
}
