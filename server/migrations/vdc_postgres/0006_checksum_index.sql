-- The grouped listing (group=checksum) looks up, for each image of a page, the other copies of its
-- checksum in the filtered result.
CREATE INDEX images_by_checksum ON images (checksum) WHERE deleted = FALSE AND checksum IS NOT NULL;
