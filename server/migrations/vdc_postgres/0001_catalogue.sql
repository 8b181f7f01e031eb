-- The vdc catalogue (PostgreSQL). Same tables and semantics as the SQLite migration. Text that is
-- compared or ordered uses the "C" collation, so both backends order byte-wise alike.

CREATE TABLE nodes (
    id                      TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    name                    TEXT NOT NULL,
    api_url                 TEXT,
    first_seen_at           BIGINT NOT NULL,
    last_contact_at         BIGINT NOT NULL,
    last_full_sync_at       BIGINT,
    last_full_sync_revision BIGINT,
    pending_changes         BIGINT NOT NULL DEFAULT 0,
    image_count             BIGINT NOT NULL DEFAULT 0
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

CREATE INDEX images_by_folder ON images (folder_path, name_key, node_id, id) WHERE deleted = FALSE;
CREATE INDEX images_by_node ON images (node_id, folder_path, name_key, id) WHERE deleted = FALSE;
CREATE INDEX images_by_name ON images (name_key, node_id, id) WHERE deleted = FALSE;
CREATE INDEX images_by_size ON images (size_bytes, node_id, id) WHERE deleted = FALSE;
CREATE INDEX images_by_created ON images (created_at, node_id, id) WHERE deleted = FALSE;
-- The OS family filter clusters by folder, so it gets its own entries for the two common orders.
CREATE INDEX images_by_family_folder ON images (os_family, folder_path, name_key, node_id, id) WHERE deleted = FALSE;
CREATE INDEX images_by_family_name ON images (os_family, name_key, node_id, id) WHERE deleted = FALSE;
CREATE INDEX images_by_id ON images (id);

-- Substring search (`q`) through trigrams, where the server has pg_trgm (a trusted extension in
-- PostgreSQL 13+). Without it, search still works, by scanning.
DO $$
BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'pg_trgm is not available; image search will scan';
END
$$;
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
        CREATE INDEX images_search ON images USING gin (search_text gin_trgm_ops) WHERE deleted = FALSE;
    END IF;
END
$$;

-- Live images per folder, so the folder tree reads one row per folder, not one per image.
CREATE TABLE folder_counts (
    folder_path TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    images      BIGINT NOT NULL
);

CREATE FUNCTION images_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND NOT OLD.deleted THEN
        UPDATE folder_counts SET images = images - 1 WHERE folder_path = OLD.folder_path;
        UPDATE nodes SET image_count = image_count - 1 WHERE id = OLD.node_id;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') AND NOT NEW.deleted THEN
        INSERT INTO folder_counts (folder_path, images) VALUES (NEW.folder_path, 1)
            ON CONFLICT (folder_path) DO UPDATE SET images = folder_counts.images + 1;
        UPDATE nodes SET image_count = image_count + 1 WHERE id = NEW.node_id;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER images_count AFTER INSERT OR DELETE OR UPDATE OF folder_path, deleted ON images
    FOR EACH ROW EXECUTE FUNCTION images_count();

-- Each node's storage pools as of its last heartbeat (for the pool filter and VM disk placement).
CREATE TABLE node_pools (
    node_id        TEXT COLLATE "C" NOT NULL,
    pool_id        TEXT COLLATE "C" NOT NULL,
    name           TEXT NOT NULL,
    path           TEXT NOT NULL,
    capacity_bytes BIGINT NOT NULL,
    free_bytes     BIGINT NOT NULL,
    image_count    BIGINT NOT NULL,
    PRIMARY KEY (node_id, pool_id)
);

CREATE TABLE folders (
    path       TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    created_at BIGINT NOT NULL
);
