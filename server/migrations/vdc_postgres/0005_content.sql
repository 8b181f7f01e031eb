-- What an image's content says, as its node reports it: where its OS fields came from, its volume
-- label, architecture, edition, the firmware it boots under (two flags, NULL when unknown), why detection
-- failed, and an OVA's descriptor (JSON, as the wire carries it).
ALTER TABLE images ADD COLUMN os_source TEXT;
ALTER TABLE images ADD COLUMN volume_id TEXT;
ALTER TABLE images ADD COLUMN arch TEXT;
ALTER TABLE images ADD COLUMN os_edition TEXT;
ALTER TABLE images ADD COLUMN boot_bios BIGINT;
ALTER TABLE images ADD COLUMN boot_uefi BIGINT;
ALTER TABLE images ADD COLUMN detection_error TEXT;
ALTER TABLE images ADD COLUMN ova_json TEXT;

-- A VM's firmware (the wizard proposes UEFI for an ISO that boots only under it).
ALTER TABLE vms ADD COLUMN firmware TEXT NOT NULL DEFAULT 'bios';
