//! Every request's id: taken from an incoming `x-request-id` when it is sane, else made here; echoed in
//! the response's `x-request-id`, in error bodies (`request_id`), and carried by the request's span, so
//! one id finds a request in the log (a node's sync call in the vdc's log too: the node sends its own).

use axum::{
    extract::Request,
    middleware::Next,
    response::{IntoResponse, Response},
};
use http::HeaderValue;
use tracing::Instrument;

pub const HEADER: &str = "x-request-id";

/// Longest id taken from a client.
const MAX_LEN: usize = 128;

tokio::task_local! {
    static CURRENT: String;
}

/// An id a client may choose: short, and only characters that are safe in a log line and a header.
fn sane(id: &str) -> bool {
    (1..=MAX_LEN).contains(&id.len())
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':' | b'@'))
}

/// A fresh id: 128 random bits.
pub fn generate() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// The id of the request being served by this task, if any (an in-process API call made while a page
/// renders shares the page request's id).
pub fn current() -> Option<String> {
    CURRENT.try_with(Clone::clone).ok()
}

/// The outermost layer of a role: names the request, serves it inside a span that carries the id, and
/// echoes the id to the client.
pub async fn layer(req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| sane(v))
        .map_or_else(generate, str::to_owned);
    let span = tracing::info_span!("request", request_id = %id, method = %req.method(), path = %req.uri().path());
    // The request runs to completion in a task of its own. When the handler ran in the connection's
    // task, a client that went away (a cut connection, its own timeout) dropped it wherever it awaited,
    // even between a database's BEGIN and the transaction's guard: the connection went back to the pool
    // inside a transaction, every later write on it failed, and SQLite's write lock was held for good
    // (found by the fault suite). A request body still ends when its client goes, so an abandoned
    // upload stops as before.
    let serving = tokio::spawn(CURRENT.scope(id.clone(), next.run(req).instrument(span)));
    let mut response = match serving.await {
        Ok(response) => response,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        // Only at runtime shutdown.
        Err(_) => return http::StatusCode::SERVICE_UNAVAILABLE.into_response(),
    };
    response.headers_mut().insert(HEADER, HeaderValue::from_str(&id).expect("a sane id is a header value"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_short_plain_ids_are_taken_from_clients() {
        for ok in ["abc", "0f9c2c1e-6d7a-4c43-9a55-2b8f5f2f1c7e", "sync.42:hv-07@node", &"x".repeat(128)] {
            assert!(sane(ok), "{ok}");
        }
        for bad in ["", "a b", "a\nb", "ä", "<script>", &"x".repeat(129), "a\"b"] {
            assert!(!sane(bad), "{bad:?}");
        }
        assert!(sane(&generate()));
    }
}
