//! The catalogue against a model: thousands of images, random changes, and every kind of query, checked
//! against the same computation done in plain Rust. This covers each query plan the catalogue picks
//! (hits-first search, reading along a sort index, small and large subtrees) and the counters kept by
//! triggers, on both backends.

use std::collections::BTreeMap;

use app::model::{FolderPath, ImageEventType::*, IsoMetadata};
use rand::{Rng, SeedableRng, rngs::StdRng, seq::IndexedRandom};
use uuid::Uuid;

use crate::on_both_backends;
use crate::support::vdc::{TestDb, TestVdc, image, node_ref};

on_both_backends!(queries_and_counters_match_a_model);

const FOLDERS: &[&str] = &[
    "/linux",
    "/linux/ubuntu",
    "/linux/ubuntu/24.04",
    "/linux/debian",
    "/windows",
    "/windows/server",
    "/windows-old",
    "/win",
    "/other",
    "/drivers",
];
const WORDS: &[&str] = &["ubuntu", "debian", "rocky", "Windows", "server", "virtio", "tools", "Ünïcode", "x_y", "50%"];

fn random_image(rng: &mut StdRng, rev: u64) -> IsoMetadata {
    let name =
        format!("{}-{}-{}.iso", WORDS.choose(rng).unwrap(), WORDS.choose(rng).unwrap(), rng.random_range(0..1000));
    let mut img = image(Uuid::from_u128(rng.random()), &name, FOLDERS.choose(rng).unwrap(), rev);
    img.size_bytes = rng.random_range(0..50);
    img.created_at = rng.random_range(0..20);
    img.storage_pool_id = Some(["p1", "p2"].choose(rng).unwrap().parse().unwrap());
    img.os_family = ["linux", "windows", "bsd"].choose(rng).map(|s| s.to_string());
    img
}

/// The model's answer to a query: filter, then order by the same keys as the catalogue.
fn model_query(live: &[(String, IsoMetadata)], q: &[(&str, &str)]) -> Vec<(String, Uuid)> {
    let get = |k: &str| q.iter().find(|(key, _)| *key == k).map(|(_, v)| *v);
    let folder = get("folder").map(|f| FolderPath::parse(f).unwrap());
    let recursive = get("recursive") == Some("true");
    let needle = get("q").map(|s| s.to_lowercase());
    let mut rows: Vec<&(String, IsoMetadata)> = live
        .iter()
        .filter(|(node, m)| {
            folder.as_ref().is_none_or(|f| if recursive { m.folder_path.is_within(f) } else { &m.folder_path == f })
                && get("node_id").is_none_or(|n| n == node)
                && get("pool_id").is_none_or(|p| m.storage_pool_id.as_deref() == Some(p))
                && get("os_family").is_none_or(|o| m.os_family.as_deref() == Some(o))
                && needle
                    .as_ref()
                    .is_none_or(|n| m.name.to_lowercase().contains(n) || m.filename.to_lowercase().contains(n))
        })
        .collect();
    let key = |(node, m): &&(String, IsoMetadata)| -> (String, String, i64, String, String) {
        let (a, b, c) = match get("sort").unwrap_or("folder") {
            "folder" => (m.folder_path.to_string(), m.name.to_lowercase(), 0),
            "name" => (m.name.to_lowercase(), String::new(), 0),
            "size" => (String::new(), String::new(), m.size_bytes as i64),
            _ => (String::new(), String::new(), m.created_at),
        };
        (a, b, c, node.clone(), m.id.to_string())
    };
    rows.sort_by_key(key);
    if get("order") == Some("desc") {
        rows.reverse();
    }
    rows.into_iter().map(|(n, m)| (n.clone(), m.id)).collect()
}

async fn all_pages(vdc: &TestVdc, q: &[(&str, &str)]) -> Vec<(String, Uuid)> {
    let base = app::model::encode_query(q.iter().copied());
    let mut out = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = vdc.list(&format!("{base}&limit=700{cursor}")).await;
        out.extend(page.images.iter().map(|i| (i.node().to_owned(), i.id)));
        match page.next_cursor {
            Some(c) => cursor = format!("&cursor={c}"),
            None => return out,
        }
    }
}

