//! `/api/v1/uploads`: resumable uploads, tus 1.0 (core, creation, checksum with sha256, termination,
//! expiration). The headers are read here; what they mean is [`Resumable`](crate::node::ingest::resumable).

use app::model::{ErrorBody, FolderPath, ResumableUpload, ResumableUploadList};
use axum::{
    Extension,
    body::Body,
    extract::State,
    response::{IntoResponse, Response},
};
use base64::{Engine, engine::general_purpose::STANDARD};
use futures_util::StreamExt;
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};

use crate::auth::routes::AuditTarget;
use crate::http::{ApiError, PathId};
use crate::node::{
    NodeState,
    ingest::{IngestError, IngestTarget, Sha256Digest, resumable::Chunk},
};
use crate::telemetry::metrics::UploadInFlight;

pub const TUS_VERSION: &str = "1.0.0";
const EXTENSIONS: &str = "creation,checksum,termination,expiration";
const OFFSET_OCTET_STREAM: &str = "application/offset+octet-stream";

const TUS_RESUMABLE: HeaderName = HeaderName::from_static("tus-resumable");
const UPLOAD_OFFSET: HeaderName = HeaderName::from_static("upload-offset");
const UPLOAD_LENGTH: HeaderName = HeaderName::from_static("upload-length");
const UPLOAD_EXPIRES: HeaderName = HeaderName::from_static("upload-expires");
const UPLOAD_METADATA: HeaderName = HeaderName::from_static("upload-metadata");
const UPLOAD_CHECKSUM: HeaderName = HeaderName::from_static("upload-checksum");
const IMAGE_ID: HeaderName = HeaderName::from_static("x-image-id");

/// Layer of every tus route: each answer says which protocol it speaks, a 412 also which versions.
pub async fn protocol_headers(mut resp: Response) -> Response {
    let headers = resp.headers_mut();
    headers.insert(TUS_RESUMABLE, HeaderValue::from_static(TUS_VERSION));
    if resp.status() == StatusCode::PRECONDITION_FAILED {
        resp.headers_mut().insert("tus-version", HeaderValue::from_static(TUS_VERSION));
    }
    resp
}

/// Every request but `OPTIONS` names the protocol version it speaks; only 1.0.0 is spoken here.
fn require_version(headers: &HeaderMap) -> Result<(), ApiError> {
    match headers.get(&TUS_RESUMABLE).map(|v| v.as_bytes()) {
        Some(v) if v == TUS_VERSION.as_bytes() => Ok(()),
        _ => Err(ApiError::new(
            StatusCode::PRECONDITION_FAILED,
            "unsupported_tus_version",
            format!("This server speaks tus {TUS_VERSION}: send the header Tus-Resumable: {TUS_VERSION}."),
        )),
    }
}

/// A header holding a byte count or offset: digits only (no sign, no spaces).
fn count(headers: &HeaderMap, name: &HeaderName, what: &str) -> Result<Option<u64>, ApiError> {
    let Some(raw) = headers.get(name) else { return Ok(None) };
    let text = raw.to_str().unwrap_or_default();
    let bad = || {
        ApiError::bad_request(
            "invalid_header",
            format!("{what} must be a whole number of bytes, not \"{}\".", text.chars().take(40).collect::<String>()),
        )
    };
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    // At most what SQLite's integer holds.
    text.parse::<i64>().map(|n| Some(n as u64)).map_err(|_| bad())
}

fn offset_headers(offset: u64) -> [(HeaderName, HeaderValue); 2] {
    [(UPLOAD_OFFSET, HeaderValue::from(offset)), (header::CACHE_CONTROL, HeaderValue::from_static("no-store"))]
}

fn expires_header(at: i64) -> (HeaderName, HeaderValue) {
    let when = std::time::UNIX_EPOCH + std::time::Duration::from_secs(at.max(0) as u64);
    (UPLOAD_EXPIRES, HeaderValue::from_str(&httpdate::fmt_http_date(when)).expect("an HTTP date is ASCII"))
}

/// What `Upload-Metadata` says: `key base64(value)` pairs, comma-separated.
#[derive(Debug, Default)]
struct Metadata {
    filename: Option<String>,
    pool_id: Option<String>,
    folder: Option<String>,
    checksum: Option<String>,
}

