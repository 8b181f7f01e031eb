//! Download from a URL into a pool, against an origin the test runs (`support/origin.rs`): the file lands
//! like an upload, a dropped connection resumes with Range, and each refusal or misbehaving server gets
//! its reason in words and leaves nothing (no staging file, no image, no room held).

use std::time::Duration;

use app::model::{IsoMetadata, OsSource, Task, TaskList, TaskState};
use serde_json::{Value, json};

use crate::support::vdc::{TestDb, TestVdc, node_config_for};

use crate::support::{
    PoolOpt, TestNode, assert_error, eventually, get_json,
    iso_image::IsoSpec,
    node_config,
    origin::{Origin, Serve},
    pattern,
    process::{Process, free_addr},
    sha256_wire,
};

/// The pool every test downloads into: a quota, so its free room is exact and a held claim shows.
const QUOTA: u64 = 64 << 20;

/// A node whose downloads may reach `allow` (the origin is on 127.0.0.1), waiting `idle` for a server.
async fn node(allow: &[&str], idle: Duration) -> TestNode {
    let root = tempfile::tempdir().unwrap();
    let mut config = node_config(&root, &[PoolOpt { id: "local", quota: Some(QUOTA) }]);
    config.download_allow = allow.iter().map(|c| c.parse().unwrap()).collect();
    config.download_idle_timeout = idle;
    TestNode::spawn_with(root, config).await
}

async fn loopback_node() -> TestNode {
    node(&["127.0.0.0/8"], Duration::from_secs(1)).await
}

async fn start(node: &TestNode, body: Value) -> (u16, Value) {
    node.post_json("/api/v1/storage/download", body).await
}

async fn start_ok(node: &TestNode, body: Value) -> String {
    let (status, body) = start(node, body).await;
    assert_eq!(status, 202, "{body}");
    body["task_id"].as_str().unwrap().to_owned()
}

async fn task(node: &TestNode, id: &str) -> Task {
    get_json(&node.client, &format!("{}/api/v1/tasks/{id}", node.url)).await
}

