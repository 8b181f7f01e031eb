//! `/api/v1/tasks`: the node's transfers — downloads, and the resumable uploads still receiving bytes,
//! shown as running upload tasks (the tus API stays theirs; this is a view of them).

use app::model::{ErrorBody, ResumableUpload, Task, TaskKind, TaskList, TaskState};
use axum::{Extension, extract::State};
use http::StatusCode;

use crate::auth::routes::AuditTarget;
use crate::http::{ApiError, PathId};
use crate::node::{NodeState, ingest::resumable::ResumableError, tasks::TaskError};

fn upload_task(u: ResumableUpload) -> Task {
    Task {
        id: u.id,
        kind: TaskKind::Upload,
        state: TaskState::Running,
        source: None,
        pool_id: u.pool_id,
        filename: u.filename,
        folder: u.folder,
        bytes_done: u.offset,
        bytes_total: Some(u.length),
        bytes_per_second: None,
        seconds_left: None,
        error: None,
        image_id: None,
        created_at: u.created_at,
        finished_at: None,
    }
}

#[utoipa::path(
    get,
    path = "/api/v1/tasks",
    tag = "tasks",
    summary = "Running and recent transfers",
    responses((status = 200, description = "Running tasks first (unfinished resumable uploads among them), then the 200 most recent finished ones, newest first.", body = TaskList)),
)]
pub async fn list(State(s): State<NodeState>) -> Result<axum::Json<TaskList>, ApiError> {
    let mut tasks: Vec<Task> = s.uploads.list().into_iter().map(upload_task).collect();
    tasks.extend(s.tasks.list().await?);
    tasks.sort_by_key(|t| (t.state.is_over(), std::cmp::Reverse(t.created_at)));
    Ok(axum::Json(TaskList { tasks }))
}

#[utoipa::path(
    get,
    path = "/api/v1/tasks/{id}",
    tag = "tasks",
    summary = "One transfer: its progress, rate, time left, outcome",
    params(PathId),
    responses(
        (status = 200, description = "The task.", body = Task),
        (status = 404, description = "No such task (`task_not_found`).", body = ErrorBody),
    )
)]
pub async fn get_one(State(s): State<NodeState>, PathId(id): PathId) -> Result<axum::Json<Task>, ApiError> {
    match s.tasks.get(id).await {
        Err(TaskError::NotFound(_)) => match s.uploads.status(id) {
            Ok(upload) => Ok(axum::Json(upload_task(upload))),
            Err(ResumableError::NotFound(_) | ResumableError::Expired(_)) => Err(TaskError::NotFound(id).into()),
            Err(e) => Err(e.into()),
        },
        found => Ok(axum::Json(found?)),
    }
}

#[utoipa::path(
    delete,
    path = "/api/v1/tasks/{id}",
    tag = "tasks",
    summary = "Cancel a transfer",
    description = "A download stops and removes what it had received; it shows as `cancelled` once it has. A resumable upload is cancelled as its tus `DELETE` would.",
    params(PathId),
    responses(
        (status = 202, description = "Cancelling: the task as it stands now.", body = Task),
        (status = 404, description = "No such task (`task_not_found`).", body = ErrorBody),
        (status = 409, description = "The task is over already (`task_over`).", body = ErrorBody),
        (status = 423, description = "A chunk of the upload is being written (`upload_busy`).", body = ErrorBody),
    )
)]
#[tracing::instrument(skip(s))]
pub async fn cancel(
    State(s): State<NodeState>,
    PathId(id): PathId,
) -> Result<(StatusCode, Extension<AuditTarget>, axum::Json<Task>), ApiError> {
    let task = match s.tasks.cancel(id).await {
        Ok(()) => s.tasks.get(id).await?,
        Err(TaskError::NotFound(_)) => {
            let upload = s.uploads.status(id).map_err(|e| match e {
                ResumableError::NotFound(_) | ResumableError::Expired(_) => TaskError::NotFound(id).into(),
                e => ApiError::from(e),
            })?;
            s.uploads.cancel(id).await?;
            Task { state: TaskState::Cancelled, finished_at: Some(crate::now_unix()), ..upload_task(upload) }
        }
        Err(e) => return Err(e.into()),
    };
    let audit = AuditTarget(format!("{} {} in pool {}", task.kind.as_str(), task.filename, task.pool_id));
    Ok((StatusCode::ACCEPTED, Extension(audit), axum::Json(task)))
}
