//! A TCP proxy between nodes and the vdc, for the fault suite: it passes traffic, delays it, refuses
//! connections, swallows them (accepts and never answers), or cuts every open connection at once (a
//! delivery in flight is lost, possibly after the vdc applied it).

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
}

pub struct Proxy {
    pub url: String,
    shared: Arc<Mutex<Shared>>,
    accept: JoinHandle<()>,
}

impl Proxy {
    pub async fn start(upstream: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let shared = Arc::new(Mutex::new(Shared { mode: Mode::Pass, open: Vec::new() }));
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
        Proxy { url, shared, accept }
    }

    pub fn set(&self, mode: Mode) {
        self.shared.lock().unwrap().mode = mode;
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
    let delay = move || match shared.lock().unwrap().mode {
        Mode::Delay(d) => Some(d),
        _ => None,
    };
    let up = pump(cr, sw, delay.clone());
    let down = pump(sr, cw, delay);
    tokio::select! {
        _ = up => {}
        _ = down => {}
    }
}

async fn pump(
    mut from: impl AsyncReadExt + Unpin,
    mut to: impl AsyncWriteExt + Unpin,
    delay: impl Fn() -> Option<Duration>,
) {
    let mut buf = vec![0u8; 64 << 10];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if let Some(d) = delay() {
            tokio::time::sleep(d).await;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}