/// Waits until the task is over; how it ended.
async fn ended(node: &TestNode, id: &str) -> Task {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let t = task(node, id).await;
        if t.state != TaskState::Running {
            return t;
        }
        assert!(tokio::time::Instant::now() < deadline, "task {id} still running: {t:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn failed(node: &TestNode, id: &str) -> String {
    let t = ended(node, id).await;
    assert_eq!(t.state, TaskState::Failed, "{t:?}");
    assert_eq!(t.image_id, None);
    t.error.expect("a failed task says why")
}

/// Whether the pool's whole room can be claimed now: a resumable upload of that length is admitted
/// (and cancelled again) only if no claim holds any of it.
async fn whole_room_free(node: &TestNode) -> bool {
    let resp = node
        .client
        .post(format!("{}/api/v1/uploads", node.url))
        .header("tus-resumable", "1.0.0")
        .header("upload-length", QUOTA.to_string())
        .header("upload-metadata", "filename cm9vbS5pc28=,pool_id bG9jYWw=")
        .send()
        .await
        .unwrap();
    if resp.status() != 201 {
        assert_eq!(resp.status(), 507);
        return false;
    }
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    let resp =
        node.client.delete(format!("{}{location}", node.url)).header("tus-resumable", "1.0.0").send().await.unwrap();
    assert_eq!(resp.status(), 204);
    true
}

/// Nothing of a failed download is left: no file or staging file, no image, all the room free.
async fn assert_nothing_left(node: &TestNode) {
    assert_eq!(node.files("local"), Vec::<String>::new(), "files left in the pool");
    assert_eq!(node.list("").await.images.len(), 0, "an image was registered");
    assert!(whole_room_free(node).await, "room is still claimed");
}

#[tokio::test]
async fn a_downloaded_iso_lands_like_an_upload_with_its_os_and_checksum() {
    let origin = Origin::start().await;
    let node = loopback_node().await;
    let iso = IsoSpec::new("Fedora-E-dvd-aarch64-44").boot(false, true).build();
    let url = origin.serve("/pub/fedora/disc1.iso", Serve::file(iso.clone()));
    let id = start_ok(&node, json!({ "url": url, "pool_id": "local", "checksum": sha256_wire(&iso) })).await;
    let t = ended(&node, &id).await;
    assert_eq!(t.state, TaskState::Succeeded, "{t:?}");
    assert_eq!((t.bytes_done, t.bytes_total), (iso.len() as u64, Some(iso.len() as u64)));
    assert_eq!(t.source.as_deref(), Some(url.as_str()));
    let image: IsoMetadata =
        get_json(&node.client, &format!("{}/api/v1/images/{}", node.url, t.image_id.unwrap())).await;
    assert_eq!(image.filename, "disc1.iso");
    assert_eq!(image.checksum.as_deref(), Some(sha256_wire(&iso).as_str()));
    assert_eq!((image.os_source, image.folder_path.as_str()), (Some(OsSource::Content), "/linux"));
    assert!(std::fs::read(node.iso_dir("local").join("disc1.iso")).unwrap() == iso);
    let list: TaskList = get_json(&node.client, &format!("{}/api/v1/tasks", node.url)).await;
    assert_eq!(list.tasks.iter().map(|t| t.id.to_string()).collect::<Vec<_>>(), [id]);
    // The name is taken now: a second download of it is refused at once.
    let (status, body) = start(&node, json!({ "url": url, "pool_id": "local" })).await;
    assert_error(status, &body, 409, "name_taken");
}

#[tokio::test]
async fn a_dropped_connection_resumes_with_range_and_lands_byte_exact() {
    let origin = Origin::start().await;
    let node = loopback_node().await;
    let data = pattern(41, 3 << 20);
    let how = Serve::File { data: data.clone().into(), cut_after: 1 << 20, cuts: 2, ranges: true };
    let url = origin.serve("/cut.iso", how);
    let id = start_ok(&node, json!({ "url": url, "pool_id": "local", "filename": "resumed.iso" })).await;
    let t = ended(&node, &id).await;
    assert_eq!(t.state, TaskState::Succeeded, "{t:?}");
    let ranges: Vec<Option<String>> = origin.seen().into_iter().map(|s| s.range).collect();
    assert_eq!(ranges, [None, Some("bytes=1048576-".into()), Some("bytes=2097152-".into())]);
    assert!(std::fs::read(node.iso_dir("local").join("resumed.iso")).unwrap() == data);
    let image: IsoMetadata =
        get_json(&node.client, &format!("{}/api/v1/images/{}", node.url, t.image_id.unwrap())).await;
    assert_eq!(image.checksum.as_deref(), Some(sha256_wire(&data).as_str()));
}

#[tokio::test]
async fn a_server_that_cannot_resume_fails_the_task_and_keeps_nothing() {
    let origin = Origin::start().await;
    let node = loopback_node().await;
    let how = Serve::File { data: pattern(42, 2 << 20).into(), cut_after: 1 << 20, cuts: 1, ranges: false };
    let id = start_ok(&node, json!({ "url": origin.serve("/norange.iso", how), "pool_id": "local" })).await;
    let error = failed(&node, &id).await;
    assert!(error.contains("ignores Range"), "{error}");
    assert_nothing_left(&node).await;
}

#[tokio::test]
async fn a_checksum_mismatch_keeps_nothing() {
    let origin = Origin::start().await;
    let node = loopback_node().await;
    let url = origin.serve("/debian.iso", Serve::file(pattern(43, 3 << 20)));
    let wrong = sha256_wire(b"another file");
    let id = start_ok(&node, json!({ "url": url, "pool_id": "local", "checksum": wrong })).await;
    let error = failed(&node, &id).await;
    assert!(error.contains("SHA-256") && error.contains(&wrong["sha256:".len()..]), "{error}");
    assert_nothing_left(&node).await;
}

#[tokio::test]
async fn a_mirror_serving_a_web_page_fails_in_words_and_keeps_nothing() {
    let origin = Origin::start().await;
    let node = loopback_node().await;
    let id = start_ok(&node, json!({ "url": origin.serve("/get/ubuntu.iso", Serve::Html), "pool_id": "local" })).await;
    let error = failed(&node, &id).await;
    assert!(error.contains("web page"), "{error}");
    assert_nothing_left(&node).await;
}

#[tokio::test]
async fn a_missing_file_fails_with_the_servers_answer() {
    let origin = Origin::start().await;
    let node = loopback_node().await;
    let id = start_ok(&node, json!({ "url": origin.url("/gone.iso"), "pool_id": "local" })).await;
    let error = failed(&node, &id).await;
    assert!(error.contains("404") && error.contains("no file at this URL"), "{error}");
    assert_nothing_left(&node).await;
}

#[tokio::test]
async fn a_server_that_lies_about_the_length_keeps_nothing() {
    let origin = Origin::start().await;
    let node = loopback_node().await;
    // Announces more than it sends, then closes: the resume finds no server that can carry on.
    let short = origin.serve("/short.iso", Serve::Lie { announce: 2 << 20, data: pattern(44, 1 << 20).into() });
    let error = failed(&node, &start_ok(&node, json!({ "url": short, "pool_id": "local" })).await).await;
    assert!(error.contains("broke off") || error.contains("closed the connection"), "{error}");
    assert_nothing_left(&node).await;
    // Announces fewer than it sends: the client reads what was announced, which is not the file.
    let data = pattern(45, 2 << 20);
    let long = origin.serve("/long.iso", Serve::Lie { announce: 1 << 20, data: data.clone().into() });
    let body = json!({ "url": long, "pool_id": "local", "checksum": sha256_wire(&data) });
    let error = failed(&node, &start_ok(&node, body).await).await;
    assert!(error.contains("SHA-256"), "{error}");
    assert_nothing_left(&node).await;
}

#[tokio::test]
async fn a_file_larger_than_the_pools_room_fails_before_its_first_byte() {
    let origin = Origin::start().await;
    let node = loopback_node().await;
    let url = origin.serve("/huge.iso", Serve::Stall { announce: QUOTA + 1, send: 0 });
    let t = ended(&node, &start_ok(&node, json!({ "url": url, "pool_id": "local" })).await).await;
    assert_eq!((t.state, t.bytes_done), (TaskState::Failed, 0), "{t:?}");
    assert!(t.error.as_deref().unwrap().contains("not enough"), "{t:?}");
    assert_nothing_left(&node).await;
}

#[tokio::test]
async fn a_stalled_server_times_out_and_keeps_nothing() {
    let origin = Origin::start().await;
    let node = loopback_node().await;
    let url = origin.serve("/stall.iso", Serve::Stall { announce: 4 << 20, send: 1 << 20 });
    let error = failed(&node, &start_ok(&node, json!({ "url": url, "pool_id": "local" })).await).await;
    assert!(error.contains("sent nothing for 1 s"), "{error}");
    assert_nothing_left(&node).await;
}

#[tokio::test]
async fn a_cancelled_download_removes_what_it_received() {
    let origin = Origin::start().await;
    let node = node(&["127.0.0.1"], Duration::from_secs(60)).await;
    let url = origin.serve("/slow.iso", Serve::Stall { announce: 4 << 20, send: 1 << 20 });
    let id = start_ok(&node, json!({ "url": url, "pool_id": "local" })).await;
    eventually(Duration::from_secs(20), "the first MiB arrived", || async {
        task(&node, &id).await.bytes_done == 1 << 20
    })
    .await;
    assert!(!whole_room_free(&node).await, "the announced size is claimed");
    let (status, body) = node.delete(&format!("/api/v1/tasks/{id}")).await;
    assert_eq!(status, 202, "{body}");
    let t = ended(&node, &id).await;
    assert_eq!(t.state, TaskState::Cancelled, "{t:?}");
    assert_nothing_left(&node).await;
    let (status, body) = node.delete(&format!("/api/v1/tasks/{id}")).await;
    assert_error(status, &body, 409, "task_over");
    let (status, body) = node.get(&format!("/api/v1/tasks/{}", uuid::Uuid::new_v4())).await;
    assert_error(status, &body, 404, "task_not_found");
}

#[tokio::test]
async fn a_redirect_to_a_range_not_allowed_is_refused() {
    let origin = Origin::start().await;
    // 127.0.0.1 is allowed (the origin), the rest of loopback and the private ranges are not.
    let node = node(&["127.0.0.1/32"], Duration::from_secs(1)).await;
    for to in ["http://127.0.0.2:9/x.iso", "http://10.0.0.1/x.iso", "http://[::1]/x.iso"] {
        let url = origin.serve("/jump.iso", Serve::Redirect(to.into()));
        let error = failed(&node, &start_ok(&node, json!({ "url": url, "pool_id": "local" })).await).await;
        assert!(error.contains("redirected to") && error.contains("may not reach"), "{to}: {error}");
    }
    // The refusal came before any connection to them: only the origin saw requests.
    assert_eq!(origin.seen().iter().map(|s| s.path.as_str()).collect::<Vec<_>>(), ["/jump.iso"; 3]);
    assert_nothing_left(&node).await;
    // A redirect to what is allowed is followed.
    let data = pattern(46, 1 << 20);
    origin.serve("/real.iso", Serve::file(data.clone()));
    let url = origin.serve("/jump.iso", Serve::Redirect("/real.iso".into()));
    let t = ended(&node, &start_ok(&node, json!({ "url": url, "pool_id": "local" })).await).await;
    assert_eq!(t.state, TaskState::Succeeded, "{t:?}");
    assert_eq!(t.filename, "jump.iso");
}

/// A name is checked by what it resolves to when the client connects: `localhost` is 127.0.0.1 (or ::1),
/// which this node does not allow (only 127.0.0.2, where the origin listens).
#[tokio::test]
async fn a_redirect_to_a_name_of_a_refused_address_is_refused() {
    let origin = Origin::start_on("127.0.0.2").await;
    let node = node(&["127.0.0.2/32"], Duration::from_secs(1)).await;
    let port = origin.addr.port();
    let url = origin.serve("/jump.iso", Serve::Redirect(format!("http://localhost:{port}/jump.iso")));
    let error = failed(&node, &start_ok(&node, json!({ "url": url, "pool_id": "local" })).await).await;
    assert!(error.contains("redirected to") && error.contains("localhost is a loopback address"), "{error}");
    assert_nothing_left(&node).await;
}

#[tokio::test]
async fn refused_urls_get_400_at_once_and_no_task() {
    let origin = Origin::start().await;
    let node = node(&[], Duration::from_secs(1)).await;
    let port = origin.addr.port();
    let cases = [
        (format!("http://127.0.0.1:{port}/x.iso"), "url_refused"),
        (format!("http://localhost:{port}/x.iso"), "url_refused"),
        (format!("http://[::ffff:127.0.0.1]:{port}/x.iso"), "url_refused"),
        ("http://169.254.169.254/latest/x.iso".into(), "url_refused"),
        ("http://192.168.1.1/x.iso".into(), "url_refused"),
        ("file:///etc/passwd.iso".into(), "url_refused"),
        ("ftp://mirror.example/x.iso".into(), "url_refused"),
        ("https://ann:secret@mirror.example/x.iso".into(), "url_refused"),
        ("not a url".into(), "invalid_url"),
        ("http://8.8.8.8/dir/".into(), "invalid_filename"),
        ("http://8.8.8.8/setup.exe".into(), "invalid_filename"),
    ];
    // Every case is tried, and every one that was not refused as it should be is listed.
    let mut wrong = Vec::new();
    for (url, code) in cases {
        let (status, body) = start(&node, json!({ "url": url, "pool_id": "local" })).await;
        if (status, body["error"].as_str()) != (400, Some(code))
            || body["message"].as_str().unwrap_or("").contains("secret")
        {
            wrong.push(format!("{url}: {status} {body}"));
        }
    }
    assert!(wrong.is_empty(), "not refused as expected:\n{}", wrong.join("\n"));
    let (status, body) = start(&node, json!({ "url": "http://8.8.8.8/x.iso", "pool_id": "nope" })).await;
    assert_error(status, &body, 400, "unknown_pool");
    let (status, body) =
        start(&node, json!({ "url": "http://8.8.8.8/x.iso", "pool_id": "local", "checksum": "md5:1" })).await;
    assert_error(status, &body, 400, "invalid_checksum");
    let (status, body) =
        start(&node, json!({ "url": "http://8.8.8.8/x.iso", "pool_id": "local", "folder": "../x" })).await;
    assert_eq!(status, 400, "{body}");
    assert!(origin.seen().is_empty());
    let list: TaskList = get_json(&node.client, &format!("{}/api/v1/tasks", node.url)).await;
    assert!(list.tasks.is_empty(), "{list:?}");
}

#[tokio::test]
async fn an_unfinished_resumable_upload_shows_as_a_running_upload_task() {
    let node = loopback_node().await;
    let resp = node
        .client
        .post(format!("{}/api/v1/uploads", node.url))
        .header("tus-resumable", "1.0.0")
        .header("upload-length", "1000")
        .header("upload-metadata", "filename dHVzLmlzbw==,pool_id bG9jYWw=")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let upload: Value = resp.json().await.unwrap();
    let id = upload["id"].as_str().unwrap();
    let t = task(&node, id).await;
    assert_eq!(
        (t.kind, t.state, t.bytes_total, t.filename.as_str()),
        (app::model::TaskKind::Upload, TaskState::Running, Some(1000), "tus.iso")
    );
    let (status, body) = node.delete(&format!("/api/v1/tasks/{id}")).await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["state"], "cancelled");
    assert_nothing_left(&node).await;
}

