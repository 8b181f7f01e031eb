//! What an operator relies on: every request's id (header, error body, span), Prometheus metrics that
//! move during an upload and a sync, and a sync batch followed by one id from the node's JSON log to
//! the vdc's.

use std::time::Duration;

use bytes::Bytes;
use serde_json::{Value, json};

use crate::support::{
    TestNode, assert_error, bearer_client, eventually, node_config, pattern,
    process::{Process, free_addr},
    vdc::{TOKEN, TestDb, TestVdc, token},
};

/// The value of the series `name{labels…}` in a Prometheus text page (labels given must all match).
fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    text.lines().filter(|l| !l.starts_with('#')).find_map(|line| {
        let (series, value) = line.rsplit_once(' ')?;
        let (metric, set) = match series.split_once('{') {
            Some((m, rest)) => (m, rest.trim_end_matches('}')),
            None => (series, ""),
        };
        let pairs: Vec<&str> = set.split(',').collect();
        let all = labels.iter().all(|(k, v)| pairs.contains(&format!("{k}=\"{v}\"").as_str()));
        (metric == name && all).then(|| value.parse().ok()).flatten()
    })
}

async fn scrape(client: &reqwest::Client, url: &str) -> String {
    let resp = client.get(format!("{url}/metrics")).send().await.unwrap();
    assert_eq!(resp.status(), 200, "a viewer may read /metrics");
    assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    resp.text().await.unwrap()
}

