//! Uploads from the library onto a chosen node (`POST /api/v1/storage/upload?node_id=` on the vdc): the
//! body is streamed through the vdc to the node, which checks and stores it as its own upload; the image
//! is in the catalogue when the answer comes back; the node's refusals come back as they are; and a
//! client that vanishes midway leaves nothing on the node.

use std::time::Duration;

use app::model::IsoMetadata;

use crate::support::{
    PoolOpt, TestNode, admin_token, assert_error, eventually,
    multipart::RawUpload,
    pattern, sha256_wire,
    vdc::{TestDb, TestVdc, node_config_for},
};

async fn node(vdc: &TestVdc) -> TestNode {
    let (root, mut config) = node_config_for(vdc, &[PoolOpt { id: "local", quota: Some(64 << 20) }]);
    config.node_id = Some("hv-b".parse().unwrap());
    let node = TestNode::spawn_with(root, config).await;
    eventually(Duration::from_secs(20), "the node told the vdc where its API is", || async {
        vdc.nodes().await.nodes.iter().any(|n| n.id.as_str() == "hv-b" && n.api_url.is_some())
    })
    .await;
    node
}

async fn upload(vdc: &TestVdc, query: &str, filename: &str, data: Vec<u8>) -> (u16, serde_json::Value) {
    let part = reqwest::multipart::Part::bytes(data).file_name(filename.to_owned());
    let form = reqwest::multipart::Form::new().part("file", part);
    let resp =
        vdc.client.post(format!("{}/api/v1/storage/upload?{query}", vdc.url)).multipart(form).send().await.unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap_or_default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_library_upload_lands_on_the_chosen_node_and_is_in_the_catalogue_at_once() {
    let db = TestDb::sqlite();
    let vdc = TestVdc::spawn(&db).await;
    let node = node(&vdc).await;
    let data = pattern(71, 5 << 20);
    let query = format!("node_id=hv-b&pool_id=local&folder=/lab&checksum={}", sha256_wire(&data));
    let (status, body) = upload(&vdc, &query, "from-library.iso", data.clone()).await;
    assert_eq!(status, 201, "{body}");
    let image: IsoMetadata = serde_json::from_value(body).unwrap();
    assert_eq!((image.node_id.as_ref().map(|n| n.as_str()), image.folder_path.as_str()), (Some("hv-b"), "/lab"));
    assert_eq!(std::fs::read(node.iso_dir("local").join("from-library.iso")).unwrap(), data, "byte-exact");
    // No wait for the node's notification: the answer itself was applied.
    let (status, listed) = vdc.get(&format!("/api/v1/images/{}", image.id)).await;
    assert_eq!((status, listed["checksum"].as_str()), (200, Some(sha256_wire(&data).as_str())), "{listed}");

    // The node's refusals, as they are; the vdc's own for a node it does not know.
    let (status, body) = upload(&vdc, "node_id=hv-b&pool_id=local", "from-library.iso", vec![1; 10]).await;
    assert_error(status, &body, 409, "name_taken");
    let bad_sum = format!("node_id=hv-b&checksum={}", sha256_wire(b"something else"));
    let (status, body) = upload(&vdc, &bad_sum, "mismatch.iso", vec![2; 1000]).await;
    assert_error(status, &body, 422, "checksum_mismatch");
    // Too large for the pool, from the declared length alone (a client that sent it all would be cut
    // off mid-body by the early answer: the refusal comes before the bytes).
    let token = admin_token(&vdc.url).await;
    let addr = vdc.url.trim_start_matches("http://").parse().unwrap();
    let mut huge = RawUpload::new("/api/v1/storage/upload?node_id=hv-b&pool_id=local", "huge.iso", 1000);
    huge.declared_length = Some(65 << 20);
    let (answer, _) = huge.send(addr, &token).await;
    let (status, body) = answer.expect("an answer");
    assert_error(status, &body, 507, "insufficient_storage");
    let (status, body) = upload(&vdc, "node_id=nobody", "x.iso", vec![4; 10]).await;
    assert_error(status, &body, 404, "node_not_found");
    let (status, body) = upload(&vdc, "pool_id=local", "x.iso", vec![4; 10]).await;
    assert_error(status, &body, 400, "invalid_query");
    assert_eq!(node.files("local"), vec!["from-library.iso".to_owned()], "refused uploads leave nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_that_vanishes_mid_upload_leaves_nothing_on_the_node() {
    let db = TestDb::sqlite();
    let vdc = TestVdc::spawn(&db).await;
    let node = node(&vdc).await;
    let token = admin_token(&vdc.url).await;
    let addr = vdc.url.trim_start_matches("http://").parse().unwrap();
    let mut raw = RawUpload::new("/api/v1/storage/upload?node_id=hv-b&pool_id=local", "cut.iso", 8 << 20);
    raw.abort_after = Some(3 << 20);
    let (answer, _) = raw.send(addr, &token).await;
    assert!(answer.is_none(), "{answer:?}");
    eventually(Duration::from_secs(10), "the node let go of the cut upload", || async {
        let pools = node.pools().await;
        node.files("local").is_empty() && pools.pools[0].free_bytes == 64 << 20
    })
    .await;
    // The pool's room is whole again: a file of its full size fits.
    let (status, body) = upload(&vdc, "node_id=hv-b&pool_id=local", "after.iso", vec![5; 1 << 20]).await;
    assert_eq!(status, 201, "{body}");
}
