//! A vdc in-process on a fresh database: SQLite always, PostgreSQL when TEST_DATABASE_URL is set.

use std::time::Duration;

use app::model::{
    FolderListing, FolderPath, ImageChange, ImageEventType, ImageFormat, ImageList, IsoMetadata, NodeList, NodeRef,
    NotifyImageChangeRequest, NotifyImageChangesRequest, SyncNodeImagesRequest,
};
use server::{
    config::{ClusterToken, VdcConfig},
    vdc::VdcServer,
};
use sqlx::{Connection, Executor, PgConnection};
use tempfile::TempDir;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

pub const TOKEN: &str = "integration-test-cluster-token";

pub fn token() -> ClusterToken {
    ClusterToken::new(TOKEN).unwrap()
}

/// A database for one test.
pub struct TestDb {
    pub url: String,
    _dir: Option<TempDir>,
    postgres: Option<(String, String)>,
}

impl TestDb {
    pub fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("catalogue.db").display());
        TestDb { url, _dir: Some(dir), postgres: None }
    }

    /// A directory for the vdc's own files (its data dir).
    pub fn dir(&self) -> std::path::PathBuf {
        match &self._dir {
            Some(d) => d.path().to_owned(),
            None => std::env::temp_dir().join(format!("quantix-vdc-{}", self.url.rsplit('/').next().unwrap_or("pg"))),
        }
    }

    /// A new database in the PostgreSQL of TEST_DATABASE_URL, or `None` (the test is skipped) without it.
    pub async fn postgres() -> Option<TestDb> {
        let admin = std::env::var("TEST_DATABASE_URL").ok()?;
        let name = format!("quantix_test_{}", Uuid::new_v4().simple());
        let mut conn = PgConnection::connect(&admin).await.expect("TEST_DATABASE_URL answers");
        conn.execute(format!("CREATE DATABASE {name}").as_str()).await.unwrap();
        let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
        Some(TestDb { url: format!("{base}/{name}"), _dir: None, postgres: Some((admin, name)) })
    }

    /// Empties the database as if it were lost: SQLite's files removed, PostgreSQL's database dropped
    /// and created again. The catalogue must be closed.
    pub async fn wipe(&self) {
        match &self.postgres {
            None => {
                super::remove_sqlite(std::path::Path::new(self.url.strip_prefix("sqlite://").expect("a SQLite URL")));
            }
            Some((admin, name)) => {
                let mut conn = PgConnection::connect(admin).await.unwrap();
                conn.execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str()).await.unwrap();
                conn.execute(format!("CREATE DATABASE {name}").as_str()).await.unwrap();
            }
        }
    }

    pub async fn drop_db(self) {
        if let Some((admin, name)) = &self.postgres {
            let mut conn = PgConnection::connect(admin).await.unwrap();
            conn.execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str()).await.unwrap();
        }
    }
}

/// Runs a test body on SQLite, and on PostgreSQL when TEST_DATABASE_URL is set (saying so when not).
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test]
                async fn sqlite() {
                    let db = $crate::support::vdc::TestDb::sqlite();
                    super::$name(&db).await;
                }

                #[tokio::test]
                async fn postgres() {
                    let Some(db) = $crate::support::vdc::TestDb::postgres().await else {
                        $crate::support::skip("TEST_DATABASE_URL is not set, so the PostgreSQL suite does not run");
                        return;
                    };
                    super::$name(&db).await;
                    db.drop_db().await;
                }
            }
        )*
    };
}

pub struct TestVdc {
    pub url: String,
    /// Signed in as the first admin.
    pub client: reqwest::Client,
    /// Every API route with its declared access.
    pub routes: std::sync::Arc<server::auth::routes::RouteTable>,
    /// Its catalogue's id among the replicas sharing one database.
    pub replica: Uuid,
    /// The credentials nodes registered through [`TestVdc::node_credential`], by node id.
    credentials: std::sync::Mutex<std::collections::HashMap<String, String>>,
    shutdown: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

/// The settings of a test vdc on `db`: port 0, the test admin, the test cluster token.
pub fn config(db: &TestDb) -> VdcConfig {
    VdcConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        database_url: db.url.clone(),
        cluster_token: token(),
        sync_interval: Duration::from_secs(300),
        offline_after: Duration::from_secs(45),
        site_root: "no-site".into(),
        access: super::access(&db.dir()),
        data_dir: db.dir(),
        node_trust: Default::default(),
        live: Default::default(),
    }
}

