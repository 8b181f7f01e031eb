//! Copies of an image to another node, which the vdc arranges (`POST /api/v1/images/{id}/copy`): the
//! target reads the bytes from the source with a ticket the vdc issued for that one image, resumes after
//! a dropped connection, keeps only what hashes to the source's checksum, and keeps the folder and a
//! person's OS fields; the library then groups the two as one image on two hosts.

use std::time::Duration;

use app::model::{ImageGroupList, IsoMetadata, OsSource, Task, TaskKind, TaskState};
use serde_json::{Value, json};
use server::auth::ticket::{CopyTicket, TICKET_HEADER};
use uuid::Uuid;

use crate::support::{
    PoolOpt, TestNode, assert_error, eventually, get_json, node_config, pattern,
    process::free_addr,
    proxy::{Mode, Proxy},
    sha256_wire,
    vdc::{TestDb, TestVdc, node_config_for, token},
};

fn local() -> [PoolOpt; 1] {
    [PoolOpt { id: "local", quota: None }]
}

/// A node `id` syncing to `vdc`; with `advertise`, the API URL it gives the vdc (a proxy in front of it).
async fn node(vdc: &TestVdc, id: &str, listen_and_advertise: Option<(std::net::SocketAddr, String)>) -> TestNode {
    let (root, mut config) = node_config_for(vdc, &local());
    config.node_id = Some(id.parse().unwrap());
    config.node_name = Some(format!("Node {id}"));
    if let Some((listen, url)) = listen_and_advertise {
        config.listen = listen;
        config.advertise_url = Some(url);
    }
    TestNode::spawn_with(root, config).await
}

async fn known_to_vdc(vdc: &TestVdc, nodes: &[&str]) {
    eventually(Duration::from_secs(20), "the nodes told the vdc where their APIs are", || async {
        let listed = vdc.nodes().await.nodes;
        nodes.iter().all(|id| listed.iter().any(|n| n.id.as_str() == *id && n.api_url.is_some()))
    })
    .await;
}

/// Waits until the vdc has image `id` with its checksum (and, with `user_os`, an operator's OS fields).
async fn in_catalogue(vdc: &TestVdc, id: Uuid, user_os: bool) {
    eventually(Duration::from_secs(20), "the image is hashed in the catalogue", || async move {
        let (status, b) = vdc.get(&format!("/api/v1/images/{id}")).await;
        status == 200 && b["checksum"].is_string() && (!user_os || b["os_source"] == "user")
    })
    .await;
}

async fn copy(vdc: &TestVdc, id: Uuid, body: Value) -> (u16, Value) {
    vdc.post(&format!("/api/v1/images/{id}/copy"), &body).await
}

