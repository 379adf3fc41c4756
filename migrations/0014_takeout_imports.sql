-- A Google Takeout in a bucket, imported (services/sidecars.py).
-- Its sidecars say when a photo was taken as an instant; the library keeps dates as wall
-- clocks, as EXIF does. A run reads them in the zone its owner names (an IANA name).
ALTER TABLE imports ADD COLUMN time_zone text NOT NULL DEFAULT 'UTC';

-- Its album folders, as a run met their descriptions: the project each folder's photos join.
-- A description may come pages after the folder's first photos, which then join it too.
CREATE TABLE import_albums (
    import_id uuid NOT NULL REFERENCES imports (id) ON DELETE CASCADE,
    folder text NOT NULL,
    project_id uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    PRIMARY KEY (import_id, folder)
);
