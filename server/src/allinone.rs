//! The all-in-one mode: a vdc and one node in one process, SQLite, one pool `local` under the data
//! directory. The node still talks to the vdc over real HTTP, with a generated cluster token.

use std::{
    io::Write,
    net::SocketAddr,
    path::{Path, PathBuf},
    time::Duration,
};

use clap::Args;
use tokio_util::sync::CancellationToken;

use crate::auth::bootstrap::{InitialAdmin, PASSWORD_FILE, write_password_file};
use crate::config::{AccessConfig, ClusterToken, NodeConfig, PoolSpec, VdcConfig, parse_duration};
use crate::http::client::PeerTrust;
use crate::node::NodeServer;
use crate::startup::{StartError, ensure_dir};
use crate::vdc::VdcServer;

/// Flags of the all-in-one mode (`quantix-iso` with no subcommand, or `quantix-iso all-in-one`).
#[derive(Args, Debug, Clone, Default)]
pub struct AllInOneArgs {
    /// Directory for everything: the catalogue (vdc/), the node's metadata (node/), the pool `local`
    /// (pools/local/iso/) and the generated cluster token. Created on first start. [default: ./data]
    #[arg(long, env = "QUANTIX_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// Address of the vdc (image library, VM wizard). [default: 127.0.0.1:3000]
    #[arg(long, env = "QUANTIX_VDC_LISTEN", value_name = "ADDR")]
    pub vdc_listen: Option<SocketAddr>,

    /// Address of the node (host UI, uploads). [default: 127.0.0.1:3001]
    #[arg(long, env = "QUANTIX_NODE_LISTEN", value_name = "ADDR")]
    pub node_listen: Option<SocketAddr>,

    /// How often the node sends its full inventory to the vdc. [default: 5m]
    #[arg(long, env = "QUANTIX_SYNC_INTERVAL", value_name = "DURATION", value_parser = parse_duration)]
    pub sync_interval: Option<Duration>,

    /// Directory holding the built web UI. [default: $LEPTOS_SITE_ROOT or target/site]
    #[arg(long, env = "QUANTIX_SITE_ROOT", value_name = "DIR")]
    pub site_root: Option<PathBuf>,
}

/// The token kept in the data directory, made on first start (readable by the owner only).
fn cluster_token(data_dir: &Path) -> Result<ClusterToken, StartError> {
    let path = data_dir.join("cluster-token");
    let io_err = |source| StartError::Dir { path: path.clone(), source };
    match std::fs::read_to_string(&path) {
        Ok(text) => ClusterToken::new(text).map_err(|e| StartError::Invalid(format!("{}: {e}", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            use std::os::unix::fs::OpenOptionsExt;
            let token = ClusterToken::generate();
            let mut f =
                std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&path).map_err(io_err)?;
            f.write_all(token.expose().as_bytes()).map_err(io_err)?;
            Ok(token)
        }
        Err(e) => Err(io_err(e)),
    }
}

/// The first admin's password, the same on both roles: the one in `<data>/initial-admin-password` if an
/// earlier start wrote it, else a new one (written there only if a role is created with it).
fn initial_password(file: &Path) -> Result<(String, bool), StartError> {
    match crate::config::access::read_initial_password(file) {
        Ok(p) => Ok((p, false)),
        Err(_) if !file.exists() => Ok((crate::auth::secret::random_password(), true)),
        Err(e) => Err(e.into()),
    }
}

pub async fn run(args: AllInOneArgs, shutdown: CancellationToken) -> Result<(), StartError> {
    let data = args.data_dir.unwrap_or_else(|| PathBuf::from("data"));
    ensure_dir(&data)?;
    let token = cluster_token(&data)?;
    let password_file = data.join(PASSWORD_FILE);
    let (password, fresh) = initial_password(&password_file)?;
    let access =
        |dir: &Path| AccessConfig { initial_admin: InitialAdmin::Given(password.clone()), ..AccessConfig::local(dir) };
    let site_root = args.site_root.unwrap_or_else(crate::config::default_site_root);
    let sync_interval = args.sync_interval.unwrap_or(crate::config::node::DEFAULT_SYNC_INTERVAL);
    let vdc = VdcServer::build(VdcConfig {
        listen: args.vdc_listen.unwrap_or_else(|| "127.0.0.1:3000".parse().expect("address")),
        database_url: format!("sqlite://{}", data.join("vdc").join("catalogue.db").display()),
        cluster_token: token.clone(),
        sync_interval,
        offline_after: Duration::from_secs(45),
        site_root: site_root.clone(),
        access: access(&data.join("vdc")),
        data_dir: data.join("vdc"),
        node_trust: PeerTrust::default(),
        live: Default::default(),
    })
    .await?;
    let vdc_addr = vdc.local_addr();
    let node = NodeServer::build(NodeConfig {
        listen: args.node_listen.unwrap_or_else(|| "127.0.0.1:3001".parse().expect("address")),
        node_id: None,
        node_name: None,
        data_dir: data.join("node"),
        pools: vec![PoolSpec {
            id: app::model::PoolId::parse("local").expect("a valid pool id"),
            name: Some("Local".into()),
            path: data.join("pools").join("local"),
            quota: None,
        }],
        vdc_url: Some(format!("http://{vdc_addr}")),
        advertise_url: None,
        cluster_token: Some(token),
        sync_interval,
        watch_settle: crate::config::node::DEFAULT_WATCH_SETTLE,
        site_root,
        access: access(&data.join("node")),
        vdc_trust: PeerTrust::default(),
        content_detection: true,
        upload_expiry: crate::config::node::DEFAULT_UPLOAD_EXPIRY,
        download_allow: Vec::new(),
        download_idle_timeout: crate::config::node::DEFAULT_DOWNLOAD_IDLE_TIMEOUT,
    })
    .await?;
    if fresh && (vdc.created_admin() || node.created_admin()) {
        write_password_file(&password_file, &password)
            .map_err(|e| StartError::open("the first admin's password file", e))?;
    }
    if password_file.exists() {
        tracing::warn!(
            file = %password_file.display(),
            "sign in as \"admin\" with the password in this file (on both the library and the host UI), then change it"
        );
    }
    tracing::info!(
        "Quantix ISO all-in-one: image library http://{vdc_addr}/images · host UI http://{}/images · data in {}",
        node.local_addr(),
        data.display()
    );
    // Either role failing stops both.
    let (vdc_done, node_done) = (shutdown.clone(), shutdown.clone());
    let (v, n) = tokio::join!(
        async move {
            let r = vdc.run(vdc_done.clone()).await;
            vdc_done.cancel();
            r
        },
        async move {
            let r = node.run(node_done.clone()).await;
            node_done.cancel();
            r
        }
    );
    v.and(n)
}
