//! Randomized convergence: nodes and a vdc under random operations while the transport drops,
//! duplicates, delays and reorders deliveries and either side restarts (or loses its database). Operations
//! interleave: a delivery or an inventory can be held in flight (its batch or snapshot read, its call not
//! yet answered) while the node changes, other nodes deliver, the vdc restarts, and is released, lost or
//! cut by a node restart later. The scheduler waits for each step to reach its next point, so a seed still
//! replays exactly. Once the faults stop, one sync period (a heartbeat, a full inventory and the outbox
//! drained) must leave the vdc equal to the union of the nodes' truth, even with stale deliveries still
//! arriving afterwards.
//!
//! CI runs 200 seeds; `QUANTIX_SEEDS=1000` runs 1,000 (`QUANTIX_SEED=n` replays one).

use std::{
    collections::BTreeMap,
    path::PathBuf,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
};

use app::model::{
    FolderPath, HeartbeatRequest, HeartbeatResponse, ImageEventType, ImageQuery, NodeRef, NotifyImageChangeResponse,
    NotifyImageChangesRequest, SyncNodeImagesRequest, SyncNodeImagesResponse,
};
use rand::{Rng, SeedableRng, rngs::StdRng, seq::IndexedRandom};
use server::{
    config::PoolSpec,
    db::ImageFilter,
    node::{
        names::ImageFileName,
        pools::Pools,
        store::{NewImage, NodeStore},
        sync::{SharedSyncState, SyncClient, SyncTransport, TransportError},
    },
    vdc::catalogue::Catalogue,
};
use tempfile::TempDir;

use crate::support::vdc::TestDb;
use tokio::sync::{Mutex as AsyncMutex, oneshot};
use uuid::Uuid;

/// A delivery held back by the network, to arrive later, out of order.
enum Delayed {
    Notify(NotifyImageChangesRequest),
    Full(SyncNodeImagesRequest),
}

/// The vdc side: its catalogue, which may be down, restarted, or wiped.
struct Vdc {
    catalogue: AsyncMutex<Option<Catalogue>>,
    db: TestDb,
    /// The database it opens: on SQLite a wipe moves to a new file (see `restart`).
    url: Mutex<String>,
}

impl Vdc {
    async fn up(db: TestDb) -> Arc<Vdc> {
        let url = Mutex::new(db.url.clone());
        let vdc = Arc::new(Vdc { catalogue: AsyncMutex::new(None), db, url });
        vdc.restart(false).await;
        vdc
    }

    async fn restart(&self, wipe: bool) {
        let mut slot = self.catalogue.lock().await;
        if let Some(c) = slot.take() {
            c.close().await;
        }
        if wipe && self.db.url.starts_with("sqlite://") {
            // A new file rather than the old one deleted under the closed pool's connections, which may
            // still be finishing on their own threads (as for a node's lost database).
            let mut url = self.url.lock().unwrap();
            *url = format!("{url}-wiped");
        } else if wipe {
            self.db.wipe().await;
        }
        let url = self.url.lock().unwrap().clone();
        *slot = Some(Catalogue::open(&url).await.unwrap());
    }

    async fn down(&self) {
        if let Some(c) = self.catalogue.lock().await.take() {
            c.close().await;
        }
    }
}

#[derive(Clone)]
struct FaultyTransport {
    vdc: Arc<Vdc>,
    rng: Arc<Mutex<StdRng>>,
    delayed: Arc<Mutex<Vec<Delayed>>>,
    faults: Arc<AtomicBool>,
    gates: Arc<Mutex<Gates>>,
}

/// How a call held in flight ends.
#[derive(Debug, Clone, Copy)]
enum Release {
    /// It goes on to the vdc (and meets the network's fate there).
    Go,
    /// It never arrives (the node was killed before it left).
    Lost,
    /// It arrives and is applied, and the node never hears back (killed while waiting).
    LoseAnswer,
}