fn metadata(headers: &HeaderMap) -> Result<Metadata, ApiError> {
    let bad = |why: String| ApiError::bad_request("invalid_metadata", format!("Upload-Metadata {why}."));
    let raw = headers.get(&UPLOAD_METADATA).map(|v| v.to_str().unwrap_or("\u{0}")).unwrap_or_default();
    let mut m = Metadata::default();
    for pair in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once(' ').unwrap_or((pair, ""));
        let decoded = STANDARD
            .decode(value.trim())
            .ok()
            .and_then(|v| String::from_utf8(v).ok())
            .ok_or_else(|| bad(format!("holds a value for \"{key}\" that is not base64 of UTF-8 text")))?;
        let slot = match key {
            "filename" => &mut m.filename,
            "pool_id" => &mut m.pool_id,
            "folder" => &mut m.folder,
            "checksum" => &mut m.checksum,
            // A key nobody honours would be a promise broken silently.
            other => {
                return Err(bad(format!(
                    "has the key \"{}\"; the keys are filename, pool_id, folder and checksum",
                    other.chars().take(40).collect::<String>()
                )));
            }
        };
        if slot.replace(decoded).is_some() {
            return Err(bad(format!("names \"{key}\" twice")));
        }
    }
    Ok(m)
}

#[utoipa::path(
    options,
    path = "/api/v1/uploads",
    tag = "uploads",
    summary = "What the resumable upload endpoint supports (tus)",
    responses((status = 204, description = "`Tus-Version`, `Tus-Extension` (creation, checksum, termination, expiration) and `Tus-Checksum-Algorithm` (sha256).")),
)]
pub async fn options() -> impl IntoResponse {
    (
        StatusCode::NO_CONTENT,
        [("tus-version", TUS_VERSION), ("tus-extension", EXTENSIONS), ("tus-checksum-algorithm", "sha256")],
    )
}

/// 201 with `Location` and `Upload-Expires`, the audit's target, and the upload.
type Created = (StatusCode, [(HeaderName, HeaderValue); 2], Extension<AuditTarget>, axum::Json<ResumableUpload>);

#[utoipa::path(
    post,
    path = "/api/v1/uploads",
    tag = "uploads",
    summary = "Start a resumable upload (tus creation)",
    description = "`Upload-Length` is the file's size; `Upload-Metadata` holds base64 values of `filename`, and optionally `pool_id` (the first pool when absent), `folder` (the detected OS's when absent) and `checksum` (`sha256:<hex>` of the whole file). Everything is checked, and the length claimed in the pool, before any byte is sent. Then `PATCH` the `Location` with the bytes.",
    params(
        ("Tus-Resumable" = String, Header, description = "1.0.0"),
        ("Upload-Length" = u64, Header, description = "The file's size in bytes."),
        ("Upload-Metadata" = Option<String>, Header, description = "`key base64value` pairs, comma-separated."),
    ),
    responses(
        (status = 201, description = "The upload, at `Location`; no byte stored yet.", body = ResumableUpload),
        (status = 400, description = "A missing or bad `Upload-Length`, metadata that is not base64 or has unknown keys, a bad file name, folder or checksum, or an unknown pool.", body = ErrorBody),
        (status = 409, description = "The name is taken or being uploaded (`name_taken`, `upload_in_progress`).", body = ErrorBody),
        (status = 412, description = "No `Tus-Resumable: 1.0.0`.", body = ErrorBody),
        (status = 507, description = "The pool lacks the room (`insufficient_storage`).", body = ErrorBody),
    )
)]
#[tracing::instrument(skip(s, headers))]
pub async fn create(State(s): State<NodeState>, headers: HeaderMap) -> Result<Created, ApiError> {
    require_version(&headers)?;
    let length = count(&headers, &UPLOAD_LENGTH, "Upload-Length")?.ok_or_else(|| {
        ApiError::bad_request(
            "invalid_header",
            "Send the file's size in bytes as Upload-Length (deferred lengths are not supported).",
        )
    })?;
    let m = metadata(&headers)?;
    let filename = m
        .filename
        .ok_or_else(|| ApiError::bad_request("invalid_metadata", "Upload-Metadata must hold the filename (base64)."))?;
    let target = IngestTarget {
        pool_id: m.pool_id.filter(|p| !p.is_empty()),
        folder: m.folder.as_deref().filter(|f| !f.is_empty()).map(FolderPath::parse).transpose()?,
        expected_checksum: m
            .checksum
            .as_deref()
            .filter(|c| !c.is_empty())
            .map(Sha256Digest::parse)
            .transpose()
            .map_err(IngestError::from)?,
    };
    let upload = s.uploads.create(target, &filename, length).await?;
    let location = format!("/api/v1/uploads/{}", upload.id);
    tracing::info!(upload = %upload.id, file = %upload.filename, pool = %upload.pool_id, length, "resumable upload started");
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, HeaderValue::from_str(&location).expect("ASCII")), expires_header(upload.expires_at)],
        Extension(AuditTarget(format!("{} in pool {}", upload.filename, upload.pool_id))),
        axum::Json(upload),
    ))
}

