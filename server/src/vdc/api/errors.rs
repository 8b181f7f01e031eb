//! How the vdc's domain errors answer over HTTP.

use http::StatusCode;

use crate::http::ApiError;
use crate::vdc::{catalogue::CatalogueError, forward::ForwardError};

impl From<CatalogueError> for ApiError {
    fn from(e: CatalogueError) -> Self {
        let msg = e.to_string();
        match e {
            CatalogueError::ImageNotFound(_) => ApiError::not_found("image_not_found", msg),
            CatalogueError::NodeNotFound(_) => ApiError::not_found("node_not_found", msg),
            CatalogueError::FolderExists(_) => ApiError::conflict("folder_exists", msg),
            CatalogueError::InvalidFolder(_) => ApiError::bad_request("invalid_folder", msg),
            CatalogueError::VmNameTaken(_) => ApiError::conflict("vm_name_taken", msg),
            CatalogueError::VmNotFound(_) => ApiError::not_found("vm_not_found", msg),
            CatalogueError::DigestStale(_) => ApiError::conflict("digest_stale", msg),
            CatalogueError::UnsupportedUrl(_)
            | CatalogueError::Corrupt(_)
            | CatalogueError::Dir { .. }
            | CatalogueError::Db(_)
            | CatalogueError::Migrate(_) => ApiError::internal(e),
        }
    }
}

impl From<ForwardError> for ApiError {
    fn from(e: ForwardError) -> Self {
        let msg = e.to_string();
        match e {
            ForwardError::NoUrl { .. } | ForwardError::Unreachable { .. } => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "node_unreachable", msg)
            }
            ForwardError::Refused { status, body } => ApiError {
                status: StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY),
                code: leak_code(&body.error),
                message: body.message,
            },
        }
    }
}

/// Error codes are a small fixed vocabulary; a node's code is passed on when it is one we know.
fn leak_code(code: &str) -> &'static str {
    const KNOWN: &[&str] = &[
        "image_not_found",
        "invalid_folder",
        "invalid_id",
        "invalid_body",
        "folder_exists",
        "conflict",
        "busy",
        "unauthorized",
        "invalid_operation",
        "image_in_use",
        "name_taken",
        "invalid_os",
        "invalid_filename",
        "no_pool",
        "invalid_url",
        "url_refused",
        "unresolvable_host",
        "unknown_pool",
        "invalid_checksum",
        "task_not_found",
        "task_over",
        "upload_busy",
        // An upload streamed through (the node's own upload refusals).
        "checksum_mismatch",
        "insufficient_storage",
        "not_multipart",
        "no_file",
        "incomplete_upload",
        "upload_in_progress",
        "invalid_ticket",
    ];
    KNOWN.iter().find(|k| **k == code).copied().unwrap_or("node_error")
}
