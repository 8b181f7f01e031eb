//! The vdc catalogue through its HTTP API, on SQLite and on PostgreSQL: the revision rule, tombstones,
//! full inventories, filters and paging, folders, nodes, and forwarding to real nodes.

use std::collections::BTreeMap;

use app::model::{FolderPath, ImageEventType::*, IsoMetadata, NodeRef};
use rand::{Rng, SeedableRng, seq::SliceRandom};
use serde_json::json;
use uuid::Uuid;

use crate::on_both_backends;
use crate::support::{
    TestNode, assert_error, node_config, pattern, pool,
    vdc::{TestDb, TestVdc, filenames, image, node_ref, token},
};

on_both_backends!(
    newer_revisions_win_and_repeats_are_no_ops,
    out_of_order_and_repeated_events_converge,
    a_tombstone_stops_a_late_update,
    two_nodes_may_hold_the_same_filename,
    a_full_inventory_adds_updates_and_removes,
    malformed_and_unauthenticated_calls_are_refused,
    list_filters_sorts_and_pages,
    the_folder_tree_counts_and_keeps_created_folders,
    nodes_are_listed_with_counts_and_contact_times,
    moves_and_deletes_are_forwarded_to_the_owning_node,
);

async fn newer_revisions_win_and_repeats_are_no_ops(db: &TestDb) {
    let vdc = TestVdc::spawn(db).await;
    let n = node_ref("hv1");
    let id = Uuid::new_v4();
    assert_eq!(vdc.notify(&n, &image(id, "a.iso", "/linux", 5), Created).await, 1);
    assert_eq!(vdc.notify(&n, &image(id, "a.iso", "/old", 4), Updated).await, 0, "older revision ignored");
    assert_eq!(vdc.notify(&n, &image(id, "a.iso", "/linux/new", 6), Updated).await, 1);
    assert_eq!(vdc.notify(&n, &image(id, "a.iso", "/linux/new", 6), Updated).await, 0, "a repeat is a no-op");
    let (s, b) = vdc.get(&format!("/api/v1/images/{id}")).await;
    assert_eq!(s, 200);
    let got: IsoMetadata = serde_json::from_value(b).unwrap();
    assert_eq!((got.folder_path.as_str(), got.revision, got.node_id.as_deref()), ("/linux/new", 6, Some("hv1")));
}

async fn out_of_order_and_repeated_events_converge(db: &TestDb) {
    let vdc = TestVdc::spawn(db).await;
    let n = node_ref("hv1");
    let mut rng = rand::rngs::StdRng::seed_from_u64(42);
    let ids: Vec<Uuid> = (0..6).map(|_| Uuid::new_v4()).collect();
    let mut events = Vec::new();
    let mut truth: BTreeMap<Uuid, (u64, bool, String)> = BTreeMap::new();
    let mut rev = 100;
    for (k, id) in ids.iter().enumerate() {
        let steps = rng.random_range(1..6);
        for step in 0..steps {
            rev += 1;
            let folder = format!("/f{k}/v{step}");
            let event = if step == 0 { Created } else { Updated };
            events.push((image(*id, &format!("img{k}.iso"), &folder, rev), event));
            truth.insert(*id, (rev, false, folder));
        }
        if k % 2 == 0 {
            rev += 1;
            events.push((image(*id, &format!("img{k}.iso"), "/f", rev), Deleted));
            truth.insert(*id, (rev, true, String::new()));
        }
    }
    let mut deliveries = events.clone();
    deliveries.extend(events.iter().filter(|_| rng.random_bool(0.5)).cloned());
    deliveries.shuffle(&mut rng);
    // Mix single notifies and batches.
    for chunk in deliveries.chunks(4) {
        if rng.random_bool(0.5) {
            vdc.notify_batch(&n, chunk.to_vec()).await;
        } else {
            for (img, ev) in chunk {
                vdc.notify(&n, img, *ev).await;
            }
        }
    }
    let listed = vdc.list("limit=1000").await;
    let got: BTreeMap<Uuid, (u64, String)> =
        listed.images.iter().map(|i| (i.id, (i.revision, i.folder_path.to_string()))).collect();
    let want: BTreeMap<Uuid, (u64, String)> =
        truth.iter().filter(|(_, (_, del, _))| !del).map(|(id, (r, _, f))| (*id, (*r, f.clone()))).collect();
    assert_eq!(got, want);
}