#[utoipa::path(
    get,
    path = "/api/v1/uploads",
    tag = "uploads",
    summary = "Resumable uploads not finished yet",
    responses((status = 200, description = "Every unfinished upload, oldest first.", body = ResumableUploadList)),
)]
pub async fn list(State(s): State<NodeState>) -> axum::Json<ResumableUploadList> {
    axum::Json(ResumableUploadList { uploads: s.uploads.list() })
}

#[utoipa::path(
    head,
    path = "/api/v1/uploads/{id}",
    tag = "uploads",
    summary = "Where a resumable upload stands",
    params(PathId, ("Tus-Resumable" = String, Header, description = "1.0.0")),
    responses(
        (status = 200, description = "`Upload-Offset` (bytes stored durably: resume there), `Upload-Length`, `Upload-Expires`."),
        (status = 404, description = "No such upload (it finished, was cancelled or expired)."),
        (status = 410, description = "The upload expired."),
        (status = 412, description = "No `Tus-Resumable: 1.0.0`."),
    )
)]
pub async fn head(State(s): State<NodeState>, PathId(id): PathId, headers: HeaderMap) -> Result<Response, ApiError> {
    require_version(&headers)?;
    let upload = s.uploads.status(id)?;
    let [offset, no_store] = offset_headers(upload.offset);
    Ok((
        StatusCode::OK,
        [offset, no_store, (UPLOAD_LENGTH, HeaderValue::from(upload.length)), expires_header(upload.expires_at)],
    )
        .into_response())
}