/// Calls held in flight: the next call a node makes parks when the scheduler armed it for that node.
#[derive(Default)]
struct Gates {
    armed: Option<(String, oneshot::Sender<()>)>,
    parked: Vec<(String, oneshot::Sender<Release>)>,
}

impl FaultyTransport {
    fn new(vdc: Arc<Vdc>, seed: u64, faults: bool) -> FaultyTransport {
        FaultyTransport {
            vdc,
            rng: Arc::new(Mutex::new(StdRng::seed_from_u64(seed ^ 0x5eed))),
            delayed: Default::default(),
            faults: Arc::new(AtomicBool::new(faults)),
            gates: Default::default(),
        }
    }

    /// Holds the call here if the scheduler armed this node; `None` when it must not leave at all.
    async fn gate(&self, node: &NodeRef) -> Option<Release> {
        let wait = {
            let mut g = self.gates.lock().unwrap();
            match g.armed.take() {
                Some((armed, parked)) if armed == node.node_id.as_str() => {
                    let (go, wait) = oneshot::channel();
                    g.parked.push((armed, go));
                    let _ = parked.send(());
                    Some(wait)
                }
                other => {
                    g.armed = other;
                    None
                }
            }
        };
        match wait {
            None => Some(Release::Go),
            Some(wait) => match wait.await.unwrap_or(Release::Lost) {
                Release::Lost => None,
                r => Some(r),
            },
        }
    }
}

enum Fate {
    Deliver,
    Drop,
    Delay,
    LoseAnswer,
    Duplicate,
}

impl FaultyTransport {
    fn fate(&self) -> Fate {
        if !self.faults.load(Ordering::Relaxed) {
            return Fate::Deliver;
        }
        match self.rng.lock().unwrap().random_range(0..100) {
            0..15 => Fate::Drop,
            15..25 => Fate::Delay,
            25..35 => Fate::LoseAnswer,
            35..45 => Fate::Duplicate,
            _ => Fate::Deliver,
        }
    }

    fn lost() -> TransportError {
        TransportError::Unreachable("simulated network fault".into())
    }
}

async fn deliver_notify(
    vdc: &Vdc,
    req: &NotifyImageChangesRequest,
) -> Result<NotifyImageChangeResponse, TransportError> {
    let slot = vdc.catalogue.lock().await;
    let c = slot.as_ref().ok_or_else(|| TransportError::Unreachable("vdc down".into()))?;
    let (applied, ignored) = c.apply_changes(&req.node, req.events.clone(), server::now_unix()).await.map_err(|e| {
        TransportError::Refused { status: 500, message: e.to_string(), request_id: "in-process".into() }
    })?;
    Ok(NotifyImageChangeResponse { applied, ignored })
}

async fn deliver_full(vdc: &Vdc, req: &SyncNodeImagesRequest) -> Result<SyncNodeImagesResponse, TransportError> {
    let slot = vdc.catalogue.lock().await;
    let c = slot.as_ref().ok_or_else(|| TransportError::Unreachable("vdc down".into()))?;
    c.sync_inventory(req.clone(), server::now_unix()).await.map_err(|e| TransportError::Refused {
        status: 500,
        message: e.to_string(),
        request_id: "in-process".into(),
    })
}

impl SyncTransport for FaultyTransport {
    async fn notify(&self, req: &NotifyImageChangesRequest) -> Result<NotifyImageChangeResponse, TransportError> {
        match self.gate(&req.node).await {
            None => return Err(Self::lost()),
            Some(Release::LoseAnswer) => return deliver_notify(&self.vdc, req).await.and(Err(Self::lost())),
            Some(_) => {}
        }
        match self.fate() {
            Fate::Drop => Err(Self::lost()),
            Fate::Delay => {
                self.delayed.lock().unwrap().push(Delayed::Notify(req.clone()));
                Err(Self::lost())
            }
            Fate::LoseAnswer => deliver_notify(&self.vdc, req).await.and(Err(Self::lost())),
            Fate::Duplicate => {
                let _ = deliver_notify(&self.vdc, req).await;
                deliver_notify(&self.vdc, req).await
            }
            Fate::Deliver => deliver_notify(&self.vdc, req).await,
        }
    }