async fn a_tombstone_stops_a_late_update(db: &TestDb) {
    let vdc = TestVdc::spawn(db).await;
    let n = node_ref("hv1");
    let id = Uuid::new_v4();
    vdc.notify(&n, &image(id, "a.iso", "/x", 5), Created).await;
    assert_eq!(vdc.notify(&n, &image(id, "a.iso", "/x", 7), Deleted).await, 1);
    assert_eq!(vdc.notify(&n, &image(id, "a.iso", "/y", 6), Updated).await, 0, "late update after the delete");
    let (s, b) = vdc.get(&format!("/api/v1/images/{id}")).await;
    assert_error(s, &b, 404, "image_not_found");
    assert!(vdc.list("").await.images.is_empty());
    // A delete that arrives before its create still wins.
    let id2 = Uuid::new_v4();
    vdc.notify(&n, &image(id2, "b.iso", "/x", 9), Deleted).await;
    assert_eq!(vdc.notify(&n, &image(id2, "b.iso", "/x", 8), Created).await, 0);
    assert!(vdc.list("").await.images.is_empty());
}

async fn two_nodes_may_hold_the_same_filename(db: &TestDb) {
    let vdc = TestVdc::spawn(db).await;
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    vdc.notify(&node_ref("hv1"), &image(a, "ubuntu.iso", "/linux", 1), Created).await;
    vdc.notify(&node_ref("hv2"), &image(b, "ubuntu.iso", "/linux", 1), Created).await;
    let all = vdc.list("folder=/linux").await;
    assert_eq!(filenames(&all), ["ubuntu.iso", "ubuntu.iso"]);
    let nodes: Vec<_> = all.images.iter().map(|i| i.node_id.clone().unwrap()).collect();
    assert_eq!(nodes, ["hv1", "hv2"]);
    assert_eq!(vdc.list("node_id=hv2").await.images[0].id, b);
}

async fn a_full_inventory_adds_updates_and_removes(db: &TestDb) {
    let vdc = TestVdc::spawn(db).await;
    let n = node_ref("hv1");
    let ids: Vec<Uuid> = (0..4).map(|_| Uuid::new_v4()).collect();
    vdc.notify(&n, &image(ids[0], "keep.iso", "/a", 10), Created).await;
    vdc.notify(&n, &image(ids[1], "update.iso", "/a", 11), Created).await;
    vdc.notify(&n, &image(ids[2], "gone.iso", "/a", 12), Created).await;
    // Created on the node after its snapshot (revision 20) and delivered before the inventory arrives.
    vdc.notify(&n, &image(ids[3], "newer.iso", "/a", 25), Created).await;
    let other = Uuid::new_v4();
    vdc.notify(&node_ref("hv2"), &image(other, "other-node.iso", "/a", 1), Created).await;

    let new_one = Uuid::new_v4();
    let inventory = vec![
        image(ids[0], "keep.iso", "/a", 10),
        image(ids[1], "update.iso", "/b", 15),
        image(new_one, "new.iso", "/c", 18),
    ];
    let counts = vdc.full_sync(&n, 20, inventory.clone()).await;
    assert_eq!(counts, json!({ "added": 1, "updated": 1, "removed": 1, "unchanged": 1 }));
    let mut names = filenames(&vdc.list("sort=name").await);
    names.sort();
    assert_eq!(names, ["keep.iso", "new.iso", "newer.iso", "other-node.iso", "update.iso"]);
    // Stale events from before the inventory can no longer bring back what it removed.
    assert_eq!(vdc.notify(&n, &image(ids[2], "gone.iso", "/a", 13), Updated).await, 0);
    assert!(!filenames(&vdc.list("").await).contains(&"gone.iso".to_owned()));
    // A repeated inventory changes nothing.
    let again = vdc.full_sync(&n, 20, inventory).await;
    assert_eq!(again, json!({ "added": 0, "updated": 0, "removed": 0, "unchanged": 3 }));
    // An empty inventory at a later revision empties the node.
    vdc.full_sync(&n, 30, vec![]).await;
    assert_eq!(filenames(&vdc.list("").await), ["other-node.iso"]);
}

