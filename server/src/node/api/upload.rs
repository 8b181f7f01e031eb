//! `POST /api/v1/storage/upload?pool_id=&folder=&checksum=`: a multipart upload, streamed into the
//! ingest pipeline.

use app::model::{FolderPath, IsoMetadata};
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

#[derive(Debug, Deserialize)]
pub struct UploadParams {
    pool_id: Option<String>,
    folder: Option<String>,
    checksum: Option<String>,
}

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
            session.write(chunk).await?;
        }
        let meta = session.finish().await?;
        tracing::info!(id = %meta.id, file = %meta.filename, pool = ?meta.storage_pool_id, size = meta.size_bytes, "image uploaded");
        return Ok((StatusCode::CREATED, Extension(AuditTarget(meta.path.clone())), axum::Json(meta)));
    }
}
