-- The outbox keeps only each image's latest state: every event carries the whole image and the vdc
-- applies the newest revision of an image and nothing older, so earlier records of the same image are
-- redundant. A node offline for a week thus holds at most one record per image, not one per change.
-- `pending_since` is when the oldest change folded into a record was made (the age an operator watches).
ALTER TABLE outbox ADD COLUMN image_id TEXT;
ALTER TABLE outbox ADD COLUMN pending_since INTEGER;
UPDATE outbox SET image_id = json_extract(image_json, '$.id');
UPDATE outbox SET pending_since = (SELECT MIN(o.created_at) FROM outbox o WHERE o.image_id = outbox.image_id);
DELETE FROM outbox WHERE seq NOT IN (SELECT MAX(seq) FROM outbox GROUP BY image_id);
CREATE INDEX outbox_by_image ON outbox (image_id);
