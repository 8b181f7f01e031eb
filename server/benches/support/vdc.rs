//! A real `quantix-iso vdc` process (the bench profile's build of the binary) on a port of its own, its
//! first admin signed in, and the nodes registered with their own credentials.

use std::{
    collections::HashMap,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use app::model::{ImageChange, ImageEventType, IsoMetadata, NodeRef, NotifyImageChangesRequest};

pub const CLUSTER_TOKEN: &str = "vdc-bench-cluster-token";
const ADMIN_PASSWORD: &str = "vdc-bench-admin-password";

pub struct VdcProcess {
    child: Child,
    pub url: String,
    _dir: tempfile::TempDir,
}

impl VdcProcess {
    /// Starts a vdc on `database_url` with `extra` arguments and waits until it answers.
    pub async fn start(database_url: &str, extra: &[&str]) -> VdcProcess {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let dir = tempfile::tempdir().unwrap();
        let password = dir.path().join("password");
        std::fs::write(&password, ADMIN_PASSWORD).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_quantix-iso"))
            .args(["vdc", "--listen", &format!("127.0.0.1:{port}"), "--database-url", database_url])
            .args(["--cluster-token", CLUSTER_TOKEN, "--site-root", "/nonexistent"])
            .arg("--data-dir")
            .arg(dir.path())
            .arg("--initial-admin-password-file")
            .arg(&password)
            .args(extra)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        // Owned at once, so the process is reaped (on drop) even if it never answers.
        let vdc = VdcProcess { child, url: format!("http://127.0.0.1:{port}"), _dir: dir };
        for _ in 0..600 {
            if reqwest::get(format!("{}/healthz", vdc.url)).await.is_ok() {
                return vdc;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the vdc did not start");
    }

    /// The base URL of the sync endpoints the nodes call.
    pub fn sync_url(&self) -> String {
        format!("{}/limiquantix.storage.v1.ImageService", self.url)
    }

    /// The process's resident memory now, in KiB (`VmRSS`).
    pub fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS in /proc/<pid>/status")
    }
}

impl Drop for VdcProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The first admin, signed in: a viewer's API token and a session cookie.
pub struct SignedIn {
    pub token: reqwest::Client,
    /// `Bearer qx_…`, for clients that build their own requests.
    pub bearer: String,
    pub cookie: reqwest::Client,
    /// Milliseconds per sign-in.
    pub sign_ins: Vec<f64>,
}

/// Signs in `sign_ins` times (each an argon2id check) and makes an API token with the last session.
pub async fn sign_in(url: &str, sign_ins: usize) -> SignedIn {
    let anonymous = reqwest::Client::new();
    let (mut times, mut session) = (Vec::new(), None);
    for _ in 0..sign_ins.max(1) {
        let t = Instant::now();
        let resp = anonymous
            .post(format!("{url}/api/v1/auth/login"))
            .json(&serde_json::json!({ "username": "admin", "password": ADMIN_PASSWORD }))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        let cookie = resp.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
        let me: serde_json::Value = resp.json().await.unwrap();
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        session = Some((cookie, me["csrf_token"].as_str().unwrap().to_owned()));
    }
    let (cookie, csrf) = session.unwrap();
    let created: serde_json::Value = anonymous
        .post(format!("{url}/api/v1/tokens"))
        .header("cookie", &cookie)
        .header("x-csrf-token", csrf)
        .json(&serde_json::json!({ "name": "bench", "role": "viewer" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let bearer = format!("Bearer {}", created["token"].as_str().unwrap());
    let with = |name: reqwest::header::HeaderName, value: &str| {
        let mut h = reqwest::header::HeaderMap::new();
        h.insert(name, value.parse().unwrap());
        reqwest::Client::builder().default_headers(h).build().unwrap()
    };
    SignedIn {
        token: with(reqwest::header::AUTHORIZATION, &bearer),
        bearer,
        cookie: with(reqwest::header::COOKIE, &cookie),
        sign_ins: times,
    }
}

/// Registers every node with the cluster token; their credentials by node id.
pub async fn register_nodes(sync: &str, nodes: impl Iterator<Item = NodeRef>) -> HashMap<String, String> {
    let client = reqwest::Client::new();
    let mut out = HashMap::new();
    for node in nodes {
        let r =
            client.post(format!("{sync}/RegisterNode")).bearer_auth(CLUSTER_TOKEN).json(&node).send().await.unwrap();
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
        let v: serde_json::Value = r.json().await.unwrap();
        out.insert(node.node_id.to_string(), v["credential"].as_str().unwrap().to_owned());
    }
    out
}

/// One `NotifyImageChanges` call carrying `images` as `event_type`; panics unless it succeeded.
pub async fn notify(
    client: &reqwest::Client,
    sync: &str,
    credential: &str,
    node: NodeRef,
    images: Vec<IsoMetadata>,
    event_type: ImageEventType,
) {
    let body = NotifyImageChangesRequest {
        node,
        events: images.into_iter().map(|image| ImageChange { image, event_type, timestamp: 1 }).collect(),
    };
    let r = client.post(format!("{sync}/NotifyImageChanges")).bearer_auth(credential).json(&body).send().await.unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
}
