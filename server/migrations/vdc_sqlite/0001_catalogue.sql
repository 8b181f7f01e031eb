-- The vdc catalogue (SQLite). Kept column-for-column equal to the PostgreSQL migration.

CREATE TABLE nodes (
    id                      TEXT PRIMARY KEY NOT NULL,
    name                    TEXT NOT NULL,
    api_url                 TEXT,
    first_seen_at           BIGINT NOT NULL,
    last_contact_at         BIGINT NOT NULL,
    last_full_sync_at       BIGINT,
    -- The node's revision counter at its last full inventory: every image the node had then is in it.
    last_full_sync_revision BIGINT,
    -- Changes the node reported as not yet delivered, at its last contact.
    pending_changes         BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE images (
    node_id         TEXT NOT NULL,
    id              TEXT NOT NULL,
    revision        BIGINT NOT NULL,
    -- A tombstone: the image is gone, and its revision stops older events from bringing it back.
    deleted         BOOLEAN NOT NULL,
    name            TEXT NOT NULL,
    filename        TEXT NOT NULL,
    folder_path     TEXT NOT NULL,
    size_bytes      BIGINT NOT NULL,
    format          TEXT NOT NULL,
    storage_pool_id TEXT,
    path            TEXT NOT NULL,
    checksum        TEXT,
    os_family       TEXT,
    os_distribution TEXT,
    os_version      TEXT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    -- Lower-cased by the vdc (Unicode-aware): the sort key of names and the text `q` searches.
    name_key        TEXT NOT NULL,
    search_text     TEXT NOT NULL,
    PRIMARY KEY (node_id, id)
);

-- The default order (folder, name) and the folder filter and tree.
CREATE INDEX images_by_folder ON images (deleted, folder_path, name_key, node_id, id);
CREATE INDEX images_by_node ON images (node_id, deleted);
CREATE INDEX images_by_id ON images (id);

CREATE TABLE folders (
    path       TEXT PRIMARY KEY NOT NULL,
    created_at BIGINT NOT NULL
);
