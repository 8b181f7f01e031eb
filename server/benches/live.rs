//! Many browsers on one vdc: live-update streams (`GET /api/v1/events`) next to the list load.
//!
//! One `quantix-iso vdc` process (SQLite, or the PostgreSQL database at `DATABASE_URL`) with NODES ×
//! PER_NODE images (20,000) loaded through the sync endpoints, signed in, its stream caps raised for the
//! bench (every stream comes from 127.0.0.1). It prints:
//! - the p99 of filtered lists sent open-loop at RATE per second (50) for SECONDS (20), with STREAMS
//!   (500) streams open, against the same load with none open (the baseline, measured in the same run);
//!   meanwhile the catalogue changes every 200 ms in both runs, so the open streams have events to send;
//! - the vdc's resident memory with no stream and with STREAMS, and the difference per stream;
//! - the delivery latency of a change to every open stream (from the moment the change is sent until
//!   each stream's reader sees the event), p50/p99 over CHANGES changes, first with readers only, then
//!   with a stuck client (never reads) whose socket buffers have been filled by a flood of changes;
//!   the vdc's memory after the flood.
//!
//! Targets: list p99 ≤ 50 ms with the streams open; the stuck client changes neither the delivery p99
//! to the others (beyond noise) nor the memory (bounded whatever it misses).

mod support;

use std::{
    sync::atomic::{AtomicU64, Ordering},
    time::{Duration, Instant},
};

use app::model::{ImageEventType, IsoMetadata, NodeRef};
use support::{
    dataset::Dataset,
    load::open_loop,
    queries::with_second_page,
    sse::{Readers, StuckClient},
    stats::{env_usize, quantiles},
    vdc::{VdcProcess, notify, register_nodes, sign_in},
};
use tokio::task::JoinSet;

/// Changes one image after another of one node, each at a revision above everything before, so each is
/// applied and each is one `change` event.
struct Changes {
    client: reqwest::Client,
    sync: String,
    credential: String,
    node: NodeRef,
    images: Vec<IsoMetadata>,
    revision: AtomicU64,
}

impl Changes {
    async fn one(&self) {
        let revision = self.revision.fetch_add(1, Ordering::Relaxed);
        let image = IsoMetadata { revision, ..self.images[revision as usize % self.images.len()].clone() };
        notify(&self.client, &self.sync, &self.credential, self.node.clone(), vec![image], ImageEventType::Updated)
            .await;
    }

    /// Changes every `period` until the returned task is aborted.
    fn every(self: &std::sync::Arc<Self>, period: Duration) -> tokio::task::JoinHandle<()> {
        let changes = self.clone();
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(period);
            loop {
                ticks.tick().await;
                changes.one().await;
            }
        })
    }
}

/// The delivery latency of `count` changes, one after another, to every reader.
async fn delivery(readers: &mut Readers, changes: &Changes, count: usize) -> (Vec<f64>, usize) {
    readers.drain();
    let (mut all, mut missed) = (Vec::new(), 0);
    for _ in 0..count {
        let sent = Instant::now();
        changes.one().await;
        let (ms, lost) = readers.delivery(sent, Duration::from_secs(5)).await;
        all.extend(ms);
        missed += lost;
    }
    (all, missed)
}

