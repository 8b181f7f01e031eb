//! How the node's domain errors answer over HTTP: one place, one status per cause. Faults of ours are 500
//! with their details in the log only.

use http::StatusCode;

use crate::http::ApiError;
use crate::node::{
    DeleteError, UpdateError,
    download::{DownloadError, ResolveError},
    ingest::{IngestError, resumable::ResumableError},
    store::StoreError,
    tasks::TaskError,
};

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        let msg = e.to_string();
        match e {
            StoreError::ImageNotFound(_) => ApiError::not_found("image_not_found", msg),
            StoreError::FolderNotFound(_) => ApiError::not_found("folder_not_found", msg),
            StoreError::NameTaken { .. } => ApiError::conflict("name_taken", msg),
            StoreError::FolderNotEmpty { .. } => ApiError::conflict("folder_not_empty", msg),
            StoreError::FolderExists(_) => ApiError::conflict("folder_exists", msg),
            StoreError::InvalidFolder(_) => ApiError::bad_request("invalid_folder", msg),
            StoreError::RootFolder(_) | StoreError::DefaultFolder(_) | StoreError::IntoItself { .. } => {
                ApiError::bad_request("invalid_operation", msg)
            }
            StoreError::Corrupt(_) | StoreError::Db(_) | StoreError::Migrate(_) => ApiError::internal(e),
        }
    }
}

impl From<DeleteError> for ApiError {
    fn from(e: DeleteError) -> Self {
        match e {
            DeleteError::Busy(_) => ApiError::conflict("busy", e.to_string()),
            DeleteError::Pinned { .. } => ApiError::conflict("image_in_use", e.to_string()),
            DeleteError::Io { .. } => ApiError::internal(e),
            DeleteError::Store(s) => s.into(),
        }
    }
}

impl From<UpdateError> for ApiError {
    fn from(e: UpdateError) -> Self {
        let msg = e.to_string();
        match e {
            UpdateError::InvalidOs(_) => ApiError::bad_request("invalid_os", msg),
            UpdateError::InvalidName(_) | UpdateError::FormatChange { .. } => {
                ApiError::bad_request("invalid_filename", msg)
            }
            UpdateError::Nothing => ApiError::bad_request("invalid_body", msg),
            UpdateError::Busy(_) => ApiError::conflict("busy", msg),
            UpdateError::NoPool => ApiError::conflict("no_pool", msg),
            UpdateError::Io { .. } => ApiError::internal(e),
            UpdateError::Store(s) => s.into(),
        }
    }
}

impl From<IngestError> for ApiError {
    fn from(e: IngestError) -> Self {
        let msg = e.to_string();
        match e {
            IngestError::UnknownPool(_) => ApiError::not_found("unknown_pool", msg),
            IngestError::NoPool => ApiError::conflict("no_pool", msg),
            IngestError::InvalidFolder(_) => ApiError::bad_request("invalid_folder", msg),
            IngestError::InvalidName(_) => ApiError::bad_request("invalid_filename", msg),
            IngestError::InvalidChecksum(_) => ApiError::bad_request("invalid_checksum", msg),
            IngestError::NameTaken { .. } => ApiError::conflict("name_taken", msg),
            IngestError::UploadInProgress { .. } => ApiError::conflict("upload_in_progress", msg),
            IngestError::NoSpace { .. } | IngestError::DiskFull { .. } => {
                ApiError::new(StatusCode::INSUFFICIENT_STORAGE, "insufficient_storage", msg)
            }
            IngestError::ChecksumMismatch { .. } => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "checksum_mismatch", msg)
            }
            IngestError::Incomplete => ApiError::bad_request("incomplete_upload", msg),
            IngestError::NoFile => ApiError::bad_request("no_file", msg),
            IngestError::BadRequest(_) => ApiError::bad_request("bad_request", msg),
            IngestError::Io(_) => ApiError::internal(e),
            IngestError::Store(s) => s.into(),
        }
    }
}

impl From<ResumableError> for ApiError {
    fn from(e: ResumableError) -> Self {
        let msg = e.to_string();
        match e {
            ResumableError::NotFound(_) => ApiError::not_found("upload_not_found", msg),
            ResumableError::Expired(_) => ApiError::new(StatusCode::GONE, "upload_expired", msg),
            ResumableError::Busy(_) => ApiError::new(StatusCode::LOCKED, "upload_busy", msg),
            ResumableError::OffsetMismatch { .. } => ApiError::conflict("offset_mismatch", msg),
            ResumableError::PastLength { .. } => ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "past_length", msg),
            // tus's own status for a chunk that does not match its checksum.
            ResumableError::ChunkChecksumMismatch => {
                ApiError::new(StatusCode::from_u16(460).expect("a valid status"), "checksum_mismatch", msg)
            }
            ResumableError::CutWithChecksum => ApiError::bad_request("incomplete_chunk", msg),
            // The pool is named in the metadata, not the path: a bad value there is a bad request.
            ResumableError::Ingest(IngestError::UnknownPool(_)) => ApiError::bad_request("unknown_pool", msg),
            ResumableError::Ingest(e) => e.into(),
        }
    }
}

impl From<DownloadError> for ApiError {
    fn from(e: DownloadError) -> Self {
        let msg = e.to_string();
        match e {
            DownloadError::InvalidUrl(_) => ApiError::bad_request("invalid_url", msg),
            DownloadError::NoFilename => ApiError::bad_request("invalid_filename", msg),
            DownloadError::BadTicket => ApiError::bad_request("invalid_ticket", msg),
            DownloadError::Refused(_) | DownloadError::Unresolvable(ResolveError::Refused(_)) => {
                ApiError::bad_request("url_refused", msg)
            }
            DownloadError::Unresolvable(_) | DownloadError::ResolveTimeout(..) => {
                ApiError::bad_request("unresolvable_host", msg)
            }
            // The pool is named in the body, not the path: a bad value there is a bad request.
            DownloadError::Ingest(IngestError::UnknownPool(_)) => ApiError::bad_request("unknown_pool", msg),
            DownloadError::Ingest(e) => e.into(),
            DownloadError::Store(e) => e.into(),
        }
    }
}

impl From<TaskError> for ApiError {
    fn from(e: TaskError) -> Self {
        let msg = e.to_string();
        match e {
            TaskError::NotFound(_) => ApiError::not_found("task_not_found", msg),
            TaskError::Over { .. } => ApiError::conflict("task_over", msg),
            TaskError::Store(e) => e.into(),
        }
    }
}