async fn malformed_and_unauthenticated_calls_are_refused(db: &TestDb) {
    let vdc = TestVdc::spawn(db).await;
    let good = serde_json::to_value(app::model::NotifyImageChangeRequest {
        node: node_ref("hv1"),
        image: image(Uuid::new_v4(), "a.iso", "/x", 1),
        event_type: Created,
        timestamp: 1,
    })
    .unwrap();
    let path = "/limiquantix.storage.v1.ImageService/NotifyImageChange";
    let mut bad = good.clone();
    bad["event_type"] = json!(7);
    let (s, b) = vdc.post(path, &bad).await;
    assert_error(s, &b, 400, "invalid_body");
    assert!(b["message"].as_str().unwrap().contains("unknown event_type 7"), "{b}");
    let mut bad = good.clone();
    bad.as_object_mut().unwrap().remove("image");
    let (s, b) = vdc.post(path, &bad).await;
    assert_error(s, &b, 400, "invalid_body");
    let mut bad = good.clone();
    bad["image"]["folder_path"] = json!("/../etc");
    let (s, b) = vdc.post(path, &bad).await;
    assert_error(s, &b, 400, "invalid_body");
    let mut bad = good.clone();
    bad["node_id"] = json!("../../x");
    let (s, b) = vdc.post(path, &bad).await;
    // Refused where the body is read: a node id is parsed once, like every id.
    assert_error(s, &b, 400, "invalid_body");
    assert!(b["message"].as_str().unwrap().contains("node id \"../../x\" is not valid"), "{b}");
    let resp = vdc
        .client
        .post(format!("{}{path}", vdc.url))
        .bearer_auth(vdc.node_credential("hv1").await)
        .body("{\"node_id\":")
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);

    // Without a credential, or with a wrong one: 401; with a user's token (even an admin's), or the
    // cluster token (it only registers nodes): 403. Nothing applied.
    let resp = reqwest::Client::new().post(format!("{}{path}", vdc.url)).json(&good).send().await.unwrap();
    let status = resp.status().as_u16();
    assert_error(status, &resp.json().await.unwrap(), 401, "unauthenticated");
    let resp = vdc.client.post(format!("{}{path}", vdc.url)).json(&good).send().await.unwrap();
    let status = resp.status().as_u16();
    assert_error(status, &resp.json().await.unwrap(), 403, "forbidden");
    let resp = reqwest::Client::new()
        .post(format!("{}{path}", vdc.url))
        .bearer_auth("wrong-token-of-some-length")
        .json(&good)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let resp = reqwest::Client::new()
        .post(format!("{}{path}", vdc.url))
        .bearer_auth(crate::support::vdc::TOKEN)
        .json(&good)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    assert_error(status, &resp.json().await.unwrap(), 403, "forbidden");
    assert!(vdc.list("").await.images.is_empty());
    assert!(vdc.nodes().await.nodes.is_empty());
}

