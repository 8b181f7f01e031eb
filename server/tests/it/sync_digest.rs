//! Digest anti-entropy over real HTTP: a node's periodic pass sends a digest of its inventory, and only
//! the buckets the vdc finds different cross the wire. Every call the node makes goes through a
//! [`Recording`] transport, which keeps its path and body size (the body `HttpTransport` sends is the
//! same `serde_json` encoding).

use std::sync::{Arc, Mutex};

use app::model::{
    FolderPath, HeartbeatRequest, HeartbeatResponse, NotifyImageChangeResponse, NotifyImageChangesRequest,
    SyncNodeDigestRequest, SyncNodeDigestResponse, SyncNodeImagesRequest, SyncNodeImagesResponse, digest::bucket_of,
    sync_paths,
};
use server::{
    config::PoolSpec,
    node::{
        names::ImageFileName,
        pools::Pools,
        store::{NewImage, NodeStore},
        sync::{HttpTransport, SharedSyncState, SyncClient, SyncTransport, TransportError},
    },
};
use uuid::Uuid;

use crate::on_both_backends;
use crate::support::vdc::{TestDb, TestVdc, node_ref, token};

on_both_backends!(
    a_node_in_sync_sends_only_its_digest_of_500_images_in_under_1_kib,
    a_node_with_one_image_the_vdc_missed_sends_one_bucket,
    a_bucket_that_moves_during_the_pass_makes_the_node_send_its_whole_inventory,
    a_vdc_whose_database_was_wiped_converges_after_one_pass,
    an_in_sync_pass_raises_the_floor_like_a_full_inventory,
    a_vdc_without_digests_gets_the_whole_inventory,
);

/// The node, as a real one names itself (its name and URL travel with every call, the digest's too).
fn hv() -> app::model::NodeRef {
    app::model::NodeRef { node_api_url: Some("https://hv-digest.cluster.example:3001".into()), ..node_ref("hv-digest") }
}

/// One call as the node made it.
#[derive(Debug, Clone)]
struct Call {
    path: &'static str,
    bytes: usize,
    /// The buckets a partial inventory covered, and how many images it carried.
    buckets: Option<usize>,
    images: usize,
    status: Option<u16>,
}

/// Forwards to HTTP and records each call; `older_vdc` answers the digest as a vdc without it does.
#[derive(Clone)]
struct Recording {
    http: HttpTransport,
    calls: Arc<Mutex<Vec<Call>>>,
    older_vdc: bool,
    /// Delivered to the vdc right after it answered a digest (a notification landing mid-pass).
    after_digest: Arc<Mutex<Option<NotifyImageChangesRequest>>>,
}

impl Recording {
    fn note<R>(&self, path: &'static str, body: &impl serde::Serialize, r: &Result<R, TransportError>) {
        let bytes = serde_json::to_vec(body).unwrap().len();
        let status = r.as_ref().err().map(|e| e.status().unwrap_or(0));
        self.calls.lock().unwrap().push(Call { path, bytes, buckets: None, images: 0, status });
    }

    fn take(&self) -> Vec<Call> {
        std::mem::take(&mut *self.calls.lock().unwrap())
    }
}

impl SyncTransport for Recording {
    async fn notify(&self, req: &NotifyImageChangesRequest) -> Result<NotifyImageChangeResponse, TransportError> {
        let r = self.http.notify(req).await;
        self.note(sync_paths::NOTIFY_IMAGE_CHANGES, req, &r);
        r
    }

    async fn full_sync(&self, req: &SyncNodeImagesRequest) -> Result<SyncNodeImagesResponse, TransportError> {
        let r = self.http.full_sync(req).await;
        let path = if req.scope.is_some() { sync_paths::SYNC_NODE_IMAGE_BUCKETS } else { sync_paths::SYNC_NODE_IMAGES };
        self.note(path, req, &r);
        let mut calls = self.calls.lock().unwrap();
        let last = calls.last_mut().unwrap();
        last.buckets = req.scope.as_ref().map(|s| s.buckets.len());
        last.images = req.images.len();
        r
    }

