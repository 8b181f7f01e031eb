//! The pool watcher with a real node and vdc: files copied in by other means, renames, deletions, and
//! start-up reconciliation.

use std::{io::Write, path::Path, time::Duration};

use app::model::IsoMetadata;
use sha2::Digest;

use crate::support::{
    TestNode, eventually, node_config, pool,
    vdc::{TestDb, TestVdc, node_config_for},
};

async fn node_syncing_to(vdc: &TestVdc) -> TestNode {
    let (root, mut config) = node_config_for(vdc, &[pool("local")]);
    config.sync_interval = Duration::from_secs(5);
    TestNode::spawn_with(root, config).await
}

async fn only_image(node: &TestNode) -> Option<IsoMetadata> {
    let list = node.list("").await.images;
    assert!(list.len() <= 1, "more than one image: {list:?}");
    list.into_iter().next()
}

/// Writes `size` bytes in `chunk`-sized pieces with a pause between them, like a slow scp; returns the
/// checksum.
fn slow_copy(path: &Path, size: usize, chunk: usize, pause: Duration) -> String {
    let mut f = std::fs::File::create(path).unwrap();
    let mut hasher = sha2::Sha256::new();
    let mut written = 0;
    let mut x = 0x9e3779b97f4a7c15u64;
    let mut block = vec![0u8; chunk];
    while written < size {
        for b in block.chunks_mut(8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            b.copy_from_slice(&x.to_le_bytes()[..b.len()]);
        }
        let n = chunk.min(size - written);
        f.write_all(&block[..n]).unwrap();
        hasher.update(&block[..n]);
        written += n;
        std::thread::sleep(pause);
    }
    f.sync_all().unwrap();
    format!("sha256:{}", hex::encode(hasher.finalize()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copied_file_is_registered_once_and_follows_renames_and_deletion() {
    let db = TestDb::sqlite();
    let vdc = TestVdc::spawn(&db).await;
    let node = node_syncing_to(&vdc).await;
    let iso = node.iso_dir("local");

    // A 512 MiB file arriving in slow chunks: nothing is registered while it grows.
    let path = iso.join("ubuntu-24.04-live-server-amd64.iso");
    let writer = {
        let path = path.clone();
        tokio::task::spawn_blocking(move || slow_copy(&path, 512 << 20, 16 << 20, Duration::from_millis(40)))
    };
    let mut seen_while_copying = Vec::new();
    while !writer.is_finished() {
        seen_while_copying.extend(node.list("").await.images);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let checksum = writer.await.unwrap();
    assert!(seen_while_copying.is_empty(), "registered while still growing: {seen_while_copying:?}");
    eventually(Duration::from_secs(30), "the file is registered and hashed", || async {
        only_image(&node).await.is_some_and(|i| i.checksum.is_some())
    })
    .await;
    let img = only_image(&node).await.unwrap();
    assert_eq!(img.checksum.as_deref(), Some(checksum.as_str()));
    assert_eq!(img.size_bytes, 512 << 20);
    assert_eq!(img.folder_path.as_str(), "/linux", "default folder by OS guess");
    eventually(Duration::from_secs(10), "the vdc has it, hashed", || async {
        vdc.list("")
            .await
            .images
            .first()
            .is_some_and(|i| i.id == img.id && i.checksum.as_deref() == Some(checksum.as_str()))
    })
    .await;

    // The node's own temporary files and files that are not images are left alone.
    std::fs::write(iso.join(".quantix-upload-stray.part"), b"x").unwrap();
    std::fs::write(iso.join("notes.txt"), b"x").unwrap();

    // mv keeps the id and the folder.
    let moved = node
        .post_json(&format!("/api/v1/images/{}/move", img.id), serde_json::json!({ "folder_path": "/linux/ubuntu" }))
        .await;
    assert_eq!(moved.0, 200);
    std::fs::rename(&path, iso.join("ubuntu-server.iso")).unwrap();
    eventually(Duration::from_secs(10), "the rename reaches node and vdc", || async {
        let on_vdc = vdc.list("").await.images;
        only_image(&node).await.is_some_and(|i| i.filename == "ubuntu-server.iso")
            && on_vdc.len() == 1
            && on_vdc[0].filename == "ubuntu-server.iso"
    })
    .await;
    let renamed = only_image(&node).await.unwrap();
    assert_eq!(
        (renamed.id, renamed.folder_path.as_str(), renamed.checksum.as_deref()),
        (img.id, "/linux/ubuntu", Some(checksum.as_str()))
    );

    // rm removes it from node and vdc.
    std::fs::remove_file(iso.join("ubuntu-server.iso")).unwrap();
    eventually(Duration::from_secs(10), "the deletion reaches node and vdc", || async {
        node.list("").await.images.is_empty() && vdc.list("").await.images.is_empty()
    })
    .await;
    assert!(node.list("").await.images.is_empty(), "stray and non-image files are ignored");
}

#[tokio::test]
async fn an_upload_is_not_registered_twice_by_the_watcher() {
    let db = TestDb::sqlite();
    let vdc = TestVdc::spawn(&db).await;
    let node = node_syncing_to(&vdc).await;
    let meta = node.upload_ok("folder=/tools", "tools.iso", crate::support::pattern(1, 3 << 20)).await;
    // A file copied in after the upload: the watcher handles events in order, so once it registered this
    // one it has seen (and settled) everything the upload did in the pool.
    std::fs::write(node.iso_dir("local").join("marker.iso"), b"after the upload").unwrap();
    eventually(Duration::from_secs(10), "the watcher registers the later file", || async {
        node.list("").await.images.iter().any(|i| i.filename == "marker.iso")
    })
    .await;
    let list = node.list("").await.images;
    assert_eq!(list.len(), 2, "{list:?}");
    let upload = list.iter().find(|i| i.filename == "tools.iso").expect("the upload is listed");
    assert_eq!((upload.id, upload.revision), (meta.id, meta.revision), "the watcher left the upload alone");
    eventually(Duration::from_secs(10), "the vdc has the upload", || async {
        vdc.list("").await.images.iter().any(|i| i.id == meta.id && i.revision == meta.revision)
    })
    .await;
}

#[tokio::test]
async fn start_up_reconciles_disk_and_database() {
    let root = tempfile::tempdir().unwrap();
    let config = node_config(&root, &[pool("local")]);
    let node = TestNode::spawn_with(root, config).await;
    let keep = node.upload_ok("folder=/keep", "keep.iso", crate::support::pattern(2, 4096)).await;
    let gone = node.upload_ok("", "gone.iso", crate::support::pattern(3, 4096)).await;
    let changed = node.upload_ok("folder=/changed", "changed.iso", crate::support::pattern(4, 4096)).await;
    let iso = node.iso_dir("local");
    let (root, config) = node.stop().await;

    // While the node is down: one file deleted, one rewritten, one new.
    std::fs::remove_file(iso.join("gone.iso")).unwrap();
    std::fs::write(iso.join("changed.iso"), b"different content now").unwrap();
    std::fs::write(iso.join("new-debian-12.iso"), b"new content").unwrap();

    let node = TestNode::spawn_with(root, config).await;
    eventually(Duration::from_secs(10), "reconciled and hashed", || async {
        let list = node.list("").await.images;
        let names: Vec<&str> = list.iter().map(|i| i.filename.as_str()).collect();
        names == ["changed.iso", "keep.iso", "new-debian-12.iso"]
            && list.iter().all(|i| i.checksum.is_some())
            && list.iter().any(|i| i.size_bytes == 21)
    })
    .await;
    let list = node.list("").await.images;
    let by_name = |n: &str| list.iter().find(|i| i.filename == n).unwrap().clone();
    assert!(list.iter().all(|i| i.id != gone.id));
    assert_eq!(by_name("keep.iso"), IsoMetadata { ..keep });
    let c = by_name("changed.iso");
    assert_eq!((c.id, c.folder_path.as_str(), c.size_bytes), (changed.id, "/changed", 21));
    assert_eq!(c.checksum.as_deref(), Some(crate::support::sha256_wire(b"different content now").as_str()));
    let n = by_name("new-debian-12.iso");
    assert_eq!((n.folder_path.as_str(), n.os_distribution.as_deref()), ("/linux", Some("debian")));
}
