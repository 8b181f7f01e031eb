//! The vdc catalogue at scale, on SQLite and PostgreSQL, through a real `quantix-iso vdc` process.
//!
//! - SQLite: SQLITE_IMAGES (200,000) images from NODES (1,000) nodes loaded through the real ingest
//!   endpoint (batched NotifyImageChanges), timed as the batched ingest rate.
//! - PostgreSQL (when TEST_DATABASE_URL is set; bench/catalogue starts its own cluster with fsync and
//!   synchronous_commit as shipped and prints what the server says they are): IMAGES (1,000,000; set
//!   IMAGES=5000000 NODES=10000 for the 10,000-host cluster) images from NODES nodes, registered through
//!   the API and copied in bulk straight into the vdc's tables (`support::bulk`: HTTP would take longer
//!   than the whole bench may).
//!
//! Then, on both, through HTTP:
//! - ingest bursts: BURST_NODES (1,000) nodes at once each send one NotifyImageChanges of BURST_EVENTS
//!   (50) updates, BURSTS (3) times; events/s of each whole burst, against plain multi-row INSERTs of the
//!   same rows into the same database (no HTTP, no JSON, no revision rule), the baseline; and the
//!   single-event endpoint;
//! - p50/p99 of filtered lists, text search and the folder tree, against `GET /healthz` (the HTTP round
//!   trip alone) measured in the same run;
//! - signed in: the filtered-list p99 with an API token and with a session cookie, the cost of
//!   authentication alone (`GET /api/v1/auth/me`) against `GET /healthz`, as a share of the list's p99;
//!   and the time of one sign-in (an argon2id check).
//!
//! Targets: ingest ≥ 2,000 events/s on SQLite and bursts ≥ 20,000 events/s on PostgreSQL; list p99
//! ≤ 20 ms; tree p99 ≤ 50 ms; search p99 ≤ 50 ms; authentication ≤ 5% of the list's p99; a sign-in
//! ≤ 300 ms.

mod support;

use std::time::Instant;

use app::model::{
    ImageChange, ImageEventType, IsoMetadata, NodeRef, NotifyImageChangeRequest, NotifyImageChangesRequest,
};
use sqlx::{Connection, Executor};
use support::{
    bulk,
    dataset::Dataset,
    queries::{SEARCHES, label, with_second_page},
    stats::{env_usize, percentiles, timed_get},
    vdc::{VdcProcess, notify, register_nodes, sign_in},
};
use tokio::task::JoinSet;
use uuid::Uuid;

/// How the bulk of the catalogue gets in.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Load {
    /// Every image through NotifyImageChanges, one call per node, 8 in flight (timed as ingest).
    Http,
    /// `COPY` straight into the tables (not an ingest figure).
    Copy,
}

struct Report {
    backend: &'static str,
    images: usize,
    load: Load,
    load_secs: f64,
    /// Batched ingest while loading (HTTP loads only).
    load_events_per_s: Option<f64>,
    raw_rows_per_s: f64,
    /// Each burst from BURST_NODES nodes, `in_flight` at once.
    bursts: Vec<Burst>,
    in_flight: usize,
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

    fn burst_median(&self) -> f64 {
        let mut b: Vec<f64> = self.bursts.iter().map(|b| b.events_per_s).collect();
        b.sort_by(|x, y| x.partial_cmp(y).unwrap());
        b[b.len() / 2]
    }
}

/// The database alone: the same rows, plain multi-row INSERTs, one statement and transaction per node.
async fn raw_insert_rate(url: &str, rows: &[(NodeRef, Vec<IsoMetadata>)]) -> f64 {
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
    let mut count = 0;
    for (node, images) in rows {
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
            let placeholders: Vec<String> = (1..=10).map(|c| format!("${}", k * 10 + c)).collect();
            sql.push_str(&format!("({})", placeholders.join(",")));
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
            count += 1;
        }
        sqlx::query_with(&sql, args).execute(&mut *tx).await.unwrap();
        tx.commit().await.unwrap();
    }
    let rate = count as f64 / start.elapsed().as_secs_f64();
    conn.execute("DROP TABLE raw_images").await.unwrap();
    rate
}

/// Every image of `data` through NotifyImageChanges, one call per node, 8 in flight; events/s.
async fn load_through_http(
    client: &reqwest::Client,
    sync: &str,
    credentials: &std::collections::HashMap<String, String>,
    data: &Dataset,
) -> f64 {
    let start = Instant::now();
    let mut inflight = JoinSet::new();
    for n in 0..data.nodes {
        let (client, sync, node, images) = (client.clone(), sync.to_owned(), data.node(n), data.images(n));
        let credential = credentials[node.node_id.as_str()].clone();
        inflight.spawn(async move { notify(&client, &sync, &credential, node, images, ImageEventType::Created).await });
        while inflight.len() >= 8 {
            inflight.join_next().await.unwrap().unwrap();
        }
    }
    while let Some(r) = inflight.join_next().await {
        r.unwrap();
    }
    data.images_total() as f64 / start.elapsed().as_secs_f64()
}

