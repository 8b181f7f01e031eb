-- Paging and search in SQL: the sort key of names and the text `q` searches, lower-cased by the node
-- (Unicode-aware; filled for existing rows at start), and an index per sort order.

ALTER TABLE images ADD COLUMN name_key TEXT NOT NULL DEFAULT '';
ALTER TABLE images ADD COLUMN search_text TEXT NOT NULL DEFAULT '';

DROP INDEX images_by_folder;
CREATE INDEX images_by_folder ON images (folder_path, name_key, id);
CREATE INDEX images_by_name ON images (name_key, id);
CREATE INDEX images_by_size ON images (size_bytes, id);
CREATE INDEX images_by_created ON images (created_at, id);
