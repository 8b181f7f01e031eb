//! `POST /api/v1/storage/download`: download an image from a URL into a pool, as a task.

use app::model::{DownloadRequest, ErrorBody, TaskStarted};
use axum::{Extension, extract::State};
use http::StatusCode;

use crate::auth::routes::AuditTarget;
use crate::http::{ApiError, Json};
use crate::node::NodeState;

#[utoipa::path(
    post,
    path = "/api/v1/storage/download",
    tag = "storage",
    summary = "Download an image from a URL",
    description = "Starts a task that downloads `url` (http or https) into the pool, with the name given or the URL's last path segment. What can be checked at once is: the scheme, credentials in the URL, the target's addresses (loopback, link-local and private ranges are refused unless the node allows them), the name, pool, folder and checksum. The rest fails the task, with the reason in its `error`: the server's answer, a redirect to a refused address, the size against the pool's room, the checksum. A dropped connection is resumed with HTTP Range.",
    request_body = DownloadRequest,
    responses(
        (status = 202, description = "Started; follow it at `GET /api/v1/tasks/{task_id}`.", body = TaskStarted),
        (status = 400, description = "A URL that is not valid or is refused (`invalid_url`, `url_refused`, `unresolvable_host`), or a bad file name, folder, checksum or pool.", body = ErrorBody),
        (status = 409, description = "The pool already holds a file of that name (`name_taken`).", body = ErrorBody),
    )
)]
#[tracing::instrument(skip(s, req))]
pub async fn download(
    State(s): State<NodeState>,
    Json(req): Json<DownloadRequest>,
) -> Result<(StatusCode, Extension<AuditTarget>, axum::Json<TaskStarted>), ApiError> {
    let audit = format!("{} into pool {}", req.url, req.pool_id);
    let task_id = s.downloads.start(req).await?;
    Ok((StatusCode::ACCEPTED, Extension(AuditTarget(audit)), axum::Json(TaskStarted { task_id })))
}
