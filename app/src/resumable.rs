//! The browser's side of a resumable upload (tus 1.0 to the node's `/api/v1/uploads`): what to send next
//! after each answer, how long to wait before retrying a dropped connection, the `Upload-Metadata`
//! header, and the key under which the browser remembers an unfinished upload so that picking the same
//! file again offers to resume it. Pure decisions, so they are tested here; `browser` does the requests.

use crate::model::{FolderPath, PoolId};

/// Bytes per `PATCH`: a dropped connection costs at most this much again.
pub const CHUNK_BYTES: u64 = 8 << 20;
/// Retries of one chunk before the upload is given up (its bytes so far stay on the node to resume).
pub const MAX_RETRIES: u32 = 8;

/// How long to wait before retry `attempt` (1, 2, …): 0.5 s doubling, at most 15 s.
pub fn backoff_ms(attempt: u32) -> u64 {
    (500u64 << attempt.saturating_sub(1).min(5)).min(15_000)
}

/// What the browser remembers of an unfinished upload, keyed by the file (name, size, modification
/// time) and where it goes, so the same file picked again for the same place resumes it.
pub fn fingerprint(name: &str, size: u64, modified_ms: f64, pool: &PoolId, folder: &FolderPath) -> String {
    format!("quantix-upload:{pool}:{folder}:{size}:{modified_ms}:{name}")
}

/// `Upload-Metadata`: `key base64(value)` pairs.
pub fn metadata(filename: &str, pool: &PoolId, folder: &FolderPath) -> String {
    [("filename", filename), ("pool_id", pool.as_str()), ("folder", folder.as_str())]
        .iter()
        .map(|(k, v)| format!("{k} {}", base64(v.as_bytes())))
        .collect::<Vec<_>>()
        .join(",")
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// What a request came back with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// The connection failed (dropped, refused, aborted by the network): nothing is known of the bytes.
    Lost,
    Status {
        status: u16,
        offset: Option<u64>,
        image_id: Option<String>,
        location: Option<String>,
        message: String,
    },
}

/// What to do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// Send the bytes from this offset.
    Send(u64),
    /// Ask the node where the upload stands (`HEAD`), after waiting this long.
    Ask { wait_ms: u64 },
    /// The node has the whole file: this image.
    Done(String),
    /// Give up, in words; `keep`: the bytes so far stay on the node, to resume later.
    Fail { message: String, keep: bool },
}

/// After a `PATCH` of the upload of `size` bytes (retry `attempt` of this chunk, 0 the first time).
pub fn after_patch(answer: &Answer, size: u64, attempt: u32) -> Next {
    match answer {
        Answer::Status { status: 204, offset: Some(_), image_id: Some(id), .. } => Next::Done(id.clone()),
        Answer::Status { status: 204, offset: Some(o), .. } if *o < size => Next::Send(*o),
        // The offset was not the node's (another tab, a lost answer): ask where it stands.
        Answer::Status { status: 409, .. } => Next::Ask { wait_ms: 0 },
        Answer::Lost | Answer::Status { status: 502..=504 | 423, .. } => retry(attempt),
        other => failed(other, "the upload"),
    }
}

/// After a `HEAD` (where the upload stands).
pub fn after_head(answer: &Answer, size: u64, attempt: u32) -> Next {
    match answer {
        Answer::Status { status: 200, offset: Some(o), .. } if *o < size => Next::Send(*o),
        Answer::Status { status: 404 | 410, .. } => Next::Fail {
            message: "The node no longer has this upload (it expired or was cancelled); upload the file again.".into(),
            keep: false,
        },
        Answer::Lost | Answer::Status { status: 502..=504, .. } => retry(attempt),
        other => failed(other, "asking where the upload stands"),
    }
}

fn retry(attempt: u32) -> Next {
    if attempt >= MAX_RETRIES {
        return Next::Fail {
            message: format!(
                "The connection to the node kept failing ({MAX_RETRIES} retries); what arrived is kept: pick the file again to resume."
            ),
            keep: true,
        };
    }
    Next::Ask { wait_ms: backoff_ms(attempt + 1) }
}

fn failed(answer: &Answer, during: &str) -> Next {
    let message = match answer {
        Answer::Status { message, .. } if !message.is_empty() => message.clone(),
        Answer::Status { status, .. } => format!("The node answered {status} to {during}."),
        Answer::Lost => format!("The connection was lost during {during}."),
    };
    Next::Fail { message, keep: false }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(status: u16, offset: Option<u64>) -> Answer {
        Answer::Status { status, offset, image_id: None, location: None, message: String::new() }
    }

    #[test]
    fn metadata_values_are_base64_as_tus_says() {
        let pool: PoolId = "local".parse().unwrap();
        let folder = FolderPath::parse("/Linux/Ubuntu").unwrap();
        assert_eq!(metadata("ä.iso", &pool, &folder), "filename w6QuaXNv,pool_id bG9jYWw=,folder L0xpbnV4L1VidW50dQ==");
        assert_eq!([base64(b""), base64(b"f"), base64(b"fo"), base64(b"foo")], ["", "Zg==", "Zm8=", "Zm9v"]);
    }

    #[test]
    fn a_dropped_chunk_is_retried_with_backoff_from_where_the_node_stands() {
        assert_eq!(after_patch(&Answer::Lost, 100, 0), Next::Ask { wait_ms: 500 });
        assert_eq!(after_patch(&Answer::Lost, 100, 3), Next::Ask { wait_ms: 4000 });
        assert_eq!(backoff_ms(20), 15_000);
        assert!(matches!(after_patch(&Answer::Lost, 100, MAX_RETRIES), Next::Fail { keep: true, .. }));
        assert_eq!(after_head(&status(200, Some(40)), 100, 1), Next::Send(40));
        assert_eq!(after_patch(&status(409, None), 100, 0), Next::Ask { wait_ms: 0 });
    }

    #[test]
    fn the_last_chunk_names_the_image_and_refusals_end_in_words() {
        let done = Answer::Status {
            status: 204,
            offset: Some(100),
            image_id: Some("i".into()),
            location: None,
            message: String::new(),
        };
        assert_eq!(after_patch(&done, 100, 0), Next::Done("i".into()));
        assert_eq!(after_patch(&status(204, Some(64)), 100, 0), Next::Send(64));
        let refused =
            Answer::Status { status: 507, offset: None, image_id: None, location: None, message: "No room.".into() };
        assert_eq!(after_patch(&refused, 100, 0), Next::Fail { message: "No room.".into(), keep: false });
        assert!(matches!(after_head(&status(404, None), 100, 0), Next::Fail { keep: false, .. }));
    }
}