    async fn full_sync(&self, req: &SyncNodeImagesRequest) -> Result<SyncNodeImagesResponse, TransportError> {
        match self.gate(&req.node).await {
            None => return Err(Self::lost()),
            Some(Release::LoseAnswer) => return deliver_full(&self.vdc, req).await.and(Err(Self::lost())),
            Some(_) => {}
        }
        match self.fate() {
            Fate::Drop => Err(Self::lost()),
            Fate::Delay => {
                self.delayed.lock().unwrap().push(Delayed::Full(req.clone()));
                Err(Self::lost())
            }
            Fate::LoseAnswer => deliver_full(&self.vdc, req).await.and(Err(Self::lost())),
            Fate::Duplicate => {
                let _ = deliver_full(&self.vdc, req).await;
                deliver_full(&self.vdc, req).await
            }
            Fate::Deliver => deliver_full(&self.vdc, req).await,
        }
    }

    async fn digest(
        &self,
        req: &app::model::SyncNodeDigestRequest,
    ) -> Result<app::model::SyncNodeDigestResponse, TransportError> {
        let refused = |e: server::vdc::catalogue::CatalogueError| TransportError::Refused {
            status: 500,
            message: e.to_string(),
            request_id: "in-process".into(),
        };
        // An inventory held in flight parks at its first call, the digest.
        match self.gate(&req.node).await {
            None => return Err(Self::lost()),
            Some(Release::LoseAnswer) => {
                let slot = self.vdc.catalogue.lock().await;
                let c = slot.as_ref().ok_or_else(|| TransportError::Unreachable("vdc down".into()))?;
                return c.compare_digest(req, server::now_unix()).await.map_err(refused).and(Err(Self::lost()));
            }
            Some(_) => {}
        }
        // A late digest is a late comparison, settled in its own transaction: delayed, it is only lost.
        let fate = self.fate();
        if matches!(fate, Fate::Drop | Fate::Delay) {
            return Err(Self::lost());
        }
        let slot = self.vdc.catalogue.lock().await;
        let c = slot.as_ref().ok_or_else(|| TransportError::Unreachable("vdc down".into()))?;
        if matches!(fate, Fate::Duplicate | Fate::LoseAnswer) {
            let first = c.compare_digest(req, server::now_unix()).await.map_err(refused);
            if matches!(fate, Fate::LoseAnswer) {
                return first.and(Err(Self::lost()));
            }
        }
        c.compare_digest(req, server::now_unix()).await.map_err(refused)
    }

    async fn heartbeat(&self, req: &HeartbeatRequest) -> Result<HeartbeatResponse, TransportError> {
        if matches!(self.fate(), Fate::Drop | Fate::Delay) {
            return Err(Self::lost());
        }
        let slot = self.vdc.catalogue.lock().await;
        let c = slot.as_ref().ok_or_else(|| TransportError::Unreachable("vdc down".into()))?;
        Ok(c.answer_heartbeat(req, server::now_unix()).await.unwrap().0)
    }
}

fn local() -> app::model::PoolId {
    "local".parse().unwrap()
}

struct SimNode {
    node: NodeRef,
    db: PathBuf,
    pools: Arc<Pools>,
    store: NodeStore,
    client: Arc<SyncClient<FaultyTransport>>,
    transport: FaultyTransport,
    /// How many times its database was lost.
    losses: u32,
}

/// A node's delivery or inventory, its call parked at the transport's gate.
struct InFlight {
    node: usize,
    /// The step its batch or snapshot was read at, and whether it is an inventory.
    started: usize,
    inventory: bool,
    gate: oneshot::Sender<Release>,
    /// Whether the call succeeded (and was acknowledged).
    task: tokio::task::JoinHandle<bool>,
}

