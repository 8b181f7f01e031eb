-- The highest revision of each node the vdc has seen (its events, inventories and tombstones): a node
-- whose counter is below it has a database that went back in time (restored, or lost) and must raise its
-- counter before its changes can win again.
ALTER TABLE nodes ADD COLUMN max_revision BIGINT;

-- Each node's own credential, issued when it first registers with the cluster token; only its SHA-256
-- digest is kept. Afterwards the vdc accepts a node id only with its own credential.
CREATE TABLE node_credentials (
    node_id     TEXT PRIMARY KEY NOT NULL,
    secret_hash TEXT NOT NULL UNIQUE,
    created_at  BIGINT NOT NULL
);

-- The heartbeat answer lists the VM definitions on a node (the ISOs it must keep).
CREATE INDEX vms_by_node ON vms (node_id);
