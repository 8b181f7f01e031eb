//! Multipart uploads at the byte level over a raw socket: for bodies streamed from a generator, slow
//! senders, and clients that vanish mid-upload.

use std::time::Duration;

use sha2::Digest;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

const BOUNDARY: &str = "quantix-test-boundary-7MA4YWxkTrZu0gW";

pub struct RawUpload {
    pub path_and_query: String,
    pub filename: String,
    /// Bytes of the file part.
    pub size: u64,
    /// Declare this Content-Length instead of the real one (None: the exact length). A declared length
    /// shorter than the body cuts what is sent there: bytes past it would not be part of the request.
    pub declared_length: Option<u64>,
    pub seed: u64,
    /// Sleep between 1 MiB blocks.
    pub pace: Option<Duration>,
    /// Stop sending (and drop the connection) after this many file bytes.
    pub abort_after: Option<u64>,
    /// Stop sending after this many file bytes but keep the connection open, waiting for the answer
    /// (a client that stalls).
    pub stall_after: Option<u64>,
}

impl RawUpload {
    pub fn new(path_and_query: &str, filename: &str, size: u64) -> Self {
        RawUpload {
            path_and_query: path_and_query.to_owned(),
            filename: filename.to_owned(),
            size,
            declared_length: None,
            seed: 7,
            pace: None,
            abort_after: None,
            stall_after: None,
        }
    }

    fn head_and_tail(&self) -> (String, String) {
        let head = format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{}\"\r\nContent-Type: application/octet-stream\r\n\r\n",
            self.filename
        );
        let tail = format!("\r\n--{BOUNDARY}--\r\n");
        (head, tail)
    }

    /// Sends the upload; returns the HTTP status and body (None if aborted) and the SHA-256 of the file
    /// bytes sent.
    pub async fn send(&self, addr: std::net::SocketAddr, token: &str) -> (Option<(u16, serde_json::Value)>, String) {
        let (head, tail) = self.head_and_tail();
        let length = self.declared_length.unwrap_or(head.len() as u64 + self.size + tail.len() as u64);
        let mut sock = TcpStream::connect(addr).await.unwrap();
        let request = format!(
            "POST {} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n",
            self.path_and_query
        );
        let mut hasher = sha2::Sha256::new();
        // File bytes to send: all of them, or what fits in the declared length after the part's head.
        let file_bytes = self.size.min(length.saturating_sub(head.len() as u64));
        let complete = file_bytes == self.size && length >= head.len() as u64 + self.size + tail.len() as u64;
        let sent = async {
            sock.write_all(request.as_bytes()).await?;
            sock.write_all(head.as_bytes()).await?;
            let mut x = self.seed | 1;
            let mut sent = 0u64;
            let mut block = vec![0u8; 1 << 20];
            while sent < file_bytes {
                let n = ((file_bytes - sent) as usize).min(block.len());
                for chunk in block[..n].chunks_mut(8) {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    let bytes = x.to_le_bytes();
                    chunk.copy_from_slice(&bytes[..chunk.len()]);
                }
                if let Some(limit) = self.abort_after
                    && sent + n as u64 > limit
                {
                    let keep = (limit - sent) as usize;
                    sock.write_all(&block[..keep]).await?;
                    sock.flush().await?;
                    return Ok::<bool, std::io::Error>(false);
                }
                if let Some(limit) = self.stall_after
                    && sent + n as u64 > limit
                {
                    sock.write_all(&block[..(limit - sent) as usize]).await?;
                    sock.flush().await?;
                    return Ok(true);
                }
                hasher.update(&block[..n]);
                sock.write_all(&block[..n]).await?;
                sent += n as u64;
                if let Some(p) = self.pace {
                    tokio::time::sleep(p).await;
                }
            }
            if complete {
                sock.write_all(tail.as_bytes()).await?;
            }
            Ok(true)
        }
        .await;
        let digest = format!("sha256:{}", hex::encode(hasher.finalize()));
        match sent {
            Ok(true) => {}
            // Aborted on purpose, or the server answered early and closed: read what it said, if anything.
            Ok(false) => {
                drop(sock);
                return (None, digest);
            }
            Err(_) => {}
        }
        let mut response = Vec::new();
        let _ = sock.read_to_end(&mut response).await;
        (parse_response(&response), digest)
    }
}

fn parse_response(raw: &[u8]) -> Option<(u16, serde_json::Value)> {
    let text = String::from_utf8_lossy(raw);
    let status: u16 = text.split_whitespace().nth(1)?.parse().ok()?;
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    // The server answers with a fixed Content-Length; chunked encoding is not expected here.
    Some((status, serde_json::from_str(body.trim()).unwrap_or(serde_json::Value::Null)))
}
