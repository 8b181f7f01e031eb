//! VM definitions on the vdc, on both backends: validation, placement on the ISO's node, the domain XML,
//! and ISOs in use that cannot be deleted.

use app::model::{HeartbeatRequest, ImageEventType::*, StoragePool, VmDefinition, VmList};
use serde_json::json;
use uuid::Uuid;

use crate::on_both_backends;
use crate::support::{
    assert_error,
    vdc::{TestDb, TestVdc, image, node_ref},
};

on_both_backends!(vms_are_validated_placed_and_rendered);

fn pool(id: &str, path: &str, free_gib: u64) -> StoragePool {
    StoragePool {
        id: id.parse().unwrap(),
        name: format!("Pool {id}"),
        path: path.into(),
        capacity_bytes: 1 << 42,
        free_bytes: free_gib << 30,
        image_count: 0,
    }
}

async fn vms_are_validated_placed_and_rendered(db: &TestDb) {
    let vdc = TestVdc::spawn(db).await;
    let hv2 = node_ref("hv2");
    let beat = HeartbeatRequest {
        node: hv2.clone(),
        pending: 0,
        pools: vec![pool("local", "/srv/local", 100), pool("fast", "/srv/nvme", 30)],
    };
    let (s, b) = vdc.post("/limiquantix.storage.v1.ImageService/Heartbeat", &beat).await;
    assert_eq!(s, 200, "{b}");
    let iso_id = Uuid::new_v4();
    let mut iso = image(iso_id, "debian-12.iso", "/linux", 3);
    iso.path = "/srv/local/iso/debian-12.iso".into();
    vdc.notify(&hv2, &iso, Created).await;
    let unhashed_id = Uuid::new_v4();
    let mut unhashed = image(unhashed_id, "fresh.iso", "/linux", 4);
    unhashed.checksum = None;
    vdc.notify(&hv2, &unhashed, Created).await;

    let vm = |name: &str| json!({ "name": name, "vcpus": 2, "memory_mib": 2048, "disk_gib": 20, "iso_id": iso_id });
    let (s, b) = vdc.post("/api/v1/vms", &vm("web-01")).await;
    assert_eq!(s, 201, "{b}");
    let web: VmDefinition = serde_json::from_value(b).unwrap();
    assert_eq!((web.node_id.as_str(), web.disk_pool_id.as_str()), ("hv2", "local"), "placed on the ISO's node");
    assert_eq!(web.iso_path.as_deref(), Some("/srv/local/iso/debian-12.iso"));

    let mut on_fast = vm("db-01");
    on_fast["disk_pool_id"] = json!("fast");
    let (s, b) = vdc.post("/api/v1/vms", &on_fast).await;
    assert_eq!(s, 201, "{b}");

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
            json!({ "name": "x", "vcpus": 2, "memory_mib": 2048, "disk_gib": 20, "iso_id": unhashed_id }),
            409,
            "iso_not_ready",
        ),
        (
            json!({ "name": "x", "vcpus": 2, "memory_mib": 2048, "disk_gib": 20, "iso_id": iso_id, "disk_pool_id": "nope" }),
            400,
            "invalid_pool",
        ),
        (
            json!({ "name": "x", "vcpus": 2, "memory_mib": 2048, "disk_gib": 31, "iso_id": iso_id, "disk_pool_id": "fast" }),
            507,
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
    assert_eq!(iso_source, Some("/srv/local/iso/debian-12.iso"));
    let disk = doc.descendants().find(|n| n.attribute("device") == Some("disk")).unwrap();
    assert_eq!(
        disk.children().find(|n| n.has_tag_name("source")).unwrap().attribute("file"),
        Some("/srv/local/vms/web-01.qcow2")
    );
    assert!(xml.contains("<quantix:node>hv2</quantix:node>"));

    // The ISO cannot be deleted while VMs boot from it; the answer names them.
    let (s, b) = vdc.delete(&format!("/api/v1/images/{iso_id}")).await;
    assert_error(s, &b, 409, "iso_in_use");
    assert!(b["message"].as_str().unwrap().contains("db-01, web-01"), "{b}");
    assert_eq!(vdc.list("").await.images.len(), 2, "nothing was deleted");

    let (s, _) = vdc.delete(&format!("/api/v1/vms/{}", web.id)).await;
    assert_eq!(s, 204);
    let (s, b) = vdc.get(&format!("/api/v1/vms/{}", web.id)).await;
    assert_error(s, &b, 404, "vm_not_found");
}