/// A viewer's API token, made by the admin client.
async fn viewer_client(url: &str, admin: &reqwest::Client) -> reqwest::Client {
    let resp = admin
        .post(format!("{url}/api/v1/tokens"))
        .json(&json!({ "name": "metrics-viewer", "role": "viewer" }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    bearer_client(resp.json::<Value>().await.unwrap()["token"].as_str().unwrap())
}

#[tokio::test]
async fn every_answer_carries_a_request_id_that_errors_repeat() {
    let node = TestNode::spawn(&[crate::support::pool("local")]).await;
    let c = reqwest::Client::new();
    // A sane id of the client's is kept, in the header and in the error body.
    let resp = c
        .get(format!("{}/api/v1/images/not-a-uuid", node.url))
        .header("x-request-id", "client-42")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["x-request-id"], "client-42");
    let (status, body) = (resp.status().as_u16(), resp.json::<Value>().await.unwrap());
    assert_error(status, &body, 401, "unauthenticated");
    assert_eq!(body["request_id"], "client-42");
    // An insane one is replaced by a fresh id; so is a missing one, and successes carry it too.
    for sent in [Some("two words"), Some(&*"x".repeat(200)), None] {
        let mut req = node.client.get(format!("{}/api/v1/images/{}", node.url, uuid::Uuid::new_v4()));
        if let Some(id) = sent {
            req = req.header("x-request-id", id);
        }
        let resp = req.send().await.unwrap();
        let id = resp.headers()["x-request-id"].to_str().unwrap().to_owned();
        assert!(id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["request_id"], id.as_str());
    }
    let ok = node.client.get(format!("{}/api/v1/images", node.url)).send().await.unwrap();
    assert_eq!(ok.status(), 200);
    assert!(ok.headers().contains_key("x-request-id"));
    // Pages (outside the API) are named too.
    let page = c.get(format!("{}/images", node.url)).send().await.unwrap();
    assert!(page.headers().contains_key("x-request-id"));
}

#[tokio::test]
async fn metrics_need_at_least_a_viewer() {
    let node = TestNode::spawn(&[crate::support::pool("local")]).await;
    let resp = reqwest::get(format!("{}/metrics", node.url)).await.unwrap();
    assert_error(resp.status().as_u16(), &resp.json().await.unwrap(), 401, "unauthenticated");
    let viewer = viewer_client(&node.url, &node.client).await;
    let text = scrape(&viewer, &node.url).await;
    assert!(text.contains("# TYPE quantix_http_requests_total counter"), "{text}");
    assert!(text.contains("# TYPE quantix_http_request_duration_seconds histogram"), "{text}");
}

/// Where a test feeds an upload's body, chunk by chunk.
type BodyFeed = tokio::sync::mpsc::Sender<Result<Bytes, std::io::Error>>;

/// A multipart upload whose body the test feeds; the task ends with the answer.
fn streamed_upload(client: &reqwest::Client, url: &str) -> (BodyFeed, tokio::task::JoinHandle<(u16, Value)>) {
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    let body = reqwest::Body::wrap_stream(tokio_stream::wrappers::ReceiverStream::new(rx));
    let form = reqwest::multipart::Form::new()
        .part("file", reqwest::multipart::Part::stream(body).file_name("metered.iso".to_owned()));
    let req = client.post(format!("{url}/api/v1/storage/upload?pool_id=metered")).multipart(form);
    let task = tokio::spawn(async move {
        let resp = req.send().await.unwrap();
        (resp.status().as_u16(), resp.json().await.unwrap_or(Value::Null))
    });
    (tx, task)
}

/// One upload and one sync, watched through `/metrics` as a viewer: uploads in flight and bytes while the
/// body streams, the request counted by its route template, the pool's space, the outbox while the vdc
/// is away and after it came, the vdc's ingest counters, each node's state and lag, and SSE clients.
#[tokio::test]
async fn metrics_move_during_an_upload_and_a_sync() {
    const NODE: &str = "metered-node";
    let db = TestDb::sqlite();
    let vdc = TestVdc::spawn(&db).await;
    let root = tempfile::tempdir().unwrap();
    let mut config = node_config(&root, &[crate::support::pool("metered")]);
    config.node_id = Some(NODE.parse().unwrap());
    config.cluster_token = Some(token());
    // Nothing listens there: changes wait in the outbox.
    config.vdc_url = Some(format!("http://{}", free_addr()));
    let node = TestNode::spawn_with(root, config).await;
    let viewer = viewer_client(&node.url, &node.client).await;
    let node_labels = [("node", NODE), ("pool", "metered")];
    let upload_201 = [("role", "node"), ("method", "POST"), ("route", "/api/v1/storage/upload"), ("status", "201")];

    let before = scrape(&viewer, &node.url).await;
    let bytes_before = sample(&before, "quantix_upload_bytes_total", &node_labels).unwrap_or(0.0);
    let (tx, upload) = streamed_upload(&node.client, &node.url);
    let data = pattern(3, 3 << 20);
    tx.send(Ok(Bytes::copy_from_slice(&data[..1 << 20]))).await.unwrap();
    eventually(Duration::from_secs(10), "the first MiB is counted while the upload is in flight", || {
        let (viewer, url) = (viewer.clone(), node.url.clone());
        async move {
            let now = scrape(&viewer, &url).await;
            sample(&now, "quantix_uploads_in_flight", &node_labels) == Some(1.0)
                && sample(&now, "quantix_upload_bytes_total", &node_labels).unwrap_or(0.0) >= bytes_before + 1e6
        }
    })
    .await;
    tx.send(Ok(Bytes::copy_from_slice(&data[1 << 20..]))).await.unwrap();
    drop(tx);
    let (status, body) = upload.await.unwrap();
    assert_eq!(status, 201, "{body}");

    let after = scrape(&viewer, &node.url).await;
    assert_eq!(sample(&after, "quantix_uploads_in_flight", &node_labels), Some(0.0));
    assert!(sample(&after, "quantix_upload_bytes_total", &node_labels).unwrap() >= bytes_before + data.len() as f64);
    assert!(sample(&after, "quantix_http_requests_total", &upload_201).unwrap() >= 1.0);
    assert!(sample(&after, "quantix_http_request_duration_seconds_count", &upload_201).unwrap() >= 1.0);
    assert!(sample(&after, "quantix_pool_free_bytes", &node_labels).unwrap() > 0.0);
    assert!(sample(&after, "quantix_pool_capacity_bytes", &node_labels).unwrap() > 0.0);
    // The route template, never the raw path (ids would make a series per image).
    let id = body["id"].as_str().unwrap();
    node.client.get(format!("{}/api/v1/images/{id}", node.url)).send().await.unwrap();
    let text = scrape(&viewer, &node.url).await;
    assert!(sample(&text, "quantix_http_requests_total", &[("route", "/api/v1/images/{id}")]).is_some());
    assert!(!text.contains(id), "a raw path became a label");
    // The vdc is unreachable: the change waits.
    let waiting = [("node", NODE)];
    assert!(sample(&text, "quantix_node_outbox_depth", &waiting).unwrap() >= 1.0);
    assert!(sample(&text, "quantix_node_outbox_oldest_age_seconds", &waiting).unwrap() >= 0.0);
    assert!(sample(&text, "quantix_node_sync_calls_total", &[("node", NODE), ("result", "unreachable")]).is_some());

    // The node comes back pointed at the vdc: the outbox drains, the vdc counts what it took in.
    let (root, mut config) = node.stop().await;
    config.vdc_url = Some(vdc.url.clone());
    let node = TestNode::spawn_with(root, config).await;
    let viewer = viewer_client(&node.url, &node.client).await;
    let vdc_viewer = viewer_client(&vdc.url, &vdc.client).await;
    let of_node = [("node", NODE)];
    eventually(Duration::from_secs(20), "the inventory reaches the vdc and the outbox is empty", || {
        let (viewer, vdc_viewer, url, vdc_url) =
            (viewer.clone(), vdc_viewer.clone(), node.url.clone(), vdc.url.clone());
        async move {
            let n = scrape(&viewer, &url).await;
            let v = scrape(&vdc_viewer, &vdc_url).await;
            sample(&n, "quantix_node_outbox_depth", &of_node) == Some(0.0)
                && sample(&v, "quantix_vdc_inventory_images_total", &[("node", NODE), ("outcome", "added")])
                    .is_some_and(|n| n >= 1.0)
        }
    })
    .await;
    // A change after the inventory travels as an event.
    node.upload_ok("pool_id=metered", "second.iso", pattern(4, 1000)).await;
    eventually(Duration::from_secs(20), "the vdc applies the node's change", || {
        let (vdc_viewer, vdc_url) = (vdc_viewer.clone(), vdc.url.clone());
        async move {
            let v = scrape(&vdc_viewer, &vdc_url).await;
            sample(&v, "quantix_vdc_sync_events_total", &[("node", NODE), ("result", "applied")])
                .is_some_and(|n| n >= 1.0)
        }
    })
    .await;
    let n = scrape(&viewer, &node.url).await;
    let delivered = [("node", NODE), ("call", "NotifyImageChanges"), ("result", "ok")];
    assert!(sample(&n, "quantix_node_sync_calls_total", &delivered).unwrap() >= 1.0, "{n}");
    let v = scrape(&vdc_viewer, &vdc.url).await;
    let states: f64 = app::model::NodeSyncState::ALL
        .iter()
        .map(|s| sample(&v, "quantix_vdc_node_sync_state", &[("node", NODE), ("state", s.as_str())]).unwrap())
        .sum();
    assert_eq!(states, 1.0, "one state at a time");
    assert_eq!(sample(&v, "quantix_vdc_node_sync_state", &[("node", NODE), ("state", "offline")]), Some(0.0));
    assert!(sample(&v, "quantix_vdc_node_last_contact_age_seconds", &of_node).unwrap() < 30.0);
    assert!(sample(&v, "quantix_vdc_node_last_full_sync_age_seconds", &of_node).unwrap() < 30.0);
    assert!(sample(&v, "quantix_vdc_node_pending_changes", &of_node).is_some());
    let sync_route = [("role", "vdc"), ("route", app::model::sync_paths::NOTIFY_IMAGE_CHANGES), ("status", "200")];
    assert!(sample(&v, "quantix_http_requests_total", &sync_route).unwrap() >= 1.0);

    // A live-update stream is an SSE client while it is open.
    let stream = vdc_viewer.get(format!("{}/api/v1/events", vdc.url)).send().await.unwrap();
    assert_eq!(stream.status(), 200);
    assert!(sample(&scrape(&vdc_viewer, &vdc.url).await, "quantix_vdc_sse_clients", &[]).unwrap() >= 1.0);
    drop(stream);
    eventually(Duration::from_secs(15), "the closed stream is no longer counted", || {
        let (vdc_viewer, vdc_url) = (vdc_viewer.clone(), vdc.url.clone());
        async move { sample(&scrape(&vdc_viewer, &vdc_url).await, "quantix_vdc_sse_clients", &[]) == Some(0.0) }
    })
    .await;
}

/// The JSON lines of a log file.
fn json_lines(path: &std::path::Path) -> Vec<Value> {
    std::fs::read_to_string(path).unwrap_or_default().lines().filter_map(|l| serde_json::from_str(l).ok()).collect()
}

/// The `request_id` of the innermost span of a JSON log line that has one.
fn span_request_id(line: &Value) -> Option<&str> {
    line["spans"].as_array()?.iter().rev().find_map(|s| s["request_id"].as_str())
}

/// Real processes with `--log-format json`: the node's line for a delivered batch names a request id,
/// and the vdc's line for that batch sits in a span with the same id.
#[tokio::test]
async fn a_sync_batch_is_followed_by_one_id_from_the_node_log_to_the_vdc_log() {
    let dir = tempfile::tempdir().unwrap();
    let (vdc_addr, node_addr) = (free_addr(), free_addr());
    let vdc_log = dir.path().join("vdc.log");
    let node_log = dir.path().join("node.log");
    let vdc_args = format!(
        "vdc --log-format json --listen {vdc_addr} --database-url sqlite://{}/vdc.db --data-dir {}/vdc \
         --cluster-token {TOKEN} --site-root /nonexistent",
        dir.path().display(),
        dir.path().display()
    );
    let vdc = Process::start_logged(vdc_addr, vdc_args.split(' ').map(str::to_owned).collect(), &vdc_log).await;
    let node_args = format!(
        "node --log-format json --listen {node_addr} --data-dir {}/node --pool local={}/pool --vdc-url {} \
         --cluster-token {TOKEN} --site-root /nonexistent --node-id logged-node",
        dir.path().display(),
        dir.path().display(),
        vdc.url
    );
    let node = Process::start_logged(node_addr, node_args.split(' ').map(str::to_owned).collect(), &node_log).await;
    // The first anti-entropy pass is over (a digest, then whatever buckets differ); then one change
    // travels as a batch.
    eventually(Duration::from_secs(20), "the node's first anti-entropy pass is logged", || {
        let log = node_log.clone();
        async move {
            json_lines(&log)
                .iter()
                .any(|l| l["message"].as_str().is_some_and(|m| m.starts_with("anti-entropy pass done")))
        }
    })
    .await;
    let part = reqwest::multipart::Part::bytes(pattern(9, 4096)).file_name("followed.iso");
    let resp = node
        .client()
        .post(format!("{}/api/v1/storage/upload", node.url))
        .multipart(reqwest::multipart::Form::new().part("file", part))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let id = loop {
        let delivered = json_lines(&node_log).into_iter().find(|l| {
            l["message"] == "sync call answered" && span_call(l) == Some("NotifyImageChanges") && l["outcome"] == "ok"
        });
        if let Some(line) = delivered {
            break span_request_id(&line).expect("the sync call's span carries its id").to_owned();
        }
        assert!(tokio::time::Instant::now() < deadline, "the node never logged the batch it delivered");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    eventually(Duration::from_secs(10), "the vdc logs that batch under the same id", || {
        let (log, id) = (vdc_log.clone(), id.clone());
        async move {
            json_lines(&log)
                .iter()
                .any(|l| l["message"] == "changes from a node" && span_request_id(l) == Some(id.as_str()))
        }
    })
    .await;
    drop(node);
    drop(vdc);
}

/// The `call` field of the sync call's span.
fn span_call(line: &Value) -> Option<&str> {
    line["spans"].as_array()?.iter().find_map(|s| s["call"].as_str())
}
