-- The counters change only when an image changes folder or comes and goes. The upsert names both columns
-- in every update (so `UPDATE OF folder_path, deleted` fired for every updated row) and the trigger
-- then wrote -1 and +1 to the same folder's counter row, locking it until the commit: the transactions
-- of a burst from many nodes queued on the few busy folders' rows, one durable commit after the other.
DROP TRIGGER images_count ON images;
CREATE TRIGGER images_count AFTER INSERT OR DELETE ON images
    FOR EACH ROW EXECUTE FUNCTION images_count();
CREATE TRIGGER images_count_update AFTER UPDATE OF folder_path, deleted ON images
    FOR EACH ROW WHEN (OLD.folder_path IS DISTINCT FROM NEW.folder_path OR OLD.deleted IS DISTINCT FROM NEW.deleted)
    EXECUTE FUNCTION images_count();
