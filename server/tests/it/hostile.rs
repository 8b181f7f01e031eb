//! Hostile input that once found defects (issue "Hostile input and restored databases"): each test
//! reproduces one and pins its fix.

use serde_json::json;

use crate::on_both_backends;
use crate::support::{
    TestNode, assert_error, pool,
    vdc::{TestDb, TestVdc},
};

/// A node's heartbeat cannot plant a `javascript:` URL that the library would render as a link.
async fn only_http_node_urls_are_accepted(db: &TestDb) {
    let vdc = TestVdc::spawn(db).await;
    let path = "/limiquantix.storage.v1.ImageService/Heartbeat";
    for url in ["javascript:alert(document.domain)//", "data:text/html,<script>x</script>", "http://"] {
        let (s, b) = vdc.post(path, &json!({ "node_id": "hv1", "node_api_url": url, "pending": 0 })).await;
        assert_error(s, &b, 400, "invalid_body");
        assert!(b["message"].as_str().unwrap().contains("node_api_url"), "{b}");
    }
    assert!(vdc.nodes().await.nodes.is_empty(), "nothing stored");
    let (s, b) =
        vdc.post(path, &json!({ "node_id": "hv1", "node_api_url": "https://hv1.example:3001", "pending": 0 })).await;
    assert_eq!(s, 200, "{b}");
}

/// A NUL or other control character in a query parameter is refused with 400 (it gave 500, and `q=%00`
/// matched everything).
async fn control_characters_in_queries_are_refused(db: &TestDb) {
    let vdc = TestVdc::spawn(db).await;
    for q in ["q=abc%00def", "q=%00", "os_family=linux%01", "q=%1b%5b2J"] {
        let (s, b) = vdc.get(&format!("/api/v1/images?{q}")).await;
        assert_error(s, &b, 400, "invalid_query");
    }
}

on_both_backends!(only_http_node_urls_are_accepted, control_characters_in_queries_are_refused);

#[tokio::test]
async fn the_node_refuses_control_characters_in_queries_too() {
    let node = TestNode::spawn(&[pool("local")]).await;
    let (s, b) = node.get("/api/v1/images?q=abc%00def").await;
    assert_error(s, &b, 400, "invalid_query");
    // The bearer scheme is case-insensitive (RFC 7235).
    let resp = reqwest::Client::new()
        .get(format!("{}/api/v1/images", node.url))
        .header("authorization", format!("bearer {}", node.token))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}
