//! Background transfers' records (`tasks`): written when a task starts, now and then as it runs, and
//! when it ends. Only the most recent finished ones are kept.

use super::{NodeStore, StoreError};

/// A task as stored. Its values were validated when it was started.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TaskRow {
    pub id: String,
    pub kind: String,
    pub state: String,
    pub source: Option<String>,
    pub pool_id: String,
    pub filename: String,
    pub folder: Option<String>,
    pub bytes_done: i64,
    pub bytes_total: Option<i64>,
    pub error: Option<String>,
    pub image_id: Option<String>,
    pub created_at: i64,
    pub finished_at: Option<i64>,
}

/// Finished tasks kept for the list; older ones are deleted as new ones end.
const KEEP_FINISHED: i64 = 200;

impl NodeStore {
    #[tracing::instrument(skip(self, row), fields(id = %row.id))]
    pub async fn insert_task(&self, row: &TaskRow) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO tasks (id, kind, state, source, pool_id, filename, folder, bytes_done, bytes_total, \
             error, image_id, created_at, finished_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .bind(&row.id)
        .bind(&row.kind)
        .bind(&row.state)
        .bind(&row.source)
        .bind(&row.pool_id)
        .bind(&row.filename)
        .bind(&row.folder)
        .bind(row.bytes_done)
        .bind(row.bytes_total)
        .bind(&row.error)
        .bind(&row.image_id)
        .bind(row.created_at)
        .bind(row.finished_at)
        .execute(&self.db)
        .await?;
        Ok(())
    }

    /// Records a running task's progress.
    pub async fn task_progress(&self, id: &str, bytes_done: u64, bytes_total: Option<u64>) -> Result<(), StoreError> {
        sqlx::query("UPDATE tasks SET bytes_done = $2, bytes_total = $3 WHERE id = $1 AND state = 'running'")
            .bind(id)
            .bind(bytes_done as i64)
            .bind(bytes_total.map(|t| t as i64))
            .execute(&self.db)
            .await?;
        Ok(())
    }

    /// Records how a task ended, and drops the oldest finished tasks beyond what is kept.
    pub async fn finish_task(&self, row: &TaskRow) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE tasks SET state = $2, bytes_done = $3, bytes_total = $4, error = $5, image_id = $6, \
             finished_at = $7 WHERE id = $1",
        )
        .bind(&row.id)
        .bind(&row.state)
        .bind(row.bytes_done)
        .bind(row.bytes_total)
        .bind(&row.error)
        .bind(&row.image_id)
        .bind(row.finished_at)
        .execute(&self.db)
        .await?;
        sqlx::query(
            "DELETE FROM tasks WHERE state <> 'running' AND id NOT IN \
             (SELECT id FROM tasks WHERE state <> 'running' ORDER BY created_at DESC, id DESC LIMIT $1)",
        )
        .bind(KEEP_FINISHED)
        .execute(&self.db)
        .await?;
        Ok(())
    }

    /// Closes the tasks a previous run left running, with `why`; returns how many.
    pub async fn fail_running_tasks(&self, why: &str, at: i64) -> Result<u64, StoreError> {
        let done =
            sqlx::query("UPDATE tasks SET state = 'failed', error = $1, finished_at = $2 WHERE state = 'running'")
                .bind(why)
                .bind(at)
                .execute(&self.db)
                .await?;
        Ok(done.rows_affected())
    }

    pub async fn tasks(&self) -> Result<Vec<TaskRow>, StoreError> {
        Ok(sqlx::query_as("SELECT * FROM tasks ORDER BY created_at DESC, id DESC").fetch_all(&self.db).await?)
    }

    pub async fn task(&self, id: &str) -> Result<Option<TaskRow>, StoreError> {
        Ok(sqlx::query_as("SELECT * FROM tasks WHERE id = $1").bind(id).fetch_optional(&self.db).await?)
    }
}