async fn list_filters_sorts_and_pages(db: &TestDb) {
    let vdc = TestVdc::spawn(db).await;
    let mk = |name: &str, folder: &str, rev: u64, pool: &str, os: Option<&str>| {
        let mut i = image(Uuid::new_v4(), name, folder, rev);
        i.storage_pool_id = Some(pool.parse().unwrap());
        i.os_family = os.map(str::to_owned);
        i.size_bytes = rev * 100;
        i
    };
    let n1 = node_ref("hv1");
    let n2 = node_ref("hv2");
    vdc.notify_batch(
        &n1,
        vec![
            (mk("tools-win.iso", "/win", 1, "fast", None), Created),
            (mk("Win11.iso", "/windows", 2, "fast", Some("windows")), Created),
            (mk("Server2022.iso", "/windows/server", 3, "bulk", Some("windows")), Created),
            (mk("Ubuntu-24.04.iso", "/linux/ubuntu", 4, "fast", Some("linux")), Created),
        ],
    )
    .await;
    vdc.notify_batch(
        &n2,
        vec![
            (mk("debian-12.iso", "/linux", 5, "fast", Some("linux")), Created),
            (mk("ÜBERTOOLS.img", "/other", 6, "bulk", None), Created),
        ],
    )
    .await;
    assert_eq!(filenames(&vdc.list("folder=/windows").await), ["Win11.iso"]);
    assert_eq!(filenames(&vdc.list("folder=/windows&recursive=true").await), ["Win11.iso", "Server2022.iso"]);
    assert_eq!(filenames(&vdc.list("folder=/win&recursive=true").await), ["tools-win.iso"]);
    assert_eq!(filenames(&vdc.list("node_id=hv2").await), ["debian-12.iso", "ÜBERTOOLS.img"]);
    assert_eq!(filenames(&vdc.list("pool_id=bulk").await), ["ÜBERTOOLS.img", "Server2022.iso"]);
    assert_eq!(filenames(&vdc.list("os_family=linux").await), ["debian-12.iso", "Ubuntu-24.04.iso"]);
    assert_eq!(filenames(&vdc.list("q=ubuntu").await), ["Ubuntu-24.04.iso"]);
    assert_eq!(filenames(&vdc.list("q=%C3%BCber").await), ["ÜBERTOOLS.img"], "case-insensitive beyond ASCII");
    assert_eq!(filenames(&vdc.list("q=.IMG").await), ["ÜBERTOOLS.img"], "searches the filename too");
    assert!(vdc.list("q=%25").await.images.is_empty(), "% is a literal");
    assert_eq!(
        filenames(&vdc.list("sort=name").await),
        ["debian-12.iso", "Server2022.iso", "tools-win.iso", "Ubuntu-24.04.iso", "Win11.iso", "ÜBERTOOLS.img"]
    );
    assert_eq!(filenames(&vdc.list("sort=size&order=desc&limit=2").await), ["ÜBERTOOLS.img", "debian-12.iso"]);

    // Paging: every image once, in order, whatever the page size and sort.
    for sort in ["folder", "name", "size", "created"] {
        for order in ["asc", "desc"] {
            let all = filenames(&vdc.list(&format!("sort={sort}&order={order}")).await);
            let mut paged = Vec::new();
            let mut cursor = String::new();
            loop {
                let page = vdc.list(&format!("sort={sort}&order={order}&limit=4{cursor}")).await;
                paged.extend(filenames(&page));
                match page.next_cursor {
                    Some(c) => cursor = format!("&cursor={c}"),
                    None => break,
                }
            }
            assert_eq!(paged, all, "sort={sort} order={order}");
        }
    }
    let (s, b) = vdc.get("/api/v1/images?cursor=zz").await;
    assert_error(s, &b, 400, "invalid_cursor");
    let (s, b) = vdc.get("/api/v1/images?limit=0").await;
    assert_error(s, &b, 400, "invalid_query");
    let (s, b) = vdc.get("/api/v1/images?folder=/a//b").await;
    assert_error(s, &b, 400, "invalid_folder");
}

async fn the_folder_tree_counts_and_keeps_created_folders(db: &TestDb) {
    let vdc = TestVdc::spawn(db).await;
    let n = node_ref("hv1");
    vdc.notify_batch(
        &n,
        vec![
            (image(Uuid::new_v4(), "a.iso", "/windows/server/2022", 1), Created),
            (image(Uuid::new_v4(), "b.iso", "/windows", 2), Created),
            (image(Uuid::new_v4(), "c.iso", "/windows", 3), Created),
        ],
    )
    .await;
    let (s, b) = vdc.post("/api/v1/images/folders", &json!({ "path": "/archive/old" })).await;
    assert_eq!(s, 201, "{b}");
    let (s, b) = vdc.post("/api/v1/images/folders", &json!({ "path": "/windows/server" })).await;
    assert_error(s, &b, 409, "folder_exists");
    let (s, b) = vdc.post("/api/v1/images/folders", &json!({ "path": "/a\\b" })).await;
    assert_error(s, &b, 400, "invalid_folder");
    let tree = vdc.folders().await;
    let all: Vec<&str> = tree.folders.iter().map(FolderPath::as_str).collect();
    assert_eq!(
        all,
        ["/", "/archive", "/archive/old", "/linux", "/other", "/windows", "/windows/server", "/windows/server/2022"]
    );
    let c = |p: &str| tree.count(&FolderPath::parse(p).unwrap());
    assert_eq!((c("/windows").direct, c("/windows").total), (2, 3));
    assert_eq!((c("/").direct, c("/").total), (0, 3));
    assert_eq!(c("/archive/old").total, 0);
}

