//! Spawning nodes and vdcs in-process, and typed request helpers.

pub mod events;
pub mod iso_image;
pub mod multipart;
pub mod origin;
pub mod ova_image;
pub mod process;
pub mod proxy;
pub mod vdc;

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    time::Duration,
};

use app::model::{ErrorBody, FolderListing, ImageList, IsoMetadata, PoolList};
use server::{
    auth::bootstrap::InitialAdmin,
    config::{AccessConfig, NodeConfig, PoolSpec},
    node::NodeServer,
};
use tempfile::TempDir;
use tokio_util::sync::CancellationToken;

/// Removes a SQLite database and its WAL files, as if its disk were lost.
pub fn remove_sqlite(db: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
}

/// A test that cannot run here says so; under CI (`CI=true`) that is a failure, never a silent pass.
pub fn skip(why: &str) {
    assert!(std::env::var("CI").as_deref() != Ok("true"), "CI=true, yet this test cannot run: {why}");
    eprintln!("skipped: {why}");
}

pub fn init_logs() {
    if std::env::var_os("TEST_LOG").is_some() {
        server::telemetry::init(server::telemetry::LogFormat::Text);
    }
}

/// A pool to give a test node: id and optional quota.
pub struct PoolOpt {
    pub id: &'static str,
    pub quota: Option<u64>,
}

pub fn pool(id: &'static str) -> PoolOpt {
    PoolOpt { id, quota: None }
}

pub struct TestNode {
    pub url: String,
    pub addr: SocketAddr,
    /// Signed in as the first admin, with [`token`](Self::token).
    pub client: reqwest::Client,
    pub token: String,
    /// Every API route with its declared access.
    pub routes: std::sync::Arc<server::auth::routes::RouteTable>,
    pub root: TempDir,
    pub config: NodeConfig,
    shutdown: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

pub fn node_config(root: &TempDir, pools: &[PoolOpt]) -> NodeConfig {
    NodeConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        node_id: Some("test-node".parse().unwrap()),
        node_name: Some("Test node".into()),
        data_dir: root.path().join("db"),
        pools: pools
            .iter()
            .map(|p| PoolSpec {
                id: p.id.parse().unwrap(),
                name: Some(format!("Pool {}", p.id)),
                path: root.path().join("pools").join(p.id),
                quota: p.quota,
            })
            .collect(),
        vdc_url: None,
        advertise_url: None,
        cluster_token: None,
        sync_interval: Duration::from_secs(300),
        watch_settle: Duration::from_millis(200),
        site_root: root.path().join("no-site"),
        access: access(&root.path().join("db")),
        vdc_trust: Default::default(),
        content_detection: true,
        upload_expiry: server::config::node::DEFAULT_UPLOAD_EXPIRY,
        download_allow: Vec::new(),
        download_idle_timeout: server::config::node::DEFAULT_DOWNLOAD_IDLE_TIMEOUT,
    }
}

/// The first admin's password in every test role.
pub const ADMIN_PASSWORD: &str = "integration-test-admin-password";

/// A file holding [`ADMIN_PASSWORD`], for real processes (`--initial-admin-password-file`).
pub fn admin_password_file() -> PathBuf {
    let path = std::env::temp_dir().join(format!("quantix-test-admin-password-{}", std::process::id()));
    if !path.exists() {
        std::fs::write(&path, format!("{ADMIN_PASSWORD}\n")).unwrap();
    }
    path
}

/// Access settings of a test role: plain HTTP, the first admin with [`ADMIN_PASSWORD`], and sign-in
/// throttling loose enough for suites that all sign in from 127.0.0.1.
pub fn access(dir: &std::path::Path) -> AccessConfig {
    AccessConfig {
        initial_admin: InitialAdmin::Given(ADMIN_PASSWORD.into()),
        max_failures: 50,
        ..AccessConfig::local(dir)
    }
}

/// A browser's session: the cookie (`name=value`) and the CSRF token its writes carry.
#[derive(Debug, Clone)]
pub struct Session {
    pub cookie: String,
    pub csrf: String,
}

/// Signs in through `POST /api/v1/auth/login`; the error answer when refused.
pub async fn sign_in(url: &str, user: &str, password: &str) -> Result<Session, (u16, serde_json::Value)> {
    let resp = test_client()
        .build()
        .unwrap()
        .post(format!("{url}/api/v1/auth/login"))
        .json(&serde_json::json!({ "username": user, "password": password }))
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let cookie = resp
        .headers()
        .get(reqwest::header::SET_COOKIE)
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned());
    let body: serde_json::Value = resp.json().await.unwrap_or_default();
    match (status, cookie) {
        (200, Some(cookie)) => Ok(Session { cookie, csrf: body["csrf_token"].as_str().unwrap().to_owned() }),
        _ => Err((status, body)),
    }
}

/// The tests' own clients talk to the roles they spawned, some over HTTPS with a self-signed
/// certificate: they do not check it (what the roles' own clients check is tested in `tls.rs`).
pub fn test_client() -> reqwest::ClientBuilder {
    reqwest::Client::builder().danger_accept_invalid_certs(true)
}

/// A client that sends `token` with every request.
pub fn bearer_client(token: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(reqwest::header::AUTHORIZATION, format!("Bearer {token}").parse().unwrap());
    test_client().default_headers(headers).build().unwrap()
}

/// `GET /api/v1/auth/me` with the session's cookie.
pub async fn me(url: &str, session: &Session) -> serde_json::Value {
    let resp = test_client().build().unwrap().get(format!("{url}/api/v1/auth/me")).header("cookie", &session.cookie);
    resp.send().await.unwrap().json().await.unwrap()
}