impl InFlight {
    async fn release(self, how: Release) -> bool {
        let _ = self.gate.send(how);
        self.task.await.unwrap()
    }
}

impl SimNode {
    async fn open(id: &str, dir: &TempDir, transport: FaultyTransport) -> SimNode {
        let pools = Arc::new(
            Pools::open(&[PoolSpec { id: local(), name: None, path: dir.path().join(id), quota: None }]).unwrap(),
        );
        let db = dir.path().join(format!("{id}.db"));
        let store = NodeStore::open(&db, pools.locator()).await.unwrap();
        let node = NodeRef { node_id: id.parse().unwrap(), node_name: Some(id.into()), node_api_url: None };
        let client = Arc::new(SyncClient::new(
            store.clone(),
            pools.clone(),
            transport.clone(),
            node.clone(),
            SharedSyncState::default(),
        ));
        SimNode { node, db, pools, store, client, transport, losses: 0 }
    }

    /// A restart; with `lose_db`, its database is gone (and with it every image it knew: the model's
    /// images have no files to be found again by a scan).
    async fn restart(&mut self, lose_db: bool) {
        self.store.close().await;
        if lose_db {
            // A new file rather than the old one deleted: the closed pool's SQLite connections may still be
            // finishing their last checkpoint on their own threads, and a database deleted and created
            // again under them failed its next open with "disk I/O error" (SQLITE_IOERR_SHORT_READ).
            self.losses += 1;
            self.db = self.db.with_file_name(format!("{}-lost-{}.db", self.node.node_id, self.losses));
        }
        self.store = NodeStore::open(&self.db, self.pools.locator()).await.unwrap();
        let (pools, transport) = (self.pools.clone(), self.transport.clone());
        self.client =
            Arc::new(SyncClient::new(self.store.clone(), pools, transport, self.node.clone(), Default::default()));
    }

    /// Starts a delivery (or, with `inventory`, a full sync) and returns once its call is parked at the
    /// gate; `None` when it finished without calling (nothing was pending).
    async fn start_in_flight(&self, k: usize, started: usize, inventory: bool) -> Option<InFlight> {
        let (parked, is_parked) = oneshot::channel();
        self.transport.gates.lock().unwrap().armed = Some((self.node.node_id.to_string(), parked));
        let client = self.client.clone();
        let mut task = tokio::spawn(async move {
            // Errors are the faults at work.
            if inventory { client.full_sync().await.is_ok() } else { client.deliver_once().await.is_ok() }
        });
        tokio::select! {
            Ok(()) = is_parked => {
                let gate = self.transport.gates.lock().unwrap().parked.pop().unwrap().1;
                Some(InFlight { node: k, started, inventory, gate, task })
            }
            done = &mut task => {
                done.unwrap();
                self.transport.gates.lock().unwrap().armed = None;
                None
            }
        }
    }

