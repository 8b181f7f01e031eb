//! VM definitions on the vdc, on both backends, with a real node holding the ISO: validation, placement
//! on the ISO's node, the domain XML, and ISOs in use that can be deleted neither through the vdc nor on
//! their node.

use std::time::Duration;

use app::model::{IsoMetadata, VmDefinition, VmList};
use serde_json::json;
use uuid::Uuid;

use crate::on_both_backends;
use crate::support::{
    TestNode, assert_error, eventually, pool,
    vdc::{TestDb, TestVdc, node_syncing_to},
};

on_both_backends!(vms_are_validated_placed_and_rendered, an_iso_in_use_cannot_be_deleted_on_its_node);

/// A node with pools `local` and `fast`, syncing to `vdc`.
pub async fn node_of(vdc: &TestVdc) -> TestNode {
    node_syncing_to(vdc, &[pool("local"), pool("fast")]).await
}

/// Uploads `filename` to the node and waits until the vdc has it, hashed, with the node's pools.
pub async fn iso_in_catalogue(vdc: &TestVdc, node: &TestNode, filename: &str) -> IsoMetadata {
    let iso = node.upload_ok("pool_id=local&folder=/linux", filename, b"an installer".to_vec()).await;
    eventually(Duration::from_secs(20), "the vdc has the ISO and the node's pools", || async {
        let (_, nodes) = vdc.get("/api/v1/nodes").await;
        let pools = nodes["nodes"][0]["pools"].as_array().map_or(0, Vec::len);
        vdc.get(&format!("/api/v1/images/{}", iso.id)).await.0 == 200 && pools == 2
    })
    .await;
    iso
}

async fn vms_are_validated_placed_and_rendered(db: &TestDb) {
    let vdc = TestVdc::spawn(db).await;
    let node = node_of(&vdc).await;
    let iso = iso_in_catalogue(&vdc, &node, "debian-12.iso").await;
    let iso_id = iso.id;
    let (_, nodes) = vdc.get("/api/v1/nodes").await;
    let fast_free_gib = nodes["nodes"][0]["pools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "fast")
        .map(|p| p["free_bytes"].as_u64().unwrap() >> 30)
        .unwrap();

    let vm = |name: &str| json!({ "name": name, "vcpus": 2, "memory_mib": 2048, "disk_gib": 20, "iso_id": iso_id });
    let (s, b) = vdc.post("/api/v1/vms", &vm("web-01")).await;
    assert_eq!(s, 201, "{b}");
    let web: VmDefinition = serde_json::from_value(b).unwrap();
    assert_eq!(web.node_id.as_str(), "test-node", "placed on the ISO's node");
    assert_eq!(web.iso_path.as_deref(), Some(iso.path.as_str()));

    let mut on_fast = vm("db-01");
    on_fast["disk_pool_id"] = json!("fast");
    let (s, b) = vdc.post("/api/v1/vms", &on_fast).await;
    assert_eq!(s, 201, "{b}");

    let too_big = fast_free_gib + 1;
    for (body, status, code) in [
        (
            json!({ "name": "bad name", "vcpus": 2, "memory_mib": 2048, "disk_gib": 20, "iso_id": iso_id }),
            400,
            "invalid_vm",
        ),
        (json!({ "name": "x", "vcpus": 0, "memory_mib": 2048, "disk_gib": 20, "iso_id": iso_id }), 400, "invalid_vm"),
        (json!({ "name": "x", "vcpus": 65, "memory_mib": 2048, "disk_gib": 20, "iso_id": iso_id }), 400, "invalid_vm"),
        (json!({ "name": "x", "vcpus": 2, "memory_mib": 64, "disk_gib": 20, "iso_id": iso_id }), 400, "invalid_vm"),
        (json!({ "name": "x", "vcpus": 2, "memory_mib": 2048, "disk_gib": 0, "iso_id": iso_id }), 400, "invalid_vm"),
        (
            json!({ "name": "x", "vcpus": 2, "memory_mib": 2048, "disk_gib": 20, "iso_id": Uuid::new_v4() }),
            400,
            "invalid_iso",
        ),
        (
            json!({ "name": "x", "vcpus": 2, "memory_mib": 2048, "disk_gib": 20, "iso_id": iso_id, "disk_pool_id": "nope" }),
            400,
            "invalid_pool",
        ),
        (
            json!({ "name": "x", "vcpus": 2, "memory_mib": 2048, "disk_gib": too_big, "iso_id": iso_id, "disk_pool_id": "fast" }),
            409,
            "insufficient_storage",
        ),
        (vm("web-01"), 409, "vm_name_taken"),
        (json!({ "name": "x", "vcpus": "two" }), 400, "invalid_body"),
    ] {
        let (s, b) = vdc.post("/api/v1/vms", &body).await;
        assert_error(s, &b, status, code);
    }

    let (s, b) = vdc.get("/api/v1/vms").await;
    assert_eq!(s, 200);
    let list: VmList = serde_json::from_value(b).unwrap();
    assert_eq!(list.vms.iter().map(|v| v.name.as_str()).collect::<Vec<_>>(), ["db-01", "web-01"]);

    let resp = vdc.client.get(format!("{}/api/v1/vms/{}/domain.xml", vdc.url, web.id)).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("application/xml"));
    let xml = resp.text().await.unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let cdrom = doc.descendants().find(|n| n.attribute("device") == Some("cdrom")).unwrap();
    let iso_source = cdrom.children().find(|n| n.has_tag_name("source")).unwrap().attribute("file");
    assert_eq!(iso_source, Some(iso.path.as_str()));
    let disk = doc.descendants().find(|n| n.attribute("device") == Some("disk")).unwrap();
    let local_root = node.iso_dir("local").parent().unwrap().canonicalize().unwrap();
    assert_eq!(
        disk.children().find(|n| n.has_tag_name("source")).unwrap().attribute("file"),
        Some(format!("{}/vms/web-01.qcow2", local_root.display()).as_str())
    );
    assert!(xml.contains("<quantix:node>test-node</quantix:node>"));

    // The ISO cannot be deleted through the vdc while VMs boot from it; the answer names them.
    let (s, b) = vdc.delete(&format!("/api/v1/images/{iso_id}")).await;
    assert_error(s, &b, 409, "iso_in_use");
    assert!(b["message"].as_str().unwrap().contains("db-01, web-01"), "{b}");
    assert_eq!(vdc.list("").await.images.len(), 1, "nothing was deleted");

    let (s, _) = vdc.delete(&format!("/api/v1/vms/{}", web.id)).await;
    assert_eq!(s, 204);
    let (s, b) = vdc.get(&format!("/api/v1/vms/{}", web.id)).await;
    assert_error(s, &b, 404, "vm_not_found");
    node.stop().await;
}

