//! The vdc catalogue under load, through its real HTTP endpoints, on SQLite and PostgreSQL.
//!
//! Loads 200,000 images from 1,000 nodes (NODES × PER_NODE) into a `quantix-iso vdc` process and prints:
//! - the ingest rate (batched NotifyImageChanges, and the single-event endpoint), against a baseline
//!   measured in the same run: plain multi-row INSERTs of the same rows straight into the same database
//!   (no HTTP, no JSON, no revision rule);
//! - p50/p99 latency of filtered lists and of the folder tree, against `GET /healthz` (the HTTP round
//!   trip alone) measured in the same run.
//!
//! - signed in: the filtered-list p99 with an API token and with a session cookie, and the cost of
//!   authentication alone (`GET /api/v1/auth/me`, which does nothing else) against `GET /healthz` (no
//!   authentication), as a share of the list's p99; and the time of one sign-in (an argon2id check).
//!
//! Targets: ingest ≥ 2,000 events/s on SQLite; list p99 ≤ 20 ms; tree p99 ≤ 50 ms; authentication
//! ≤ 5% of the list's p99; a sign-in ≤ 300 ms.
//! PostgreSQL runs when TEST_DATABASE_URL is set (bench/catalogue starts a throwaway one).

use std::{
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use app::model::{
    BootModes, FolderPath, ImageChange, ImageEventType, ImageFormat, IsoMetadata, NodeRef, NotifyImageChangeRequest,
    NotifyImageChangesRequest, OsSource,
};
use rand::{Rng, SeedableRng, rngs::StdRng};
use sqlx::{Connection, Executor};
use uuid::Uuid;

const TOKEN: &str = "catalogue-bench-cluster-token";

fn env_usize(key: &str, default: usize) -> usize {
    std::env::var(key).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

const DISTROS: &[(&str, &str, &str, &[&str])] = &[
    ("ubuntu", "linux", "/linux/ubuntu", &["20.04", "22.04", "24.04", "24.10"]),
    ("debian", "linux", "/linux/debian", &["11.9", "12.5", "13.0"]),
    ("rocky", "linux", "/linux/rhel/rocky", &["8.9", "9.3", "9.4"]),
    ("alma", "linux", "/linux/rhel/alma", &["8.9", "9.4"]),
    ("fedora", "linux", "/linux/fedora", &["39", "40", "41"]),
    ("alpine", "linux", "/linux/alpine", &["3.18", "3.19", "3.20"]),
    ("windows-server", "windows", "/windows/server", &["2016", "2019", "2022", "2025"]),
    ("windows", "windows", "/windows/desktop", &["10", "11"]),
    ("freebsd", "bsd", "/other/bsd", &["13.3", "14.0", "14.1"]),
    ("virtio-win", "windows", "/drivers", &["0.1.229", "0.1.240"]),
    ("tools", "other", "/other/tools", &["1", "2"]),
];

struct Dataset {
    nodes: Vec<(NodeRef, Vec<IsoMetadata>)>,
}

fn generate(nodes: usize, per_node: usize) -> Dataset {
    let mut rng = StdRng::seed_from_u64(2026);
    let mut revision = 1_000_000u64;
    let nodes = (0..nodes)
        .map(|n| {
            let node = NodeRef {
                node_id: format!("hv{n:04}").parse().unwrap(),
                node_name: Some(format!("hypervisor {n:04}")),
                node_api_url: Some(format!("http://10.{}.{}.10:3001", n / 250, n % 250)),
            };
            let images = (0..per_node)
                .map(|i| {
                    let (distro, family, base, versions) = DISTROS[rng.random_range(0..DISTROS.len())];
                    let version = versions[rng.random_range(0..versions.len())];
                    let folder = FolderPath::parse(&format!("{base}/{version}")).unwrap();
                    let filename = format!("{distro}-{version}-{i:03}-amd64.iso");
                    revision += 1;
                    IsoMetadata {
                        id: Uuid::from_u128(rng.random()),
                        name: filename.trim_end_matches(".iso").to_owned(),
                        path: format!("/data/pool{}/iso/{filename}", i % 3),
                        filename,
                        folder_path: folder,
                        size_bytes: rng.random_range(200u64 << 20..6u64 << 30),
                        format: ImageFormat::Iso,
                        storage_pool_id: Some(format!("pool{}", i % 3).parse().unwrap()),
                        checksum: Some(format!("sha256:{:064x}", rng.random::<u128>())),
                        os_family: Some(family.to_owned()),
                        os_distribution: Some(distro.to_owned()),
                        os_version: Some(version.to_owned()),
                        created_at: 1_760_000_000 + i as i64,
                        updated_at: 1_760_000_000 + i as i64,
                        revision,
                        node_id: None,
                        os_source: Some(OsSource::Content),
                        volume_id: Some(format!("{distro} {version} amd64")),
                        arch: Some("x86_64".to_owned()),
                        os_edition: None,
                        boot: Some(BootModes { bios: true, uefi: i % 2 == 0 }),
                        detection_error: None,
                        ova: None,
                    }
                })
                .collect();
            (node, images)
        })
        .collect();
    Dataset { nodes }
}

struct Report {
    backend: &'static str,
    raw_rows_per_s: f64,
    batch_events_per_s: f64,
    single_events_per_s: f64,
    healthz: (f64, f64),
    list: (f64, f64),
    list_cookie: (f64, f64),
    me_token: (f64, f64),
    me_cookie: (f64, f64),
    sign_in: (f64, f64),
    search: (f64, f64),
    tree: (f64, f64),
    /// p99 per query, to see which one is slow.
    per_query: Vec<(String, f64)>,
}

impl Report {
    /// What authentication adds to a request, as a share of the filtered list's p99: the p99 of a call
    /// that only authenticates, less the p99 of one that does not (token, cookie).
    fn auth_share(&self) -> (f64, f64) {
        let cost = |me: (f64, f64)| (me.1 - self.healthz.1).max(0.0) / self.list.1;
        (cost(self.me_token), cost(self.me_cookie))
    }
}

fn percentiles(mut ms: Vec<f64>) -> (f64, f64) {
    ms.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let at = |p: f64| ms[((ms.len() as f64 - 1.0) * p).round() as usize];
    (at(0.5), at(0.99))
}

/// The database alone: the same rows, plain multi-row INSERTs, 200 rows a transaction.
async fn raw_insert_rate(url: &str, data: &Dataset) -> f64 {
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(url).await.unwrap();
    if url.starts_with("sqlite") {
        conn.execute("PRAGMA journal_mode = WAL").await.unwrap();
        conn.execute("PRAGMA synchronous = NORMAL").await.unwrap();
    }
    conn.execute(
        "CREATE TABLE raw_images (node_id TEXT NOT NULL, id TEXT NOT NULL, revision BIGINT NOT NULL, name TEXT NOT NULL, \
         filename TEXT NOT NULL, folder_path TEXT NOT NULL, size_bytes BIGINT NOT NULL, path TEXT NOT NULL, \
         checksum TEXT, os_family TEXT, PRIMARY KEY (node_id, id))",
    )
    .await
    .unwrap();
    let start = Instant::now();
    let mut rows = 0;
    for (node, images) in &data.nodes {
        let mut tx = conn.begin().await.unwrap();
        let mut sql = String::from(
            "INSERT INTO raw_images (node_id, id, revision, name, filename, folder_path, size_bytes, path, checksum, os_family) VALUES ",
        );
        let mut args = sqlx::any::AnyArguments::default();
        use sqlx::Arguments;
        for (k, img) in images.iter().enumerate() {
            if k > 0 {
                sql.push(',');
            }
            let b = k * 10;
            sql.push_str(&format!(
                "(${},${},${},${},${},${},${},${},${},${})",
                b + 1,
                b + 2,
                b + 3,
                b + 4,
                b + 5,
                b + 6,
                b + 7,
                b + 8,
                b + 9,
                b + 10
            ));
            args.add(node.node_id.to_string()).unwrap();
            args.add(img.id.to_string()).unwrap();
            args.add(img.revision as i64).unwrap();
            args.add(img.name.clone()).unwrap();
            args.add(img.filename.clone()).unwrap();
            args.add(img.folder_path.to_string()).unwrap();
            args.add(img.size_bytes as i64).unwrap();
            args.add(img.path.clone()).unwrap();
            args.add(img.checksum.clone()).unwrap();
            args.add(img.os_family.clone()).unwrap();
            rows += 1;
        }
        sqlx::query_with(&sql, args).execute(&mut *tx).await.unwrap();
        tx.commit().await.unwrap();
    }
    let rate = rows as f64 / start.elapsed().as_secs_f64();
    conn.execute("DROP TABLE raw_images").await.unwrap();
    rate
}

struct VdcProcess {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

const ADMIN_PASSWORD: &str = "catalogue-bench-admin-password";

/// A signed-in admin: an API token and a session cookie.
struct SignedIn {
    token: reqwest::Client,
    cookie: reqwest::Client,
    /// Milliseconds per sign-in.
    sign_ins: Vec<f64>,
}

async fn sign_in(url: &str) -> SignedIn {
    let anonymous = reqwest::Client::new();
    let (mut sign_ins, mut session) = (Vec::new(), None);
    for _ in 0..10 {
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
        sign_ins.push(t.elapsed().as_secs_f64() * 1000.0);
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
    let with = |name: reqwest::header::HeaderName, value: String| {
        let mut h = reqwest::header::HeaderMap::new();
        h.insert(name, value.parse().unwrap());
        reqwest::Client::builder().default_headers(h).build().unwrap()
    };
    SignedIn {
        token: with(reqwest::header::AUTHORIZATION, format!("Bearer {}", created["token"].as_str().unwrap())),
        cookie: with(reqwest::header::COOKIE, cookie),
        sign_ins,
    }
}

impl VdcProcess {
    async fn start(database_url: &str) -> VdcProcess {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let dir = tempfile::tempdir().unwrap();
        let password = dir.path().join("password");
        std::fs::write(&password, ADMIN_PASSWORD).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_quantix-iso"))
            .args(["vdc", "--listen", &format!("127.0.0.1:{port}"), "--database-url", database_url])
            .args(["--cluster-token", TOKEN, "--site-root", "/nonexistent"])
            .arg("--data-dir")
            .arg(dir.path())
            .arg("--initial-admin-password-file")
            .arg(&password)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        // Owned at once, so the process is reaped (on drop) even if it never answers.
        let vdc = VdcProcess { child, url: format!("http://127.0.0.1:{port}"), _dir: dir };
        for _ in 0..200 {
            if reqwest::get(format!("{}/healthz", vdc.url)).await.is_ok() {
                return vdc;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the vdc did not start");
    }
}

impl Drop for VdcProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn timed_get(client: &reqwest::Client, url: &str) -> f64 {
    let t = Instant::now();
    let resp = client.get(url).send().await.unwrap();
    assert!(resp.status().is_success(), "{url}: {}", resp.status());
    resp.bytes().await.unwrap();
    t.elapsed().as_secs_f64() * 1000.0
}

/// Registers every node with the cluster token; their credentials by node id.
async fn register_nodes<'a>(
    sync: &str,
    nodes: impl Iterator<Item = &'a NodeRef>,
) -> std::collections::HashMap<String, String> {
    let client = reqwest::Client::new();
    let mut out = std::collections::HashMap::new();
    for node in nodes {
        let r = client.post(format!("{sync}/RegisterNode")).bearer_auth(TOKEN).json(node).send().await.unwrap();
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
        let v: serde_json::Value = r.json().await.unwrap();
        out.insert(node.node_id.to_string(), v["credential"].as_str().unwrap().to_owned());
    }
    out
}

async fn bench_backend(backend: &'static str, url: &str, data: &Dataset, samples: usize) -> Report {
    eprintln!("[{backend}] baseline: plain INSERTs…");
    let raw_rows_per_s = raw_insert_rate(url, data).await;
    let vdc = VdcProcess::start(url).await;
    let signed_in = sign_in(&vdc.url).await;
    // Queries as a user with an API token; the sync endpoints with each node's own credential.
    let client = signed_in.token.clone();
    let sync = format!("{}/limiquantix.storage.v1.ImageService", vdc.url);
    let credentials = register_nodes(&sync, data.nodes.iter().map(|(n, _)| n)).await;

    // Batched ingest: one NotifyImageChanges per node, 8 in flight.
    eprintln!("[{backend}] ingest through NotifyImageChanges…");
    let start = Instant::now();
    let mut events = 0usize;
    let mut inflight = tokio::task::JoinSet::new();
    for (node, images) in &data.nodes {
        let body = NotifyImageChangesRequest {
            node: node.clone(),
            events: images
                .iter()
                .map(|i| ImageChange { image: i.clone(), event_type: ImageEventType::Created, timestamp: 1 })
                .collect(),
        };
        events += images.len();
        let (client, url) = (client.clone(), format!("{sync}/NotifyImageChanges"));
        let credential = credentials[node.node_id.as_str()].clone();
        inflight.spawn(async move {
            let r = client.post(url).bearer_auth(credential).json(&body).send().await.unwrap();
            assert!(r.status().is_success(), "{}", r.text().await.unwrap());
        });
        while inflight.len() >= 8 {
            inflight.join_next().await.unwrap().unwrap();
        }
    }
    while let Some(r) = inflight.join_next().await {
        r.unwrap();
    }
    let batch_events_per_s = events as f64 / start.elapsed().as_secs_f64();

    // The single-event endpoint: updates to existing images, 8 in flight.
    eprintln!("[{backend}] ingest through NotifyImageChange (one event per call)…");
    let singles: Vec<(NodeRef, IsoMetadata)> = data
        .nodes
        .iter()
        .take(25)
        .flat_map(|(n, imgs)| {
            imgs.iter()
                .take(80)
                .map(move |i| (n.clone(), IsoMetadata { revision: i.revision + 10_000_000, ..i.clone() }))
        })
        .collect();
    let start = Instant::now();
    let count = singles.len();
    for (node, image) in singles {
        let credential = credentials[node.node_id.as_str()].clone();
        let body = NotifyImageChangeRequest { node, image, event_type: ImageEventType::Updated, timestamp: 1 };
        let (client, url) = (client.clone(), format!("{sync}/NotifyImageChange"));
        inflight.spawn(async move {
            let r = client.post(url).bearer_auth(credential).json(&body).send().await.unwrap();
            assert!(r.status().is_success());
        });
        while inflight.len() >= 8 {
            inflight.join_next().await.unwrap().unwrap();
        }
    }
    while let Some(r) = inflight.join_next().await {
        r.unwrap();
    }
    let single_events_per_s = count as f64 / start.elapsed().as_secs_f64();

    eprintln!("[{backend}] query latency…");
    // What the library and the picker ask: folder navigation (exact and recursive), node, pool and OS
    // filters, other sort orders, and the second page of a listing.
    let lists = [
        "folder=/linux/ubuntu/22.04",
        "folder=/windows&recursive=true&os_family=windows",
        "node_id=hv0420",
        "folder=/linux&recursive=true&pool_id=pool1&sort=size&order=desc",
        "os_family=bsd&sort=name",
        "folder=/drivers&recursive=true&limit=50",
        "pool_id=pool2&sort=created&order=desc",
        "PAGE2:folder=/linux&recursive=true",
    ];
    // Text search, reported on its own: a specific term and one matching ~9% of the catalogue.
    let searches = ["q=rocky-9.3-1", "q=rocky", "q=2022&folder=/windows&recursive=true", "q=virtio"];
    // The second page needs the first page's cursor.
    let first: app::model::ImageList = client
        .get(format!("{}/api/v1/images?folder=/linux&recursive=true", vdc.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let cursor = first.next_cursor.expect("a second page");
    let lists: Vec<String> = lists
        .iter()
        .map(|q| match q.strip_prefix("PAGE2:") {
            Some(q) => format!("{q}&cursor={cursor}"),
            None => q.to_string(),
        })
        .collect();
    for q in lists.iter().map(String::as_str).chain(searches) {
        timed_get(&client, &format!("{}/api/v1/images?{q}", vdc.url)).await;
    }
    let mut healthz = Vec::new();
    let (mut me_token, mut me_cookie, mut list_cookie) = (Vec::new(), Vec::new(), Vec::new());
    let mut list = Vec::new();
    let mut tree = Vec::new();
    let mut search = Vec::new();
    let mut by_query: Vec<Vec<f64>> = vec![Vec::new(); lists.len() + searches.len()];
    for i in 0..samples {
        healthz.push(timed_get(&client, &format!("{}/healthz", vdc.url)).await);
        me_token.push(timed_get(&client, &format!("{}/api/v1/auth/me", vdc.url)).await);
        me_cookie.push(timed_get(&signed_in.cookie, &format!("{}/api/v1/auth/me", vdc.url)).await);
        let k = i % lists.len();
        let t = timed_get(&client, &format!("{}/api/v1/images?{}", vdc.url, lists[k])).await;
        list.push(t);
        by_query[k].push(t);
        list_cookie.push(timed_get(&signed_in.cookie, &format!("{}/api/v1/images?{}", vdc.url, lists[k])).await);
        let k = i % searches.len();
        let t = timed_get(&client, &format!("{}/api/v1/images?{}", vdc.url, searches[k])).await;
        search.push(t);
        by_query[lists.len() + k].push(t);
        tree.push(timed_get(&client, &format!("{}/api/v1/images/folders", vdc.url)).await);
    }
    let labels = lists
        .iter()
        .map(|q| q.split("&cursor=").next().unwrap().to_owned() + if q.contains("cursor=") { " (page 2)" } else { "" });
    let per_query = labels
        .chain(searches.iter().map(|s| s.to_string()))
        .zip(by_query)
        .map(|(q, t)| (q, percentiles(t).1))
        .collect();
    Report {
        backend,
        raw_rows_per_s,
        batch_events_per_s,
        single_events_per_s,
        healthz: percentiles(healthz),
        list: percentiles(list),
        list_cookie: percentiles(list_cookie),
        me_token: percentiles(me_token),
        me_cookie: percentiles(me_cookie),
        sign_in: {
            let s = &signed_in.sign_ins;
            (percentiles(s.clone()).0, s.iter().cloned().fold(0.0, f64::max))
        },
        search: percentiles(search),
        tree: percentiles(tree),
        per_query,
    }
}

fn main() {
    let nodes = env_usize("NODES", 1000);
    let per_node = env_usize("PER_NODE", 200);
    let samples = env_usize("SAMPLES", 300);
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let data = generate(nodes, per_node);
        let mut reports = Vec::new();
        let dir = tempfile::tempdir().unwrap();
        let sqlite = format!("sqlite://{}?mode=rwc", dir.path().join("catalogue.db").display());
        reports.push(bench_backend("SQLite", &sqlite, &data, samples).await);
        match std::env::var("TEST_DATABASE_URL") {
            Ok(admin) => {
                let name = format!("quantix_bench_{}", Uuid::new_v4().simple());
                let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap();
                conn.execute(format!("CREATE DATABASE {name}").as_str()).await.unwrap();
                let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin).to_owned();
                reports.push(bench_backend("PostgreSQL", &format!("{base}/{name}"), &data, samples).await);
                if std::env::var_os("KEEP_DB").is_some() {
                    eprintln!("kept PostgreSQL database {name} (KEEP_DB)");
                } else {
                    conn.execute(format!("DROP DATABASE {name} WITH (FORCE)").as_str()).await.unwrap();
                }
            }
            Err(_) => eprintln!("PostgreSQL: skipped (TEST_DATABASE_URL is not set; bench/catalogue starts one)"),
        }
        println!("\ncatalogue: {} images from {nodes} nodes, {samples} samples per query kind", nodes * per_node);
        println!("{:<44} {:>22} {:>22}", "", "SQLite", "PostgreSQL");
        let row = |label: &str, f: &dyn Fn(&Report) -> String| {
            let cells: Vec<String> = reports.iter().map(f).collect();
            println!("{label:<44} {:>22} {:>22}", cells[0], cells.get(1).cloned().unwrap_or_else(|| "–".into()));
        };
        row("baseline: plain INSERT rows/s", &|r| format!("{:.0}", r.raw_rows_per_s));
        row("ingest, batched events/s (÷ baseline)", &|r| {
            format!("{:.0} ({:.2})", r.batch_events_per_s, r.batch_events_per_s / r.raw_rows_per_s)
        });
        row("ingest, one event per call events/s", &|r| format!("{:.0}", r.single_events_per_s));
        row("baseline: GET /healthz p50 / p99 ms", &|r| format!("{:.2} / {:.2}", r.healthz.0, r.healthz.1));
        row("filtered list p50 / p99 ms", &|r| format!("{:.2} / {:.2}", r.list.0, r.list.1));
        row("text search (q) p50 / p99 ms", &|r| format!("{:.2} / {:.2}", r.search.0, r.search.1));
        row("folder tree p50 / p99 ms", &|r| format!("{:.2} / {:.2}", r.tree.0, r.tree.1));
        row("filtered list p99 ms: token / session cookie", &|r| format!("{:.2} / {:.2}", r.list.1, r.list_cookie.1));
        row("authentication alone: /auth/me p99 token / cookie", &|r| format!("{:.2} / {:.2}", r.me_token.1, r.me_cookie.1));
        row("auth cost ÷ list p99 (me − healthz) token / cookie", &|r| {
            format!("{:.1}% / {:.1}%", 100.0 * r.auth_share().0, 100.0 * r.auth_share().1)
        });
        row("sign-in (argon2id) p50 / max ms", &|r| format!("{:.1} / {:.1}", r.sign_in.0, r.sign_in.1));
        for (k, (q, _)) in reports[0].per_query.iter().enumerate() {
            row(&format!("  p99 ms of ?{q}"), &|r| format!("{:.2}", r.per_query[k].1));
        }
        println!(
            "targets: ingest ≥ 2000 events/s on SQLite · filtered list p99 ≤ 20 ms · tree p99 ≤ 50 ms (search has none) · auth ≤ 5% of the list p99 · sign-in ≤ 300 ms"
        );
        for r in &reports {
            let auth = r.auth_share();
            let ok = (r.backend != "SQLite" || r.batch_events_per_s >= 2000.0)
                && r.list.1 <= 20.0
                && r.tree.1 <= 50.0
                && auth.0 <= 0.05
                && auth.1 <= 0.05
                && r.sign_in.1 <= 300.0;
            println!("{}: {}", r.backend, if ok { "targets met" } else { "TARGET MISSED" });
        }
    });
}
