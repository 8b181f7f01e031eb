//! Uploads into a node's pools: streaming, validation before any byte is stored, failures that leave
//! nothing behind, and the same-name race.

use std::time::Duration;

use app::model::{FolderPath, ImageFormat, IsoMetadata};

use crate::support::{
    TestNode, assert_error, eventually,
    multipart::RawUpload,
    pattern, pool,
    process::{Process, free_addr},
    sha256_wire,
};

#[tokio::test]
async fn upload_returns_the_new_metadata_and_stores_the_file() {
    let node = TestNode::spawn(&[pool("local"), pool("fast")]).await;
    let data = pattern(1, 3 << 20);
    let meta =
        node.upload_ok("pool_id=fast&folder=/linux/ubuntu", "ubuntu-24.04-live-server-amd64.iso", data.clone()).await;
    assert_eq!(meta.filename, "ubuntu-24.04-live-server-amd64.iso");
    assert_eq!(meta.name, "ubuntu-24.04-live-server-amd64");
    assert_eq!(meta.folder_path.as_str(), "/linux/ubuntu");
    assert_eq!(meta.size_bytes, data.len() as u64);
    assert_eq!(meta.format, ImageFormat::Iso);
    assert_eq!(meta.storage_pool_id.as_deref(), Some("fast"));
    assert_eq!(meta.checksum.as_deref(), Some(sha256_wire(&data).as_str()));
    assert_eq!(meta.os_family.as_deref(), Some("linux"));
    assert_eq!(meta.os_distribution.as_deref(), Some("ubuntu"));
    assert_eq!(meta.os_version.as_deref(), Some("24.04"));
    assert!(meta.revision > 0 && meta.created_at > 1_700_000_000);
    let on_disk = node.iso_dir("fast").join("ubuntu-24.04-live-server-amd64.iso");
    assert_eq!(std::path::Path::new(&meta.path), std::fs::canonicalize(&on_disk).unwrap());
    assert_eq!(std::fs::read(&on_disk).unwrap(), data);
    assert_eq!(node.files("fast"), ["ubuntu-24.04-live-server-amd64.iso"]);
    assert!(node.files("local").is_empty());

    // Listed and readable by id.
    let (status, got) = node.get(&format!("/api/v1/images/{}", meta.id)).await;
    assert_eq!(status, 200);
    assert_eq!(serde_json::from_value::<IsoMetadata>(got).unwrap(), meta);
}

#[tokio::test]
async fn without_a_folder_the_image_goes_to_its_os_default_and_without_a_pool_to_the_first() {
    let node = TestNode::spawn(&[pool("first"), pool("second")]).await;
    let win = node.upload_ok("", "Win11_23H2_English_x64.iso", pattern(2, 1000)).await;
    assert_eq!((win.folder_path.as_str(), win.storage_pool_id.as_deref()), ("/windows", Some("first")));
    let other = node.upload_ok("pool_id=second", "tools.img", pattern(3, 1000)).await;
    assert_eq!((other.folder_path.as_str(), other.format), ("/other", ImageFormat::Img));
    let ova = node.upload_ok("folder=/appliances", "router.OVA", pattern(4, 1000)).await;
    assert_eq!(ova.format, ImageFormat::Ova);
}

#[tokio::test]
async fn a_256_mib_body_streams_through() {
    let node = TestNode::spawn(&[pool("local")]).await;
    let size = 256u64 << 20;
    let upload = RawUpload::new("/api/v1/storage/upload?pool_id=local&folder=/big", "big.iso", size);
    let (answer, digest) = upload.send(node.addr, &node.token).await;
    let (status, body) = answer.expect("an answer");
    assert_eq!(status, 201, "{body}");
    let meta: IsoMetadata = serde_json::from_value(body).unwrap();
    assert_eq!(meta.size_bytes, size);
    assert_eq!(meta.checksum.as_deref(), Some(digest.as_str()));
    assert_eq!(std::fs::metadata(node.iso_dir("local").join("big.iso")).unwrap().len(), size);
    assert_eq!(node.files("local"), ["big.iso"]);
}

/// Records every change in the pools' directories from now on: a refused upload must leave no trace at
/// all, not even a staging file written and removed again.
fn watch_pools(
    node: &TestNode,
    pools: &[&str],
) -> (notify::RecommendedWatcher, std::sync::mpsc::Receiver<notify::Event>) {
    use notify::Watcher;
    let (tx, rx) = std::sync::mpsc::channel();
    let mut watcher = notify::recommended_watcher(move |e: notify::Result<notify::Event>| {
        if let Ok(e) = e
            && !matches!(e.kind, notify::EventKind::Access(_))
        {
            let _ = tx.send(e);
        }
    })
    .unwrap();
    for pool in pools {
        watcher.watch(&node.iso_dir(pool), notify::RecursiveMode::NonRecursive).unwrap();
    }
    (watcher, rx)
}