    async fn digest(&self, req: &SyncNodeDigestRequest) -> Result<SyncNodeDigestResponse, TransportError> {
        let r = if self.older_vdc {
            let message = "No route".into();
            Err(TransportError::Refused { status: 404, message, request_id: "older-vdc".into() })
        } else {
            self.http.digest(req).await
        };
        self.note(sync_paths::SYNC_NODE_DIGEST, req, &r);
        let late = self.after_digest.lock().unwrap().take();
        if let Some(late) = late {
            self.http.notify(&late).await.unwrap();
        }
        r
    }

    async fn heartbeat(&self, req: &HeartbeatRequest) -> Result<HeartbeatResponse, TransportError> {
        self.http.heartbeat(req).await
    }
}

/// A node (its store and sync client) with `count` images, syncing to `vdc` through a [`Recording`].
struct Node {
    _dir: tempfile::TempDir,
    pools: Arc<Pools>,
    store: NodeStore,
    client: SyncClient<Recording>,
    transport: Recording,
}

impl Node {
    async fn open(vdc: &TestVdc, count: usize, older_vdc: bool) -> Node {
        let dir = tempfile::tempdir().unwrap();
        let pool = PoolSpec { id: "local".parse().unwrap(), name: None, path: dir.path().join("pool"), quota: None };
        let pools = Arc::new(Pools::open(&[pool]).unwrap());
        let store = NodeStore::open(&dir.path().join("node.db"), pools.locator()).await.unwrap();
        for k in 0..count {
            let new = NewImage {
                id: Uuid::from_u128(0xd1_0000 + k as u128),
                pool_id: "local".parse().unwrap(),
                filename: ImageFileName::parse(&format!("installer-{k:04}.iso")).unwrap(),
                folder: FolderPath::parse(["/linux", "/windows", "/other"][k % 3]).unwrap(),
                size_bytes: 4 << 30,
                checksum: Some(format!("sha256:{:064x}", k)),
                found: Default::default(),
                content_checked: true,
                file_mtime_ns: None,
            };
            store.insert_image(new).await.unwrap();
        }
        let transport = Node::transport(vdc, dir.path(), older_vdc);
        let state = SharedSyncState::default();
        let client = SyncClient::new(store.clone(), pools.clone(), transport.clone(), hv(), state);
        Node { _dir: dir, pools, store, client, transport }
    }

    fn transport(vdc: &TestVdc, data_dir: &std::path::Path, older_vdc: bool) -> Recording {
        let http = HttpTransport::new(&vdc.url, Some(token()), &Default::default(), data_dir).unwrap();
        Recording { http, calls: Default::default(), older_vdc, after_digest: Default::default() }
    }

    /// What the vdc should hold of this node: (id, revision, folder).
    async fn truth(&self) -> Vec<(Uuid, u64, String)> {
        let mut t: Vec<_> = self
            .store
            .snapshot()
            .await
            .unwrap()
            .images
            .into_iter()
            .map(|m| (m.id, m.revision, m.folder_path.to_string()))
            .collect();
        t.sort();
        t
    }

    /// Sends a "created" of `image` with the node's own credential; returns whether the vdc applied it.
    async fn notify_created(&self, image: app::model::IsoMetadata) -> u64 {
        let event = app::model::ImageChange { image, event_type: app::model::ImageEventType::Created, timestamp: 1 };
        let req = NotifyImageChangesRequest { node: hv(), events: vec![event] };
        self.transport.http.notify(&req).await.unwrap().applied
    }

    /// Forgets the pending notifications: the vdc missed them.
    async fn lose_outbox(&self) {
        let pending = self.store.pending_changes(10_000).await.unwrap();
        if let Some(last) = pending.last() {
            self.store.acknowledge(last.seq).await.unwrap();
        }
    }
}

async fn vdc_view(vdc: &TestVdc) -> Vec<(Uuid, u64, String)> {
    let list = vdc.list("?node_id=hv-digest&limit=1000").await;
    let mut v: Vec<_> = list.images.into_iter().map(|i| (i.id, i.revision, i.folder_path.to_string())).collect();
    v.sort();
    v
}

fn paths(calls: &[Call]) -> Vec<&'static str> {
    calls.iter().map(|c| c.path).collect()
}

