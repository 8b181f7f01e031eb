//! `POST /api/v1/storage/upload?pool_id=&folder=&checksum=`: a multipart upload, streamed into the
//! ingest pipeline.

use app::model::{ErrorBody, FolderPath, IsoMetadata};
use axum::{
    Extension,
    extract::{Multipart, State, multipart::MultipartRejection},
};
use http::{HeaderMap, StatusCode};
use serde::Deserialize;

use crate::auth::routes::AuditTarget;
use crate::http::{ApiError, Query, sentence};
use crate::node::{
    NodeState,
    ingest::{IngestError, IngestTarget, Sha256Digest},
};
use crate::telemetry::metrics::UploadInFlight;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadParams {
    /// The pool to write to; the one with the most free space when absent.
    pool_id: Option<String>,
    /// The image's folder; `/` when absent.
    folder: Option<String>,
    /// `sha256:<hex>`: the upload is refused (422) unless its bytes hash to it.
    checksum: Option<String>,
}

/// The multipart body: one file part (fields before it are ignored).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct UploadForm {
    /// The image; its part's file name (ending `.iso`, `.img` or `.ova`) is the image's file name.
    #[schema(format = Binary, content_media_type = "application/octet-stream")]
    file: String,
}

#[utoipa::path(
    post,
    path = "/api/v1/storage/upload",
    tag = "storage",
    summary = "Upload an image",
    description = "Streams the file into the pool's `iso/` directory: hashed as it arrives, made durable, then renamed into place; a failed upload leaves nothing behind. A declared `Content-Length` is checked against the pool's free space before the first byte.",
    params(UploadParams),
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "The new image.", body = IsoMetadata),
        (status = 400, description = "Not multipart, no file part, a bad file name, folder or checksum, or an incomplete body.", body = ErrorBody),
        (status = 404, description = "No pool has this id (`unknown_pool`).", body = ErrorBody),
        (status = 409, description = "The name is taken or being uploaded, or the node has no pool.", body = ErrorBody),
        (status = 422, description = "The bytes do not hash to `checksum` (`checksum_mismatch`).", body = ErrorBody),
        (status = 507, description = "The pool lacks the room (`insufficient_storage`).", body = ErrorBody),
    )
)]
#[tracing::instrument(skip(s, headers, multipart))]
pub async fn upload(
    State(s): State<NodeState>,
    Query(p): Query<UploadParams>,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<(StatusCode, Extension<AuditTarget>, axum::Json<IsoMetadata>), ApiError> {
    let target = IngestTarget {
        pool_id: p.pool_id.filter(|p| !p.is_empty()),
        folder: p.folder.as_deref().filter(|f| !f.is_empty()).map(FolderPath::parse).transpose()?,
        expected_checksum: p
            .checksum
            .as_deref()
            .filter(|c| !c.is_empty())
            .map(Sha256Digest::parse)
            .transpose()
            .map_err(IngestError::from)?,
    };
    let declared =
        headers.get(http::header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    let pool = s.ingest.pool_for(&target, declared).await?;
    let in_flight = UploadInFlight::start(&s.identity.id, &pool.id);
    let mut multipart = multipart.map_err(|r| ApiError::bad_request("not_multipart", sentence(r.body_text())))?;
    loop {
        let mut field = multipart
            .next_field()
            .await
            .map_err(|e| IngestError::BadRequest(format!("The multipart body is malformed: {e}")))?
            .ok_or(IngestError::NoFile)?;
        // Form fields before the file (a browser may send some) are not needed.
        let Some(filename) = field.file_name().map(str::to_owned) else { continue };
        let mut session = s.ingest.begin(pool, target, &filename, declared).await?;
        while let Some(chunk) = field.chunk().await.map_err(|_| IngestError::Incomplete)? {
            in_flight.received(chunk.len());
            session.write(chunk).await?;
        }
        let meta = session.finish().await?;
        tracing::info!(id = %meta.id, file = %meta.filename, pool = ?meta.storage_pool_id, size = meta.size_bytes, "image uploaded");
        return Ok((StatusCode::CREATED, Extension(AuditTarget(meta.path.clone())), axum::Json(meta)));
    }
}