    /// One random change to the node's own truth.
    async fn random_change(&self, rng: &mut StdRng, counter: &mut u32) {
        const FOLDERS: &[&str] =
            &["/linux", "/linux/ubuntu", "/windows", "/windows/server", "/other", "/lab/a", "/lab/b"];
        let images = self.store.snapshot().await.unwrap().images;
        // From the seeded generator, so that QUANTIX_SEED replays a run exactly.
        let folder = |rng: &mut StdRng| FolderPath::parse(FOLDERS.choose(rng).unwrap()).unwrap();
        match rng.random_range(0..10) {
            0..4 => {
                *counter += 1;
                let new = NewImage {
                    id: Uuid::from_u128(rng.random()),
                    pool_id: local(),
                    filename: ImageFileName::parse(&format!("img-{counter}.iso")).unwrap(),
                    folder: folder(rng),
                    size_bytes: rng.random_range(1..1000),
                    checksum: Some(format!("sha256:{:064x}", rng.random::<u128>())),
                    found: Default::default(),
                    content_checked: true,
                    file_mtime_ns: None,
                };
                self.store.insert_image(new).await.unwrap();
            }
            4..6 if !images.is_empty() => {
                let img = images.choose(rng).unwrap();
                self.store.move_image(img.id, &folder(rng)).await.unwrap();
            }
            6..8 if !images.is_empty() => {
                let img = images.choose(rng).unwrap();
                self.store.delete_image(img.id).await.unwrap();
            }
            8 if !images.is_empty() => {
                let img = images.choose(rng).unwrap();
                *counter += 1;
                let name = ImageFileName::parse(&format!("renamed-{counter}.iso")).unwrap();
                self.store.rename_file(img.id, &local(), &name).await.unwrap();
            }
            9 => {
                let (from, to) = (FolderPath::parse("/lab/a").unwrap(), FolderPath::parse("/lab/c").unwrap());
                // Refused when /lab/a does not exist or /lab/c does: the node's own rule, not a failure here.
                if self.store.rename_folder(&from, &to).await.is_ok() {
                    self.store.rename_folder(&to, &from).await.unwrap();
                }
            }
            _ => {}
        }
    }
}

/// What the vdc should hold: every node's images, keyed by (node, id).
type Truth = BTreeMap<(String, Uuid), (String, String, u64, Option<String>)>;

async fn node_truth(nodes: &[SimNode]) -> Truth {
    let mut truth = Truth::new();
    for n in nodes {
        for i in n.store.snapshot().await.unwrap().images {
            truth.insert(
                (n.node.node_id.to_string(), i.id),
                (i.filename, i.folder_path.to_string(), i.revision, i.checksum),
            );
        }
    }
    truth
}

async fn vdc_view(vdc: &Vdc) -> Truth {
    let slot = vdc.catalogue.lock().await;
    let c = slot.as_ref().unwrap();
    let mut view = Truth::new();
    let mut query = ImageQuery { limit: Some(1000), ..Default::default() };
    loop {
        let page = c.list(&ImageFilter::parse(query.clone()).unwrap()).await.unwrap();
        for i in page.images {
            view.insert((i.node().to_owned(), i.id), (i.filename, i.folder_path.to_string(), i.revision, i.checksum));
        }
        match page.next_cursor {
            Some(c) => query.cursor = Some(c),
            None => return view,
        }
    }
}

/// Nothing a node changed is lost between its outbox and the vdc, at any moment: each image the node holds
/// is at the vdc with the same revision or still waits in the outbox at that revision, and each image the
/// vdc holds of it and the node no longer has waits in the outbox as a deletion. `trusted[k]` is false
/// while node k's images can only come back through an inventory (its database or the vdc's was lost, and
/// no inventory read since has been applied).
async fn nothing_lost(seed: u64, step: usize, nodes: &[SimNode], vdc: &Vdc, trusted: &[bool]) {
    let view = vdc_view(vdc).await;
    for (_, n) in nodes.iter().enumerate().filter(|(k, _)| trusted[*k]) {
        let node_id = n.node.node_id.to_string();
        let waiting = n.store.pending_changes(u32::MAX).await.unwrap();
        let waits = |id: Uuid, revision: Option<u64>| {
            waiting.iter().any(|r| {
                r.image.id == id
                    && match revision {
                        Some(rev) => r.image.revision == rev && r.event_type != ImageEventType::Deleted,
                        None => r.event_type == ImageEventType::Deleted,
                    }
            })
        };
        let held = n.store.snapshot().await.unwrap().images;
        for i in &held {
            let at_vdc = view.get(&(node_id.clone(), i.id)).map(|v| v.2);
            assert!(
                at_vdc == Some(i.revision) || waits(i.id, Some(i.revision)),
                "seed {seed}, step {step}: node {node_id}'s image {} at revision {} is neither at the vdc ({at_vdc:?}) \
                 nor waiting in its outbox: the change was lost (replay with QUANTIX_SEED={seed})",
                i.id,
                i.revision
            );
        }
        for (node, id) in view.keys().filter(|(node, _)| node == &node_id) {
            assert!(
                held.iter().any(|i| i.id == *id) || waits(*id, None),
                "seed {seed}, step {step}: node {node}'s deletion of {id} is neither at the vdc nor waiting in its \
                 outbox (replay with QUANTIX_SEED={seed})"
            );
        }
    }
}

