//! Two real nodes and a real vdc: the vdc is killed while the nodes keep changing, restarted, then
//! restarted with its database wiped; it converges each time. A stopped node turns offline.

use std::{collections::BTreeMap, path::Path, time::Duration};

use app::model::{ImageList, NodeList, NodeSyncState};
use serde_json::json;

use crate::support::{
    eventually, pattern,
    process::{Process, free_addr},
    vdc::TOKEN,
};

async fn get<T: serde::de::DeserializeOwned>(p: &Process, path: &str) -> T {
    p.client().get(format!("{}{path}", p.url)).send().await.unwrap().json().await.unwrap()
}

/// (node, id) → (filename, folder, checksum) of every image on the nodes.
async fn truth(nodes: &[&Process]) -> BTreeMap<(String, String), (String, String, Option<String>)> {
    let mut out = BTreeMap::new();
    for (k, n) in nodes.iter().enumerate() {
        let list: ImageList = get(n, "/api/v1/images").await;
        for i in list.images {
            out.insert((format!("node-{k}"), i.id.to_string()), (i.filename, i.folder_path.to_string(), i.checksum));
        }
    }
    out
}

async fn catalogue(vdc: &Process) -> BTreeMap<(String, String), (String, String, Option<String>)> {
    let list: ImageList = get(vdc, "/api/v1/images?limit=1000").await;
    list.images
        .into_iter()
        .map(|i| ((i.node().to_owned(), i.id.to_string()), (i.filename, i.folder_path.to_string(), i.checksum)))
        .collect()
}

async fn converged(vdc: &Process, nodes: &[&Process]) -> bool {
    reqwest::get(format!("{}/healthz", vdc.url)).await.is_ok() && catalogue(vdc).await == truth(nodes).await
}

fn vdc_args(addr: std::net::SocketAddr, db: &Path) -> Vec<String> {
    [
        "vdc",
        "--listen",
        &addr.to_string(),
        "--database-url",
        &format!("sqlite://{}", db.display()),
        "--cluster-token",
        TOKEN,
        "--sync-interval",
        "3s",
        "--offline-after",
        "4s",
        "--site-root",
        "/nonexistent",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

fn node_args(k: usize, addr: std::net::SocketAddr, vdc: &str, dir: &Path) -> Vec<String> {
    [
        "node",
        "--listen",
        &addr.to_string(),
        "--node-id",
        &format!("node-{k}"),
        "--vdc-url",
        vdc,
        "--cluster-token",
        TOKEN,
        "--sync-interval",
        "3s",
        "--site-root",
        "/nonexistent",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain(["--data-dir".into(), dir.join("db").display().to_string()])
    .chain(["--pool".into(), format!("local={}", dir.join("pool").display())])
    .collect()
}

async fn upload(node: &Process, name: &str, folder: &str) -> serde_json::Value {
    let part = reqwest::multipart::Part::bytes(pattern(name.len() as u64, 2048)).file_name(name.to_owned());
    let resp = node
        .client()
        .post(format!("{}/api/v1/storage/upload?folder={folder}", node.url))
        .multipart(reqwest::multipart::Form::new().part("file", part))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    resp.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_vdc_survives_kill_9_and_a_wiped_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("vdc").join("catalogue.db");
    let vdc_addr = free_addr();
    let mut vdc = Process::start(vdc_addr, vdc_args(vdc_addr, &db)).await;
    let mut nodes = Vec::new();
    for k in 0..2 {
        let addr = free_addr();
        nodes.push(Process::start(addr, node_args(k, addr, &vdc.url, &dir.path().join(format!("n{k}")))).await);
    }
    for (k, node) in nodes.iter().enumerate() {
        for i in 0..5 {
            upload(node, &format!("seed-{k}-{i}.iso"), "/seed").await;
        }
    }
    let refs: Vec<&Process> = nodes.iter().collect();
    eventually(Duration::from_secs(20), "the first images reach the vdc", || converged(&vdc, &refs)).await;

    // kill -9 the vdc, then 100 changes on the nodes: uploads, moves and deletes.
    vdc.kill9();
    let mut changes = 0;
    let mut uploaded: Vec<(usize, String)> = Vec::new();
    while changes < 100 {
        let k = changes % 2;
        match changes % 5 {
            0..=2 => {
                let meta = upload(&nodes[k], &format!("while-down-{changes}.iso"), "/new").await;
                uploaded.push((k, meta["id"].as_str().unwrap().to_owned()));
            }
            3 => {
                let (k, id) = uploaded[changes % uploaded.len()].clone();
                let resp = nodes[k]
                    .client()
                    .post(format!("{}/api/v1/images/{id}/move", nodes[k].url))
                    .json(&json!({ "folder_path": format!("/moved/{changes}") }))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(resp.status(), 200);
            }
            _ => {
                let (k, id) = uploaded.remove(0);
                let resp =
                    nodes[k].client().delete(format!("{}/api/v1/images/{id}", nodes[k].url)).send().await.unwrap();
                assert_eq!(resp.status(), 200);
            }
        }
        changes += 1;
    }
    let status: app::model::NodeSyncStatus = get(&nodes[0], "/api/v1/sync/status").await;
    assert!(status.pending > 0 && status.last_error.is_some(), "the node knows it is behind: {status:?}");

    vdc.restart().await;
    eventually(Duration::from_secs(30), "all 100 changes are in the catalogue", || converged(&vdc, &refs)).await;
    assert_eq!(catalogue(&vdc).await.len(), 10 + 60 - 20);

    // Wipe the vdc's database: the nodes' inventories rebuild it.
    vdc.kill9();
    crate::support::remove_sqlite(&db);
    vdc.restart().await;
    eventually(Duration::from_secs(30), "the wiped catalogue converges again", || converged(&vdc, &refs)).await;
    eventually(Duration::from_secs(20), "both nodes are in sync", || async {
        let list: NodeList = get(&vdc, "/api/v1/nodes").await;
        list.nodes.len() == 2 && list.nodes.iter().all(|n| n.state == NodeSyncState::InSync)
    })
    .await;

    // A stopped node turns offline (the vdc runs with --offline-after 4s).
    nodes[1].terminate();
    let stopped = std::time::Instant::now();
    eventually(Duration::from_secs(15), "the stopped node is offline", || async {
        let list: NodeList = get(&vdc, "/api/v1/nodes").await;
        list.nodes.iter().any(|n| n.id == "node-1" && n.state == NodeSyncState::Offline)
    })
    .await;
    assert!(stopped.elapsed() < Duration::from_secs(8), "offline after {:?}", stopped.elapsed());
    let list: NodeList = get(&vdc, "/api/v1/nodes").await;
    assert_eq!(list.nodes.iter().find(|n| n.id == "node-0").unwrap().state, NodeSyncState::InSync);
}