#[utoipa::path(
    patch,
    path = "/api/v1/uploads/{id}",
    tag = "uploads",
    summary = "Send the next chunk of a resumable upload",
    description = "The body (`application/offset+octet-stream`) is appended at `Upload-Offset`, which must be the upload's offset. A body that breaks off keeps what arrived (unless `Upload-Checksum` was sent). When the last byte lands, the file is verified and registered like any upload, and the answer carries its id in `x-image-id`.",
    params(
        PathId,
        ("Tus-Resumable" = String, Header, description = "1.0.0"),
        ("Upload-Offset" = u64, Header, description = "Where this chunk starts: the offset HEAD reports."),
        ("Upload-Checksum" = Option<String>, Header, description = "`sha256 <base64 digest of this chunk>`."),
    ),
    request_body(content = Vec<u8>, content_type = "application/offset+octet-stream"),
    responses(
        (status = 204, description = "Stored; `Upload-Offset` is the new offset, and `x-image-id` the image once the upload is complete."),
        (status = 400, description = "A bad `Upload-Offset` or `Upload-Checksum`, or a chunk cut before its checksum could be checked.", body = ErrorBody),
        (status = 404, description = "No such upload (`upload_not_found`).", body = ErrorBody),
        (status = 409, description = "`Upload-Offset` is not the upload's offset (`offset_mismatch`); nothing changed.", body = ErrorBody),
        (status = 410, description = "The upload expired (`upload_expired`).", body = ErrorBody),
        (status = 412, description = "No `Tus-Resumable: 1.0.0`.", body = ErrorBody),
        (status = 413, description = "The chunk goes past `Upload-Length` (`past_length`); nothing of it kept.", body = ErrorBody),
        (status = 415, description = "Not `application/offset+octet-stream`.", body = ErrorBody),
        (status = 422, description = "The complete file does not hash to the `checksum` given at creation; nothing kept.", body = ErrorBody),
        (status = 423, description = "Another chunk of this upload is being written (`upload_busy`).", body = ErrorBody),
        (status = 460, description = "The chunk does not hash to `Upload-Checksum` (`checksum_mismatch`); nothing of it kept.", body = ErrorBody),
        (status = 507, description = "The pool ran out of room.", body = ErrorBody),
    )
)]
#[tracing::instrument(skip(s, headers, body))]
pub async fn patch(
    State(s): State<NodeState>,
    PathId(id): PathId,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    require_version(&headers)?;
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if content_type.split(';').next().unwrap_or_default().trim() != OFFSET_OCTET_STREAM {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!("A chunk is sent as Content-Type: {OFFSET_OCTET_STREAM}."),
        ));
    }
    let offset = count(&headers, &UPLOAD_OFFSET, "Upload-Offset")?
        .ok_or_else(|| ApiError::bad_request("invalid_header", "Send Upload-Offset: the offset HEAD reports."))?;
    let declared = count(&headers, &header::CONTENT_LENGTH, "Content-Length")?;
    let checksum = headers.get(&UPLOAD_CHECKSUM).map(chunk_checksum).transpose()?;
    // Counted like the multipart upload's bytes, in the same metrics.
    let in_flight = UploadInFlight::start(&s.identity.id, s.uploads.status(id)?.pool_id.as_str());
    let body = body.into_data_stream().inspect(|chunk| {
        if let Ok(bytes) = chunk {
            in_flight.received(bytes.len());
        }
    });
    match s.uploads.append(id, offset, declared, checksum, body).await? {
        Chunk::Stored { offset, expires_at } => {
            Ok((StatusCode::NO_CONTENT, offset_headers(offset), [expires_header(expires_at)]).into_response())
        }
        Chunk::Finished(meta) => {
            tracing::info!(upload = %id, image = %meta.id, file = %meta.filename, size = meta.size_bytes, "resumable upload finished");
            let image = HeaderValue::from_str(&meta.id.to_string()).expect("a UUID is ASCII");
            Ok((StatusCode::NO_CONTENT, offset_headers(meta.size_bytes), [(IMAGE_ID, image)]).into_response())
        }
    }
}

/// `Upload-Checksum: sha256 <base64 of the 32-byte digest>`.
fn chunk_checksum(raw: &HeaderValue) -> Result<[u8; 32], ApiError> {
    let text = raw.to_str().unwrap_or_default();
    let (algorithm, value) = text.split_once(' ').unwrap_or((text, ""));
    if algorithm != "sha256" {
        return Err(ApiError::bad_request(
            "unsupported_checksum",
            "Upload-Checksum must be sha256 followed by the chunk's digest in base64 (the one algorithm supported).",
        ));
    }
    STANDARD.decode(value.trim()).ok().and_then(|d| <[u8; 32]>::try_from(d).ok()).ok_or_else(|| {
        ApiError::bad_request("invalid_checksum", "Upload-Checksum must hold the chunk's 32-byte SHA-256 in base64.")
    })
}

#[utoipa::path(
    delete,
    path = "/api/v1/uploads/{id}",
    tag = "uploads",
    summary = "Cancel a resumable upload (tus termination)",
    params(PathId, ("Tus-Resumable" = String, Header, description = "1.0.0")),
    responses(
        (status = 204, description = "Cancelled: its bytes are removed, its name and room freed."),
        (status = 404, description = "No such upload.", body = ErrorBody),
        (status = 412, description = "No `Tus-Resumable: 1.0.0`.", body = ErrorBody),
        (status = 423, description = "A chunk of it is being written (`upload_busy`).", body = ErrorBody),
    )
)]
#[tracing::instrument(skip(s, headers))]
pub async fn cancel(
    State(s): State<NodeState>,
    PathId(id): PathId,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    require_version(&headers)?;
    s.uploads.cancel(id).await?;
    Ok(StatusCode::NO_CONTENT)
}
