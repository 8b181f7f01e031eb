//! `POST /api/v1/storage/upload?node_id=…`: a library user's upload onto a chosen node, streamed through
//! the vdc as it arrives (the vdc holds a chunk at a time, never the file, so its memory stays flat
//! whatever the size), and in the catalogue the moment the node has it.

use app::model::{ErrorBody, IsoMetadata, NodeId, encode_query};
use axum::{Extension, body::Body, extract::State};
use http::{HeaderMap, StatusCode, header};
use serde::Deserialize;

use crate::auth::{api::Actor, routes::AuditTarget};
use crate::http::{ApiError, Query};
use crate::vdc::{VdcState, forward::StreamedBody};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct UploadOnNode {
    /// The node to upload to.
    #[param(value_type = String)]
    node_id: NodeId,
    /// The node's pool to write to; the one with the most free space when absent.
    pool_id: Option<String>,
    /// The image's folder; `/` when absent.
    folder: Option<String>,
    /// `sha256:<hex>`: the upload is refused (422) unless its bytes hash to it.
    checksum: Option<String>,
}

#[utoipa::path(
    post,
    path = "/api/v1/storage/upload",
    tag = "storage",
    summary = "Upload an image onto a node",
    description = "The node's own multipart upload, streamed to the node `node_id` as it arrives; the node checks and stores it, and the catalogue has it when the answer comes back. The node's refusals are passed on as they are.",
    params(UploadOnNode),
    request_body(content = crate::node::api::UploadForm, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "The new image, on its node.", body = IsoMetadata),
        (status = 400, description = "Not multipart, no file part, a bad file name, folder or checksum, or an incomplete body.", body = ErrorBody),
        (status = 404, description = "No such node (`node_not_found`) or pool (`unknown_pool`).", body = ErrorBody),
        (status = 409, description = "The name is taken or being uploaded.", body = ErrorBody),
        (status = 422, description = "The bytes do not hash to `checksum` (`checksum_mismatch`).", body = ErrorBody),
        (status = 503, description = "The node cannot be reached.", body = ErrorBody),
        (status = 507, description = "The pool lacks the room (`insufficient_storage`).", body = ErrorBody),
    )
)]
#[tracing::instrument(skip(s, actor, headers, body), fields(node = %q.node_id))]
pub async fn upload(
    State(s): State<VdcState>,
    actor: Actor,
    Query(q): Query<UploadOnNode>,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Extension<AuditTarget>, axum::Json<IsoMetadata>), ApiError> {
    let node = s.catalogue.node(q.node_id.as_str()).await?;
    let content_type = headers.get(header::CONTENT_TYPE).cloned().ok_or_else(|| {
        ApiError::bad_request("not_multipart", "An upload is a multipart/form-data body with one file part.")
    })?;
    let length = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok());
    let pairs = [("pool_id", &q.pool_id), ("folder", &q.folder), ("checksum", &q.checksum)];
    let query = encode_query(pairs.into_iter().filter_map(|(k, v)| v.as_deref().map(|v| (k, v))));
    let body = StreamedBody { content_type, length, bytes: body.into_data_stream() };
    let image = s.nodes.upload(&node, &query, body, actor.caller.name().as_deref()).await?;
    // In the library now, not at the node's next notification (which carries the same revision).
    s.catalogue.apply_node_answer(node.id.as_str(), image.clone(), false).await?;
    let image = IsoMetadata { node_id: Some(node.id.clone()), ..image };
    let audit = AuditTarget(format!("{} into pool {} on {}", image.filename, image.pool(), node.id));
    Ok((StatusCode::CREATED, Extension(audit), axum::Json(image)))
}