async fn a_node_in_sync_sends_only_its_digest_of_500_images_in_under_1_kib(db: &TestDb) {
    let vdc = TestVdc::spawn(db).await;
    let node = Node::open(&vdc, 500, false).await;
    node.lose_outbox().await;
    node.client.full_sync().await.unwrap();
    let first = node.transport.take();
    assert_eq!(paths(&first), [sync_paths::SYNC_NODE_DIGEST, sync_paths::SYNC_NODE_IMAGE_BUCKETS]);
    assert_eq!(first[1].images, 500, "a vdc that never saw the node gets everything");
    assert_eq!(vdc_view(&vdc).await, node.truth().await);

    node.client.full_sync().await.unwrap();
    let calls = node.transport.take();
    assert_eq!(paths(&calls), [sync_paths::SYNC_NODE_DIGEST], "in sync: the digest, and no inventory");
    let snapshot = node.store.snapshot().await.unwrap();
    let whole = SyncNodeImagesRequest {
        node: hv(),
        as_of_revision: snapshot.as_of_revision,
        images: snapshot.images,
        timestamp: server::now_unix(),
        scope: None,
    };
    let whole = serde_json::to_vec(&whole).unwrap().len();
    eprintln!(
        "in-sync pass at 500 images: {} bytes (digest) instead of {} bytes (whole inventory), {:.2} %",
        calls[0].bytes,
        whole,
        100.0 * calls[0].bytes as f64 / whole as f64
    );
    assert!(calls[0].bytes <= 1024, "the in-sync pass sends {} bytes", calls[0].bytes);
    vdc.stop().await;
}

async fn a_node_with_one_image_the_vdc_missed_sends_one_bucket(db: &TestDb) {
    let vdc = TestVdc::spawn(db).await;
    let node = Node::open(&vdc, 500, false).await;
    node.client.full_sync().await.unwrap();
    node.transport.take();

    let moved = Uuid::from_u128(0xd1_0000 + 42);
    node.store.move_image(moved, &FolderPath::parse("/lab").unwrap()).await.unwrap();
    node.lose_outbox().await;
    node.client.full_sync().await.unwrap();
    let calls = node.transport.take();
    assert_eq!(paths(&calls), [sync_paths::SYNC_NODE_DIGEST, sync_paths::SYNC_NODE_IMAGE_BUCKETS]);
    assert_eq!(calls[1].buckets, Some(1), "one bucket differs");
    let digest_buckets = app::model::digest::bucket_count_for(500);
    let bucket = bucket_of(moved, digest_buckets);
    let in_bucket = node.truth().await.iter().filter(|(id, _, _)| bucket_of(*id, digest_buckets) == bucket).count();
    assert_eq!(calls[1].images, in_bucket, "that bucket's images, and only those");
    eprintln!("one moved image: {} bytes for its bucket of {in_bucket} images", calls[1].bytes);
    assert_eq!(vdc_view(&vdc).await, node.truth().await, "the vdc equals the node");
    vdc.stop().await;
}

/// A notification landing between the digest and the buckets, in a bucket the digest found equal,
/// makes the part no longer stand for the whole: the vdc applies nothing and the node sends everything.
async fn a_bucket_that_moves_during_the_pass_makes_the_node_send_its_whole_inventory(db: &TestDb) {
    let vdc = TestVdc::spawn(db).await;
    let node = Node::open(&vdc, 500, false).await;
    node.client.full_sync().await.unwrap();
    let floor = node.store.snapshot().await.unwrap().as_of_revision;
    node.transport.take();

    let moved = Uuid::from_u128(0xd1_0000 + 7);
    node.store.move_image(moved, &FolderPath::parse("/lab").unwrap()).await.unwrap();
    node.lose_outbox().await;
    // A stale "created" of an image the node no longer has (older than the move, newer than the last
    // pass), in another bucket.
    let count = app::model::digest::bucket_count_for(500);
    let ghost =
        (1..).map(|k| Uuid::from_u128(0x9000_0000 + k)).find(|id| bucket_of(*id, count) != bucket_of(moved, count));
    let ghost = crate::support::vdc::image(ghost.unwrap(), "ghost.iso", "/other", floor + 1);
    *node.transport.after_digest.lock().unwrap() = Some(NotifyImageChangesRequest {
        node: hv(),
        events: vec![app::model::ImageChange {
            image: ghost,
            event_type: app::model::ImageEventType::Created,
            timestamp: 1,
        }],
    });
    node.client.full_sync().await.unwrap();
    let calls = node.transport.take();
    assert_eq!(
        paths(&calls),
        [sync_paths::SYNC_NODE_DIGEST, sync_paths::SYNC_NODE_IMAGE_BUCKETS, sync_paths::SYNC_NODE_IMAGES]
    );
    assert_eq!(calls[1].status, Some(409), "the vdc refuses the part: {calls:?}");
    assert_eq!(vdc_view(&vdc).await, node.truth().await, "the whole inventory removed the ghost");
    vdc.stop().await;
}