async fn nodes_are_listed_with_counts_and_contact_times(db: &TestDb) {
    let vdc = TestVdc::spawn(db).await;
    let mut n = node_ref("hv1");
    n.node_api_url = Some("http://10.0.0.7:3001".into());
    vdc.notify(&n, &image(Uuid::new_v4(), "a.iso", "/x", 1), Created).await;
    vdc.notify(&n, &image(Uuid::new_v4(), "b.iso", "/x", 2), Created).await;
    vdc.full_sync(&node_ref("hv2"), 5, vec![image(Uuid::new_v4(), "c.iso", "/x", 3)]).await;
    let nodes = vdc.nodes().await.nodes;
    assert_eq!(nodes.len(), 2);
    let hv1 = &nodes[0];
    assert_eq!(
        (hv1.id.as_str(), hv1.name.as_str(), hv1.api_url.as_deref()),
        ("hv1", "Node hv1", Some("http://10.0.0.7:3001"))
    );
    assert_eq!(hv1.image_count, 2);
    assert!(hv1.last_contact_at.unwrap() > 1_700_000_000);
    assert_eq!(hv1.last_full_sync_at, None);
    assert_eq!(hv1.state, app::model::NodeSyncState::Pending, "no full inventory yet");
    assert_eq!(nodes[1].image_count, 1);
    assert!(nodes[1].last_full_sync_at.is_some());
    assert_eq!(nodes[1].state, app::model::NodeSyncState::InSync);
}

/// A real node whose image the vdc knows (as the node's sync would report it).
pub(crate) async fn node_with_image(vdc: &TestVdc) -> (TestNode, IsoMetadata, NodeRef) {
    let root = tempfile::tempdir().unwrap();
    let mut config = node_config(&root, &[pool("local")]);
    config.cluster_token = Some(token());
    let node = TestNode::spawn_with(root, config).await;
    let meta = node.upload_ok("folder=/linux", "debian-12.iso", pattern(3, 4096)).await;
    let n = NodeRef {
        node_id: "test-node".parse().unwrap(),
        node_name: Some("Test node".into()),
        node_api_url: Some(node.url.clone()),
    };
    vdc.notify(&n, &meta, Created).await;
    (node, meta, n)
}

