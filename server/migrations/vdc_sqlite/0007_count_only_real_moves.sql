-- The counters change only when an image changes folder or comes and goes, and the search index only
-- when its text changes. The upsert names every column in every update, so `UPDATE OF` fired these
-- triggers for every updated row, which then wrote -1 and +1 to the same counters and deleted and
-- re-inserted the same full-text entry. Same bodies as 0001, with a WHEN.
DROP TRIGGER images_count_update;
CREATE TRIGGER images_count_update AFTER UPDATE OF folder_path, deleted ON images
    WHEN old.folder_path IS NOT new.folder_path OR old.deleted IS NOT new.deleted BEGIN
    UPDATE folder_counts SET images = images - 1 WHERE folder_path = old.folder_path AND NOT old.deleted;
    INSERT INTO folder_counts (folder_path, images) SELECT new.folder_path, 1 WHERE NOT new.deleted
        ON CONFLICT (folder_path) DO UPDATE SET images = images + 1;
    UPDATE nodes SET image_count = image_count - (CASE WHEN old.deleted THEN 0 ELSE 1 END)
        + (CASE WHEN new.deleted THEN 0 ELSE 1 END) WHERE id = new.node_id;
END;
DROP TRIGGER images_search_update;
CREATE TRIGGER images_search_update AFTER UPDATE OF search_text ON images
    WHEN old.search_text IS NOT new.search_text BEGIN
    INSERT INTO images_search (images_search, rowid, search_text) VALUES ('delete', old.pk, old.search_text);
    INSERT INTO images_search (rowid, search_text) VALUES (new.pk, new.search_text);
END;