async fn queries_and_counters_match_a_model(db: &TestDb) {
    let vdc = TestVdc::spawn(db).await;
    let mut rng = StdRng::seed_from_u64(11);
    let nodes = ["hv1", "hv2", "hv3"];
    let mut truth: BTreeMap<(String, Uuid), IsoMetadata> = BTreeMap::new();
    let mut rev = 1;
    // 6,000 images: more than any plan threshold (large subtrees, searches with many hits).
    for node in nodes {
        let images: Vec<IsoMetadata> = (0..2000)
            .map(|_| {
                rev += 1;
                random_image(&mut rng, rev)
            })
            .collect();
        for chunk in images.chunks(500) {
            vdc.notify_batch(&node_ref(node), chunk.iter().map(|i| (i.clone(), Created)).collect()).await;
        }
        for i in images {
            truth.insert((node.to_owned(), i.id), i);
        }
    }
    // Random moves and deletes through notify, and a full inventory of hv3 that drops a few.
    let keys: Vec<(String, Uuid)> = truth.keys().cloned().collect();
    let mut changes: BTreeMap<String, Vec<(IsoMetadata, app::model::ImageEventType)>> = BTreeMap::new();
    for key in &keys {
        if !rng.random_bool(0.1) {
            continue;
        }
        rev += 1;
        let mut img = truth[key].clone();
        img.revision = rev;
        if rng.random_bool(0.3) {
            truth.remove(key);
            changes.entry(key.0.clone()).or_default().push((img, Deleted));
        } else {
            img.folder_path = FolderPath::parse(FOLDERS.choose(&mut rng).unwrap()).unwrap();
            truth.insert(key.clone(), img.clone());
            changes.entry(key.0.clone()).or_default().push((img, Updated));
        }
    }
    for (node, events) in changes {
        for chunk in events.chunks(300) {
            vdc.notify_batch(&node_ref(&node), chunk.to_vec()).await;
        }
    }
    truth.retain(|(node, _), _| node != "hv3" || rng.random_bool(0.9));
    let hv3: Vec<IsoMetadata> = truth.iter().filter(|((n, _), _)| n == "hv3").map(|(_, m)| m.clone()).collect();
    vdc.full_sync(&node_ref("hv3"), rev, hv3).await;

    let live: Vec<(String, IsoMetadata)> = truth.iter().map(|((n, _), m)| (n.clone(), m.clone())).collect();
    let queries: Vec<Vec<(&str, &str)>> = vec![
        vec![],
        vec![("folder", "/windows")],
        vec![("folder", "/windows"), ("recursive", "true")],
        vec![("folder", "/win"), ("recursive", "true")],
        vec![("folder", "/linux"), ("recursive", "true"), ("sort", "size"), ("order", "desc")],
        vec![("folder", "/linux/ubuntu"), ("recursive", "true"), ("sort", "name")],
        vec![("folder", "/"), ("recursive", "true"), ("sort", "created")],
        vec![("node_id", "hv2"), ("sort", "name"), ("order", "desc")],
        vec![("pool_id", "p1"), ("os_family", "windows")],
        vec![("os_family", "bsd"), ("sort", "size")],
        vec![("q", "ubuntu")],
        vec![("q", "-"), ("sort", "name")],
        vec![("q", "ünï")],
        vec![("q", "x_y")],
        vec![("q", "50%")],
        vec![("q", "rocky-server"), ("folder", "/linux"), ("recursive", "true")],
        vec![("q", "iso"), ("sort", "size")],
        vec![("q", "nothing-matches-this")],
    ];
    for q in &queries {
        assert_eq!(all_pages(&vdc, q).await, model_query(&live, q), "query {q:?}");
    }

    // Counters kept by triggers agree with the model.
    let tree = vdc.folders().await;
    for f in FOLDERS {
        let folder = FolderPath::parse(f).unwrap();
        let direct = live.iter().filter(|(_, m)| m.folder_path == folder).count() as u64;
        let total = live.iter().filter(|(_, m)| m.folder_path.is_within(&folder)).count() as u64;
        assert_eq!((tree.count(&folder).direct, tree.count(&folder).total), (direct, total), "counts of {f}");
    }
    for n in vdc.nodes().await.nodes {
        assert_eq!(n.image_count, live.iter().filter(|(node, _)| *node == *n.id).count() as u64, "images of {}", n.id);
    }
}