impl TestVdc {
    pub async fn spawn(db: &TestDb) -> TestVdc {
        Self::spawn_with(db, |_| {}).await
    }

    /// A vdc serving HTTPS; its own client trusts its certificate without checking it.
    pub async fn spawn_tls(db: &TestDb, tls: server::http::tls::TlsSource) -> TestVdc {
        Self::start(db, |c| c.access.tls = Some(tls), "https").await
    }

    pub async fn spawn_with(db: &TestDb, adjust: impl FnOnce(&mut VdcConfig)) -> TestVdc {
        Self::start(db, adjust, "http").await
    }

    async fn start(db: &TestDb, adjust: impl FnOnce(&mut VdcConfig), scheme: &str) -> TestVdc {
        super::init_logs();
        let mut config = config(db);
        adjust(&mut config);
        let server = VdcServer::build(config).await.expect("vdc starts");
        let url = format!("{scheme}://{}", server.local_addr());
        let routes = server.route_table();
        let replica = server.state().catalogue.replica();
        let shutdown = CancellationToken::new();
        let token = shutdown.clone();
        let task = tokio::spawn(async move { server.run(token).await.expect("vdc runs") });
        let client = super::bearer_client(&super::admin_token(&url).await);
        TestVdc { url, client, routes, replica, credentials: Default::default(), shutdown, task }
    }

    pub async fn stop(self) {
        self.shutdown.cancel();
        self.task.await.unwrap();
    }

    async fn call(&self, req: reqwest::RequestBuilder) -> (u16, serde_json::Value) {
        let resp = req.send().await.unwrap();
        (resp.status().as_u16(), resp.json().await.unwrap_or(serde_json::Value::Null))
    }

    /// As the admin; the sync endpoints as the node the body names, with its own credential
    /// (registered on first use), and `RegisterNode` with the cluster token.
    pub async fn post(&self, path: &str, body: &impl serde::Serialize) -> (u16, serde_json::Value) {
        let req = self.client.post(format!("{}{path}", self.url)).json(body);
        let req = if path == app::model::sync_paths::REGISTER_NODE {
            req.bearer_auth(TOKEN)
        } else if path.starts_with("/limiquantix") {
            // A body naming no valid node still gets a credential, so that what it sends is what is judged.
            let named = serde_json::to_value(body).unwrap()["node_id"].as_str().map(str::to_owned);
            let node = named.filter(|n| app::model::NodeId::parse(n).is_ok()).unwrap_or_else(|| "unnamed".into());
            req.bearer_auth(self.node_credential(&node).await)
        } else {
            req
        };
        self.call(req).await
    }