/// A real node killed -9 mid-download: at its restart the task is failed with the reason, and the
/// staging file and the room are gone.
#[tokio::test]
async fn a_download_running_when_the_node_dies_is_failed_at_its_restart() {
    let origin = Origin::start().await;
    let root = tempfile::tempdir().unwrap();
    let pool_dir = root.path().join("pool");
    let addr = free_addr();
    let args = ["node", "--listen", &addr.to_string(), "--node-id", "dies", "--download-allow", "127.0.0.1/32"]
        .iter()
        .map(|s| s.to_string())
        .chain(["--data-dir".into(), root.path().join("db").display().to_string()])
        .chain(["--pool".into(), format!("local={}", pool_dir.display())])
        .collect();
    let mut node = Process::start(addr, args).await;
    let url = origin.serve("/slow.iso", Serve::Stall { announce: 4 << 20, send: 1 << 20 });
    let resp = node
        .client()
        .post(format!("{}/api/v1/storage/download", node.url))
        .json(&json!({ "url": url, "pool_id": "local" }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 202);
    let id = resp.json::<Value>().await.unwrap()["task_id"].as_str().unwrap().to_owned();
    let task_url = format!("{}/api/v1/tasks/{id}", node.url);
    eventually(Duration::from_secs(20), "bytes arrived", || async {
        get_json::<Task>(node.client(), &task_url).await.bytes_done > 0
    })
    .await;
    let staged = std::fs::read_dir(pool_dir.join("iso")).unwrap().count();
    assert_eq!(staged, 1, "a staging file while it runs");
    node.kill9();
    node.restart().await;
    let t: Task = get_json(node.client(), &task_url).await;
    assert_eq!(t.state, TaskState::Failed, "{t:?}");
    assert!(t.error.as_deref().unwrap().contains("node stopped"), "{t:?}");
    assert_eq!(std::fs::read_dir(pool_dir.join("iso")).unwrap().count(), 0, "the staging file is removed");
    node.terminate();
}

/// The vdc starts a download on the node it names and follows it there; the image then reaches the
/// library through the node's sync, like an upload.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_vdc_downloads_onto_a_chosen_node_and_follows_the_task() {
    let origin = Origin::start().await;
    let db = TestDb::sqlite();
    let vdc = TestVdc::spawn(&db).await;
    let (root, mut config) = node_config_for(&vdc, &[PoolOpt { id: "local", quota: Some(QUOTA) }]);
    config.download_allow = vec!["127.0.0.1".parse().unwrap()];
    let node = TestNode::spawn_with(root, config).await;
    eventually(Duration::from_secs(20), "the node told the vdc where its API is", || async {
        vdc.nodes().await.nodes.iter().any(|n| n.api_url.is_some())
    })
    .await;
    let data = pattern(47, 1 << 20);
    let url = origin.serve("/via-vdc.iso", Serve::file(data.clone()));
    let body = json!({ "node_id": "test-node", "url": url, "pool_id": "local", "checksum": sha256_wire(&data) });
    let (status, started) = vdc.post("/api/v1/storage/download", &body).await;
    assert_eq!(status, 202, "{started}");
    let id = started["task_id"].as_str().unwrap().to_owned();
    eventually(Duration::from_secs(20), "the task succeeded, seen from the vdc", || async {
        vdc.get(&format!("/api/v1/tasks/{id}?node_id=test-node")).await.1["state"] == "succeeded"
    })
    .await;
    let (status, list) = vdc.get("/api/v1/tasks?node_id=test-node").await;
    assert_eq!((status, list["tasks"][0]["id"].as_str()), (200, Some(id.as_str())), "{list}");
    eventually(Duration::from_secs(20), "the image is in the library", || async {
        vdc.list("").await.images.iter().any(|i| i.filename == "via-vdc.iso")
    })
    .await;
    // The node's refusals come back as they are; an unknown node is the vdc's own 404.
    let refused = json!({ "node_id": "test-node", "url": "file:///etc/passwd", "pool_id": "local" });
    let (status, body) = vdc.post("/api/v1/storage/download", &refused).await;
    assert_error(status, &body, 400, "url_refused");
    let (status, body) = vdc.get("/api/v1/tasks?node_id=nobody").await;
    assert_error(status, &body, 404, "node_not_found");
    let (status, body) = vdc.delete(&format!("/api/v1/tasks/{id}?node_id=test-node")).await;
    assert_error(status, &body, 409, "task_over");
    drop(node);
}
