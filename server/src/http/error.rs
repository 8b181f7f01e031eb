//! The one error type of the HTTP boundary. Domain errors convert into it; it renders the shared JSON
//! body `{ "error": "<code>", "message": "<sentence>", "request_id": "<id>" }`.

use app::model::ErrorBody;
use axum::response::{IntoResponse, Response};
use http::StatusCode;

use crate::telemetry::request_id;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into() }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, message)
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    /// A failure that is ours, not the caller's: the cause is logged here, once, and never sent.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(%cause, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Something went wrong on the server; the details are in its log. Try again, and report it if it persists.",
        )
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status.as_u16(), self.code, self.message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody { error: self.code.to_owned(), message: self.message, request_id: request_id::current() };
        (self.status, axum::Json(body)).into_response()
    }
}

impl From<crate::db::FilterError> for ApiError {
    fn from(e: crate::db::FilterError) -> Self {
        use crate::db::FilterError;
        let code = match e {
            FilterError::Folder(_) => "invalid_folder",
            FilterError::Cursor => "invalid_cursor",
            FilterError::Id(_)
            | FilterError::Limit
            | FilterError::Control(_)
            | FilterError::Boot
            | FilterError::Grouping => "invalid_query",
        };
        ApiError::bad_request(code, e.to_string())
    }
}

/// A field a peer (a node) sent that the vdc does not accept.
impl From<app::model::PeerFieldError> for ApiError {
    fn from(e: app::model::PeerFieldError) -> Self {
        ApiError::bad_request("invalid_body", format!("{e}."))
    }
}

impl From<app::model::FolderPathError> for ApiError {
    fn from(e: app::model::FolderPathError) -> Self {
        ApiError::bad_request("invalid_folder", e.to_string())
    }
}