/// Waits until the task on `node` is over, seen from the vdc.
async fn ended(vdc: &TestVdc, node: &str, task: &str) -> Task {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let (status, b) = vdc.get(&format!("/api/v1/tasks/{task}?node_id={node}")).await;
        assert_eq!(status, 200, "{b}");
        let t: Task = serde_json::from_value(b).unwrap();
        if t.state != TaskState::Running {
            return t;
        }
        assert!(tokio::time::Instant::now() < deadline, "task {task} still running: {t:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copy_lands_verified_on_the_other_node_with_its_folder_and_os_fields() {
    let db = TestDb::sqlite();
    let vdc = TestVdc::spawn(&db).await;
    let a = node(&vdc, "hv-a", None).await;
    let b = node(&vdc, "hv-b", None).await;
    known_to_vdc(&vdc, &["hv-a", "hv-b"]).await;

    let data = pattern(61, 3 << 20);
    let image = a.upload_ok("folder=/lab/isos", "appliance.iso", data.clone()).await;
    let resp = a
        .client
        .patch(format!("{}/api/v1/images/{}", a.url, image.id))
        .json(&json!({ "os_family": "linux", "os_distribution": "alpine", "os_version": "3.20" }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    in_catalogue(&vdc, image.id, true).await;

    let (status, started) = copy(&vdc, image.id, json!({ "node_id": "hv-b", "pool_id": "local" })).await;
    assert_eq!(status, 202, "{started}");
    let task_id = started["task_id"].as_str().unwrap().to_owned();
    let task = ended(&vdc, "hv-b", &task_id).await;
    assert_eq!(
        (task.kind, task.state, task.error.as_deref()),
        (TaskKind::Copy, TaskState::Succeeded, None),
        "{task:?}"
    );
    assert_eq!(task.source.as_deref(), Some("/lab/isos/appliance.iso on Node hv-a"));
    assert_eq!(task.bytes_done, data.len() as u64);

    let copied: IsoMetadata = get_json(&b.client, &format!("{}/api/v1/images/{}", b.url, task.image_id.unwrap())).await;
    assert_ne!(copied.id, image.id, "a copy is an image of its own");
    assert_eq!(std::fs::read(b.iso_dir("local").join("appliance.iso")).unwrap(), data, "byte-exact");
    assert_eq!(copied.checksum.as_deref(), Some(sha256_wire(&data).as_str()));
    assert_eq!(copied.folder_path.as_str(), "/lab/isos");
    assert_eq!(
        (copied.os_source, copied.os_distribution.as_deref(), copied.os_version.as_deref()),
        (Some(OsSource::User), Some("alpine"), Some("3.20")),
        "the operator's correction travels with the copy"
    );

    // The library shows one image on two hosts.
    eventually(Duration::from_secs(20), "the library groups the two copies", || async {
        let (_, body) = vdc.get("/api/v1/images?group=checksum").await;
        let groups: ImageGroupList = serde_json::from_value(body).unwrap();
        groups.groups.len() == 1 && groups.groups[0].copies == 2
    })
    .await;

    // Refusals, in words: already there, a name taken on the target, unknown image or node.
    let (status, body) = copy(&vdc, image.id, json!({ "node_id": "hv-a", "pool_id": "local" })).await;
    assert_error(status, &body, 409, "already_there");
    let (status, body) = copy(&vdc, image.id, json!({ "node_id": "hv-b", "pool_id": "local" })).await;
    assert_error(status, &body, 409, "name_taken");
    let (status, body) = copy(&vdc, Uuid::new_v4(), json!({ "node_id": "hv-b", "pool_id": "local" })).await;
    assert_error(status, &body, 404, "image_not_found");
    let (status, body) = copy(&vdc, image.id, json!({ "node_id": "nobody", "pool_id": "local" })).await;
    assert_error(status, &body, 404, "node_not_found");
    let (status, body) = copy(&vdc, image.id, json!({ "node_id": "hv-b", "pool_id": "nowhere" })).await;
    assert_error(status, &body, 400, "unknown_pool");
    drop((a, b));
}

/// The copy's connection to the source is cut twice mid-transfer: it resumes from where it was (Range)
/// and lands byte-exact.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copy_cut_mid_transfer_resumes_with_range() {
    let db = TestDb::sqlite();
    let vdc = TestVdc::spawn(&db).await;
    let listen = free_addr();
    let proxy = Proxy::start(listen).await;
    let a = node(&vdc, "hv-a", Some((listen, proxy.url.clone()))).await;
    let b = node(&vdc, "hv-b", None).await;
    known_to_vdc(&vdc, &["hv-a", "hv-b"]).await;
    let data = pattern(62, 16 << 20);
    let image = a.upload_ok("", "big.iso", data.clone()).await;
    in_catalogue(&vdc, image.id, false).await;

    proxy.set(Mode::Delay(Duration::from_millis(2)));
    let (status, started) = copy(&vdc, image.id, json!({ "node_id": "hv-b", "pool_id": "local" })).await;
    assert_eq!(status, 202, "{started}");
    let task_id = started["task_id"].as_str().unwrap().to_owned();
    for cut in 1..=2u64 {
        eventually(Duration::from_secs(30), "the copy is under way", || async {
            let (_, t) = vdc.get(&format!("/api/v1/tasks/{task_id}?node_id=hv-b")).await;
            t["bytes_done"].as_u64().is_some_and(|d| d > cut * (data.len() as u64) / 4)
        })
        .await;
        proxy.cut();
    }
    proxy.set(Mode::Pass);
    let task = ended(&vdc, "hv-b", &task_id).await;
    assert_eq!(task.state, TaskState::Succeeded, "{task:?}");
    assert_eq!(std::fs::read(b.iso_dir("local").join("big.iso")).unwrap(), data, "byte-exact");
    let reads = proxy.seen(&format!("GET /internal/v1/images/{}/content", image.id));
    let ranged =
        reads.iter().filter(|r| String::from_utf8_lossy(r).to_ascii_lowercase().contains("\r\nrange: bytes=")).count();
    assert!(reads.len() >= 3 && ranged >= 2, "{} reads, {ranged} from an offset", reads.len());
    drop((a, b));
}

/// The source serves an image's bytes only with a ticket this cluster issued, unexpired, for that image
/// on that node; and with Range, so a copy resumes.
#[tokio::test]
async fn the_source_serves_bytes_only_with_a_ticket_for_them() {
    let root = tempfile::tempdir().unwrap();
    let mut config = node_config(&root, &local());
    config.cluster_token = Some(token());
    let node = TestNode::spawn_with(root, config).await;
    let data = pattern(63, 100_000);
    let image = node.upload_ok("", "served.iso", data.clone()).await;
    let other = node.upload_ok("", "other.iso", pattern(64, 1000)).await;
    let ticket = |image_id: Uuid, source: &str, expires_at: i64, token: &server::config::ClusterToken| {
        CopyTicket { image_id, source: source.parse().unwrap(), target: "hv-b".parse().unwrap(), expires_at }
            .seal(token)
    };
    let later = server::now_unix() + 600;
    let url = format!("{}/internal/v1/images/{}/content", node.url, image.id);
    let get = |ticket: Option<String>, range: Option<&str>| {
        let mut req = reqwest::Client::new().get(&url);
        if let Some(t) = ticket {
            req = req.header(TICKET_HEADER, t);
        }
        if let Some(r) = range {
            req = req.header("range", r);
        }
        async move { req.send().await.unwrap() }
    };
    let refused = |resp: reqwest::Response, status: u16, code: &'static str| async move {
        let s = resp.status().as_u16();
        assert_error(s, &resp.json::<Value>().await.unwrap(), status, code);
    };
    refused(get(None, None).await, 401, "ticket_refused").await;
    let another_cluster = server::config::ClusterToken::new("another-cluster-token-0123").unwrap();
    refused(get(Some(ticket(image.id, "test-node", later, &another_cluster)), None).await, 401, "ticket_refused").await;
    refused(
        get(Some(ticket(image.id, "test-node", server::now_unix() - 1, &token())), None).await,
        401,
        "ticket_refused",
    )
    .await;
    refused(get(Some(ticket(other.id, "test-node", later, &token())), None).await, 403, "ticket_not_for_this").await;
    refused(get(Some(ticket(image.id, "hv-x", later, &token())), None).await, 403, "ticket_not_for_this").await;
    // A user's credentials open nothing here.
    let resp = node.client.get(&url).send().await.unwrap();
    refused(resp, 401, "ticket_refused").await;

    let good = ticket(image.id, "test-node", later, &token());
    let resp = get(Some(good.clone()), None).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-length"], data.len().to_string().as_str());
    assert_eq!(resp.bytes().await.unwrap(), data);
    let resp = get(Some(good), Some("bytes=99000-")).await;
    assert_eq!(resp.status(), 206);
    assert_eq!(resp.headers()["content-range"], "bytes 99000-99999/100000");
    assert_eq!(resp.bytes().await.unwrap(), &data[99_000..]);
}