/// Runs one seed; returns where it left each image (node, id, filename, folder, checksum).
async fn run_seed(seed: u64, db: TestDb) -> Vec<(String, Uuid, String, String, Option<String>)> {
    let mut rng = StdRng::seed_from_u64(seed);
    let dir = tempfile::tempdir().unwrap();
    let vdc = Vdc::up(db).await;
    let transport = FaultyTransport::new(vdc.clone(), seed, true);
    let node_count = rng.random_range(1..=3);
    let mut nodes = Vec::new();
    for k in 0..node_count {
        nodes.push(SimNode::open(&format!("n{k}"), &dir, transport.clone()).await);
    }
    let mut counter = 0;
    let mut vdc_up = true;
    let mut in_flight: Vec<InFlight> = Vec::new();
    // Since when (step) each node's images can only come back through an inventory read after it.
    let mut lost_at: Vec<Option<usize>> = vec![None; nodes.len()];
    for step in 0..rng.random_range(40..120) {
        let k = rng.random_range(0..nodes.len());
        let mut inventory_from = None;
        match rng.random_range(0..110) {
            0..45 => nodes[k].random_change(&mut rng, &mut counter).await,
            // Errors are the faults at work; the outbox keeps what was not acknowledged.
            45..65 => drop(nodes[k].client.deliver_once().await),
            65..70 => inventory_from = nodes[k].client.full_sync().await.is_ok().then_some((k, step)),
            70..73 => drop(nodes[k].client.heartbeat().await),
            73..83 => {
                let next = {
                    let mut held = transport.delayed.lock().unwrap();
                    if held.is_empty() {
                        None
                    } else {
                        let pick = rng.random_range(0..held.len());
                        Some(held.swap_remove(pick))
                    }
                };
                match next {
                    Some(Delayed::Notify(req)) => drop(deliver_notify(&vdc, &req).await),
                    Some(Delayed::Full(req)) => drop(deliver_full(&vdc, &req).await),
                    None => {}
                }
            }
            83..88 => {
                // A restart kills what the node had in flight: lost on the way, or applied unanswered.
                let (killed, kept): (Vec<_>, Vec<_>) = in_flight.drain(..).partition(|f| f.node == k);
                in_flight = kept;
                for f in killed {
                    f.release(if rng.random() { Release::Lost } else { Release::LoseAnswer }).await;
                }
                let lose_db = rng.random_range(0..4) == 0;
                nodes[k].restart(lose_db).await;
                if lose_db {
                    lost_at[k] = Some(step);
                }
            }
            88..92 => vdc.restart(false).await,
            92..94 => {
                vdc.restart(true).await;
                lost_at.iter_mut().for_each(|l| *l = Some(step));
            }
            94..97 => {
                if vdc_up {
                    vdc.down().await;
                } else {
                    vdc.restart(false).await;
                }
                vdc_up = !vdc_up;
            }
            // A delivery or an inventory held in flight, while the steps after it run.
            100..106 if in_flight.len() < 4 => {
                let inventory = rng.random_range(0..3) == 0;
                in_flight.extend(nodes[k].start_in_flight(k, step, inventory).await);
            }
            106..110 if !in_flight.is_empty() => {
                let f = in_flight.swap_remove(rng.random_range(0..in_flight.len()));
                let (node, started, inventory) = (f.node, f.started, f.inventory);
                if f.release(Release::Go).await && inventory {
                    inventory_from = Some((node, started));
                }
            }
            _ => {}
        }
        // An inventory read after the loss brought the node's images back to the vdc.
        if let Some((n, read_at)) = inventory_from
            && lost_at[n].is_some_and(|lost| read_at > lost)
        {
            lost_at[n] = None;
        }
        if vdc_up {
            let trusted: Vec<bool> = lost_at.iter().map(Option::is_none).collect();
            nothing_lost(seed, step, &nodes, &vdc, &trusted).await;
        }
    }
    // What is still in flight arrives, while the faults still reign.
    for f in in_flight {
        f.release(Release::Go).await;
    }

    // Faults stop; the vdc is up. One sync period: each node's heartbeat, its inventory, its outbox drained.
    transport.faults.store(false, Ordering::Relaxed);
    if !vdc_up {
        vdc.restart(false).await;
    }
    for n in &nodes {
        n.client.heartbeat().await.unwrap();
        n.client.full_sync().await.unwrap();
        n.client.drain().await.unwrap();
    }
    // Stale deliveries still in the network arrive late, in any order: they must change nothing.
    let late: Vec<Delayed> = std::mem::take(&mut *transport.delayed.lock().unwrap());
    for d in late.into_iter().rev() {
        match d {
            Delayed::Notify(req) => drop(deliver_notify(&vdc, &req).await),
            Delayed::Full(req) => drop(deliver_full(&vdc, &req).await),
        }
    }
    let (truth, view) = (node_truth(&nodes).await, vdc_view(&vdc).await);
    let differences: Vec<String> = truth
        .keys()
        .chain(view.keys())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .filter(|k| truth.get(k) != view.get(k))
        .map(|k| format!("{k:?}: node has {:?}, vdc has {:?}", truth.get(k), view.get(k)))
        .collect();
    assert!(
        differences.is_empty(),
        "seed {seed}: the vdc does not match the nodes (replay with QUANTIX_SEED={seed}):\n{}",
        differences.join("\n")
    );
    for n in &nodes {
        assert_eq!(n.store.pending_count().await.unwrap(), 0, "seed {seed}: outbox not empty");
        n.store.close().await;
    }
    vdc.down().await;
    drop((nodes, transport));
    if let Ok(vdc) = Arc::try_unwrap(vdc) {
        vdc.db.drop_db().await;
    }
    // Revisions come from the clock (a node's counter starts at it): not part of a replay.
    truth.into_iter().map(|((node, id), (name, folder, _, sum))| (node, id, name, folder, sum)).collect()
}

