//! The HTTP side of a download: one GET (from an offset, to resume), redirects followed by hand so each
//! hop is checked by the [`TargetPolicy`], and every failure put in words an admin can act on.

use std::{sync::Arc, time::Duration};

use http::{HeaderValue, StatusCode, header};
use reqwest::Url;

use super::guard::{GuardedResolver, Refusal, ResolveError, TargetPolicy};
use crate::http::{client::PeerTrust, error_chain, tls::TlsError};

/// Redirects followed before a download gives up (as many as browsers and curl allow by default).
const MAX_REDIRECTS: usize = 10;

/// Why a transfer from the source failed; the text is what the task shows.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error("The server redirected to {to}, which is refused: {why}")]
    RedirectRefused { to: String, why: Refusal },
    #[error("{0}")]
    Dns(String),
    #[error(
        "The secure connection to {host} failed ({detail}): its certificate is not one this node trusts, or it does not speak HTTPS."
    )]
    Tls { host: String, detail: String },
    #[error("Could not connect to {host}: {detail}.")]
    Connect { host: String, detail: String },
    #[error("The server answered {status} instead of the file{hint}.")]
    Status { status: String, hint: &'static str },
    #[error("The server redirected more than {MAX_REDIRECTS} times.")]
    TooManyRedirects,
    #[error("The server redirected to a location that is not a URL: {0:?}.")]
    BadRedirect(String),
    #[error(
        "The server did not say how large the file is (no Content-Length), so no room can be set aside for it; this node downloads only from servers that announce the size."
    )]
    NoLength,
    #[error(
        "The server sent a web page ({0}), not an image file: the URL is probably a download page rather than the file itself."
    )]
    WebPage(String),
    #[error("The server sent nothing for {0} s.")]
    Stalled(u64),
    #[error("The connection broke off: {0}.")]
    Dropped(String),
    #[error("The server closed the connection after {got} of the {total} bytes it announced.")]
    Short { got: u64, total: u64 },
    #[error("The server sent more bytes than the {0} it announced.")]
    TooLong(u64),
    #[error("the server cannot carry on from byte {at}: {why}.")]
    CannotResume { at: u64, why: String },
    #[error("{broke} Resuming failed: {then}")]
    ResumeFailed { broke: Box<FetchError>, then: Box<FetchError> },
    #[error("{last} Gave up after {attempts} attempts to resume.")]
    GaveUp { last: Box<FetchError>, attempts: u32 },
    #[error("The request to the server failed: {0}.")]
    Request(String),
}

impl FetchError {
    /// A broken connection, which a resume may get past (anything else fails the download at once).
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            FetchError::Stalled(_) | FetchError::Dropped(_) | FetchError::Short { .. } | FetchError::Connect { .. }
        )
    }
}

/// What identifies the version of the file being read, so a resume gets the same one (`If-Range`).
pub type Validator = Option<HeaderValue>;

/// The download client: checked DNS, no proxy, no automatic redirects.
pub struct Fetcher {
    client: reqwest::Client,
    policy: Arc<TargetPolicy>,
    idle: Duration,
}

