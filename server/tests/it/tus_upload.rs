//! Resumable uploads (tus 1.0) on a node: chunks cut anywhere, a node killed mid-chunk, and every refusal
//! leaving the upload (and the pools) as they were.

use std::{net::SocketAddr, time::Duration};

use app::model::{IsoMetadata, ResumableUploadList};
use base64::{Engine, engine::general_purpose::STANDARD};
use sha2::Digest;
use tokio::io::AsyncWriteExt;

use crate::support::{
    PoolOpt, TestNode, assert_error, eventually, node_config, pattern, pool,
    process::{Process, free_addr},
    sha256_wire,
};

const OCTETS: &str = "application/offset+octet-stream";

/// `Upload-Metadata` of `pairs`, each value in base64.
fn metadata(pairs: &[(&str, &str)]) -> String {
    pairs.iter().map(|(k, v)| format!("{k} {}", STANDARD.encode(v))).collect::<Vec<_>>().join(",")
}

/// A tus client of one node: its base URL and a signed-in client.
struct Tus {
    url: String,
    client: reqwest::Client,
}

impl Tus {
    fn of(node: &TestNode) -> Tus {
        Tus { url: node.url.clone(), client: node.client.clone() }
    }

    async fn create_raw(&self, length: &str, meta: &str) -> (u16, reqwest::header::HeaderMap, serde_json::Value) {
        let resp = self
            .client
            .post(format!("{}/api/v1/uploads", self.url))
            .header("tus-resumable", "1.0.0")
            .header("upload-length", length)
            .header("upload-metadata", meta)
            .send()
            .await
            .unwrap();
        let (status, headers) = (resp.status().as_u16(), resp.headers().clone());
        (status, headers, resp.json().await.unwrap_or_default())
    }

    /// Creates an upload; its location (`/api/v1/uploads/{id}`).
    async fn create(&self, length: usize, pairs: &[(&str, &str)]) -> String {
        let (status, headers, body) = self.create_raw(&length.to_string(), &metadata(pairs)).await;
        assert_eq!(status, 201, "{body}");
        assert_eq!(headers["tus-resumable"], "1.0.0");
        assert!(headers.contains_key("upload-expires"));
        headers["location"].to_str().unwrap().to_owned()
    }

    async fn head(&self, location: &str) -> (u16, reqwest::header::HeaderMap) {
        let resp =
            self.client.head(format!("{}{location}", self.url)).header("tus-resumable", "1.0.0").send().await.unwrap();
        (resp.status().as_u16(), resp.headers().clone())
    }

    async fn offset(&self, location: &str) -> u64 {
        let (status, headers) = self.head(location).await;
        assert_eq!(status, 200);
        headers["upload-offset"].to_str().unwrap().parse().unwrap()
    }

    async fn patch_with(
        &self,
        location: &str,
        offset: u64,
        bytes: Vec<u8>,
        adjust: impl FnOnce(reqwest::RequestBuilder) -> reqwest::RequestBuilder,
    ) -> (u16, reqwest::header::HeaderMap, serde_json::Value) {
        let req = self
            .client
            .patch(format!("{}{location}", self.url))
            .header("tus-resumable", "1.0.0")
            .header("content-type", OCTETS)
            .header("upload-offset", offset.to_string())
            .body(bytes);
        let resp = adjust(req).send().await.unwrap();
        let (status, headers) = (resp.status().as_u16(), resp.headers().clone());
        (status, headers, resp.json().await.unwrap_or_default())
    }

    async fn patch(&self, location: &str, offset: u64, bytes: &[u8]) -> (u16, reqwest::header::HeaderMap) {
        let (s, h, b) = self.patch_with(location, offset, bytes.to_vec(), |r| r).await;
        assert!(s == 204 || s >= 400, "{s} {b}");
        (s, h)
    }

    async fn list(&self) -> ResumableUploadList {
        crate::support::get_json(&self.client, &format!("{}/api/v1/uploads", self.url)).await
    }

