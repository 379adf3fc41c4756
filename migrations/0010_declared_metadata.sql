-- What a client says of an original that the original may not say itself, as an importer
-- knows it (a Google Takeout sidecar): when it was taken (wall-clock time, as taken_at; the
-- render takes it only when the original has no date), a description, and where it was taken.
ALTER TABLE assets
    ADD COLUMN declared_taken_at timestamp,
    ADD COLUMN description text CHECK (char_length(description) <= 2000),
    ADD COLUMN declared_latitude double precision CHECK (declared_latitude BETWEEN -90 AND 90),
    ADD COLUMN declared_longitude double precision
        CHECK (declared_longitude BETWEEN -180 AND 180),
    ADD CONSTRAINT assets_declared_location_whole
        CHECK ((declared_latitude IS NULL) = (declared_longitude IS NULL));