async fn a_vdc_whose_database_was_wiped_converges_after_one_pass(db: &TestDb) {
    let vdc = TestVdc::spawn(db).await;
    let mut node = Node::open(&vdc, 500, false).await;
    node.client.full_sync().await.unwrap();
    vdc.stop().await;
    db.wipe().await;

    let vdc = TestVdc::spawn(db).await;
    // The node's credential went with the database: a new transport registers again.
    let dir = tempfile::tempdir().unwrap();
    node.transport = Node::transport(&vdc, dir.path(), false);
    let (store, pools, transport) = (node.store.clone(), node.pools.clone(), node.transport.clone());
    node.client = SyncClient::new(store, pools, transport, hv(), Default::default());
    node.client.full_sync().await.unwrap();
    let calls = node.transport.take();
    assert_eq!(paths(&calls), [sync_paths::SYNC_NODE_DIGEST, sync_paths::SYNC_NODE_IMAGE_BUCKETS]);
    assert_eq!(calls[1].images, 500, "every non-empty bucket differs: everything is sent");
    assert_eq!(vdc_view(&vdc).await, node.truth().await);

    // The pass counted as a full inventory: a stale event below it, of an image the vdc never saw, is
    // refused, and the next pass is a digest alone.
    let as_of = node.store.snapshot().await.unwrap().as_of_revision;
    let stale = crate::support::vdc::image(Uuid::from_u128(0xdead), "stale.iso", "/other", as_of - 1);
    assert_eq!(node.notify_created(stale).await, 0, "a stale event below the floor is refused");
    node.client.full_sync().await.unwrap();
    assert_eq!(paths(&node.transport.take()), [sync_paths::SYNC_NODE_DIGEST]);
    vdc.stop().await;
}

/// After a pass that found nothing to send, the digest stood for the whole inventory: the floor rose
/// to the snapshot, so a stale event from before it (of an image the node never had then) is refused.
async fn an_in_sync_pass_raises_the_floor_like_a_full_inventory(db: &TestDb) {
    let vdc = TestVdc::spawn(db).await;
    let node = Node::open(&vdc, 50, false).await;
    node.client.full_sync().await.unwrap();
    let first = node.store.snapshot().await.unwrap().as_of_revision;
    // The counter moves on; the vdc hears of every change, so the two still agree.
    let brief = node.store.snapshot().await.unwrap().images[0].clone();
    node.store.move_image(brief.id, &FolderPath::parse("/lab").unwrap()).await.unwrap();
    node.client.drain().await.unwrap();
    node.store.move_image(brief.id, &brief.folder_path).await.unwrap();
    node.client.drain().await.unwrap();
    node.transport.take();
    node.client.full_sync().await.unwrap();
    assert_eq!(paths(&node.transport.take()), [sync_paths::SYNC_NODE_DIGEST]);
    let stale = crate::support::vdc::image(Uuid::from_u128(0xbeef), "stale.iso", "/other", first + 1);
    assert_eq!(node.notify_created(stale).await, 0, "a stale event below the floor is refused");
    vdc.stop().await;
}

async fn a_vdc_without_digests_gets_the_whole_inventory(db: &TestDb) {
    let vdc = TestVdc::spawn(db).await;
    let node = Node::open(&vdc, 40, true).await;
    node.lose_outbox().await;
    node.client.full_sync().await.unwrap();
    let calls = node.transport.take();
    assert_eq!(paths(&calls), [sync_paths::SYNC_NODE_DIGEST, sync_paths::SYNC_NODE_IMAGES]);
    assert_eq!(calls[0].status, Some(404));
    assert_eq!(calls[1].images, 40);
    assert_eq!(vdc_view(&vdc).await, node.truth().await);
    vdc.stop().await;
}
