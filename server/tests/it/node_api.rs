//! The node's image and folder API: list filters, get, move, delete, folders, pools, errors.

use app::model::{FolderPath, IsoMetadata};
use serde_json::json;

use crate::support::{TestNode, assert_error, pattern, pool};

fn names(list: &app::model::ImageList) -> Vec<String> {
    list.images.iter().map(|i| i.filename.clone()).collect()
}

async fn seeded() -> (TestNode, Vec<IsoMetadata>) {
    let node = TestNode::spawn(&[pool("local"), pool("bulk")]).await;
    let mut out = Vec::new();
    for (query, name) in [
        ("folder=/win", "tools-win.iso"),
        ("folder=/windows", "Win11_23H2.iso"),
        ("folder=/windows/server", "Windows_Server_2022.iso"),
        ("folder=/linux/ubuntu&pool_id=bulk", "ubuntu-24.04.iso"),
        ("folder=/linux", "debian-12.iso"),
    ] {
        out.push(node.upload_ok(query, name, pattern(name.len() as u64, 1024)).await);
    }
    (node, out)
}

#[tokio::test]
async fn list_filters_by_folder_exactly_or_recursively_by_whole_segments() {
    let (node, _) = seeded().await;
    assert_eq!(names(&node.list("folder=/windows").await), ["Win11_23H2.iso"]);
    assert_eq!(
        names(&node.list("folder=/windows&recursive=true").await),
        ["Win11_23H2.iso", "Windows_Server_2022.iso"]
    );
    assert_eq!(names(&node.list("folder=/win&recursive=true").await), ["tools-win.iso"]);
    assert_eq!(names(&node.list("folder=/").await), Vec::<String>::new());
    assert_eq!(node.list("folder=/&recursive=true").await.images.len(), 5);
    assert_eq!(names(&node.list("pool_id=bulk").await), ["ubuntu-24.04.iso"]);
    assert_eq!(names(&node.list("q=UBUNTU").await), ["ubuntu-24.04.iso"]);
    assert_eq!(names(&node.list("os_family=windows&folder=/windows").await), ["Win11_23H2.iso"]);
    let (s, b) = node.get("/api/v1/images?folder=/a/../b").await;
    assert_error(s, &b, 400, "invalid_folder");
}

#[tokio::test]
async fn get_answers_404_for_unknown_and_400_for_malformed_ids() {
    let (node, imgs) = seeded().await;
    let (s, _) = node.get(&format!("/api/v1/images/{}", imgs[0].id)).await;
    assert_eq!(s, 200);
    let (s, b) = node.get(&format!("/api/v1/images/{}", uuid::Uuid::new_v4())).await;
    assert_error(s, &b, 404, "image_not_found");
    let (s, b) = node.get("/api/v1/images/not-a-uuid").await;
    assert_error(s, &b, 400, "invalid_id");
}

#[tokio::test]
async fn move_validates_creates_the_folder_and_bumps_the_revision() {
    let (node, imgs) = seeded().await;
    let img = &imgs[4];
    let (s, b) =
        node.post_json(&format!("/api/v1/images/{}/move", img.id), json!({ "folder_path": "/linux/debian/12" })).await;
    assert_eq!(s, 200, "{b}");
    let moved: IsoMetadata = serde_json::from_value(b).unwrap();
    assert_eq!(moved.folder_path.as_str(), "/linux/debian/12");
    assert!(moved.revision > img.revision);
    assert_eq!(moved.checksum, img.checksum);
    assert!(node.folders().await.folders.contains(&FolderPath::parse("/linux/debian/12").unwrap()));

    // Moving where it already is changes nothing.
    let (_, b) =
        node.post_json(&format!("/api/v1/images/{}/move", img.id), json!({ "folder_path": "/linux/debian/12/" })).await;
    assert_eq!(serde_json::from_value::<IsoMetadata>(b).unwrap().revision, moved.revision);

    let (s, b) = node.post_json(&format!("/api/v1/images/{}/move", img.id), json!({ "folder_path": "/x/<y>" })).await;
    assert_error(s, &b, 400, "invalid_folder");
    let (s, b) = node.post_json(&format!("/api/v1/images/{}/move", img.id), json!({ "folder": "/x" })).await;
    assert_error(s, &b, 400, "invalid_body");
    let (s, b) =
        node.post_json(&format!("/api/v1/images/{}/move", uuid::Uuid::new_v4()), json!({ "folder_path": "/x" })).await;
    assert_error(s, &b, 404, "image_not_found");
    // The file did not move: folders are metadata.
    assert!(node.iso_dir("local").join("debian-12.iso").exists());
}