/// The seeds to run: `QUANTIX_SEED` replays one; otherwise `QUANTIX_SEEDS` (or `default`) of them.
fn seeds(default: u64) -> Vec<u64> {
    match std::env::var("QUANTIX_SEED") {
        Ok(one) => vec![one.parse().expect("QUANTIX_SEED is a number")],
        Err(_) => (0..std::env::var("QUANTIX_SEEDS").ok().and_then(|n| n.parse().ok()).unwrap_or(default)).collect(),
    }
}

async fn converge<F: std::future::Future<Output = Option<TestDb>>>(seeds: Vec<u64>, db: impl Fn() -> F) {
    let count = seeds.len();
    // A few seeds at a time: each spends most of its time waiting on fsync.
    let mut running = tokio::task::JoinSet::new();
    for seed in seeds {
        let Some(db) = db().await else { return };
        running.spawn(run_seed(seed, db));
        if running.len() >= 4 {
            running.join_next().await.unwrap().unwrap();
        }
    }
    while let Some(r) = running.join_next().await {
        r.unwrap();
    }
    eprintln!("{count} seeds converged");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_vdc_converges_on_the_union_of_the_nodes() {
    converge(seeds(200), || async { Some(TestDb::sqlite()) }).await;
}

/// The same on PostgreSQL (fewer seeds by default: each wipe drops and creates a database).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_vdc_converges_on_the_union_of_the_nodes_on_postgres() {
    if std::env::var("TEST_DATABASE_URL").is_err() {
        crate::support::skip("TEST_DATABASE_URL is not set, so the PostgreSQL convergence test does not run");
        return;
    }
    converge(seeds(100), TestDb::postgres).await;
}

