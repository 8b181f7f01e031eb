-- The node's metadata: the truth about the images in its pools.

CREATE TABLE images (
    id              TEXT PRIMARY KEY NOT NULL,
    pool_id         TEXT NOT NULL,
    filename        TEXT NOT NULL,
    name            TEXT NOT NULL,
    folder_path     TEXT NOT NULL,
    size_bytes      INTEGER NOT NULL,
    format          TEXT NOT NULL,
    checksum        TEXT,
    os_family       TEXT,
    os_distribution TEXT,
    os_version      TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    revision        INTEGER NOT NULL,
    -- What the file looked like when last examined, so start-up reconciliation can tell a changed file.
    file_mtime_ns   INTEGER,
    UNIQUE (pool_id, filename)
);

CREATE INDEX images_by_folder ON images (folder_path, name);

-- Folders created explicitly (they persist while empty). Folders holding images exist implicitly.
CREATE TABLE folders (
    path       TEXT PRIMARY KEY NOT NULL,
    created_at INTEGER NOT NULL
);

-- Node-wide values: the revision counter and the node identity.
CREATE TABLE settings (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);

-- Changes not yet acknowledged by the vdc, written in the same transaction as the change itself.
CREATE TABLE outbox (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    event_type INTEGER NOT NULL,
    -- The image's revision after the change: a full inventory at or above it makes the record redundant.
    revision   INTEGER NOT NULL,
    image_json TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
