-- Transfers run in the background (downloads now; copies later), with their outcome, so the task list
-- outlives a restart. Progress (`bytes_done`) is written now and then while running, and at the end; a
-- row still `running` at start belongs to a run that died, and is closed as failed then.
CREATE TABLE tasks (
    id TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    state TEXT NOT NULL,
    source TEXT,
    pool_id TEXT NOT NULL,
    filename TEXT NOT NULL,
    folder TEXT,
    bytes_done INTEGER NOT NULL DEFAULT 0,
    bytes_total INTEGER,
    error TEXT,
    image_id TEXT,
    created_at INTEGER NOT NULL,
    finished_at INTEGER
);
CREATE INDEX tasks_by_age ON tasks (created_at);