#[tokio::test]
async fn refusals_come_before_any_byte_is_stored() {
    let node = TestNode::spawn(&[pool("local"), PoolOptQuota::small()]).await;
    node.upload_ok("", "taken.iso", pattern(5, 100)).await;
    let (_watcher, events) = watch_pools(&node, &["local", "tiny"]);

    let (s, b) = node.upload("pool_id=nope", "a.iso", pattern(6, 100)).await;
    assert_error(s, &b, 404, "unknown_pool");
    let (s, b) = node.upload("folder=/a/../b", "a.iso", pattern(6, 100)).await;
    assert_error(s, &b, 400, "invalid_folder");
    let (s, b) = node.upload("folder=/1/2/3/4/5/6", "a.iso", pattern(6, 100)).await;
    assert_error(s, &b, 400, "invalid_folder");
    let (s, b) = node.upload("", "taken.iso", pattern(6, 100)).await;
    assert_error(s, &b, 409, "name_taken");
    let (s, b) = node.upload("checksum=md5:abc", "a.iso", pattern(6, 100)).await;
    assert_error(s, &b, 400, "invalid_checksum");

    // A declared size larger than the pool's free space: refused from the headers alone.
    let mut huge = RawUpload::new("/api/v1/storage/upload?pool_id=tiny", "huge.iso", 1000);
    huge.declared_length = Some(64 << 20);
    let (answer, _) = huge.send(node.addr, &node.token).await;
    let (s, b) = answer.expect("an answer");
    assert_error(s, &b, 507, "insufficient_storage");

    // Inotify delivers in order: a file created now is seen after anything the refusals did.
    std::fs::write(node.iso_dir("local").join(".barrier"), b"").unwrap();
    let mut seen = Vec::new();
    loop {
        let e = events.recv_timeout(Duration::from_secs(10)).expect("the watch sees the barrier file");
        if e.paths.iter().any(|p| p.ends_with(".barrier")) {
            break;
        }
        seen.push(e);
    }
    assert!(seen.is_empty(), "refused uploads touched the pools: {seen:?}");
    std::fs::remove_file(node.iso_dir("local").join(".barrier")).unwrap();
    assert_eq!(node.files("local"), ["taken.iso"]);
    assert!(node.files("tiny").is_empty());
    assert_eq!(node.list("").await.images.len(), 1);
}

#[tokio::test]
async fn hostile_filenames_are_refused() {
    let node = TestNode::spawn(&[pool("local")]).await;
    for name in [
        "../escape.iso",
        "../../etc/cron.d/x.iso",
        "/etc/passwd.iso",
        "dir/inner.iso",
        "dir\\inner.iso",
        "..",
        ".hidden.iso",
        "notes.txt",
        "archive.iso.exe",
        "tab\there.iso",
        "a:b.iso",
        "a|b.iso",
        " spaced.iso",
    ] {
        let (s, b) = node.upload("", name, pattern(7, 64)).await;
        assert_error(s, &b, 400, "invalid_filename");
    }
    assert!(node.files("local").is_empty());
    assert!(node.list("").await.images.is_empty());
    assert!(!node.root.path().join("pools/local/escape.iso").exists());
}

#[tokio::test]
async fn a_checksum_mismatch_keeps_nothing_and_a_match_is_accepted() {
    let node = TestNode::spawn(&[pool("local")]).await;
    let data = pattern(8, 2 << 20);
    let wrong = format!("sha256:{}", "0".repeat(64));
    let (s, b) = node.upload(&format!("checksum={wrong}"), "a.iso", data.clone()).await;
    assert_error(s, &b, 422, "checksum_mismatch");
    assert!(node.files("local").is_empty());
    assert!(node.list("").await.images.is_empty());

    let right = sha256_wire(&data);
    let meta = node.upload_ok(&format!("checksum={right}"), "a.iso", data).await;
    assert_eq!(meta.checksum.as_deref(), Some(right.as_str()));
}

#[tokio::test]
async fn an_aborted_upload_leaves_no_file_and_no_row() {
    let node = TestNode::spawn(&[pool("local")]).await;
    let mut upload = RawUpload::new("/api/v1/storage/upload?pool_id=local", "partial.iso", 32 << 20);
    upload.abort_after = Some(5 << 20);
    let (answer, _) = upload.send(node.addr, &node.token).await;
    assert!(answer.is_none());
    eventually(Duration::from_secs(10), "the temporary file is removed", || async { node.files("local").is_empty() })
        .await;
    assert!(node.list("").await.images.is_empty());
    // The name is free again.
    node.upload_ok("", "partial.iso", pattern(9, 10)).await;
}

