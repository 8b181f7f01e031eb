//! What `scripts/api-fuzz` (schemathesis against both roles' OpenAPI documents) found, each kept as a
//! test that fails if the defect comes back.

use serde_json::Value;

use crate::support::{TestNode, pool, vdc::TestDb, vdc::TestVdc};

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
    let vdc = TestVdc::spawn(&TestDb::sqlite()).await;
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
