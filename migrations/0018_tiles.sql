-- Deep-zoom tiles: an image larger than LIGHTBOX_TILES_ABOVE_PIXELS has a pyramid of JPEG
-- tiles of its first page under its derivatives (derivatives/OWNER/ID/iiif/...). The pyramid
-- is recorded by its full size and tile size, from which its scale factors and every tile's
-- key follow; NULL for an asset without tiles.
ALTER TABLE assets
    ADD COLUMN tiles_width integer,
    ADD COLUMN tiles_height integer,
    ADD COLUMN tile_size integer,
    ADD CONSTRAINT assets_tiles_whole CHECK (
        (tiles_width IS NULL) = (tiles_height IS NULL)
        AND (tiles_width IS NULL) = (tile_size IS NULL)
        AND (tiles_width IS NULL OR (tiles_width > 0 AND tiles_height > 0 AND tile_size > 0)));

-- The key that signs tile grants (the capability in a tile URL, which a browser's viewer
-- fetches without the API key): 32 random bytes, made here once for the deployment, from two
-- gen_random_uuid() values (pg_strong_random; 244 random bits). One row, never changed: a
-- deployment that wants to revoke every grant at once replaces it.
CREATE TABLE tile_grant_key (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    secret bytea NOT NULL CHECK (length(secret) = 32)
);
INSERT INTO tile_grant_key (secret)
VALUES (decode(replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex'));