    /// Sends every byte from the upload's offset on, retrying while an earlier (cut) chunk is still
    /// being closed on the server; the image id.
    async fn finish(&self, location: &str, data: &[u8]) -> String {
        for _ in 0..200 {
            let offset = self.offset(location).await;
            let (status, headers) = self.patch(location, offset, &data[offset as usize..]).await;
            match status {
                204 => return headers["x-image-id"].to_str().unwrap().to_owned(),
                409 | 423 => tokio::time::sleep(Duration::from_millis(20)).await,
                other => panic!("PATCH answered {other}"),
            }
        }
        panic!("the upload never finished")
    }
}

/// A PATCH that announces `declared` bytes, sends `sent` of them, and hangs up: a dropped connection.
struct CutChunk<'a> {
    location: &'a str,
    offset: u64,
    declared: usize,
    sent: &'a [u8],
    /// Time between blocks of 64 KiB: the request stays open for a while.
    pace: Option<Duration>,
    /// More header lines, each ending `\r\n`.
    extra: String,
}

impl<'a> CutChunk<'a> {
    fn new(location: &'a str, offset: u64, declared: usize, sent: &'a [u8]) -> Self {
        CutChunk { location, offset, declared, sent, pace: None, extra: String::new() }
    }

    fn paced(self, pace: Duration) -> Self {
        CutChunk { pace: Some(pace), ..self }
    }

    async fn send(self, addr: SocketAddr, token: &str) {
        let CutChunk { location, offset, declared, sent, pace, extra } = self;
        let mut sock = tokio::net::TcpStream::connect(addr).await.unwrap();
        let head = format!(
            "PATCH {location} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nTus-Resumable: 1.0.0\r\nContent-Type: {OCTETS}\r\nUpload-Offset: {offset}\r\nContent-Length: {declared}\r\n{extra}\r\n"
        );
        sock.write_all(head.as_bytes()).await.unwrap();
        for block in sent.chunks(64 << 10) {
            if sock.write_all(block).await.is_err() {
                return;
            }
            if let Some(pace) = pace {
                tokio::time::sleep(pace).await;
            }
        }
        let _ = sock.flush().await;
    }
}

/// Files in a pool that belong to uploads in progress.
fn staging_files(node: &TestNode, pool: &str) -> Vec<String> {
    node.files(pool).into_iter().filter(|f| f.starts_with(".quantix-upload-")).collect()
}

/// A seeded xorshift, so a failing run can be replayed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

