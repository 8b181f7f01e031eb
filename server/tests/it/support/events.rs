//! A reader of a live-update stream (`GET /api/v1/events`), as a browser's `EventSource` reads it.

use std::time::Duration;

use futures_util::StreamExt;

/// One server-sent event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sse {
    pub event: String,
    pub data: String,
}

impl Sse {
    /// The ids a `change` lists (none: it lists none).
    pub fn ids(&self) -> Vec<String> {
        let data: serde_json::Value = serde_json::from_str(&self.data).unwrap_or_default();
        data["ids"].as_array().into_iter().flatten().filter_map(|v| v.as_str().map(str::to_owned)).collect()
    }
}

pub struct EventStream {
    body: futures_util::stream::BoxStream<'static, reqwest::Result<bytes::Bytes>>,
    buffer: String,
}

impl EventStream {
    /// Opens `{url}/api/v1/events` with `client`, sending `headers` (e.g. `Last-Event-ID`).
    pub async fn open(client: &reqwest::Client, url: &str, headers: &[(&str, &str)]) -> EventStream {
        let mut req = client.get(format!("{url}/api/v1/events"));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), 200, "the event stream opens");
        EventStream { body: resp.bytes_stream().boxed(), buffer: String::new() }
    }

    /// The next event within `within`, ticks included.
    pub async fn next(&mut self, within: Duration) -> Option<Sse> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let (mut event, mut data) = (String::from("message"), String::new());
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        event = v.trim().to_owned();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data = v.trim().to_owned();
                    }
                }
                // Keep-alive comments are blocks without an event line.
                if block.lines().any(|l| l.starts_with("event:")) {
                    return Some(Sse { event, data });
                }
                continue;
            }
            let chunk = tokio::time::timeout_at(deadline, self.body.next()).await.ok()??.ok()?;
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }

    /// The next event other than `tick` within `within`.
    pub async fn next_news(&mut self, within: Duration) -> Option<Sse> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let e = self.next(left).await?;
            if e.event != "tick" {
                return Some(e);
            }
        }
    }
}