impl Fetcher {
    pub fn new(policy: TargetPolicy, idle: Duration, trust: &PeerTrust) -> Result<Fetcher, TlsError> {
        let policy = Arc::new(policy);
        let client = reqwest::Client::builder()
            .use_preconfigured_tls(crate::http::client::tls_config(trust)?)
            .dns_resolver(Arc::new(GuardedResolver(policy.clone())))
            // A proxy from the environment would connect for us, to addresses nobody checked.
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(idle)
            .user_agent(concat!("quantix-iso/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| TlsError::Config(e.to_string()))?;
        Ok(Fetcher { client, policy, idle })
    }

    pub fn policy(&self) -> &TargetPolicy {
        &self.policy
    }

    pub fn idle(&self) -> Duration {
        self.idle
    }

    /// GETs `url`, from byte `from` on when given (with the validator of the first answer), following
    /// redirects, each checked; the first answer that is not a redirect. A copy between nodes carries
    /// the vdc's `ticket`.
    pub async fn get(
        &self,
        url: &Url,
        from: Option<(u64, &Validator)>,
        ticket: Option<&HeaderValue>,
    ) -> Result<reqwest::Response, FetchError> {
        let mut url = url.clone();
        for hop in 0..=MAX_REDIRECTS {
            let redirected = |e: FetchError| match e {
                FetchError::Refused(why) if hop > 0 => FetchError::RedirectRefused { to: url.to_string(), why },
                e => e,
            };
            self.policy.check_url(&url).map_err(|why| redirected(why.into()))?;
            // Compressed bytes would not be the file, nor its announced length.
            let mut req = self.client.get(url.clone()).header(header::ACCEPT_ENCODING, "identity");
            if let Some(ticket) = ticket {
                req = req.header(crate::auth::ticket::TICKET_HEADER, ticket.clone());
            }
            if let Some((offset, validator)) = from {
                req = req.header(header::RANGE, format!("bytes={offset}-"));
                if let Some(v) = validator {
                    req = req.header(header::IF_RANGE, v.clone());
                }
            }
            let resp = tokio::time::timeout(self.idle, req.send())
                .await
                .map_err(|_| FetchError::Stalled(self.idle.as_secs()))?
                .map_err(|e| redirected(classify(&e, &url)))?;
            let follow = matches!(resp.status().as_u16(), 301 | 302 | 303 | 307 | 308);
            match resp.headers().get(header::LOCATION).filter(|_| follow) {
                Some(location) => {
                    let text = String::from_utf8_lossy(location.as_bytes()).into_owned();
                    url = url.join(&text).map_err(|_| FetchError::BadRedirect(text))?;
                }
                None => return Ok(resp),
            }
        }
        Err(FetchError::TooManyRedirects)
    }
}

/// What a first answer says: the file's size and the validator a resume sends back. Refuses anything
/// but the whole file.
pub fn whole_file(resp: &reqwest::Response) -> Result<(u64, Validator), FetchError> {
    if resp.status() != StatusCode::OK {
        return Err(status_error(resp.status()));
    }
    let content_type = resp.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if content_type.split(';').next().is_some_and(|t| t.trim().eq_ignore_ascii_case("text/html")) {
        return Err(FetchError::WebPage(content_type.to_owned()));
    }
    let total = content_length(resp).ok_or(FetchError::NoLength)?;
    // A weak ETag may not be used with If-Range; the modification date then stands in.
    let etag = resp.headers().get(header::ETAG).filter(|v| !v.as_bytes().starts_with(b"W/"));
    let validator = etag.or_else(|| resp.headers().get(header::LAST_MODIFIED)).cloned();
    Ok((total, validator))
}

/// Checks that an answer to `Range: bytes=<at>-` carries exactly the rest of the same file.
pub fn rest_of_file(resp: &reqwest::Response, at: u64, total: u64) -> Result<(), FetchError> {
    let cannot = |why: &str| FetchError::CannotResume { at, why: why.to_owned() };
    match resp.status() {
        StatusCode::PARTIAL_CONTENT => {}
        StatusCode::OK => return Err(cannot("it ignores Range requests, or the file changed meanwhile")),
        other => return Err(status_error(other)),
    }
    let range = resp.headers().get(header::CONTENT_RANGE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let expected = format!("bytes {at}-{}/{total}", total - 1);
    if range != expected {
        return Err(cannot(&format!("it sent the range {range:?}, not {expected:?}")));
    }
    if content_length(resp) != Some(total - at) {
        return Err(cannot("its Content-Length does not match the range it sent"));
    }
    Ok(())
}

/// The announced length, read from the header itself (reqwest's own reading guesses for some bodies).
fn content_length(resp: &reqwest::Response) -> Option<u64> {
    resp.headers().get(header::CONTENT_LENGTH)?.to_str().ok()?.trim().parse().ok()
}

fn status_error(status: StatusCode) -> FetchError {
    let hint = match status.as_u16() {
        401 | 403 => " (the file is not public)",
        404 | 410 => " (there is no file at this URL)",
        416 => " (the server refused the range asked for)",
        500..=599 => " (the server failed; try again later)",
        _ => "",
    };
    FetchError::Status { status: status.to_string(), hint }
}

/// Finds an error of type `T` in `e`'s chain, also inside the I/O errors that wrap TLS failures.
fn find<'a, T: std::error::Error + 'static>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a T> {
    let mut next = Some(e);
    while let Some(e) = next {
        if let Some(found) = e.downcast_ref::<T>() {
            return Some(found);
        }
        if let Some(inner) = e.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref())
            && let Some(found) = find::<T>(inner)
        {
            return Some(found);
        }
        next = e.source();
    }
    None
}

/// What a failed request means for the admin.
pub fn classify(e: &reqwest::Error, url: &Url) -> FetchError {
    let host = url.host_str().unwrap_or_default().to_owned();
    match find::<ResolveError>(e) {
        Some(ResolveError::Refused(why)) => return FetchError::Refused(why.clone()),
        Some(lookup) => return FetchError::Dns(lookup.to_string()),
        None => {}
    }
    if let Some(tls) = find::<rustls::Error>(e) {
        return FetchError::Tls { host, detail: tls.to_string() };
    }
    let detail = error_chain(e);
    if e.is_connect() {
        FetchError::Connect { host, detail }
    } else if e.is_body() || e.is_decode() {
        FetchError::Dropped(detail)
    } else {
        FetchError::Request(detail)
    }
}