/// A new API token of the session's user with `role`.
pub async fn create_token(url: &str, session: &Session, role: &str) -> String {
    let resp = test_client()
        .build()
        .unwrap()
        .post(format!("{url}/api/v1/tokens"))
        .header("cookie", &session.cookie)
        .header("x-csrf-token", &session.csrf)
        .json(&serde_json::json!({ "name": format!("test-{role}"), "role": role }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let body: serde_json::Value = resp.json().await.unwrap();
    body["token"].as_str().unwrap().to_owned()
}

/// An API token of the first admin.
pub async fn admin_token(url: &str) -> String {
    let session = sign_in(url, "admin", ADMIN_PASSWORD).await.expect("the first admin signs in");
    create_token(url, &session, "admin").await
}

impl TestNode {
    pub async fn spawn(pools: &[PoolOpt]) -> TestNode {
        let root = tempfile::tempdir().unwrap();
        let config = node_config(&root, pools);
        Self::spawn_with(root, config).await
    }

    pub async fn spawn_with(root: TempDir, config: NodeConfig) -> TestNode {
        init_logs();
        let server = NodeServer::build(config.clone()).await.expect("node starts");
        let addr = server.local_addr();
        let routes = server.route_table();
        let shutdown = CancellationToken::new();
        let token = shutdown.clone();
        let task = tokio::spawn(async move {
            server.run(token).await.expect("node runs");
        });
        let url = format!("http://{addr}");
        let token = admin_token(&url).await;
        TestNode { url, addr, client: bearer_client(&token), token, routes, root, config, shutdown, task }
    }

    /// Stops the node and waits until it has let go of its database.
    pub async fn stop(self) -> (TempDir, NodeConfig) {
        self.shutdown.cancel();
        self.task.await.unwrap();
        (self.root, self.config)
    }

    pub fn iso_dir(&self, pool: &str) -> PathBuf {
        self.root.path().join("pools").join(pool).join("iso")
    }

    /// Names of the files in a pool's `iso/` directory, sorted (temporary uploads included).
    pub fn files(&self, pool: &str) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.iso_dir(pool))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    pub async fn list(&self, query: &str) -> ImageList {
        get_json(&self.client, &format!("{}/api/v1/images?{query}", self.url)).await
    }

    pub async fn folders(&self) -> FolderListing {
        get_json(&self.client, &format!("{}/api/v1/images/folders", self.url)).await
    }

    pub async fn pools(&self) -> PoolList {
        get_json(&self.client, &format!("{}/api/v1/storage/pools", self.url)).await
    }

    /// Uploads `data` as `filename`; returns the status and the raw JSON answer.
    pub async fn upload(&self, query: &str, filename: &str, data: Vec<u8>) -> (u16, serde_json::Value) {
        let part = reqwest::multipart::Part::bytes(data).file_name(filename.to_owned());
        // Names go out byte for byte, hostile ones included.
        let form = reqwest::multipart::Form::new().percent_encode_noop().part("file", part);
        let resp = self
            .client
            .post(format!("{}/api/v1/storage/upload?{query}", self.url))
            .multipart(form)
            .send()
            .await
            .unwrap();
        (resp.status().as_u16(), resp.json().await.unwrap())
    }

    pub async fn upload_ok(&self, query: &str, filename: &str, data: Vec<u8>) -> IsoMetadata {
        let (status, body) = self.upload(query, filename, data).await;
        assert_eq!(status, 201, "upload of {filename} failed: {body}");
        serde_json::from_value(body).unwrap()
    }

    pub async fn post_json(&self, path: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
        let resp = self.client.post(format!("{}{path}", self.url)).json(&body).send().await.unwrap();
        (resp.status().as_u16(), resp.json().await.unwrap_or(serde_json::Value::Null))
    }

    pub async fn delete(&self, path: &str) -> (u16, serde_json::Value) {
        let resp = self.client.delete(format!("{}{path}", self.url)).send().await.unwrap();
        (resp.status().as_u16(), resp.json().await.unwrap_or(serde_json::Value::Null))
    }

    pub async fn get(&self, path: &str) -> (u16, serde_json::Value) {
        let resp = self.client.get(format!("{}{path}", self.url)).send().await.unwrap();
        (resp.status().as_u16(), resp.json().await.unwrap_or(serde_json::Value::Null))
    }
}

pub async fn get_json<T: serde::de::DeserializeOwned>(client: &reqwest::Client, url: &str) -> T {
    let resp = client.get(url).send().await.unwrap();
    let status = resp.status();
    let text = resp.text().await.unwrap();
    assert!(status.is_success(), "GET {url}: {status} {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("GET {url}: {e}: {text}"))
}

/// Asserts an error answer: the status, the shared body shape, and its code.
pub fn assert_error(status: u16, body: &serde_json::Value, want_status: u16, want_code: &str) {
    assert_eq!(status, want_status, "unexpected status; body: {body}");
    let parsed: ErrorBody =
        serde_json::from_value(body.clone()).unwrap_or_else(|e| panic!("not an error body ({e}): {body}"));
    assert_eq!(parsed.error, want_code, "{body}");
    assert!(parsed.message.len() > 10 && parsed.message.ends_with('.'), "message should be a sentence: {body}");
}

/// Deterministic pseudo-random bytes (xorshift), so large bodies need no memory to reproduce.
pub fn pattern(seed: u64, len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len);
    let mut x = seed | 1;
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}

pub fn sha256_wire(data: &[u8]) -> String {
    use sha2::Digest;
    format!("sha256:{}", hex::encode(sha2::Sha256::digest(data)))
}

/// Polls `check` until it holds or `timeout` passes.
pub async fn eventually<F, Fut>(timeout: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if check().await {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}