    /// The credential of node `node_id`, registering it with the cluster token the first time.
    pub async fn node_credential(&self, node_id: &str) -> String {
        if let Some(c) = self.credentials.lock().unwrap().get(node_id) {
            return c.clone();
        }
        let resp = reqwest::Client::new()
            .post(format!("{}{}", self.url, app::model::sync_paths::REGISTER_NODE))
            .bearer_auth(TOKEN)
            .json(&serde_json::json!({ "node_id": node_id }))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 201, "node {node_id} registers");
        let credential = resp.json::<serde_json::Value>().await.unwrap()["credential"].as_str().unwrap().to_owned();
        self.credentials.lock().unwrap().insert(node_id.to_owned(), credential.clone());
        credential
    }

    pub async fn get(&self, path: &str) -> (u16, serde_json::Value) {
        self.call(self.client.get(format!("{}{path}", self.url))).await
    }

    pub async fn delete(&self, path: &str) -> (u16, serde_json::Value) {
        self.call(self.client.delete(format!("{}{path}", self.url))).await
    }

    /// Sends one change; returns `applied`.
    pub async fn notify(&self, node: &NodeRef, image: &IsoMetadata, event: ImageEventType) -> u64 {
        let req =
            NotifyImageChangeRequest { node: node.clone(), image: image.clone(), event_type: event, timestamp: 1 };
        let (s, b) = self.post("/limiquantix.storage.v1.ImageService/NotifyImageChange", &req).await;
        assert_eq!(s, 200, "{b}");
        b["applied"].as_u64().unwrap()
    }

    pub async fn notify_batch(&self, node: &NodeRef, events: Vec<(IsoMetadata, ImageEventType)>) -> serde_json::Value {
        let req = NotifyImageChangesRequest {
            node: node.clone(),
            events: events
                .into_iter()
                .map(|(image, event_type)| ImageChange { image, event_type, timestamp: 1 })
                .collect(),
        };
        let (s, b) = self.post("/limiquantix.storage.v1.ImageService/NotifyImageChanges", &req).await;
        assert_eq!(s, 200, "{b}");
        b
    }

    pub async fn full_sync(&self, node: &NodeRef, as_of: u64, images: Vec<IsoMetadata>) -> serde_json::Value {
        let req =
            SyncNodeImagesRequest { node: node.clone(), as_of_revision: as_of, images, timestamp: 1, scope: None };
        let (s, b) = self.post("/limiquantix.storage.v1.ImageService/SyncNodeImages", &req).await;
        assert_eq!(s, 200, "{b}");
        b
    }

    pub async fn list(&self, query: &str) -> ImageList {
        let (s, b) = self.get(&format!("/api/v1/images?{query}")).await;
        assert_eq!(s, 200, "{b}");
        serde_json::from_value(b).unwrap()
    }

    pub async fn folders(&self) -> FolderListing {
        let (s, b) = self.get("/api/v1/images/folders").await;
        assert_eq!(s, 200, "{b}");
        serde_json::from_value(b).unwrap()
    }

    pub async fn nodes(&self) -> NodeList {
        let (s, b) = self.get("/api/v1/nodes").await;
        assert_eq!(s, 200, "{b}");
        serde_json::from_value(b).unwrap()
    }
}

pub fn node_ref(id: &str) -> NodeRef {
    NodeRef { node_id: id.parse().unwrap(), node_name: Some(format!("Node {id}")), node_api_url: None }
}

/// An image as a node would report it.
pub fn image(id: Uuid, filename: &str, folder: &str, revision: u64) -> IsoMetadata {
    let format = ImageFormat::from_filename(filename).unwrap_or(ImageFormat::Iso);
    IsoMetadata {
        id,
        name: filename.rsplit_once('.').map(|(s, _)| s).unwrap_or(filename).to_owned(),
        filename: filename.to_owned(),
        folder_path: FolderPath::parse(folder).unwrap(),
        size_bytes: 1000 + revision,
        format,
        storage_pool_id: Some("local".parse().unwrap()),
        path: format!("/data/iso/{filename}"),
        checksum: Some(format!("sha256:{}", "a".repeat(64))),
        os_family: None,
        os_distribution: None,
        os_version: None,
        created_at: 1_769_000_000,
        updated_at: 1_769_000_000 + revision as i64,
        revision,
        node_id: None,
        ..IsoMetadata::default()
    }
}

pub fn filenames(list: &ImageList) -> Vec<String> {
    list.images.iter().map(|i| i.filename.clone()).collect()
}

/// The settings of a test node with `pools` that syncs to `vdc` (the test cluster token), its root dir.
pub fn node_config_for(vdc: &TestVdc, pools: &[super::PoolOpt]) -> (TempDir, server::config::NodeConfig) {
    let root = tempfile::tempdir().unwrap();
    let mut config = super::node_config(&root, pools);
    config.vdc_url = Some(vdc.url.clone());
    config.cluster_token = Some(token());
    (root, config)
}

/// A test node with `pools` syncing to `vdc`.
pub async fn node_syncing_to(vdc: &TestVdc, pools: &[super::PoolOpt]) -> super::TestNode {
    let (root, config) = node_config_for(vdc, pools);
    super::TestNode::spawn_with(root, config).await
}