#[tokio::test]
async fn a_connection_cut_again_and_again_resumes_to_the_exact_file() {
    // A pool of its own: the metrics below are the process's, shared by every test.
    let node = TestNode::spawn(&[pool("cuts")]).await;
    let tus = Tus::of(&node);
    let data = pattern(21, (4 << 20) + 12_345);
    let location =
        tus.create(data.len(), &[("filename", "debian-12.8.0-amd64-netinst.iso"), ("pool_id", "cuts")]).await;
    let seed = std::env::var("TUS_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0x5eed_1234_u64);
    eprintln!("seed {seed} (TUS_SEED replays it)");
    let mut rng = Rng(seed);
    let mut cuts = 0;
    while cuts < 30 {
        let offset = tus.offset(&location).await;
        let left = data.len() as u64 - offset;
        if left < 2 {
            break;
        }
        // A chunk of up to the rest, cut somewhere strictly inside it.
        let declared = 2 + rng.below(left - 1) as usize;
        let sent = 1 + rng.below(declared as u64 - 1) as usize;
        let from = offset as usize;
        CutChunk::new(&location, offset, declared, &data[from..from + sent]).send(node.addr, &node.token).await;
        cuts += 1;
        // The server closes the cut chunk on its own time: an empty chunk where it ended is refused
        // until then (423 while it is written, 409 before it is committed).
        let end = offset + sent as u64;
        eventually(Duration::from_secs(5), "the cut chunk is closed", || async {
            tus.patch(&location, end, &[]).await.0 == 204
        })
        .await;
        assert_eq!(tus.offset(&location).await, end, "what arrived before the cut is kept");
    }
    assert!(cuts >= 20, "only {cuts} cuts");
    let id = tus.finish(&location, &data).await;
    let (status, body) = node.get(&format!("/api/v1/images/{id}")).await;
    assert_eq!(status, 200, "{body}");
    let meta: IsoMetadata = serde_json::from_value(body).unwrap();
    assert_eq!(meta.checksum.as_deref(), Some(sha256_wire(&data).as_str()));
    assert_eq!(meta.size_bytes, data.len() as u64);
    assert_eq!(meta.folder_path.as_str(), "/linux", "the filename's OS folder by default");
    assert!(std::fs::read(node.iso_dir("cuts").join("debian-12.8.0-amd64-netinst.iso")).unwrap() == data);
    assert!(staging_files(&node, "cuts").is_empty());
    // Chunks count in the upload metrics like multipart bodies (the cut ones' bytes too).
    let metrics = node.client.get(format!("{}/metrics", node.url)).send().await.unwrap().text().await.unwrap();
    let counted: f64 = metrics
        .lines()
        .find(|l| l.starts_with("quantix_upload_bytes_total{") && l.contains(r#"pool="cuts""#))
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
        .unwrap_or_else(|| panic!("no upload bytes counted for pool cuts:\n{metrics}"));
    assert!(counted >= data.len() as f64, "{counted} bytes counted");
    assert!(tus.list().await.uploads.is_empty());
    let (status, _) = tus.head(&location).await;
    assert_eq!(status, 404, "a finished upload is gone");
}

#[tokio::test]
async fn a_node_killed_mid_chunk_resumes_after_its_restart() {
    let root = tempfile::tempdir().unwrap();
    let addr = free_addr();
    let pool_dir = root.path().join("pool");
    let args = ["node", "--listen", &addr.to_string(), "--node-id", "killed", "--data-dir"]
        .iter()
        .map(|s| s.to_string())
        .chain([root.path().join("db").display().to_string()])
        .chain(["--pool".into(), format!("local={}", pool_dir.display())])
        .collect();
    let mut node = Process::start(addr, args).await;
    let tus_of = |p: &Process| Tus { url: p.url.clone(), client: p.client().clone() };
    let tus = tus_of(&node);
    let data = pattern(22, 12 << 20);
    let checksum = sha256_wire(&data);
    let location =
        tus.create(data.len(), &[("filename", "resumed.iso"), ("pool_id", "local"), ("checksum", &checksum)]).await;
    let first = (1 << 20) + 777;
    assert_eq!(tus.patch(&location, 0, &data[..first]).await.0, 204);

    // A second chunk trickles in; the node dies with part of it written but not committed.
    let (token, loc, rest) = (node.token(), location.clone(), data[first..].to_vec());
    let sending = tokio::spawn(async move {
        CutChunk::new(&loc, first as u64, rest.len(), &rest).paced(Duration::from_millis(5)).send(addr, &token).await
    });
    let staging = pool_dir.join("iso").read_dir().unwrap().next().unwrap().unwrap().path();
    eventually(Duration::from_secs(10), "the second chunk reaches the disk", || async {
        std::fs::metadata(&staging).is_ok_and(|m| m.len() > first as u64 + (512 << 10))
    })
    .await;
    node.kill9();
    let _ = sending.await;

    node.restart().await;
    let tus = tus_of(&node);
    assert_eq!(tus.offset(&location).await, first as u64, "the last durable offset");
    let id = tus.finish(&location, &data).await;
    let meta: IsoMetadata = crate::support::get_json(node.client(), &format!("{}/api/v1/images/{id}", node.url)).await;
    assert_eq!(meta.checksum.as_deref(), Some(checksum.as_str()));
    assert!(std::fs::read(pool_dir.join("iso").join("resumed.iso")).unwrap() == data);
    assert_eq!(pool_dir.join("iso").read_dir().unwrap().count(), 1, "no staging file is left");
}

#[tokio::test]
async fn creation_is_refused_before_any_byte_is_stored() {
    let node = TestNode::spawn(&[pool("local"), PoolOpt { id: "tiny", quota: Some(1 << 20) }]).await;
    node.upload_ok("pool_id=local", "taken.iso", pattern(23, 100)).await;
    let tus = Tus::of(&node);
    let ok_meta = metadata(&[("filename", "a.iso"), ("pool_id", "local")]);
    let cases: Vec<(&str, String, u16, &str)> = vec![
        ("100", "filename !!!notbase64".into(), 400, "invalid_metadata"),
        ("100", metadata(&[("filename", "../x.iso"), ("pool_id", "local")]), 400, "invalid_filename"),
        ("100", metadata(&[("filename", "a.iso"), ("pool_id", "nope")]), 400, "unknown_pool"),
        ("100", metadata(&[("filename", "a.iso"), ("folder", "/a/../b")]), 400, "invalid_folder"),
        ("100", metadata(&[("filename", "a.iso"), ("checksum", "md5:abc")]), 400, "invalid_checksum"),
        ("100", metadata(&[("filename", "a.iso"), ("colour", "red")]), 400, "invalid_metadata"),
        ("100", metadata(&[("pool_id", "local")]), 400, "invalid_metadata"),
        ("100", metadata(&[("filename", "taken.iso"), ("pool_id", "local")]), 409, "name_taken"),
        ("2000000", metadata(&[("filename", "big.iso"), ("pool_id", "tiny")]), 507, "insufficient_storage"),
        ("-5", ok_meta.clone(), 400, "invalid_header"),
        ("12abc", ok_meta.clone(), 400, "invalid_header"),
        ("", ok_meta.clone(), 400, "invalid_header"),
    ];
    for (length, meta, status, code) in cases {
        let (s, headers, body) = tus.create_raw(length, &meta).await;
        assert_error(s, &body, status, code);
        assert_eq!(headers["tus-resumable"], "1.0.0", "every answer says which protocol it speaks");
    }
    // No Upload-Length at all, and no Tus-Resumable.
    let resp = node
        .client
        .post(format!("{}/api/v1/uploads", node.url))
        .header("tus-resumable", "1.0.0")
        .header("upload-metadata", &ok_meta)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let resp = node
        .client
        .post(format!("{}/api/v1/uploads", node.url))
        .header("upload-length", "100")
        .header("upload-metadata", &ok_meta)
        .send()
        .await
        .unwrap();
    assert_eq!((resp.status().as_u16(), resp.headers()["tus-version"].to_str().unwrap()), (412, "1.0.0"));
    assert!(tus.list().await.uploads.is_empty());
    assert_eq!(node.files("local"), ["taken.iso"]);
    assert!(node.files("tiny").is_empty());
}

#[tokio::test]
async fn options_and_head_describe_the_upload() {
    let node = TestNode::spawn(&[pool("local")]).await;
    let tus = Tus::of(&node);
    let resp =
        node.client.request(reqwest::Method::OPTIONS, format!("{}/api/v1/uploads", node.url)).send().await.unwrap();
    assert_eq!(resp.status(), 204);
    let h = resp.headers();
    assert_eq!(h["tus-version"], "1.0.0");
    assert_eq!(h["tus-resumable"], "1.0.0");
    assert_eq!(h["tus-extension"], "creation,checksum,termination,expiration");
    assert_eq!(h["tus-checksum-algorithm"], "sha256");
    let location = tus.create(1000, &[("filename", "a.iso"), ("folder", "/tools")]).await;
    let (status, h) = tus.head(&location).await;
    assert_eq!(status, 200);
    let text = |name: &str| h[name].to_str().unwrap().to_owned();
    assert_eq!(
        (text("upload-offset"), text("upload-length"), text("cache-control")),
        ("0".into(), "1000".into(), "no-store".into())
    );
    assert_eq!(text("tus-resumable"), "1.0.0");
    let expires = httpdate::parse_http_date(h["upload-expires"].to_str().unwrap()).unwrap();
    let ahead = expires.duration_since(std::time::SystemTime::now()).unwrap();
    assert!(ahead > Duration::from_secs(23 * 3600), "24 h by default");
    let listed = tus.list().await.uploads;
    assert_eq!(listed.len(), 1);
    assert_eq!((listed[0].filename.as_str(), listed[0].pool_id.as_str(), listed[0].length), ("a.iso", "local", 1000));
    assert_eq!(listed[0].folder.as_ref().map(|f| f.as_str()), Some("/tools"));
    let (status, _) = tus.head("/api/v1/uploads/00000000-0000-4000-8000-000000000000").await;
    assert_eq!(status, 404);
    // Nobody learns anything without signing in, HEAD on the list (which axum answers with GET's
    // handler) included.
    let anonymous = reqwest::Client::new();
    for path in [location.as_str(), "/api/v1/uploads"] {
        let resp = anonymous.head(format!("{}{path}", node.url)).header("tus-resumable", "1.0.0").send().await.unwrap();
        assert_eq!(resp.status(), 401, "HEAD {path}");
    }
}

#[tokio::test]
async fn a_refused_chunk_changes_nothing() {
    let node = TestNode::spawn(&[pool("local")]).await;
    let tus = Tus::of(&node);
    let data = pattern(24, 300_000);
    let location = tus.create(data.len(), &[("filename", "chunks.iso")]).await;
    assert_eq!(tus.patch(&location, 0, &data[..100_000]).await.0, 204);

    // An offset that is not the upload's.
    let (s, _, b) = tus.patch_with(&location, 50_000, data[50_000..60_000].to_vec(), |r| r).await;
    assert_error(s, &b, 409, "offset_mismatch");
    let (s, _, b) = tus.patch_with(&location, 100_001, data[100_001..100_100].to_vec(), |r| r).await;
    assert_error(s, &b, 409, "offset_mismatch");
    assert_eq!(tus.offset(&location).await, 100_000);

    // Not the tus content type.
    let resp = node
        .client
        .patch(format!("{}{location}", node.url))
        .header("tus-resumable", "1.0.0")
        .header("content-type", "application/octet-stream")
        .header("upload-offset", "100000")
        .body(data[100_000..].to_vec())
        .send()
        .await
        .unwrap();
    assert_error(resp.status().as_u16(), &resp.json().await.unwrap(), 415, "unsupported_media_type");

    // A chunk that does not match its checksum, then the same chunk with its own.
    let chunk = &data[100_000..200_000];
    let wrong = STANDARD.encode(sha2::Sha256::digest(&data[..10]));
    let (s, _, b) = tus
        .patch_with(&location, 100_000, chunk.to_vec(), |r| r.header("upload-checksum", format!("sha256 {wrong}")))
        .await;
    assert_error(s, &b, 460, "checksum_mismatch");
    assert_eq!(tus.offset(&location).await, 100_000, "the chunk was discarded");
    let (s, _, b) =
        tus.patch_with(&location, 100_000, chunk.to_vec(), |r| r.header("upload-checksum", "md5 AAAA")).await;
    assert_error(s, &b, 400, "unsupported_checksum");
    let right = STANDARD.encode(sha2::Sha256::digest(chunk));
    let (s, h, _) = tus
        .patch_with(&location, 100_000, chunk.to_vec(), |r| r.header("upload-checksum", format!("sha256 {right}")))
        .await;
    assert_eq!((s, h["upload-offset"].to_str().unwrap()), (204, "200000"));

    // A chunk with a checksum that breaks off cannot be verified: none of it is kept.
    let rest = data[200_000..].to_vec();
    let digest = STANDARD.encode(sha2::Sha256::digest(&rest));
    let extra = format!("Upload-Checksum: sha256 {digest}\r\n");
    CutChunk { extra, ..CutChunk::new(&location, 200_000, rest.len(), &rest[..50_000]) }
        .send(node.addr, &node.token)
        .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    eventually(Duration::from_secs(5), "the cut chunk is closed", || async {
        tus.patch(&location, 200_000, &[]).await.0 == 204
    })
    .await;
    assert_eq!(tus.offset(&location).await, 200_000, "the unverifiable chunk was discarded");

    // Past the end: announced (refused from the headers), or streamed without a length.
    let mut past = data[200_000..].to_vec();
    past.extend_from_slice(b"one byte too many");
    let (s, _, b) = tus.patch_with(&location, 200_000, past.clone(), |r| r).await;
    assert_error(s, &b, 413, "past_length");
    let stream =
        futures_util::stream::iter(past.chunks(4096).map(|c| Ok::<_, std::io::Error>(c.to_vec())).collect::<Vec<_>>());
    let (s, _, b) =
        tus.patch_with(&location, 200_000, Vec::new(), |r| r.body(reqwest::Body::wrap_stream(stream))).await;
    assert_error(s, &b, 413, "past_length");
    assert_eq!(tus.offset(&location).await, 200_000);

    // Unknown ids, and no Tus-Resumable.
    let (s, _, b) = tus.patch_with("/api/v1/uploads/00000000-0000-4000-8000-000000000000", 0, vec![1], |r| r).await;
    assert_error(s, &b, 404, "upload_not_found");
    let resp = node
        .client
        .patch(format!("{}{location}", node.url))
        .header("content-type", OCTETS)
        .header("upload-offset", "200000")
        .body(vec![1])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 412);

    let id = tus.finish(&location, &data).await;
    let meta: IsoMetadata = crate::support::get_json(&node.client, &format!("{}/api/v1/images/{id}", node.url)).await;
    assert_eq!(meta.checksum.as_deref(), Some(sha256_wire(&data).as_str()));
    assert!(std::fs::read(node.iso_dir("local").join("chunks.iso")).unwrap() == data);
}

#[tokio::test]
async fn a_second_chunk_while_one_is_being_written_is_refused() {
    let node = TestNode::spawn(&[pool("local")]).await;
    let tus = Tus::of(&node);
    let data = pattern(25, 2 << 20);
    let location = tus.create(data.len(), &[("filename", "busy.iso")]).await;
    let (addr, token, loc, first) = (node.addr, node.token.clone(), location.clone(), data[..1 << 20].to_vec());
    let slow = tokio::spawn(async move {
        // Sends all but the last byte slowly, then hangs up: the chunk is open for a while.
        CutChunk::new(&loc, 0, first.len(), &first[..first.len() - 1])
            .paced(Duration::from_millis(50))
            .send(addr, &token)
            .await
    });
    // 16 blocks 50 ms apart: the first chunk is open for 800 ms.
    tokio::time::sleep(Duration::from_millis(250)).await;
    let (s, _, b) = tus.patch_with(&location, 0, data[..1000].to_vec(), |r| r).await;
    assert_error(s, &b, 423, "upload_busy");
    let (s, _, b) = tus.delete(&location).await;
    assert_error(s, &b, 423, "upload_busy");
    slow.await.unwrap();
    let id = tus.finish(&location, &data).await;
    let meta: IsoMetadata = crate::support::get_json(&node.client, &format!("{}/api/v1/images/{id}", node.url)).await;
    assert_eq!(meta.checksum.as_deref(), Some(sha256_wire(&data).as_str()));
}

impl Tus {
    async fn delete(&self, location: &str) -> (u16, reqwest::header::HeaderMap, serde_json::Value) {
        let resp = self
            .client
            .delete(format!("{}{location}", self.url))
            .header("tus-resumable", "1.0.0")
            .send()
            .await
            .unwrap();
        let (status, headers) = (resp.status().as_u16(), resp.headers().clone());
        (status, headers, resp.json().await.unwrap_or_default())
    }
}

#[tokio::test]
async fn unfinished_uploads_hold_their_room_until_cancelled() {
    let node = TestNode::spawn(&[PoolOpt { id: "tiny", quota: Some(1 << 20) }]).await;
    let tus = Tus::of(&node);
    let location = tus.create(700_000, &[("filename", "first.iso")]).await;
    assert_eq!(tus.patch(&location, 0, &pattern(26, 1000)).await.0, 204);
    // The first upload's whole length is claimed, not the 1000 bytes it holds.
    let (s, _, b) = tus.create_raw("700000", &metadata(&[("filename", "second.iso")])).await;
    assert_error(s, &b, 507, "insufficient_storage");
    let (s, _, b) = tus.create_raw("100", &metadata(&[("filename", "first.iso")])).await;
    assert_error(s, &b, 409, "upload_in_progress");

    let (s, _, _) = tus.delete(&location).await;
    assert_eq!(s, 204);
    assert!(staging_files(&node, "tiny").is_empty(), "the staging file is removed");
    assert_eq!(tus.head(&location).await.0, 404);
    assert!(tus.list().await.uploads.is_empty());
    tus.create(700_000, &[("filename", "first.iso")]).await;
}

#[tokio::test]
async fn an_expired_upload_leaves_nothing_and_frees_its_room() {
    let root = tempfile::tempdir().unwrap();
    let mut config = node_config(&root, &[PoolOpt { id: "tiny", quota: Some(1 << 20) }]);
    // Counted in whole seconds: at least 2 s pass before it expires, time for the first chunk.
    config.upload_expiry = Duration::from_secs(3);
    let node = TestNode::spawn_with(root, config).await;
    let tus = Tus::of(&node);
    let location = tus.create(900_000, &[("filename", "forgotten.iso")]).await;
    assert_eq!(tus.patch(&location, 0, &pattern(27, 5000)).await.0, 204);
    eventually(Duration::from_secs(10), "the sweep removes the upload", || async {
        tus.list().await.uploads.is_empty() && staging_files(&node, "tiny").is_empty()
    })
    .await;
    assert!(matches!(tus.head(&location).await.0, 404 | 410));
    let (s, _, b) = tus.patch_with(&location, 5000, vec![0; 10], |r| r).await;
    assert!(s == 404 || s == 410, "{s} {b}");
    // Its name and room are free again.
    tus.create(900_000, &[("filename", "forgotten.iso")]).await;
}

#[tokio::test]
async fn a_file_that_does_not_match_its_checksum_is_not_kept() {
    let node = TestNode::spawn(&[pool("local")]).await;
    let tus = Tus::of(&node);
    let data = pattern(28, 50_000);
    let wrong = sha256_wire(b"something else");
    let location = tus.create(data.len(), &[("filename", "liar.iso"), ("checksum", &wrong)]).await;
    assert_eq!(tus.patch(&location, 0, &data[..20_000]).await.0, 204);
    let (s, _, b) = tus.patch_with(&location, 20_000, data[20_000..].to_vec(), |r| r).await;
    assert_error(s, &b, 422, "checksum_mismatch");
    assert!(node.files("local").is_empty(), "nothing kept: {:?}", node.files("local"));
    assert!(tus.list().await.uploads.is_empty());
    assert!(node.list("").await.images.is_empty());

    // The promise outlives a restart of the node.
    let location = tus.create(data.len(), &[("filename", "liar.iso"), ("checksum", &wrong)]).await;
    assert_eq!(tus.patch(&location, 0, &data[..20_000]).await.0, 204);
    // A resumable upload's file that no upload owns (its row is gone) is removed at the next start.
    let orphan = node.iso_dir("local").join(".quantix-upload-resumable-00000000-0000-4000-8000-000000000000.part");
    std::fs::write(&orphan, b"nobody's").unwrap();
    let (root, config) = node.stop().await;
    let node = TestNode::spawn_with(root, config).await;
    let tus = Tus::of(&node);
    assert!(!orphan.exists(), "the orphan staging file was removed");
    assert_eq!(staging_files(&node, "local").len(), 1, "the live upload's file was kept");
    let (s, _, b) = tus.patch_with(&location, 20_000, data[20_000..].to_vec(), |r| r).await;
    assert_error(s, &b, 422, "checksum_mismatch");
    assert!(node.files("local").is_empty(), "nothing kept: {:?}", node.files("local"));
}

#[tokio::test]
async fn an_ova_sent_in_chunks_is_read_like_one_sent_whole() {
    use crate::support::ova_image::{ManifestDigest, OvaSpec, OvfSpec};
    let node = TestNode::spawn(&[pool("local")]).await;
    let tus = Tus::of(&node);
    let ovf = OvfSpec { vcpus: 4, files: vec!["disk1.vmdk".into()], ..OvfSpec::default() };
    let data = OvaSpec::new("appliance.ovf", &ovf.to_xml())
        .member("disk1.vmdk", &pattern(30, 300_000))
        .manifest(ManifestDigest::Sha256)
        .build();
    let location = tus.create(data.len(), &[("filename", "appliance.ova")]).await;
    assert_eq!(tus.patch(&location, 0, &data[..1000]).await.0, 204);
    let id = tus.finish(&location, &data).await;
    let image: IsoMetadata = crate::support::get_json(&node.client, &format!("{}/api/v1/images/{id}", node.url)).await;
    let ova = image.ova.expect("the descriptor was read");
    assert_eq!((ova.vcpus, ova.manifest), (Some(4), app::model::ManifestState::Verified));
}

/// What a resume costs: re-hashing the prefix from disk, or restoring the saved hash state. Run with
/// `cargo test -p server --test it -- --ignored resume_hash_cost --nocapture` (TUS_BENCH_MIB sets the
/// prefix, 1024 by default).
#[test]
#[ignore]
fn resume_hash_cost() {
    use server::node::ingest::Sha256State;
    use std::io::{Read, Write};
    use std::os::unix::fs::OpenOptionsExt;
    let mib: usize = std::env::var("TUS_BENCH_MIB").ok().and_then(|s| s.parse().ok()).unwrap_or(1024);
    let dir = tempfile::tempdir_in(std::env::var("TUS_BENCH_DIR").unwrap_or_else(|_| "/var/tmp".into())).unwrap();
    let path = dir.path().join("prefix");
    let block = pattern(29, 4 << 20);
    let mut file = std::fs::File::create(&path).unwrap();
    let mut state = Sha256State::default();
    for _ in 0..mib / 4 {
        file.write_all(&block).unwrap();
        state.update(&block);
    }
    file.sync_all().unwrap();
    // As after an upload's direct writes, or a restart: the prefix is not in the page cache.
    let _ = rustix::fs::fadvise(&file, 0, None, rustix::fs::Advice::DontNeed);
    drop(file);

    let started = std::time::Instant::now();
    let mut rehashed = Sha256State::default();
    let mut f = std::fs::OpenOptions::new().read(true).custom_flags(0).open(&path).unwrap();
    let mut buf = vec![0u8; 4 << 20];
    loop {
        let n = f.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        rehashed.update(&buf[..n]);
    }
    let rehash = started.elapsed();

    let started = std::time::Instant::now();
    let saved = state.to_bytes();
    let restored = Sha256State::from_bytes(&saved).unwrap();
    let restore = started.elapsed();
    assert!(restored == rehashed);
    println!(
        "resume after {mib} MiB: re-hash the prefix {:.3} s ({:.0} MiB/s); restore the saved state ({} bytes) {:.1} µs",
        rehash.as_secs_f64(),
        mib as f64 / rehash.as_secs_f64(),
        saved.len(),
        restore.as_secs_f64() * 1e6
    );
}
