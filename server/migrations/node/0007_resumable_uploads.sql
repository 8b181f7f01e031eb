-- Resumable (tus) uploads still receiving bytes. `durable_offset` only moves after the staging file was
-- fsynced up to it, together with `hash_state`, the SHA-256 of those bytes (so a resume, after a restart
-- too, never reads the prefix again). The staging file is `<pool>/iso/.quantix-upload-resumable-<id>.part`;
-- anything it holds past `durable_offset` is cut off at the next PATCH.
CREATE TABLE resumable_uploads (
    id TEXT PRIMARY KEY NOT NULL,
    pool_id TEXT NOT NULL,
    filename TEXT NOT NULL,
    folder TEXT,
    expected_checksum TEXT,
    length INTEGER NOT NULL,
    durable_offset INTEGER NOT NULL DEFAULT 0,
    hash_state BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
