-- VM definitions made by the create wizard, placed on the node that holds their installation ISO.
CREATE TABLE vms (
    id           TEXT PRIMARY KEY NOT NULL,
    name         TEXT NOT NULL UNIQUE,
    vcpus        BIGINT NOT NULL,
    memory_mib   BIGINT NOT NULL,
    disk_gib     BIGINT NOT NULL,
    disk_pool_id TEXT NOT NULL,
    iso_id       TEXT NOT NULL,
    node_id      TEXT NOT NULL,
    created_at   BIGINT NOT NULL
);

CREATE INDEX vms_by_iso ON vms (iso_id);
