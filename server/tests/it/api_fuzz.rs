//! What `scripts/api-fuzz` (schemathesis against both roles' OpenAPI documents) found, each kept as a
//! test that fails if the defect comes back.

use serde_json::{Value, json};

use crate::support::{TestNode, assert_error, pool, vdc::TestDb, vdc::TestVdc};
use crate::vdc_vms::{iso_in_catalogue, node_of};

async fn list_parameters(url: &str) -> Vec<Value> {
    let doc: Value = reqwest::get(format!("{url}/api/v1/openapi.json")).await.unwrap().json().await.unwrap();
    doc["paths"]["/api/v1/images"]["get"]["parameters"].as_array().unwrap().clone()
}

fn enum_of(params: &[Value], name: &str) -> Value {
    let p = params.iter().find(|p| p["name"] == name).unwrap_or_else(|| panic!("no parameter {name}"));
    // Found: `sort` and `order` pointed at `#/components/schemas/SortKey` and `…/SortOrder`, which the
    // document never defined (query parameters register no schemas), so no client could read them and
    // the fuzzer never sent them. They are now described in place.
    assert!(p["schema"].get("$ref").is_none(), "{name} refers to a schema elsewhere: {p}");
    p["schema"]["enum"].clone()
}

#[tokio::test]
async fn the_image_list_describes_its_sort_parameters_in_place() {
    let node = TestNode::spawn(&[pool("local")]).await;
    // Kept for the whole test: a temporary TestDb would delete the catalogue's directory at once, and
    // each new pool connection then failed to open the file (a 500 whenever the pool opened one).
    let db = TestDb::sqlite();
    let vdc = TestVdc::spawn(&db).await;
    for (url, client) in [(&node.url, &node.client), (&vdc.url, &vdc.client)] {
        let params = list_parameters(url).await;
        assert_eq!(enum_of(&params, "sort"), serde_json::json!(["folder", "name", "size", "created"]));
        assert_eq!(enum_of(&params, "order"), serde_json::json!(["asc", "desc"]));
        // And the server takes every value the document offers.
        for (sort, order) in [("folder", "asc"), ("name", "desc"), ("size", "asc"), ("created", "desc")] {
            let resp = client.get(format!("{url}/api/v1/images?sort={sort}&order={order}")).send().await.unwrap();
            assert_eq!(resp.status(), 200, "sort={sort}&order={order}");
        }
    }
}

/// Found: `POST /api/v1/vms` with a disk larger than the pool's free space answered 507, a server
/// error, for a request the caller can simply change (monitoring counted it as the vdc failing, and
/// clients retry 5xx). The fuzzer's own request: 8 TiB on the default pool.
#[tokio::test]
async fn a_vm_disk_larger_than_its_pool_is_the_callers_to_change_not_a_server_error() {
    let db = TestDb::sqlite();
    let vdc = TestVdc::spawn(&db).await;
    let node = node_of(&vdc).await;
    let iso = iso_in_catalogue(&vdc, &node, "seed-2.iso").await;
    let body = json!({ "vcpus": 3, "iso_id": iso.id, "memory_mib": 8192, "name": "seed-2", "disk_gib": 8192 });
    let (s, b) = vdc.post("/api/v1/vms", &body).await;
    assert_error(s, &b, 409, "insufficient_storage");
    assert!(b["message"].as_str().unwrap().contains("the disk needs 8192 GiB"), "{b}");
    let (_, list) = vdc.get("/api/v1/vms").await;
    assert_eq!(list["vms"], json!([]), "nothing was defined");
    // The document says so too: no 5xx but the node being out of reach.
    let doc: Value = reqwest::get(format!("{}/api/v1/openapi.json", vdc.url)).await.unwrap().json().await.unwrap();
    let statuses: Vec<&String> = doc["paths"]["/api/v1/vms"]["post"]["responses"]
        .as_object()
        .unwrap()
        .keys()
        .filter(|s| s.starts_with('5'))
        .collect();
    assert_eq!(statuses, ["503"]);
}
