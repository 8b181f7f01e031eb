//! A TCP proxy between nodes and the vdc, for the fault suite: it passes traffic, delays it, refuses
//! connections, swallows them (accepts and never answers), or cuts every open connection at once (a
//! delivery in flight is lost, possibly after the vdc applied it). It also keeps a copy of every whole
//! HTTP request that went through, so a test can deliver old ones again, late and in any order: the
//! duplicates and reorderings a retrying client and a slow network make.

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
    task::JoinHandle,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Pass,
    /// Every read is held back this long before it is forwarded.
    Delay(Duration),
    /// New connections are closed at once.
    Refuse,
    /// New connections are accepted and never answered.
    Swallow,
}

struct Shared {
    mode: Mode,
    open: Vec<JoinHandle<()>>,
    /// Whole requests as they crossed, oldest first (at most [`KEPT`]).
    seen: Vec<Vec<u8>>,
}

/// How many requests the proxy remembers for replaying.
const KEPT: usize = 4000;

pub struct Proxy {
    pub url: String,
    upstream: SocketAddr,
    shared: Arc<Mutex<Shared>>,
    accept: JoinHandle<()>,
}

impl Proxy {
    pub async fn start(upstream: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let shared = Arc::new(Mutex::new(Shared { mode: Mode::Pass, open: Vec::new(), seen: Vec::new() }));
        let accept = tokio::spawn({
            let shared = shared.clone();
            async move {
                while let Ok((client, _)) = listener.accept().await {
                    let mode = shared.lock().unwrap().mode;
                    let task = match mode {
                        Mode::Refuse => {
                            drop(client);
                            continue;
                        }
                        Mode::Swallow => tokio::spawn(async move {
                            let _held = client;
                            std::future::pending::<()>().await
                        }),
                        Mode::Pass | Mode::Delay(_) => tokio::spawn(forward(client, upstream, shared.clone())),
                    };
                    let mut s = shared.lock().unwrap();
                    s.open.retain(|t| !t.is_finished());
                    s.open.push(task);
                }
            }
        });
        Proxy { url, upstream, shared, accept }
    }

    pub fn set(&self, mode: Mode) {
        self.shared.lock().unwrap().mode = mode;
    }

    /// The requests seen so far whose request line starts with `prefix` (e.g. `"POST /api/v1/sync"`).
    pub fn seen(&self, prefix: &str) -> Vec<Vec<u8>> {
        let s = self.shared.lock().unwrap();
        s.seen.iter().filter(|r| r.starts_with(prefix.as_bytes())).cloned().collect()
    }

    /// Sends `request` (as recorded by [`Proxy::seen`]) to the upstream again, on a connection of its
    /// own, and returns the status it was answered with (`None`: no answer).
    pub async fn replay(&self, request: &[u8]) -> Option<u16> {
        let mut server = TcpStream::connect(self.upstream).await.ok()?;
        // The same request, except that the server closes the connection after answering.
        let head_end = find(request, b"\r\n\r\n")?;
        server.write_all(&request[..head_end]).await.ok()?;
        server.write_all(b"\r\nconnection: close").await.ok()?;
        server.write_all(&request[head_end..]).await.ok()?;
        let mut answer = Vec::new();
        tokio::time::timeout(Duration::from_secs(10), server.read_to_end(&mut answer)).await.ok()?.ok()?;
        let line = answer.split(|b| *b == b'\r').next()?;
        std::str::from_utf8(line).ok()?.split(' ').nth(1)?.parse().ok()
    }

    /// Closes every open connection, mid-request or mid-answer.
    pub fn cut(&self) {
        for task in self.shared.lock().unwrap().open.drain(..) {
            task.abort();
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.cut();
    }
}

async fn forward(client: TcpStream, upstream: SocketAddr, shared: Arc<Mutex<Shared>>) {
    let Ok(server) = TcpStream::connect(upstream).await else { return };
    let (cr, cw) = client.into_split();
    let (sr, sw) = server.into_split();
    let delay = {
        let shared = shared.clone();
        move || match shared.lock().unwrap().mode {
            Mode::Delay(d) => Some(d),
            _ => None,
        }
    };
    let mut requests = Requests::default();
    let record = move |bytes: &[u8]| {
        for request in requests.push(bytes) {
            let mut s = shared.lock().unwrap();
            if s.seen.len() == KEPT {
                s.seen.remove(0);
            }
            s.seen.push(request);
        }
    };
    let up = pump(cr, sw, delay.clone(), record);
    let down = pump(sr, cw, delay, |_: &[u8]| {});
    tokio::select! {
        _ = up => {}
        _ = down => {}
    }
}

async fn pump(
    mut from: impl AsyncReadExt + Unpin,
    mut to: impl AsyncWriteExt + Unpin,
    delay: impl Fn() -> Option<Duration>,
    mut seen: impl FnMut(&[u8]),
) {
    let mut buf = vec![0u8; 64 << 10];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        seen(&buf[..n]);
        if let Some(d) = delay() {
            tokio::time::sleep(d).await;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

/// Cuts a client's byte stream into whole HTTP/1.1 requests (framed by `content-length`; the nodes'
/// JSON calls are never chunked). A stream it cannot frame is no longer recorded.
#[derive(Default)]
struct Requests {
    buf: Vec<u8>,
    lost: bool,
}

impl Requests {
    fn push(&mut self, bytes: &[u8]) -> Vec<Vec<u8>> {
        if self.lost {
            return Vec::new();
        }
        self.buf.extend_from_slice(bytes);
        let mut whole = Vec::new();
        while let Some(head_end) = find(&self.buf, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&self.buf[..head_end]).to_ascii_lowercase();
            if head.contains("transfer-encoding:") {
                self.lost = true;
                return whole;
            }
            let body: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map_or(Some(0), |v| v.trim().parse().ok())
                .unwrap_or_else(|| {
                    self.lost = true;
                    0
                });
            let end = head_end + 4 + body;
            if self.lost || self.buf.len() < end {
                break;
            }
            whole.push(self.buf.drain(..end).collect());
        }
        whole
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
