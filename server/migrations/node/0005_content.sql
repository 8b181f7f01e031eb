-- What an image's content says: where its OS fields came from (content, filename, user), its volume
-- label, architecture and edition, the firmware it boots under, an OVA's descriptor (JSON, as the wire
-- carries it), why detection failed, and whether detection ran at all: rows from before it existed are
-- detected once, in the background.
ALTER TABLE images ADD COLUMN os_source TEXT;
ALTER TABLE images ADD COLUMN volume_id TEXT;
ALTER TABLE images ADD COLUMN arch TEXT;
ALTER TABLE images ADD COLUMN os_edition TEXT;
ALTER TABLE images ADD COLUMN boot_bios INTEGER;
ALTER TABLE images ADD COLUMN boot_uefi INTEGER;
ALTER TABLE images ADD COLUMN detection_error TEXT;
ALTER TABLE images ADD COLUMN ova_json TEXT;
ALTER TABLE images ADD COLUMN content_checked INTEGER NOT NULL DEFAULT 0;
