//! Browsers on `GET /api/v1/events`: readers that note when each `change` event reached them, and a
//! stuck client that never reads, whose socket buffers fill.

use std::{
    collections::HashSet,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use futures_util::StreamExt;
use tokio::{io::AsyncWriteExt, net::TcpStream, sync::mpsc, task::JoinSet};

/// A `change` event as one reader saw it.
struct Receipt {
    reader: usize,
    at: Instant,
}

/// Open streams, each read as fast as it arrives.
pub struct Readers {
    count: usize,
    receipts: mpsc::UnboundedReceiver<Receipt>,
    resyncs: Arc<AtomicUsize>,
    tasks: JoinSet<()>,
}

impl Readers {
    /// Opens `count` streams on the vdc at `base` (each its own connection) and returns once every one
    /// of them has its answer's headers.
    pub async fn open(base: &str, bearer: &str, count: usize) -> Readers {
        let client = reqwest::Client::new();
        let (tx, receipts) = mpsc::unbounded_channel();
        let (ready_tx, mut ready) = mpsc::channel(count.max(1));
        let resyncs = Arc::new(AtomicUsize::new(0));
        let mut tasks = JoinSet::new();
        for reader in 0..count {
            let request = client
                .get(format!("{base}/api/v1/events"))
                .header(reqwest::header::AUTHORIZATION, bearer)
                .header(reqwest::header::ACCEPT, "text/event-stream");
            let (tx, ready_tx, resyncs) = (tx.clone(), ready_tx.clone(), resyncs.clone());
            tasks.spawn(async move {
                let resp = request.send().await.unwrap();
                assert_eq!(resp.status(), 200, "stream {reader}: {}", resp.text().await.unwrap_or_default());
                ready_tx.send(()).await.unwrap();
                let mut body = resp.bytes_stream();
                let mut line = Vec::new();
                while let Some(Ok(chunk)) = body.next().await {
                    let at = Instant::now();
                    for &b in chunk.iter() {
                        if b != b'\n' {
                            line.push(b);
                            continue;
                        }
                        match line.as_slice() {
                            b"event: change" => {
                                let _ = tx.send(Receipt { reader, at });
                            }
                            b"event: resync" => {
                                resyncs.fetch_add(1, Ordering::Relaxed);
                            }
                            _ => {}
                        }
                        line.clear();
                    }
                }
            });
        }
        for _ in 0..count {
            ready.recv().await.expect("every stream answers");
        }
        Readers { count, receipts, resyncs, tasks }
    }

    /// Forgets the `change` events received so far.
    pub fn drain(&mut self) {
        while self.receipts.try_recv().is_ok() {}
    }

    /// Milliseconds from `sent` until each reader saw its next `change` event, and how many readers saw
    /// none within `timeout`.
    pub async fn delivery(&mut self, sent: Instant, timeout: Duration) -> (Vec<f64>, usize) {
        let mut heard = HashSet::with_capacity(self.count);
        let mut ms = Vec::with_capacity(self.count);
        let deadline = tokio::time::Instant::from_std(sent + timeout);
        while heard.len() < self.count {
            match tokio::time::timeout_at(deadline, self.receipts.recv()).await {
                Ok(Some(r)) if heard.insert(r.reader) => ms.push(r.at.duration_since(sent).as_secs_f64() * 1000.0),
                Ok(Some(_)) => {}
                _ => break,
            }
        }
        (ms, self.count - heard.len())
    }

    /// `resync` events received by all readers so far (a stream that fell behind).
    pub fn resyncs(&self) -> usize {
        self.resyncs.load(Ordering::Relaxed)
    }

    /// Closes every stream.
    pub async fn close(mut self) {
        self.tasks.abort_all();
        while self.tasks.join_next().await.is_some() {}
    }
}

/// A client that asks for the stream and never reads a byte: its receive buffer is made as small as the
/// kernel allows, so the vdc's writes to it back up into the vdc's own send buffer and then stop.
pub struct StuckClient {
    _socket: TcpStream,
    local_port: u16,
    vdc_port: u16,
}

impl StuckClient {
    pub async fn open(vdc: std::net::SocketAddr, bearer: &str) -> StuckClient {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.set_recv_buffer_size(1).unwrap();
        let mut stream = socket.connect(vdc).await.unwrap();
        let request = format!(
            "GET /api/v1/events HTTP/1.1\r\nHost: {vdc}\r\nAuthorization: {bearer}\r\nAccept: text/event-stream\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        let local_port = stream.local_addr().unwrap().port();
        StuckClient { _socket: stream, local_port, vdc_port: vdc.port() }
    }

    /// Bytes the vdc has written to this client's connection and the client has not taken: the vdc's
    /// send queue (not yet acknowledged) and the client's receive queue (acknowledged, unread), from
    /// `/proc/net/tcp`.
    pub fn queued(&self) -> (u64, u64) {
        let table = std::fs::read_to_string("/proc/net/tcp").unwrap();
        let (mut vdc_send, mut client_receive) = (0, 0);
        for line in table.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            let port = |addr: &str| u16::from_str_radix(addr.rsplit(':').next().unwrap(), 16).unwrap();
            let (local, remote) = (port(f[1]), port(f[2]));
            let (tx, rx) = f[4].split_once(':').unwrap();
            let (tx, rx) = (u64::from_str_radix(tx, 16).unwrap(), u64::from_str_radix(rx, 16).unwrap());
            if local == self.vdc_port && remote == self.local_port {
                vdc_send = tx;
            }
            if local == self.local_port && remote == self.vdc_port {
                client_receive = rx;
            }
        }
        (vdc_send, client_receive)
    }
}