/// Sends changes until the vdc's send queue to `stuck` no longer grows (the vdc cannot write to it any
/// more), at most `max` of them; how many were sent.
async fn flood(changes: &std::sync::Arc<Changes>, stuck: &StuckClient, max: usize) -> usize {
    let (mut sent, mut last, mut still) = (0, 0, 0);
    while sent < max {
        let mut batch = JoinSet::new();
        for _ in 0..500 {
            let changes = changes.clone();
            batch.spawn(async move { changes.one().await });
            while batch.len() >= 16 {
                batch.join_next().await.unwrap().unwrap();
            }
        }
        while let Some(r) = batch.join_next().await {
            r.unwrap();
        }
        sent += 500;
        let (queued, unread) = stuck.queued();
        still = if queued > 0 && unread > 0 && queued == last { still + 1 } else { 0 };
        last = queued;
        if still >= 2 {
            break;
        }
    }
    sent
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn main() {
    let data = Dataset::new(env_usize("NODES", 100), env_usize("PER_NODE", 200));
    let streams = env_usize("STREAMS", 500);
    let rate = env_usize("RATE", 50) as u32;
    let seconds = env_usize("SECONDS", 20) as u32;
    let samples = env_usize("CHANGES", 100);
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let (url, backend) = match std::env::var("DATABASE_URL") {
            Ok(url) => (url, "PostgreSQL"),
            Err(_) => (format!("sqlite://{}?mode=rwc", dir.path().join("catalogue.db").display()), "SQLite"),
        };
        let cap = (streams + 100).to_string();
        let vdc = VdcProcess::start(&url, &["--sse-max-clients", &cap, "--sse-max-per-address", &cap]).await;
        let user = sign_in(&vdc.url, 1).await;
        let sync = vdc.sync_url();
        let credentials = register_nodes(&sync, data.all_nodes()).await;
        eprintln!("loading {} images through NotifyImageChanges…", data.images_total());
        let mut inflight = JoinSet::new();
        for n in 0..data.nodes {
            let (client, sync, node) = (user.token.clone(), sync.clone(), data.node(n));
            let credential = credentials[node.node_id.as_str()].clone();
            inflight.spawn(async move {
                notify(&client, &sync, &credential, node, data.images(n), ImageEventType::Created).await
            });
            while inflight.len() >= 8 {
                inflight.join_next().await.unwrap().unwrap();
            }
        }
        while let Some(r) = inflight.join_next().await {
            r.unwrap();
        }
        let node = data.node(0);
        let changes = std::sync::Arc::new(Changes {
            client: reqwest::Client::new(),
            sync: sync.clone(),
            credential: credentials[node.node_id.as_str()].clone(),
            node,
            images: data.images(0),
            revision: AtomicU64::new(data.next_revision()),
        });
        let lists: Vec<String> =
            with_second_page(&user.token, &vdc.url).await.iter().map(|q| format!("/api/v1/images?{q}")).collect();
        // Warm the caches (and SQLite's statistics) before anything is timed.
        open_loop(&user.token, &vdc.url, &lists, rate, 2).await;

        eprintln!("baseline: {rate} lists/s for {seconds} s, no stream open…");
        let rss_idle = vdc.rss_kib();
        let background = changes.every(Duration::from_millis(200));
        let baseline = quantiles(open_loop(&user.token, &vdc.url, &lists, rate, seconds).await, &[0.5, 0.99]);
        background.abort();

        eprintln!("opening {streams} streams…");
        let mut readers = Readers::open(&vdc.url, &user.bearer, streams).await;
        tokio::time::sleep(Duration::from_secs(2)).await;
        let rss_streams = vdc.rss_kib();
        eprintln!("{rate} lists/s for {seconds} s, {streams} streams open…");
        let background = changes.every(Duration::from_millis(200));
        let loaded = quantiles(open_loop(&user.token, &vdc.url, &lists, rate, seconds).await, &[0.5, 0.99]);
        background.abort();
        tokio::time::sleep(Duration::from_millis(500)).await;

        eprintln!("delivery of {samples} changes to {streams} streams…");
        let (free, free_missed) = delivery(&mut readers, &changes, samples).await;
        let free = quantiles(free, &[0.5, 0.99, 1.0]);

        // The flood would be fanned out to every reader too: they leave while the stuck client fills up.
        readers.close().await;
        let vdc_addr = vdc.url.trim_start_matches("http://").parse().unwrap();
        let stuck = StuckClient::open(vdc_addr, &user.bearer).await;
        eprintln!("flooding a stuck client with changes until the vdc cannot write to it…");
        let flood_start = Instant::now();
        let flooded = flood(&changes, &stuck, env_usize("FLOOD_MAX", 200_000)).await;
        let flood_secs = flood_start.elapsed().as_secs_f64();
        let (queued, unread) = stuck.queued();
        let rss_flooded = vdc.rss_kib();

        let mut readers = Readers::open(&vdc.url, &user.bearer, streams).await;
        tokio::time::sleep(Duration::from_secs(1)).await;
        eprintln!("delivery of {samples} changes to {streams} streams, the stuck client still stuck…");
        let (held, held_missed) = delivery(&mut readers, &changes, samples).await;
        let held = quantiles(held, &[0.5, 0.99, 1.0]);
        let (queued_after, unread_after) = stuck.queued();
        let rss_end = vdc.rss_kib();
        let resyncs = readers.resyncs();
        readers.close().await;

        println!("\nlive updates: one vdc ({backend}), {} images, {streams} streams", data.images_total());
        println!("filtered lists, {rate}/s open loop for {seconds} s, a change every 200 ms:");
        println!("  baseline, no stream open     p50 / p99 ms   {:>7.2} / {:>7.2}", baseline[0], baseline[1]);
        println!(
            "  {streams} streams open           p50 / p99 ms   {:>7.2} / {:>7.2}   (p99 ÷ baseline {:.2})",
            loaded[0],
            loaded[1],
            loaded[1] / baseline[1]
        );
        println!(
            "vdc RSS: {:.1} MiB with no stream, {:.1} MiB with {streams}: {:.1} KiB per stream",
            mib(rss_idle),
            mib(rss_streams),
            (rss_streams as f64 - rss_idle as f64) / streams as f64
        );
        println!("delivery of a change to every stream, {samples} changes:");
        println!(
            "  readers only                 p50 / p99 / max ms  {:>6.2} / {:>6.2} / {:>6.2}   missed {free_missed}",
            free[0], free[1], free[2]
        );
        println!(
            "  with a stuck client          p50 / p99 / max ms  {:>6.2} / {:>6.2} / {:>6.2}   missed {held_missed}",
            held[0], held[1], held[2]
        );
        println!(
            "stuck client: {flooded} changes in {flood_secs:.1} s filled it; the vdc has {queued_after} bytes queued \
             to it, it left {unread_after} unread (after the flood: {queued} / {unread}); resync events to the readers: {resyncs}"
        );
        println!(
            "vdc RSS: {:.1} MiB after the flood (stuck client only), {:.1} MiB at the end ({streams} streams + stuck)",
            mib(rss_flooded),
            mib(rss_end)
        );
        let ok = loaded[1] <= 50.0 && free_missed == 0 && held_missed == 0 && held[1] <= (free[1] * 2.0).max(50.0);
        println!(
            "targets: list p99 ≤ 50 ms with {streams} streams · every change reaches every reader · the stuck client \
             does not slow the others (p99 ≤ max(2 × without, 50 ms)): {}",
            if ok { "met" } else { "MISSED" }
        );
    });
}