#[tokio::test]
async fn delete_removes_file_and_row() {
    let (node, imgs) = seeded().await;
    let img = &imgs[3];
    let (s, b) = node.delete(&format!("/api/v1/images/{}", img.id)).await;
    assert_eq!(s, 200, "{b}");
    let gone: IsoMetadata = serde_json::from_value(b).unwrap();
    assert!(gone.revision > img.revision, "the deletion has its own revision");
    assert!(!node.iso_dir("bulk").join("ubuntu-24.04.iso").exists());
    let (s, b) = node.get(&format!("/api/v1/images/{}", img.id)).await;
    assert_error(s, &b, 404, "image_not_found");
    let (s, b) = node.delete(&format!("/api/v1/images/{}", img.id)).await;
    assert_error(s, &b, 404, "image_not_found");
    assert_eq!(node.list("folder=/&recursive=true").await.images.len(), 4);
}

#[tokio::test]
async fn folders_include_defaults_ancestors_and_created_empty_ones() {
    let (node, _) = seeded().await;
    let (s, b) = node.post_json("/api/v1/images/folders", json!({ "path": "/archive/2019/" })).await;
    assert_eq!(s, 201, "{b}");
    let listing = node.folders().await;
    let all: Vec<&str> = listing.folders.iter().map(FolderPath::as_str).collect();
    assert_eq!(
        all,
        ["/", "/archive", "/archive/2019", "/linux", "/linux/ubuntu", "/other", "/win", "/windows", "/windows/server"]
    );
    let count = |p: &str| listing.count(&FolderPath::parse(p).unwrap());
    assert_eq!((count("/windows").direct, count("/windows").total), (1, 2));
    assert_eq!(count("/").total, 5);
    assert_eq!(count("/archive/2019").total, 0);

    let (s, b) = node.post_json("/api/v1/images/folders", json!({ "path": "/archive/2019" })).await;
    assert_error(s, &b, 409, "folder_exists");
    let (s, b) = node.post_json("/api/v1/images/folders", json!({ "path": "/a/b/c/d/e/f" })).await;
    assert_error(s, &b, 400, "invalid_folder");
    assert!(b["message"].as_str().unwrap().contains("at most 5 levels"));
}

#[tokio::test]
async fn renaming_a_folder_moves_everything_beneath_it() {
    let (node, imgs) = seeded().await;
    node.post_json("/api/v1/images/folders", json!({ "path": "/windows/empty/inner" })).await;
    let (s, b) = node
        .post_json("/api/v1/images/folders/rename", json!({ "from": "/windows", "to": "/microsoft/windows" }))
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(names(&node.list("folder=/microsoft/windows").await), ["Win11_23H2.iso"]);
    assert_eq!(names(&node.list("folder=/microsoft/windows/server").await), ["Windows_Server_2022.iso"]);
    assert_eq!(names(&node.list("folder=/win").await), ["tools-win.iso"], "/win is not beneath /windows");
    let moved = &node.list("folder=/microsoft/windows").await.images[0];
    assert!(moved.revision > imgs[1].revision);
    let all: Vec<String> = node.folders().await.folders.iter().map(|f| f.to_string()).collect();
    assert!(all.contains(&"/microsoft/windows/empty/inner".to_owned()));
    assert!(!all.contains(&"/windows/empty".to_owned()));
    // /windows is a default folder: it is still there, now empty.
    assert!(all.contains(&"/windows".to_owned()));

    let (s, b) = node.post_json("/api/v1/images/folders/rename", json!({ "from": "/linux", "to": "/linux/old" })).await;
    assert_error(s, &b, 400, "invalid_operation");
    let (s, b) = node.post_json("/api/v1/images/folders/rename", json!({ "from": "/linux", "to": "/win" })).await;
    assert_error(s, &b, 409, "folder_exists");
    let (s, b) = node.post_json("/api/v1/images/folders/rename", json!({ "from": "/nothing", "to": "/x" })).await;
    assert_error(s, &b, 404, "folder_not_found");
    let (s, b) = node.post_json("/api/v1/images/folders/rename", json!({ "from": "/", "to": "/x" })).await;
    assert_error(s, &b, 400, "invalid_operation");
    let (s, b) = node.post_json("/api/v1/images/folders/rename", json!({ "from": "/linux", "to": "/a/b/c/d/e" })).await;
    assert_error(s, &b, 400, "invalid_folder");
    assert_eq!(node.list("folder=/linux/ubuntu").await.images.len(), 1, "a refused rename changes nothing");
}

