//! What is on disk before an upload is answered 201, read off the node's system calls (strace). A kill -9
//! keeps the page cache, so only a power cut would show a skipped fsync, and no test here can cut the
//! power; the order of the calls shows it instead. The 201 is a promise once, in this order:
//! 1. the staged file's data is synced (fsync or fdatasync of the staging file),
//! 2. it is renamed into place (never replacing a file),
//! 3. the directory holding it is synced (the rename itself is durable),
//! 4. the image's row and its outbox record are committed and synced (SQLite's WAL),
//! 5. and only then does "HTTP/1.1 201" leave on the socket.

use std::collections::HashMap;

use crate::support::{
    process::{Process, free_addr},
    skip,
};

/// One system call as strace saw it: where its entry and its return are in the trace, and its text.
#[derive(Debug)]
struct Call {
    entry: usize,
    exit: usize,
    text: String,
}

/// Joins strace's `<unfinished ...>` / `<... resumed>` halves (several threads call at once) into calls.
fn calls(trace: &str) -> Vec<Call> {
    let mut open: HashMap<&str, (usize, String)> = HashMap::new();
    let mut out = Vec::new();
    for (i, line) in trace.lines().enumerate() {
        let Some((pid, rest)) = line.split_once(' ') else { continue };
        let rest = rest.trim_start();
        if let Some(head) = rest.strip_suffix("<unfinished ...>") {
            open.insert(pid, (i, head.trim_end().to_owned()));
        } else if rest.starts_with("<...") {
            if let Some((entry, head)) = open.remove(pid) {
                let tail = rest.split_once("resumed>").map_or("", |(_, t)| t.trim_start());
                out.push(Call { entry, exit: i, text: format!("{head}{tail}") });
            }
        } else {
            out.push(Call { entry: i, exit: i, text: rest.to_owned() });
        }
    }
    out.sort_by_key(|c| c.entry);
    out
}

fn is_sync_of(call: &Call, path_part: &str) -> bool {
    (call.text.starts_with("fsync(") || call.text.starts_with("fdatasync("))
        && call.text.contains(path_part)
        && call.text.trim_end().ends_with("= 0")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_is_durable_before_it_is_answered() {
    if std::process::Command::new("strace").arg("-V").output().is_err() {
        skip("strace is not installed (scripts/test installs it)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    let (pool, trace) = (root.join("pool"), root.join("trace"));
    let addr = free_addr();
    let strace = [
        "strace",
        "-f",
        "-qq",
        "-y",
        "-s",
        "16",
        "-e",
        "trace=fsync,fdatasync,rename,renameat,renameat2,write,writev,sendto,sendmsg",
        "-o",
        &trace.display().to_string(),
    ];
    let mut node = Process::start_wrapped(
        addr,
        [
            "node",
            "--listen",
            &addr.to_string(),
            "--data-dir",
            &root.join("data").display().to_string(),
            "--pool",
            &format!("local={}", pool.display()),
            "--site-root",
            "/nonexistent",
        ]
        .map(String::from)
        .to_vec(),
        strace.map(String::from).to_vec(),
    )
    .await;
    let bytes: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let part = reqwest::multipart::Part::bytes(bytes).file_name("traced.iso");
    let resp = node
        .client()
        .post(format!("{}/api/v1/storage/upload?folder=/traced", node.url))
        .multipart(reqwest::multipart::Form::new().part("file", part))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let id = resp.json::<serde_json::Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
    node.kill9();

    let text = std::fs::read_to_string(&trace).unwrap();
    let calls = calls(&text);
    let iso = pool.join("iso");
    let (staging, placed) = (
        format!("{}/{}", iso.display(), server::node::pools::STAGING_PREFIX),
        format!("{}/traced.iso\"", iso.display()),
    );
    let rename = calls
        .iter()
        .find(|c| c.text.starts_with("rename") && c.text.contains(&placed) && c.text.trim_end().ends_with("= 0"))
        .unwrap_or_else(|| panic!("no rename into {placed} in the trace:\n{text}"));
    let answer = calls
        .iter()
        // The upload's own answer (signing in answers 201 too): its body starts with the image's id.
        .find(|c| c.text.contains("HTTP/1.1 201") && c.text.contains(&id[..8]))
        .unwrap_or_else(|| panic!("no 201 with image {id} written in the trace:\n{text}"));
    let file_synced = calls.iter().any(|c| is_sync_of(c, &staging) && c.exit < rename.entry);
    let dir_synced = calls
        .iter()
        .any(|c| is_sync_of(c, &format!("<{}>)", iso.display())) && c.entry > rename.exit && c.exit < answer.entry);
    let row_synced =
        calls.iter().any(|c| is_sync_of(c, "node.db-wal>") && c.entry > rename.exit && c.exit < answer.entry);
    let relevant: Vec<&str> = calls
        .iter()
        .filter(|c| {
            c.text.contains(&iso.display().to_string()) || c.text.contains("node.db") || c.text.contains("HTTP/1.1")
        })
        .map(|c| c.text.as_str())
        .collect();
    let order = relevant.join("\n");
    assert!(file_synced, "the staged file was renamed into place before its data was synced:\n{order}");
    assert!(dir_synced, "the 201 left before the rename into the pool was synced (its directory):\n{order}");
    assert!(row_synced, "the 201 left before the image's row was committed and synced:\n{order}");
}
