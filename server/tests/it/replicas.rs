//! Several vdc replicas on one PostgreSQL: every replica's pages hear of every change, whichever replica
//! ingested it, and a replica that lost its listener's connection tells its pages to resync. The
//! in-process path (one replica, either backend) is checked here too.

use std::time::Duration;

use app::model::{HeartbeatRequest, ImageEventType, sync_paths};
use sqlx::{Connection, Executor, PgConnection};
use uuid::Uuid;

use crate::on_both_backends;
use crate::support::{
    events::EventStream,
    skip,
    vdc::{TestDb, TestVdc, image, node_ref},
};

/// A change reaches another replica's pages within this (the bound).
const WITHIN: Duration = Duration::from_secs(1);

async fn two_replicas() -> Option<(TestDb, TestVdc, TestVdc)> {
    let Some(db) = TestDb::postgres().await else {
        skip("TEST_DATABASE_URL is not set, so the replica tests do not run");
        return None;
    };
    let a = TestVdc::spawn(&db).await;
    let b = TestVdc::spawn(&db).await;
    wait_listening(&db, &[&a, &b]).await;
    Some((db, a, b))
}

/// The listeners' connections, by replica, as PostgreSQL sees them.
async fn listener_pids(db: &TestDb, vdc: &TestVdc) -> Vec<i32> {
    let mut conn = PgConnection::connect(&db.url).await.unwrap();
    let name = format!("quantix-vdc-listener {}", vdc.replica);
    sqlx::query_scalar("SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND query ILIKE 'LISTEN%'")
        .bind(name)
        .fetch_all(&mut conn)
        .await
        .unwrap()
}

async fn wait_listening(db: &TestDb, replicas: &[&TestVdc]) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    for vdc in replicas {
        while listener_pids(db, vdc).await.is_empty() {
            assert!(tokio::time::Instant::now() < deadline, "replica {} never listened", vdc.replica);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

#[tokio::test]
async fn a_change_ingested_by_one_replica_reaches_the_pages_of_the_other_within_a_second() {
    let Some((db, a, b)) = two_replicas().await else { return };
    let mut on_b = EventStream::open(&b.client, &b.url, &[]).await;
    let node = node_ref("node-a");

    let id = Uuid::new_v4();
    assert_eq!(a.notify(&node, &image(id, "ubuntu.iso", "/linux", 5), ImageEventType::Created).await, 1);
    let e = on_b.next_news(WITHIN).await.expect("B's page hears of A's change within 1 s");
    assert_eq!((e.event.as_str(), e.ids()), ("change", vec![id.to_string()]), "{e:?}");

    // A whole inventory that changes several images is one change for the page, with every id.
    let more: Vec<_> = (0..3).map(|i| image(Uuid::new_v4(), &format!("m{i}.iso"), "/linux", 10 + i)).collect();
    a.full_sync(&node, 20, more.clone()).await;
    let mut heard = Vec::new();
    while heard.len() < 4 {
        let e = on_b.next_news(WITHIN).await.expect("B hears of the inventory within 1 s");
        assert_eq!(e.event, "change", "{e:?}");
        heard.extend(e.ids());
    }
    heard.sort();
    let mut want: Vec<_> = more.iter().map(|m| m.id.to_string()).chain([id.to_string()]).collect();
    want.sort();
    assert_eq!(heard, want, "the added images and the one the inventory no longer lists");

    // A folder created on A, and a node's state changed on A.
    let (s, body) = a.post("/api/v1/images/folders", &serde_json::json!({ "path": "/new/folder" })).await;
    assert_eq!(s, 201, "{body}");
    let e = on_b.next_news(WITHIN).await.expect("B hears of the folder");
    assert_eq!((e.event.as_str(), e.ids().len()), ("change", 0), "{e:?}");
    let heartbeat = HeartbeatRequest { node: node_ref("node-b"), pending: 3, pools: vec![] };
    let (s, body) = a.post(sync_paths::HEARTBEAT, &heartbeat).await;
    assert_eq!(s, 200, "{body}");
    let e = on_b.next_news(WITHIN).await.expect("B hears of the node");
    assert_eq!(e.event, "nodes", "{e:?}");

    // B's own change reaches B's page once: in-process, its own notice skipped.
    let mut on_a = EventStream::open(&a.client, &a.url, &[]).await;
    let own = Uuid::new_v4();
    b.notify(&node_ref("node-c"), &image(own, "own.iso", "/", 1), ImageEventType::Created).await;
    let e = on_b.next_news(WITHIN).await.expect("B's page hears of B's change");
    assert_eq!(e.ids(), vec![own.to_string()]);
    let e = on_a.next_news(WITHIN).await.expect("and A's page of it");
    assert_eq!(e.ids(), vec![own.to_string()]);
    assert_eq!(on_b.next_news(Duration::from_millis(1500)).await, None, "told twice");

    a.stop().await;
    b.stop().await;
    db.drop_db().await;
}

#[tokio::test]
async fn a_replica_whose_listener_lost_its_connection_tells_its_pages_to_resync_and_hears_again() {
    let Some((db, a, b)) = two_replicas().await else { return };
    let mut on_b = EventStream::open(&b.client, &b.url, &[]).await;
    let pids = listener_pids(&db, &b).await;
    let mut conn = PgConnection::connect(&db.url).await.unwrap();
    for pid in &pids {
        conn.execute(format!("SELECT pg_terminate_backend({pid})").as_str()).await.unwrap();
    }
    let e = on_b.next_news(Duration::from_secs(5)).await.expect("B's page is told to resync");
    assert_eq!(e.event, "resync", "{e:?}");
    assert_ne!(listener_pids(&db, &b).await, pids, "listening on a new connection");

    let id = Uuid::new_v4();
    a.notify(&node_ref("node-a"), &image(id, "after.iso", "/", 1), ImageEventType::Created).await;
    let e = on_b.next_news(WITHIN).await.expect("B hears again");
    assert_eq!(e.ids(), vec![id.to_string()]);
    assert_eq!(b.list("").await.images.len(), 1, "what the page reloads");

    a.stop().await;
    b.stop().await;
    db.drop_db().await;
}

on_both_backends!(a_change_names_its_images_and_a_reopened_stream_starts_with_resync);

async fn a_change_names_its_images_and_a_reopened_stream_starts_with_resync(db: &TestDb) {
    let vdc = TestVdc::spawn(db).await;
    let mut fresh = EventStream::open(&vdc.client, &vdc.url, &[]).await;
    let first = fresh.next(Duration::from_secs(2)).await.expect("an event");
    assert_eq!(first.event, "tick", "a new stream has missed nothing");

    let id = Uuid::new_v4();
    vdc.notify(&node_ref("node-a"), &image(id, "a.iso", "/", 1), ImageEventType::Created).await;
    let e = fresh.next_news(WITHIN).await.expect("the change");
    assert_eq!((e.event.as_str(), e.ids()), ("change", vec![id.to_string()]));
    // The same change again changes nothing, and tells no one.
    vdc.notify(&node_ref("node-a"), &image(id, "a.iso", "/", 1), ImageEventType::Created).await;
    assert_eq!(fresh.next_news(Duration::from_millis(500)).await, None);

    // A browser whose stream broke reopens it naming the last event it saw: it may have missed some.
    let mut reopened = EventStream::open(&vdc.client, &vdc.url, &[("last-event-id", "41")]).await;
    let e = reopened.next(Duration::from_secs(2)).await.expect("an event");
    assert_eq!(e.event, "resync", "{e:?}");
    vdc.stop().await;
}
