//! The grouped listing (`group=checksum`): identical images as one group over the whole filtered result,
//! keyset-paged, on SQLite and on PostgreSQL.

use std::collections::BTreeMap;

use app::model::{ImageEventType::Created, ImageGroup, ImageGroupList, IsoMetadata};
use uuid::Uuid;

use crate::on_both_backends;
use crate::support::{
    TestNode, assert_error, pool,
    vdc::{TestDb, TestVdc, image, node_ref},
};

on_both_backends!(identical_images_are_grouped_across_the_whole_result_page_after_page);

fn copy(filename: &str, folder: &str, checksum: Option<char>, revision: u64) -> IsoMetadata {
    IsoMetadata {
        checksum: checksum.map(|c| format!("sha256:{}", c.to_string().repeat(64))),
        ..image(Uuid::new_v4(), filename, folder, revision)
    }
}

async fn groups(vdc: &TestVdc, query: &str) -> Vec<ImageGroup> {
    let mut all = Vec::new();
    let mut cursor = String::new();
    loop {
        let (s, b) = vdc.get(&format!("/api/v1/images?group=checksum&limit=1{query}{cursor}")).await;
        assert_eq!(s, 200, "{b}");
        let page: ImageGroupList = serde_json::from_value(b).unwrap();
        all.extend(page.groups);
        match page.next_cursor {
            Some(c) => cursor = format!("&cursor={c}"),
            None => return all,
        }
    }
}

/// Each group as (filename of its first image, copies, locations as "node:filename-of-location").
fn summary(groups: &[ImageGroup], by_id: &BTreeMap<Uuid, (String, String)>) -> Vec<(String, u64, Vec<String>)> {
    groups
        .iter()
        .map(|g| {
            let locations = g
                .locations
                .iter()
                .map(|l| {
                    let (node, name) = &by_id[&l.id];
                    assert_eq!(l.node_id.as_str(), node);
                    format!("{node}:{name}")
                })
                .collect();
            (g.image.filename.clone(), g.copies, locations)
        })
        .collect()
}

async fn identical_images_are_grouped_across_the_whole_result_page_after_page(db: &TestDb) {
    let vdc = TestVdc::spawn(db).await;
    // By name: a-ubuntu (X, hv1), b-debian (Y, hv1), c-ubuntu-copy (X, hv2), d-unhashed (none, hv2),
    // e-ubuntu (X, hv3, in /other), f-debian (Y, hv3), g-unhashed (none, hv3).
    let placed = [
        ("hv1", copy("a-ubuntu.iso", "/linux", Some('a'), 1)),
        ("hv1", copy("b-debian.iso", "/linux", Some('b'), 2)),
        ("hv2", copy("c-ubuntu-copy.iso", "/linux", Some('a'), 3)),
        ("hv2", copy("d-unhashed.iso", "/linux", None, 4)),
        ("hv3", copy("e-ubuntu.iso", "/other", Some('a'), 5)),
        ("hv3", copy("f-debian.iso", "/linux", Some('b'), 6)),
        ("hv3", copy("g-unhashed.iso", "/linux", None, 7)),
    ];
    let mut by_id = BTreeMap::new();
    for (node, img) in &placed {
        assert_eq!(vdc.notify(&node_ref(node), img, Created).await, 1);
        by_id.insert(img.id, (node.to_string(), img.filename.clone()));
    }
    let s = |v: Vec<(&str, u64, Vec<&str>)>| -> Vec<(String, u64, Vec<String>)> {
        v.into_iter().map(|(f, n, l)| (f.to_owned(), n, l.into_iter().map(str::to_owned).collect())).collect()
    };

    // One group per page: a copy on a "later page" of images is still in its group, and no group twice.
    let got = summary(&groups(&vdc, "&sort=name").await, &by_id);
    assert_eq!(
        got,
        s(vec![
            ("a-ubuntu.iso", 3, vec!["hv1:a-ubuntu.iso", "hv2:c-ubuntu-copy.iso", "hv3:e-ubuntu.iso"]),
            ("b-debian.iso", 2, vec!["hv1:b-debian.iso", "hv3:f-debian.iso"]),
            ("d-unhashed.iso", 1, vec!["hv2:d-unhashed.iso"]),
            ("g-unhashed.iso", 1, vec!["hv3:g-unhashed.iso"]),
        ])
    );
    // Descending: each group is led by its last copy by name.
    let got = summary(&groups(&vdc, "&sort=name&order=desc").await, &by_id);
    let leaders: Vec<_> = got.iter().map(|(f, n, _)| (f.as_str(), *n)).collect();
    assert_eq!(leaders, [("g-unhashed.iso", 1), ("f-debian.iso", 2), ("e-ubuntu.iso", 3), ("d-unhashed.iso", 1)]);
    assert_eq!(got[2].2, ["hv3:e-ubuntu.iso", "hv2:c-ubuntu-copy.iso", "hv1:a-ubuntu.iso"]);

    // The filter applies to the copies too: in /linux, ubuntu has two copies; on hv3 every group one.
    let got = summary(&groups(&vdc, "&sort=name&folder=/linux").await, &by_id);
    assert_eq!(got[0], s(vec![("a-ubuntu.iso", 2, vec!["hv1:a-ubuntu.iso", "hv2:c-ubuntu-copy.iso"])])[0]);
    let got = summary(&groups(&vdc, "&sort=name&node_id=hv3").await, &by_id);
    assert!(got.iter().all(|(_, n, l)| *n == 1 && l.len() == 1), "{got:?}");
    assert_eq!(got.len(), 3);
    // And a search: "ubuntu" matches all three copies of X, nothing else.
    let got = summary(&groups(&vdc, "&sort=name&q=ubuntu").await, &by_id);
    assert_eq!(got.iter().map(|(f, n, _)| (f.as_str(), *n)).collect::<Vec<_>>(), [("a-ubuntu.iso", 3)]);

    // A page of groups in the default (folder) order, all at once.
    let (status, body) = vdc.get("/api/v1/images?group=checksum").await;
    assert_eq!(status, 200, "{body}");
    let page: ImageGroupList = serde_json::from_value(body).unwrap();
    assert_eq!(page.groups.iter().map(|g| g.copies).sum::<u64>(), 7);
    assert_eq!(page.next_cursor, None);

    let (status, body) = vdc.get("/api/v1/images?group=filename").await;
    assert_eq!(status, 400, "{body}");
    vdc.stop().await;
}

#[tokio::test]
async fn a_node_refuses_to_group_it_holds_only_its_own_images() {
    let node = TestNode::spawn(&[pool("local")]).await;
    let (s, b) = node.get("/api/v1/images?group=checksum").await;
    assert_error(s, &b, 400, "invalid_query");
    assert!(b["message"].as_str().unwrap().contains("vdc"), "{b}");
}