async fn moves_and_deletes_are_forwarded_to_the_owning_node(db: &TestDb) {
    let vdc = TestVdc::spawn(db).await;
    let (node, meta, _) = node_with_image(&vdc).await;

    let (s, b) =
        vdc.post(&format!("/api/v1/images/{}/move", meta.id), &json!({ "folder_path": "/linux/debian" })).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["folder_path"], "/linux/debian");
    assert_eq!(filenames(&node.list("folder=/linux/debian").await), ["debian-12.iso"], "the node moved it");
    assert_eq!(filenames(&vdc.list("folder=/linux/debian").await), ["debian-12.iso"], "applied at once");

    // The node's own refusals come back as they are; the vdc checks what it can first.
    let (s, b) = vdc.post(&format!("/api/v1/images/{}/move", meta.id), &json!({ "folder_path": "/a/../b" })).await;
    assert_error(s, &b, 400, "invalid_folder");
    let (s, b) = vdc.post(&format!("/api/v1/images/{}/move", Uuid::new_v4()), &json!({ "folder_path": "/x" })).await;
    assert_error(s, &b, 404, "image_not_found");

    // The node refuses forwarded writes without the cluster token.
    let resp = reqwest::Client::new()
        .post(format!("{}/internal/v1/images/{}/move", node.url, meta.id))
        .json(&json!({ "folder_path": "/hijack" }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);

    let (s, b) = vdc.delete(&format!("/api/v1/images/{}", meta.id)).await;
    assert_eq!(s, 200, "{b}");
    assert!(node.files("local").is_empty(), "the node deleted the file");
    assert!(vdc.list("").await.images.is_empty());

    // A node that is down: 503 naming it, and nothing changes.
    let meta2 = node.upload_ok("folder=/linux", "second.iso", pattern(4, 4096)).await;
    let n = NodeRef {
        node_id: "test-node".parse().unwrap(),
        node_name: Some("Test node".into()),
        node_api_url: Some(node.url.clone()),
    };
    vdc.notify(&n, &meta2, Created).await;
    node.stop().await;
    let (s, b) = vdc.post(&format!("/api/v1/images/{}/move", meta2.id), &json!({ "folder_path": "/elsewhere" })).await;
    assert_error(s, &b, 503, "node_unreachable");
    assert!(b["message"].as_str().unwrap().contains("Test node"), "{b}");
    let (s, b) = vdc.delete(&format!("/api/v1/images/{}", meta2.id)).await;
    assert_error(s, &b, 503, "node_unreachable");
    assert_eq!(filenames(&vdc.list("folder=/linux").await), ["second.iso"], "nothing changed");
}

/// Two vdc replicas on one PostgreSQL receive interleaved, conflicting events for the same images; the
/// catalogue ends in the state the revisions dictate.
#[tokio::test]
async fn two_replicas_sharing_postgres_converge_on_the_highest_revisions() {
    let Some(db) = TestDb::postgres().await else {
        crate::support::skip("TEST_DATABASE_URL is not set, so the PostgreSQL suite does not run");
        return;
    };
    let (a, b) = (TestVdc::spawn(&db).await, TestVdc::spawn(&db).await);
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let ids: Vec<Uuid> = (0..40).map(|_| Uuid::new_v4()).collect();
    let nodes = [node_ref("hv1"), node_ref("hv2")];
    let mut events = Vec::new();
    let mut want: BTreeMap<Uuid, Option<String>> = BTreeMap::new();
    for (k, id) in ids.iter().enumerate() {
        let node = &nodes[k % 2];
        let last = rng.random_range(2..12u64);
        for rev in 1..=last {
            let deleted = rev == last && k % 3 == 0;
            let folder = format!("/f{k}/r{rev}");
            events.push((
                node.clone(),
                image(*id, &format!("i{k}.iso"), &folder, rev),
                if deleted { Deleted } else { Updated },
            ));
            want.insert(*id, (!deleted).then_some(folder));
        }
    }
    events.shuffle(&mut rng);
    let mut tasks = Vec::new();
    // Each node registers on one replica; both accept its credential (they share the database).
    let credentials: BTreeMap<String, String> = BTreeMap::from([
        ("hv1".to_owned(), a.node_credential("hv1").await),
        ("hv2".to_owned(), b.node_credential("hv2").await),
    ]);
    for (i, chunk) in events.chunks(8).enumerate() {
        let target = if i % 2 == 0 { a.url.clone() } else { b.url.clone() };
        let chunk = chunk.to_vec();
        let credentials = credentials.clone();
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            for (node, img, ev) in chunk {
                let credential = &credentials[node.node_id.as_str()];
                let req = app::model::NotifyImageChangeRequest { node, image: img, event_type: ev, timestamp: 1 };
                let resp = client
                    .post(format!("{target}/limiquantix.storage.v1.ImageService/NotifyImageChange"))
                    .bearer_auth(credential)
                    .json(&req)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(resp.status(), 200);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    for vdc in [&a, &b] {
        let got: BTreeMap<Uuid, String> =
            vdc.list("limit=1000").await.images.into_iter().map(|i| (i.id, i.folder_path.to_string())).collect();
        let expect: BTreeMap<Uuid, String> = want.iter().filter_map(|(id, f)| f.clone().map(|f| (*id, f))).collect();
        assert_eq!(got, expect);
    }
    a.stop().await;
    b.stop().await;
    db.drop_db().await;
}
