-- The vdc catalogue (PostgreSQL). Kept column-for-column equal to the SQLite migration; text that is
-- compared or ordered uses the "C" collation so both backends order byte-wise alike.

CREATE TABLE nodes (
    id                      TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    name                    TEXT NOT NULL,
    api_url                 TEXT,
    first_seen_at           BIGINT NOT NULL,
    last_contact_at         BIGINT NOT NULL,
    last_full_sync_at       BIGINT,
    last_full_sync_revision BIGINT,
    pending_changes         BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE images (
    node_id         TEXT COLLATE "C" NOT NULL,
    id              TEXT COLLATE "C" NOT NULL,
    revision        BIGINT NOT NULL,
    deleted         BOOLEAN NOT NULL,
    name            TEXT NOT NULL,
    filename        TEXT NOT NULL,
    folder_path     TEXT COLLATE "C" NOT NULL,
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
    name_key        TEXT COLLATE "C" NOT NULL,
    search_text     TEXT NOT NULL,
    PRIMARY KEY (node_id, id)
);

CREATE INDEX images_by_folder ON images (deleted, folder_path, name_key, node_id, id);
CREATE INDEX images_by_node ON images (node_id, deleted);
CREATE INDEX images_by_id ON images (id);

CREATE TABLE folders (
    path       TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    created_at BIGINT NOT NULL
);