/// Burst `b`'s updates: the next BURST_EVENTS images of each of the first BURST_NODES nodes, at revisions
/// above everything before.
fn burst_rows(data: &Dataset, b: usize, nodes: usize, events: usize) -> Vec<(NodeRef, Vec<IsoMetadata>)> {
    let first = data.next_revision() + (b * nodes * events) as u64;
    (0..nodes.min(data.nodes))
        .map(|n| {
            let images = data
                .images(n)
                .into_iter()
                .cycle()
                .skip(b * events)
                .take(events)
                .enumerate()
                .map(|(k, m)| IsoMetadata {
                    revision: first + (n * events + k) as u64,
                    updated_at: m.updated_at + 1 + b as i64,
                    ..m
                })
                .collect();
            (data.node(n), images)
        })
        .collect()
}

/// One burst: the events the vdc took per second (from the first call to the last answer), and the calls
/// it answered with an error (a node would send those again later).
#[derive(Clone, Copy)]
struct Burst {
    events_per_s: f64,
    refused: usize,
}

/// Every node of `rows` sends its NotifyImageChanges, `in_flight` at a time. The bodies are serialised
/// beforehand, so the client's JSON work is not timed.
async fn burst(
    client: &reqwest::Client,
    sync: &str,
    credentials: &std::collections::HashMap<String, String>,
    rows: Vec<(NodeRef, Vec<IsoMetadata>)>,
    in_flight: usize,
) -> Burst {
    let events: usize = rows.iter().map(|(_, i)| i.len()).sum();
    let per_call = events / rows.len().max(1);
    let mut refused = 0;
    let calls: Vec<(String, Vec<u8>)> = rows
        .into_iter()
        .map(|(node, images)| {
            let credential = credentials[node.node_id.as_str()].clone();
            let body = NotifyImageChangesRequest {
                node,
                events: images
                    .into_iter()
                    .map(|image| ImageChange { image, event_type: ImageEventType::Updated, timestamp: 1 })
                    .collect(),
            };
            (credential, serde_json::to_vec(&body).unwrap())
        })
        .collect();
    let start = Instant::now();
    let mut inflight = JoinSet::new();
    for (credential, body) in calls {
        let request = client
            .post(format!("{sync}/NotifyImageChanges"))
            .bearer_auth(credential)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body);
        inflight.spawn(async move { request.send().await.unwrap().status().is_success() });
        while inflight.len() >= in_flight {
            refused += !inflight.join_next().await.unwrap().unwrap() as usize;
        }
    }
    while let Some(ok) = inflight.join_next().await {
        refused += !ok.unwrap() as usize;
    }
    let delivered = events - refused * per_call;
    Burst { events_per_s: delivered as f64 / start.elapsed().as_secs_f64(), refused }
}

