//! A small HTTP/1.1 origin for download tests, written on raw TCP so that it can misbehave on purpose:
//! serve a file with Range, cut the connection after some bytes, announce a length it does not keep to,
//! redirect anywhere, serve a web page, or stall.

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};

/// How the origin answers a path.
#[derive(Clone)]
pub enum Serve {
    /// The file, whole or from a `Range: bytes=N-`; the first `cuts` answers stop after `cut_after` bytes
    /// of their body and close the connection. `ranges: false` ignores Range (answers 200 whole).
    File { data: Arc<Vec<u8>>, cut_after: u64, cuts: usize, ranges: bool },
    /// `Content-Length: announce`, then `data` whatever its length, then close.
    Lie { announce: u64, data: Arc<Vec<u8>> },
    /// A redirect (302) to this location.
    Redirect(String),
    /// A web page where the file was expected.
    Html,
    /// Headers announcing `announce` bytes, then `send` of them, then nothing, connection open.
    Stall { announce: u64, send: u64 },
}

impl Serve {
    pub fn file(data: Vec<u8>) -> Serve {
        Serve::File { data: Arc::new(data), cut_after: u64::MAX, cuts: 0, ranges: true }
    }
}

/// One request the origin received: its path and its `Range` header.
#[derive(Debug, Clone)]
pub struct Seen {
    pub path: String,
    pub range: Option<String>,
}

#[derive(Default)]
struct Shared {
    routes: HashMap<String, Serve>,
    seen: Vec<Seen>,
}

pub struct Origin {
    pub addr: SocketAddr,
    shared: Arc<Mutex<Shared>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Origin {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Origin {
    pub async fn start() -> Origin {
        Self::start_on("127.0.0.1").await
    }

    /// An origin listening on `ip` (any of 127.0.0.0/8 is this host's loopback).
    pub async fn start_on(ip: &str) -> Origin {
        let listener = TcpListener::bind((ip, 0)).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let shared: Arc<Mutex<Shared>> = Default::default();
        let state = shared.clone();
        let task = tokio::spawn(async move {
            while let Ok((conn, _)) = listener.accept().await {
                tokio::spawn(answer(conn, state.clone()));
            }
        });
        Origin { addr, shared, task }
    }

    pub fn serve(&self, path: &str, how: Serve) -> String {
        self.shared.lock().unwrap().routes.insert(path.to_owned(), how);
        self.url(path)
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.shared.lock().unwrap().seen.clone()
    }
}

async fn answer(mut conn: TcpStream, shared: Arc<Mutex<Shared>>) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match conn.read(&mut byte).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&byte[..n]),
        }
    }
    let text = String::from_utf8_lossy(&head).into_owned();
    let path = text.split_whitespace().nth(1).unwrap_or("/").to_owned();
    let range = text
        .lines()
        .find_map(|l| l.strip_prefix("range: ").or_else(|| l.strip_prefix("Range: ")))
        .map(|r| r.trim().to_owned());
    let how = {
        let mut s = shared.lock().unwrap();
        s.seen.push(Seen { path: path.clone(), range: range.clone() });
        let how = s.routes.get(&path).cloned();
        // A cut is used up by the answer that makes it.
        if let Some(Serve::File { cuts, .. }) = s.routes.get_mut(&path) {
            *cuts = cuts.saturating_sub(1);
        }
        how
    };
    let _ = match how {
        None => send(&mut conn, "404 Not Found", &[], b"no such file").await,
        Some(Serve::File { data, cut_after, cuts, ranges }) => {
            let from = range
                .filter(|_| ranges)
                .and_then(|r| r.strip_prefix("bytes=")?.strip_suffix('-')?.parse::<u64>().ok())
                .filter(|f| *f < data.len() as u64);
            let (status, start, mut extra) = match from {
                Some(f) => (
                    "206 Partial Content",
                    f,
                    vec![format!("Content-Range: bytes {f}-{}/{}", data.len() - 1, data.len())],
                ),
                None => ("200 OK", 0, vec![]),
            };
            extra.push("ETag: \"v1\"".into());
            extra.push("Accept-Ranges: bytes".into());
            let body = &data[start as usize..];
            let limit = if cuts > 0 { cut_after.min(body.len() as u64) as usize } else { body.len() };
            write_head(&mut conn, status, body.len() as u64, &extra).await;
            let _ = conn.write_all(&body[..limit]).await;
            Ok(())
        }
        Some(Serve::Lie { announce, data }) => {
            write_head(&mut conn, "200 OK", announce, &[]).await;
            conn.write_all(&data).await
        }
        Some(Serve::Redirect(to)) => send(&mut conn, "302 Found", &[format!("Location: {to}")], b"").await,
        Some(Serve::Html) => {
            let page = b"<!doctype html><title>Download</title><a href=/real.iso>Download the ISO</a>";
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                page.len()
            );
            let _ = conn.write_all(head.as_bytes()).await;
            conn.write_all(page).await
        }
        Some(Serve::Stall { announce, send }) => {
            write_head(&mut conn, "200 OK", announce, &[]).await;
            let _ = conn.write_all(&vec![7u8; send as usize]).await;
            tokio::time::sleep(Duration::from_secs(3600)).await;
            Ok(())
        }
    };
    let _ = conn.shutdown().await;
}

async fn write_head(conn: &mut TcpStream, status: &str, length: u64, extra: &[String]) {
    let mut head =
        format!("HTTP/1.1 {status}\r\nContent-Type: application/octet-stream\r\nContent-Length: {length}\r\n");
    for h in extra {
        head.push_str(h);
        head.push_str("\r\n");
    }
    head.push_str("Connection: close\r\n\r\n");
    let _ = conn.write_all(head.as_bytes()).await;
}

async fn send(conn: &mut TcpStream, status: &str, extra: &[String], body: &[u8]) -> std::io::Result<()> {
    write_head(conn, status, body.len() as u64, extra).await;
    conn.write_all(body).await
}