#[tokio::test]
async fn only_empty_folders_can_be_deleted() {
    let (node, _) = seeded().await;
    node.post_json("/api/v1/images/folders", json!({ "path": "/scratch/sub" })).await;
    let (s, b) = node.delete("/api/v1/images/folders?path=/windows/server").await;
    assert_error(s, &b, 409, "folder_not_empty");
    assert!(b["message"].as_str().unwrap().contains("1 image(s)"), "{b}");
    let (s, b) = node.delete("/api/v1/images/folders?path=/scratch").await;
    assert_eq!(s, 200, "{b}");
    let all: Vec<String> = node.folders().await.folders.iter().map(|f| f.to_string()).collect();
    assert!(!all.iter().any(|f| f.starts_with("/scratch")));
    let (s, b) = node.delete("/api/v1/images/folders?path=/scratch").await;
    assert_error(s, &b, 404, "folder_not_found");
    let (s, b) = node.delete("/api/v1/images/folders?path=/").await;
    assert_error(s, &b, 400, "invalid_operation");
    let (s, b) = node.delete("/api/v1/images/folders?path=/other").await;
    assert_error(s, &b, 400, "invalid_operation");
}

#[tokio::test]
async fn pools_report_capacity_free_space_and_counts() {
    let (node, _) = seeded().await;
    let pools = node.pools().await.pools;
    assert_eq!(pools.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(), ["local", "bulk"]);
    let local = &pools[0];
    assert_eq!(local.name, "Pool local");
    assert_eq!(local.image_count, 4);
    assert!(local.capacity_bytes > 0 && local.free_bytes > 0 && local.free_bytes <= local.capacity_bytes);
    assert_eq!(pools[1].image_count, 1);
}

#[tokio::test]
async fn unknown_routes_and_bad_bodies_answer_with_the_json_error_body() {
    let node = TestNode::spawn(&[pool("local")]).await;
    let (s, b) = node.get("/api/v1/nothing").await;
    assert_error(s, &b, 404, "not_found");
    let resp = node
        .client
        .post(format!("{}/api/v1/images/folders", node.url))
        .body("{not json")
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_error(status, &body, 400, "invalid_body");
    let resp = node.client.post(format!("{}/api/v1/storage/upload", node.url)).body("plain").send().await.unwrap();
    let status = resp.status().as_u16();
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_error(status, &body, 400, "not_multipart");
}

#[tokio::test]
async fn every_change_is_recorded_for_the_vdc() {
    // A vdc that cannot be reached: the outbox keeps every change until it can be delivered.
    let root = tempfile::tempdir().unwrap();
    let mut config = crate::support::node_config(&root, &[pool("local"), pool("bulk")]);
    config.vdc_url = Some("http://127.0.0.1:9".into());
    let node = TestNode::spawn_with(root, config).await;
    let mut imgs = Vec::new();
    for name in ["a.iso", "b.iso", "c.iso", "d.iso", "e.iso"] {
        imgs.push(node.upload_ok("", name, pattern(1, 100)).await);
    }
    let status: app::model::NodeSyncStatus =
        crate::support::get_json(&node.client, &format!("{}/api/v1/sync/status", node.url)).await;
    assert_eq!(status.pending, 5, "five uploads, five outbox records");
    node.post_json(&format!("/api/v1/images/{}/move", imgs[0].id), json!({ "folder_path": "/tools" })).await;
    node.delete(&format!("/api/v1/images/{}", imgs[1].id)).await;
    let status: app::model::NodeSyncStatus =
        crate::support::get_json(&node.client, &format!("{}/api/v1/sync/status", node.url)).await;
    assert_eq!(status.pending, 5, "the move and the delete replace their images' records: one per image waits");
    assert_eq!(status.node_id, "test-node");
    crate::support::eventually(std::time::Duration::from_secs(5), "the failure shows", || async {
        let s: app::model::NodeSyncStatus =
            crate::support::get_json(&node.client, &format!("{}/api/v1/sync/status", node.url)).await;
        s.last_error.as_deref().is_some_and(|e| e.contains("cannot be reached")) && s.last_success_at.is_none()
    })
    .await;
}

#[tokio::test]
async fn a_standalone_node_keeps_no_outbox() {
    let (node, _) = seeded().await;
    crate::support::eventually(std::time::Duration::from_secs(5), "the outbox is empty", || async {
        let s: app::model::NodeSyncStatus =
            crate::support::get_json(&node.client, &format!("{}/api/v1/sync/status", node.url)).await;
        s.pending == 0 && s.vdc_url.is_none()
    })
    .await;
}