/// `QUANTIX_SEED=n` replays a failure exactly: every choice, of the operations and of the network's
/// faults, comes from the seed, so two runs of one seed end in the same images.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seed_replays_exactly() {
    for seed in [3, 17] {
        let first = run_seed(seed, TestDb::sqlite()).await;
        let again = run_seed(seed, TestDb::sqlite()).await;
        assert!(!first.is_empty(), "seed {seed} leaves images to compare");
        assert_eq!(first, again, "seed {seed} ended differently when replayed");
    }
}

/// A week offline: 100,000 changes to 1,000 images while the vdc cannot be reached leave one outbox record
/// per image, not one per change, and one pass of delivery brings the vdc level when it returns.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_week_offline_keeps_one_record_per_image_and_converges_in_one_pass() {
    const IMAGES: usize = 1_000;
    const CHANGES: usize = 100_000;
    // The outbox's bound is under test, not durability: tmpfs, where a commit's fsync costs nothing.
    let shm = std::path::Path::new("/dev/shm");
    let dir = if shm.is_dir() { tempfile::tempdir_in(shm) } else { tempfile::tempdir() }.unwrap();
    let vdc = Vdc::up(TestDb::sqlite()).await;
    let transport = FaultyTransport::new(vdc.clone(), 0, false);
    let node = SimNode::open("n0", &dir, transport).await;
    let mut ids = Vec::with_capacity(IMAGES);
    for k in 0..IMAGES {
        let new = NewImage {
            id: Uuid::from_u128(k as u128 + 1),
            pool_id: local(),
            filename: ImageFileName::parse(&format!("img-{k}.iso")).unwrap(),
            folder: FolderPath::root(),
            size_bytes: 1,
            checksum: None,
            found: Default::default(),
            content_checked: true,
            file_mtime_ns: None,
        };
        ids.push(node.store.insert_image(new).await.unwrap().id);
    }
    node.client.full_sync().await.unwrap();
    assert_eq!(node.store.pending_count().await.unwrap(), 0);

    vdc.down().await;
    let folders: Vec<FolderPath> = (0..7).map(|k| FolderPath::parse(&format!("/f{k}")).unwrap()).collect();
    for change in 0..CHANGES {
        let id = ids[change % IMAGES];
        node.store.move_image(id, &folders[(change / IMAGES) % folders.len()]).await.unwrap();
        if change % 10_000 == 0 {
            assert!(node.client.drain().await.is_err(), "the vdc is down: nothing can be delivered");
        }
    }
    let pending = node.store.pending_count().await.unwrap();
    assert_eq!(pending, IMAGES as u64, "{CHANGES} changes to {IMAGES} images: one record per image waits");
    let since = node.store.oldest_pending_at().await.unwrap().expect("changes wait");
    assert!(since <= server::now_unix(), "the outbox still knows when its oldest folded change was made");

    vdc.restart(false).await;
    let delivered = node.client.drain().await.unwrap();
    assert_eq!(delivered, IMAGES, "one pass delivers each image's latest state once");
    let (truth, view) = (node_truth(std::slice::from_ref(&node)).await, vdc_view(&vdc).await);
    assert_eq!(truth.len(), IMAGES);
    assert!(truth == view, "after one pass the vdc holds each image as the node does");
    assert_eq!(node.store.pending_count().await.unwrap(), 0);
    node.store.close().await;
    vdc.down().await;
}
