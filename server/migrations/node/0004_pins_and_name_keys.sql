-- VM definitions (on the vdc) that boot from an image: a pinned image is not deleted through the API.
-- Written by the vdc before it commits a definition, so a delete and a VM creation cannot both succeed.
CREATE TABLE pins (
    image_id   TEXT NOT NULL,
    vm_id      TEXT NOT NULL,
    vm_name    TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (image_id, vm_id)
);

-- A file name in Unicode NFC: two names that differ only by normalisation (NFC `café.iso`, NFD
-- `café.iso`) are the same name to a person, so they are one name to the node. Filled at start.
ALTER TABLE images ADD COLUMN filename_key TEXT NOT NULL DEFAULT '';
CREATE INDEX images_by_filename_key ON images (pool_id, filename_key);