#[tokio::test]
async fn a_full_pool_fails_the_upload_and_keeps_nothing() {
    let node = TestNode::spawn(&[PoolOptQuota::small()]).await;
    // Declares nothing too large (the quota is 1 MiB, the Content-Length says 512 KiB) but sends 3 MiB.
    let mut upload = RawUpload::new("/api/v1/storage/upload?pool_id=tiny", "big.iso", 3 << 20);
    upload.declared_length = Some(512 << 10);
    let (answer, _) = upload.send(node.addr, &node.token).await;
    // The request ends at the declared length: its multipart body, and so the file, is incomplete.
    let (s, b) = answer.expect("an answer");
    assert_error(s, &b, 400, "incomplete_upload");
    eventually(Duration::from_secs(10), "the pool is empty", || async { node.files("tiny").is_empty() }).await;

    // Honest but too large for the quota: the writer hits the limit mid-stream.
    let (s, b) = node.upload("pool_id=tiny", "big.iso", pattern(10, 3 << 20)).await;
    assert_error(s, &b, 507, "insufficient_storage");
    assert!(node.files("tiny").is_empty());
    assert!(node.list("").await.images.is_empty());
    // What fits still works.
    node.upload_ok("pool_id=tiny", "small.iso", pattern(11, 256 << 10)).await;
}

#[tokio::test]
async fn two_uploads_of_one_name_race_and_exactly_one_wins() {
    let node = TestNode::spawn(&[pool("local")]).await;
    let mut first = RawUpload::new("/api/v1/storage/upload?pool_id=local", "same.iso", 8 << 20);
    first.pace = Some(Duration::from_millis(30));
    let mut second = RawUpload::new("/api/v1/storage/upload?pool_id=local", "same.iso", 8 << 20);
    second.seed = 99;
    second.pace = Some(Duration::from_millis(30));
    let ((a, _), (b, _)) = tokio::join!(first.send(node.addr, &node.token), second.send(node.addr, &node.token));
    let mut statuses = [a.expect("answer").0, b.expect("answer").0];
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 409]);
    assert_eq!(node.files("local"), ["same.iso"]);
    assert_eq!(node.list("").await.images.len(), 1);
}

#[tokio::test]
async fn stale_temporary_files_are_removed_at_start() {
    let node = TestNode::spawn(&[pool("local")]).await;
    let leftover = node.iso_dir("local").join(".quantix-upload-0000.part");
    std::fs::write(&leftover, b"half an upload").unwrap();
    let keep = node.iso_dir("local").join("kept.iso");
    std::fs::write(&keep, b"not ours to delete").unwrap();
    let (root, config) = node.stop().await;
    let node = TestNode::spawn_with(root, config).await;
    assert!(!leftover.exists());
    assert!(keep.exists());
    drop(node);
}

#[tokio::test]
async fn a_node_killed_mid_upload_cleans_up_at_its_next_start() {
    // A real process, killed with SIGKILL while an upload streams in.
    let root = tempfile::tempdir().unwrap();
    let addr = free_addr();
    let pool_dir = root.path().join("pool");
    let args = ["node", "--listen", &addr.to_string(), "--node-id", "killed", "--data-dir"]
        .iter()
        .map(|s| s.to_string())
        .chain([root.path().join("db").display().to_string()])
        .chain(["--pool".into(), format!("local={}", pool_dir.display())])
        .collect();
    let mut node = Process::start(addr, args).await;
    let mut upload = RawUpload::new("/api/v1/storage/upload?pool_id=local", "victim.iso", 64 << 20);
    upload.pace = Some(Duration::from_millis(20));
    let token = node.token();
    let sending = tokio::spawn(async move { upload.send(addr, &token).await });
    let iso_dir = pool_dir.join("iso");
    eventually(Duration::from_secs(10), "a temporary file exists", || async {
        std::fs::read_dir(&iso_dir)
            .unwrap()
            .any(|e| e.unwrap().file_name().to_string_lossy().starts_with(".quantix-upload-"))
    })
    .await;
    node.kill9();
    let _ = sending.await;
    node.restart().await;
    assert_eq!(std::fs::read_dir(&iso_dir).unwrap().count(), 0, "no file survives the restart");
    let list: app::model::ImageList =
        node.client().get(format!("{}/api/v1/images", node.url)).send().await.unwrap().json().await.unwrap();
    assert!(list.images.is_empty());
}

/// A pool with a 1 MiB quota, id "tiny".
struct PoolOptQuota;

impl PoolOptQuota {
    fn small() -> crate::support::PoolOpt {
        crate::support::PoolOpt { id: "tiny", quota: Some(1 << 20) }
    }
}

#[tokio::test]
async fn folder_of_an_upload_is_created_and_listed() {
    let node = TestNode::spawn(&[pool("local")]).await;
    node.upload_ok("folder=/windows/server/2022", "Windows_Server_2022_EVAL.iso", pattern(12, 10)).await;
    let listing = node.folders().await;
    for f in ["/", "/windows", "/windows/server", "/windows/server/2022", "/linux", "/other"] {
        assert!(listing.folders.contains(&FolderPath::parse(f).unwrap()), "{f} missing: {listing:?}");
    }
}
