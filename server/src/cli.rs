//! The command line: `quantix-iso [node|vdc|all-in-one] …`.

use std::{path::PathBuf, process::ExitCode};

use clap::{Parser, Subcommand};
use tokio_util::sync::CancellationToken;

use crate::allinone::{self, AllInOneArgs};
use crate::auth::{self, cli::UserCommand, store::AuthStore};
use crate::config::{NodeArgs, VdcArgs};
use crate::startup::StartError;
use crate::telemetry::{self, LogFormat};
use crate::vdc::catalogue::Catalogue;
use crate::{http, node::NodeServer, vdc::VdcServer};

/// Quantix ISO: ISO/OVA image management for KVM clusters.
///
/// With no subcommand, runs the all-in-one system: a vdc on 127.0.0.1:3000 and a node on 127.0.0.1:3001
/// in one process, data under ./data. Logs go to stderr; set RUST_LOG (e.g. debug) for more.
#[derive(Parser, Debug)]
#[command(name = "quantix-iso", version, args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub all_in_one: AllInOneArgs,
    /// How log lines are written on stderr: `text` for people, `json` (one object a line, with the
    /// request id of each request's lines) for log shippers.
    #[arg(long, global = true, env = "QUANTIX_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run a host daemon (QHCI): storage pools, uploads, file watcher, sync to the vdc, and the host UI.
    /// `node user …` manages its users.
    Node(NodeCommand),
    /// Run the control plane (QvDC): the cluster catalogue, the sync endpoints, the image library and
    /// the VM create wizard. `vdc user …` manages its users.
    Vdc(VdcCommand),
    /// Run a vdc and one node in one process (the default).
    AllInOne(AllInOneArgs),
}

#[derive(clap::Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct NodeCommand {
    #[command(subcommand)]
    pub action: Option<NodeAction>,
    #[command(flatten)]
    pub args: NodeArgs,
}

#[derive(Subcommand, Debug)]
pub enum NodeAction {
    /// Manage the node's users (in its database, under --data-dir).
    User {
        /// The node's TOML config file (for its data_dir).
        #[arg(long, global = true, env = "QUANTIX_NODE_CONFIG", value_name = "FILE")]
        config: Option<PathBuf>,
        /// The node's data directory (the all-in-one's is data/node). [default: ./data/node]
        #[arg(long, global = true, env = "QUANTIX_NODE_DATA_DIR", value_name = "DIR")]
        data_dir: Option<PathBuf>,
        #[command(subcommand)]
        command: UserCommand,
    },
}

#[derive(clap::Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct VdcCommand {
    #[command(subcommand)]
    pub action: Option<VdcAction>,
    #[command(flatten)]
    pub args: VdcArgs,
}

#[derive(Subcommand, Debug)]
pub enum VdcAction {
    /// Manage the vdc's users (in its catalogue database).
    User {
        /// The vdc's TOML config file (for its database_url).
        #[arg(long, global = true, env = "QUANTIX_VDC_CONFIG", value_name = "FILE")]
        config: Option<PathBuf>,
        /// The catalogue database. [default: sqlite://data/vdc/catalogue.db]
        #[arg(long, global = true, env = "QUANTIX_DATABASE_URL", value_name = "URL")]
        database_url: Option<String>,
        #[command(subcommand)]
        command: UserCommand,
    },
}

/// Runs a `user …` command against the database of a role that need not be running.
async fn manage_users(role: &str, store: Result<AuthStore, String>, command: UserCommand) -> Result<(), StartError> {
    let store = store.map_err(|e| StartError::Invalid(format!("cannot open the {role}'s users: {e}")))?;
    let result = auth::cli::run(&store, command).await;
    store.close().await;
    result.map_err(|e| StartError::Invalid(e.to_string()))
}

pub fn main() -> ExitCode {
    tune_allocator();
    let cli = Cli::parse();
    telemetry::init(cli.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("quantix-iso: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("quantix-iso: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), StartError> {
    let shutdown = CancellationToken::new();
    http::serve::cancel_on_signals(shutdown.clone());
    match cli.command.unwrap_or(Command::AllInOne(cli.all_in_one)) {
        Command::Node(NodeCommand { action: Some(NodeAction::User { config, data_dir, command }), .. }) => {
            let dir = NodeArgs { config, data_dir, ..Default::default() }.data_dir()?;
            let db = dir.join("node.db");
            let store = if db.exists() {
                AuthStore::open_sqlite(&db).await.map_err(|e| e.to_string())
            } else {
                Err(format!("{} does not exist: start the node once first (or give --data-dir)", db.display()))
            };
            manage_users("node", store, command).await
        }
        Command::Vdc(VdcCommand { action: Some(VdcAction::User { config, database_url, command }), .. }) => {
            let url = VdcArgs { config, database_url, ..Default::default() }.database_url()?;
            let store = Catalogue::open(&url).await.map(|c| AuthStore::new(c.pool())).map_err(|e| e.to_string());
            manage_users("vdc", store, command).await
        }
        Command::Node(NodeCommand { args, .. }) => NodeServer::build(args.resolve()?).await?.run(shutdown).await,
        Command::Vdc(VdcCommand { args, .. }) => VdcServer::build(args.resolve()?).await?.run(shutdown).await,
        Command::AllInOne(args) => allinone::run(args, shutdown).await,
    }
}

/// Uploads pass through buffers of a few hundred KiB. glibc serves those with mmap/munmap by default,
/// so every buffer costs fresh, zeroed pages (measured: ~10% of an upload's CPU in page faults). Keeping
/// them in the heap, and trimming it less eagerly, makes uploads ~15% faster for a few MiB of RSS.
fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only adjusts allocator parameters; called once before any thread starts.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 4 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 64 << 20);
    }
}
