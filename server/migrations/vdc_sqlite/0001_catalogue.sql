-- The vdc catalogue (SQLite). Same tables and semantics as the PostgreSQL migration; the full-text
-- index and the trigger syntax are SQLite's own.

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
    pending_changes         BIGINT NOT NULL DEFAULT 0,
    -- Live images of the node, kept by triggers so listing nodes reads no image rows.
    image_count             BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE images (
    -- A stable rowid for the full-text index (SQLite may renumber implicit rowids on VACUUM).
    pk              INTEGER PRIMARY KEY,
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
    UNIQUE (node_id, id)
);

-- One index per sort order (each also serves the filters that lead it), live images only.
CREATE INDEX images_by_folder ON images (folder_path, name_key, node_id, id) WHERE deleted = FALSE;
CREATE INDEX images_by_node ON images (node_id, folder_path, name_key, id) WHERE deleted = FALSE;
CREATE INDEX images_by_name ON images (name_key, node_id, id) WHERE deleted = FALSE;
CREATE INDEX images_by_size ON images (size_bytes, node_id, id) WHERE deleted = FALSE;
CREATE INDEX images_by_created ON images (created_at, node_id, id) WHERE deleted = FALSE;
-- The OS family filter clusters by folder, so it gets its own entries for the two common orders.
CREATE INDEX images_by_family_folder ON images (os_family, folder_path, name_key, node_id, id) WHERE deleted = FALSE;
CREATE INDEX images_by_family_name ON images (os_family, name_key, node_id, id) WHERE deleted = FALSE;
CREATE INDEX images_by_id ON images (id);

-- Substring search (`q`) through trigrams instead of a scan.
CREATE VIRTUAL TABLE images_search USING fts5(search_text, content = 'images', content_rowid = 'pk', tokenize = 'trigram');

CREATE TRIGGER images_search_insert AFTER INSERT ON images BEGIN
    INSERT INTO images_search (rowid, search_text) VALUES (new.pk, new.search_text);
END;
CREATE TRIGGER images_search_delete AFTER DELETE ON images BEGIN
    INSERT INTO images_search (images_search, rowid, search_text) VALUES ('delete', old.pk, old.search_text);
END;
CREATE TRIGGER images_search_update AFTER UPDATE OF search_text ON images BEGIN
    INSERT INTO images_search (images_search, rowid, search_text) VALUES ('delete', old.pk, old.search_text);
    INSERT INTO images_search (rowid, search_text) VALUES (new.pk, new.search_text);
END;

-- Live images per folder, so the folder tree reads one row per folder, not one per image.
CREATE TABLE folder_counts (
    folder_path TEXT PRIMARY KEY NOT NULL,
    images      BIGINT NOT NULL
);

CREATE TRIGGER images_count_insert AFTER INSERT ON images WHEN NOT new.deleted BEGIN
    INSERT INTO folder_counts (folder_path, images) VALUES (new.folder_path, 1)
        ON CONFLICT (folder_path) DO UPDATE SET images = images + 1;
    UPDATE nodes SET image_count = image_count + 1 WHERE id = new.node_id;
END;
CREATE TRIGGER images_count_delete AFTER DELETE ON images WHEN NOT old.deleted BEGIN
    UPDATE folder_counts SET images = images - 1 WHERE folder_path = old.folder_path;
    UPDATE nodes SET image_count = image_count - 1 WHERE id = old.node_id;
END;
CREATE TRIGGER images_count_update AFTER UPDATE OF folder_path, deleted ON images BEGIN
    UPDATE folder_counts SET images = images - 1 WHERE folder_path = old.folder_path AND NOT old.deleted;
    INSERT INTO folder_counts (folder_path, images) SELECT new.folder_path, 1 WHERE NOT new.deleted
        ON CONFLICT (folder_path) DO UPDATE SET images = images + 1;
    UPDATE nodes SET image_count = image_count - (CASE WHEN old.deleted THEN 0 ELSE 1 END)
        + (CASE WHEN new.deleted THEN 0 ELSE 1 END) WHERE id = new.node_id;
END;

-- Each node's storage pools as of its last heartbeat (for the pool filter and VM disk placement).
CREATE TABLE node_pools (
    node_id        TEXT NOT NULL,
    pool_id        TEXT NOT NULL,
    name           TEXT NOT NULL,
    path           TEXT NOT NULL,
    capacity_bytes BIGINT NOT NULL,
    free_bytes     BIGINT NOT NULL,
    image_count    BIGINT NOT NULL,
    PRIMARY KEY (node_id, pool_id)
);

CREATE TABLE folders (
    path       TEXT PRIMARY KEY NOT NULL,
    created_at BIGINT NOT NULL
);