/// Creating a VM pins its ISO on the node before the definition exists, so the node's own API refuses to
/// delete it (409 naming the VM); deleting the definition unpins it. A node that cannot be reached means
/// no definition, and an ISO gone from its node is refused.
async fn an_iso_in_use_cannot_be_deleted_on_its_node(db: &TestDb) {
    let vdc = TestVdc::spawn(db).await;
    let node = node_of(&vdc).await;
    let iso = iso_in_catalogue(&vdc, &node, "alpine.iso").await;
    let body = json!({ "name": "edge-01", "vcpus": 1, "memory_mib": 512, "disk_gib": 1, "iso_id": iso.id });
    let (s, b) = vdc.post("/api/v1/vms", &body).await;
    assert_eq!(s, 201, "{b}");
    let vm: VmDefinition = serde_json::from_value(b).unwrap();

    let (s, b) = node.delete(&format!("/api/v1/images/{}", iso.id)).await;
    assert_error(s, &b, 409, "image_in_use");
    assert!(b["message"].as_str().unwrap().contains("\"edge-01\""), "{b}");
    assert!(node.iso_dir("local").join("alpine.iso").exists(), "the file is kept");

    let (s, _) = vdc.delete(&format!("/api/v1/vms/{}", vm.id)).await;
    assert_eq!(s, 204);
    let (s, b) = node.delete(&format!("/api/v1/images/{}", iso.id)).await;
    assert_eq!(s, 200, "unpinned, it can go: {b}");

    // An ISO the catalogue still lists but its node no longer has: no definition is made.
    let other = iso_in_catalogue(&vdc, &node, "gone.iso").await;
    std::fs::remove_file(node.iso_dir("local").join("gone.iso")).unwrap();
    eventually(Duration::from_secs(10), "the node notices the file is gone", || async {
        node.get(&format!("/api/v1/images/{}", other.id)).await.0 == 404
    })
    .await;
    let body = json!({ "name": "late-01", "vcpus": 1, "memory_mib": 512, "disk_gib": 1, "iso_id": other.id });
    let (s, b) = vdc.post("/api/v1/vms", &body).await;
    // Refused by the catalogue if the node's delete reached it already, else by the node's answer to the pin.
    match s {
        400 => assert_error(s, &b, 400, "invalid_iso"),
        _ => assert_error(s, &b, 409, "iso_missing"),
    }

    // A node that cannot be reached: no definition is made.
    let third = iso_in_catalogue(&vdc, &node, "third.iso").await;
    node.stop().await;
    let body = json!({ "name": "late-02", "vcpus": 1, "memory_mib": 512, "disk_gib": 1, "iso_id": third.id });
    let (s, b) = vdc.post("/api/v1/vms", &body).await;
    assert_error(s, &b, 503, "node_unreachable");
    let (_, list) = vdc.get("/api/v1/vms").await;
    assert_eq!(list["vms"].as_array().unwrap().len(), 0, "{list}");
}
