//! Background transfers as tasks: each has a record in SQLite (what it is, how it ended) and, while it
//! runs, a live entry with its progress, rate and the token that cancels it.
//!
//! A task still `running` in the database at start belongs to a run that died: it is closed as failed,
//! with that reason. A download is not taken up again by itself: its bytes were in an anonymous staging
//! file, which the start removes, and the source is still there for the admin to ask again.

use std::{
    collections::{HashMap, VecDeque},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use app::model::{FolderPath, PoolId, Task, TaskKind, TaskState};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::store::{NodeStore, StoreError, TaskRow};

/// Why a task request was refused.
#[derive(Debug, thiserror::Error)]
pub enum TaskError {
    #[error("No task has the id {0}.")]
    NotFound(Uuid),
    #[error("Task {id} is already {state}; only a running task can be cancelled.")]
    Over { id: Uuid, state: &'static str },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// How often a running task's progress is written to the database (the live entry is always current).
const PERSIST_EVERY: Duration = Duration::from_secs(2);
/// The rate is measured over this much of the recent past.
const RATE_WINDOW: Duration = Duration::from_secs(5);

/// The node's tasks.
#[derive(Clone)]
pub struct Tasks {
    store: NodeStore,
    live: Arc<Mutex<HashMap<Uuid, Arc<Live>>>>,
}

/// What a new task is.
pub struct NewTask {
    pub kind: TaskKind,
    pub source: Option<String>,
    pub pool_id: PoolId,
    pub filename: String,
    pub folder: Option<FolderPath>,
}

/// How a task ended.
pub enum Outcome {
    Succeeded(Uuid),
    Failed(String),
    Cancelled,
}

struct Live {
    row: TaskRow,
    cancel: CancellationToken,
    progress: Mutex<Progress>,
}

struct Progress {
    done: u64,
    total: Option<u64>,
    /// Recent (time, bytes done) samples, oldest first, for the rate.
    samples: VecDeque<(Instant, u64)>,
    persisted_at: Instant,
}

impl Progress {
    fn rate(&self) -> Option<u64> {
        let (&(t0, b0), &(t1, b1)) = (self.samples.front()?, self.samples.back()?);
        let secs = t1.duration_since(t0).as_secs_f64();
        (secs >= 0.5).then(|| ((b1 - b0) as f64 / secs) as u64)
    }
}

impl Tasks {
    /// The tasks, with those a previous run left running closed as failed.
    pub async fn open(store: NodeStore) -> Result<Tasks, StoreError> {
        let why = "The node stopped while this task was running; nothing of it was kept. Start it again.";
        let closed = store.fail_running_tasks(why, crate::now_unix()).await?;
        if closed > 0 {
            tracing::warn!(tasks = closed, "tasks a previous run left running are closed as failed");
        }
        Ok(Tasks { store, live: Default::default() })
    }

    /// Records a new running task; its handle reports progress and ends it.
    pub async fn start(&self, new: NewTask) -> Result<TaskHandle, StoreError> {
        let row = TaskRow {
            id: Uuid::new_v4().to_string(),
            kind: new.kind.as_str().into(),
            state: TaskState::Running.as_str().into(),
            source: new.source,
            pool_id: new.pool_id.to_string(),
            filename: new.filename,
            folder: new.folder.map(|f| f.to_string()),
            bytes_done: 0,
            bytes_total: None,
            error: None,
            image_id: None,
            created_at: crate::now_unix(),
            finished_at: None,
        };
        self.store.insert_task(&row).await?;
        let id = Uuid::parse_str(&row.id).expect("made above");
        let now = Instant::now();
        let live = Arc::new(Live {
            row,
            cancel: CancellationToken::new(),
            progress: Mutex::new(Progress { done: 0, total: None, samples: VecDeque::new(), persisted_at: now }),
        });
        self.live.lock().expect("tasks lock").insert(id, live.clone());
        Ok(TaskHandle { id, live, tasks: self.clone() })
    }

    /// Running tasks first, then the finished ones, newest first.
    pub async fn list(&self) -> Result<Vec<Task>, StoreError> {
        let rows = self.store.tasks().await?;
        let mut tasks: Vec<Task> = rows.iter().map(|r| self.describe(r)).collect::<Result<_, _>>()?;
        tasks.sort_by_key(|t| t.state.is_over());
        Ok(tasks)
    }

    pub async fn get(&self, id: Uuid) -> Result<Task, TaskError> {
        let row = self.store.task(&id.to_string()).await?.ok_or(TaskError::NotFound(id))?;
        Ok(self.describe(&row)?)
    }

    /// Asks a running task to stop; it ends as cancelled once it has removed what it held.
    pub async fn cancel(&self, id: Uuid) -> Result<(), TaskError> {
        let live = self.live.lock().expect("tasks lock").get(&id).cloned();
        match live {
            Some(live) => {
                live.cancel.cancel();
                Ok(())
            }
            None => {
                let task = self.get(id).await?;
                Err(TaskError::Over { id, state: task.state.as_str() })
            }
        }
    }

    /// A stored row, with the live progress of a running task laid over it.
    fn describe(&self, row: &TaskRow) -> Result<Task, StoreError> {
        let corrupt = |what: &str| StoreError::Corrupt(format!("task {}: {what}", row.id));
        let id = Uuid::parse_str(&row.id).map_err(|_| corrupt("id"))?;
        let kind = match row.kind.as_str() {
            "upload" => TaskKind::Upload,
            "download" => TaskKind::Download,
            "copy" => TaskKind::Copy,
            _ => return Err(corrupt("kind")),
        };
        let state = match row.state.as_str() {
            "running" => TaskState::Running,
            "succeeded" => TaskState::Succeeded,
            "failed" => TaskState::Failed,
            "cancelled" => TaskState::Cancelled,
            _ => return Err(corrupt("state")),
        };
        let mut task = Task {
            id,
            kind,
            state,
            source: row.source.clone(),
            pool_id: row.pool_id.parse().map_err(|_| corrupt("pool id"))?,
            filename: row.filename.clone(),
            folder: row.folder.as_deref().map(FolderPath::parse).transpose().map_err(|_| corrupt("folder"))?,
            bytes_done: row.bytes_done as u64,
            bytes_total: row.bytes_total.map(|t| t as u64),
            bytes_per_second: None,
            seconds_left: None,
            error: row.error.clone(),
            image_id: row.image_id.as_deref().map(Uuid::parse_str).transpose().map_err(|_| corrupt("image id"))?,
            created_at: row.created_at,
            finished_at: row.finished_at,
        };
        if state == TaskState::Running
            && let Some(live) = self.live.lock().expect("tasks lock").get(&id)
        {
            let p = live.progress.lock().expect("progress lock");
            task.bytes_done = p.done;
            task.bytes_total = p.total;
            task.bytes_per_second = p.rate();
            task.seconds_left = match (p.total, p.rate()) {
                (Some(total), Some(rate)) if rate > 0 => Some(total.saturating_sub(p.done).div_ceil(rate)),
                _ => None,
            };
        }
        Ok(task)
    }
}

/// The running side of one task.
pub struct TaskHandle {
    id: Uuid,
    live: Arc<Live>,
    tasks: Tasks,
}

impl TaskHandle {
    pub fn id(&self) -> Uuid {
        self.id
    }

    /// Cancelled when someone asked the task to stop.
    pub fn cancelled(&self) -> &CancellationToken {
        &self.live.cancel
    }

    /// Reports `done` of `total` bytes; written to the database every few seconds.
    pub async fn progress(&self, done: u64, total: Option<u64>) {
        let persist = {
            let mut p = self.live.progress.lock().expect("progress lock");
            let now = Instant::now();
            (p.done, p.total) = (done, total);
            if p.samples.back().is_none_or(|(t, _)| now.duration_since(*t) >= Duration::from_millis(200)) {
                p.samples.push_back((now, done));
            }
            while p.samples.front().is_some_and(|(t, _)| now.duration_since(*t) > RATE_WINDOW) {
                p.samples.pop_front();
            }
            let due = now.duration_since(p.persisted_at) >= PERSIST_EVERY;
            if due {
                p.persisted_at = now;
            }
            due
        };
        if persist && let Err(e) = self.tasks.store.task_progress(&self.live.row.id, done, total).await {
            tracing::warn!(task = %self.id, error = %e, "cannot record a task's progress");
        }
    }

    /// Records how the task ended and drops its live entry.
    pub async fn finish(self, outcome: Outcome) {
        let (done, total) = {
            let p = self.live.progress.lock().expect("progress lock");
            (p.done, p.total)
        };
        let (state, error, image_id) = match outcome {
            Outcome::Succeeded(image) => (TaskState::Succeeded, None, Some(image.to_string())),
            Outcome::Failed(why) => (TaskState::Failed, Some(why), None),
            Outcome::Cancelled => (TaskState::Cancelled, None, None),
        };
        let row = TaskRow {
            state: state.as_str().into(),
            bytes_done: done as i64,
            bytes_total: total.map(|t| t as i64),
            error,
            image_id,
            finished_at: Some(crate::now_unix()),
            ..self.live.row.clone()
        };
        if let Err(e) = self.tasks.store.finish_task(&row).await {
            tracing::error!(task = %self.id, error = %e, "cannot record how a task ended");
        }
        self.tasks.live.lock().expect("tasks lock").remove(&self.id);
    }
}