async fn bench_backend(backend: &'static str, url: &str, data: &Dataset, load: Load, samples: usize) -> Report {
    let (burst_nodes, burst_events) = (env_usize("BURST_NODES", 1000), env_usize("BURST_EVENTS", 50));
    eprintln!("[{backend}] baseline: plain INSERTs of one burst's rows…");
    let raw_rows_per_s = raw_insert_rate(url, &burst_rows(data, 0, burst_nodes, burst_events)).await;
    let vdc = VdcProcess::start(url, &[]).await;
    let signed_in = sign_in(&vdc.url, 10).await;
    // Queries as a user with an API token; the sync endpoints with each node's own credential.
    let client = signed_in.token.clone();
    let sync = vdc.sync_url();
    let credentials = register_nodes(&sync, data.all_nodes()).await;

    let start = Instant::now();
    let load_events_per_s = match load {
        Load::Http => {
            eprintln!("[{backend}] loading {} images through NotifyImageChanges…", data.images_total());
            Some(load_through_http(&client, &sync, &credentials, data).await)
        }
        Load::Copy => {
            eprintln!("[{backend}] copying {} images into the catalogue (COPY)…", data.images_total());
            bulk::load(url, data).await;
            None
        }
    };
    let load_secs = start.elapsed().as_secs_f64();

    let bursts_wanted = env_usize("BURSTS", 3);
    // SQLite has one writer: 1,000 calls at once wait on its lock in a busy loop that is not first come,
    // first served, and some waited past the busy timeout (10 s) and answered 500. Its bursts arrive 8 at
    // a time, as its bulk did.
    let in_flight = if backend == "SQLite" { 8 } else { burst_nodes };
    eprintln!(
        "[{backend}] {bursts_wanted} bursts: {burst_nodes} nodes, {in_flight} at once, {burst_events} events each…"
    );
    let mut bursts = Vec::new();
    for b in 0..bursts_wanted {
        // Burst 0's rows are the baseline's; every burst is new updates.
        let rows = burst_rows(data, b + 1, burst_nodes, burst_events);
        bursts.push(burst(&reqwest::Client::new(), &sync, &credentials, rows, in_flight).await);
        eprintln!("  burst {b}: {:.0} events/s, {} calls refused", bursts[b].events_per_s, bursts[b].refused);
    }

    // The single-event endpoint: updates to existing images, 8 in flight.
    eprintln!("[{backend}] ingest through NotifyImageChange (one event per call)…");
    let singles: Vec<(NodeRef, IsoMetadata)> = burst_rows(data, bursts_wanted + 1, 25, 80)
        .into_iter()
        .flat_map(|(n, imgs)| imgs.into_iter().map(move |i| (n.clone(), i)))
        .collect();
    let start = Instant::now();
    let count = singles.len();
    let mut inflight = JoinSet::new();
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
    let lists = with_second_page(&client, &vdc.url).await;
    for q in lists.iter().map(String::as_str).chain(SEARCHES.iter().copied()) {
        timed_get(&client, &format!("{}/api/v1/images?{q}", vdc.url)).await;
    }
    let mut healthz = Vec::new();
    let (mut me_token, mut me_cookie, mut list_cookie) = (Vec::new(), Vec::new(), Vec::new());
    let mut list = Vec::new();
    let mut tree = Vec::new();
    let mut search = Vec::new();
    let mut by_query: Vec<Vec<f64>> = vec![Vec::new(); lists.len() + SEARCHES.len()];
    for i in 0..samples {
        healthz.push(timed_get(&client, &format!("{}/healthz", vdc.url)).await);
        me_token.push(timed_get(&client, &format!("{}/api/v1/auth/me", vdc.url)).await);
        me_cookie.push(timed_get(&signed_in.cookie, &format!("{}/api/v1/auth/me", vdc.url)).await);
        let k = i % lists.len();
        let t = timed_get(&client, &format!("{}/api/v1/images?{}", vdc.url, lists[k])).await;
        list.push(t);
        by_query[k].push(t);
        list_cookie.push(timed_get(&signed_in.cookie, &format!("{}/api/v1/images?{}", vdc.url, lists[k])).await);
        let k = i % SEARCHES.len();
        let t = timed_get(&client, &format!("{}/api/v1/images?{}", vdc.url, SEARCHES[k])).await;
        search.push(t);
        by_query[lists.len() + k].push(t);
        tree.push(timed_get(&client, &format!("{}/api/v1/images/folders", vdc.url)).await);
    }
    let per_query = lists
        .iter()
        .map(|q| label(q))
        .chain(SEARCHES.iter().map(|s| s.to_string()))
        .zip(by_query)
        .map(|(q, t)| (q, percentiles(t).1))
        .collect();
    Report {
        backend,
        images: data.images_total(),
        load,
        load_secs,
        load_events_per_s,
        raw_rows_per_s,
        bursts,
        in_flight,
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

/// What the PostgreSQL server says about its durability settings.
async fn durability(url: &str) -> String {
    let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
    let mut out = Vec::new();
    for setting in ["fsync", "synchronous_commit", "full_page_writes", "shared_buffers"] {
        let (value,): (String,) = sqlx::query_as(&format!("SHOW {setting}")).fetch_one(&mut conn).await.unwrap();
        out.push(format!("{setting}={value}"));
    }
    out.join(" ")
}

fn print_reports(reports: &[Report], samples: usize) {
    if reports.is_empty() {
        println!("\ncatalogue: no backend ran (SQLITE_IMAGES=0 and no TEST_DATABASE_URL)");
        return;
    }
    println!("\ncatalogue: {samples} samples per query kind");
    println!("{:<52} {:>22} {:>22}", "", reports[0].backend, reports.get(1).map_or("–", |r| r.backend));
    let row = |label: &str, f: &dyn Fn(&Report) -> String| {
        let cells: Vec<String> = reports.iter().map(f).collect();
        println!("{label:<52} {:>22} {:>22}", cells[0], cells.get(1).cloned().unwrap_or_else(|| "–".into()));
    };
    row("images", &|r| r.images.to_string());
    row("loaded by, seconds", &|r| {
        format!("{} {:.0} s", if r.load == Load::Http { "HTTP" } else { "COPY" }, r.load_secs)
    });
    row("ingest while loading, batched events/s", &|r| {
        r.load_events_per_s.map_or("– (COPY)".into(), |e| format!("{e:.0}"))
    });
    row("baseline: plain INSERT rows/s", &|r| format!("{:.0}", r.raw_rows_per_s));
    row("burst: calls in flight (one per node)", &|r| r.in_flight.to_string());
    row("bursts of one call per node, events/s", &|r| {
        r.bursts.iter().map(|b| format!("{:.0}", b.events_per_s)).collect::<Vec<_>>().join(" ")
    });
    row("  calls answered with an error, per burst", &|r| {
        r.bursts.iter().map(|b| b.refused.to_string()).collect::<Vec<_>>().join(" ")
    });
    row("  median burst events/s (÷ baseline)", &|r| {
        format!("{:.0} ({:.2})", r.burst_median(), r.burst_median() / r.raw_rows_per_s)
    });
    row("ingest, one event per call events/s", &|r| format!("{:.0}", r.single_events_per_s));
    row("baseline: GET /healthz p50 / p99 ms", &|r| format!("{:.2} / {:.2}", r.healthz.0, r.healthz.1));
    row("filtered list p50 / p99 ms", &|r| format!("{:.2} / {:.2}", r.list.0, r.list.1));
    row("text search (q) p50 / p99 ms", &|r| format!("{:.2} / {:.2}", r.search.0, r.search.1));
    row("folder tree p50 / p99 ms", &|r| format!("{:.2} / {:.2}", r.tree.0, r.tree.1));
    row("filtered list p99 ms: token / session cookie", &|r| format!("{:.2} / {:.2}", r.list.1, r.list_cookie.1));
    row("authentication alone: /auth/me p99 token / cookie", &|r| {
        format!("{:.2} / {:.2}", r.me_token.1, r.me_cookie.1)
    });
    row("auth cost ÷ list p99 (me − healthz) token / cookie", &|r| {
        format!("{:.1}% / {:.1}%", 100.0 * r.auth_share().0, 100.0 * r.auth_share().1)
    });
    row("sign-in (argon2id) p50 / max ms", &|r| format!("{:.1} / {:.1}", r.sign_in.0, r.sign_in.1));
    for (k, (q, _)) in reports[0].per_query.iter().enumerate() {
        row(&format!("  p99 ms of ?{q}"), &|r| format!("{:.2}", r.per_query[k].1));
    }
    println!(
        "targets: ingest ≥ 2000 events/s on SQLite, bursts ≥ 20000 events/s on PostgreSQL · list p99 ≤ 20 ms · \
         tree p99 ≤ 50 ms · search p99 ≤ 50 ms · auth ≤ 5% of the list p99 · sign-in ≤ 300 ms"
    );
    for r in reports {
        let auth = r.auth_share();
        let ingest = match r.backend {
            "SQLite" => r.load_events_per_s.is_none_or(|e| e >= 2000.0),
            _ => r.burst_median() >= 20_000.0,
        };
        let ok = ingest
            && r.bursts.iter().all(|b| b.refused == 0)
            && r.list.1 <= 20.0
            && r.tree.1 <= 50.0
            && r.search.1 <= 50.0
            && auth.0 <= 0.05
            && auth.1 <= 0.05
            && r.sign_in.1 <= 300.0;
        println!("{} at {} images: {}", r.backend, r.images, if ok { "targets met" } else { "TARGET MISSED" });
    }
}

fn main() {
    let nodes = env_usize("NODES", 1000);
    let postgres = Dataset::new(nodes, env_usize("IMAGES", 1_000_000) / nodes);
    let sqlite = Dataset::new(nodes, env_usize("SQLITE_IMAGES", 200_000) / nodes);
    let samples = env_usize("SAMPLES", 300);
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let mut reports = Vec::new();
        let dir = tempfile::tempdir().unwrap();
        if sqlite.per_node > 0 {
            let url = format!("sqlite://{}?mode=rwc", dir.path().join("catalogue.db").display());
            reports.push(bench_backend("SQLite", &url, &sqlite, Load::Http, samples).await);
        }
        match std::env::var("TEST_DATABASE_URL") {
            Ok(admin) => {
                let settings = durability(&admin).await;
                eprintln!("PostgreSQL: {settings}");
                let name = format!("quantix_bench_{}", Uuid::new_v4().simple());
                let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap();
                conn.execute(format!("CREATE DATABASE {name}").as_str()).await.unwrap();
                let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin).to_owned();
                let url = format!("{base}/{name}");
                reports.push(bench_backend("PostgreSQL", &url, &postgres, Load::Copy, samples).await);
                println!("\nPostgreSQL server settings during the run: {settings}");
                if std::env::var_os("KEEP_DB").is_some() {
                    eprintln!("kept PostgreSQL database {name} (KEEP_DB)");
                } else {
                    conn.execute(format!("DROP DATABASE {name} WITH (FORCE)").as_str()).await.unwrap();
                }
            }
            Err(_) => eprintln!("PostgreSQL: skipped (TEST_DATABASE_URL is not set; bench/catalogue starts one)"),
        }
        print_reports(&reports, samples);
    });
}
