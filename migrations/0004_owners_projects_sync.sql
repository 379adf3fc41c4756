-- API keys: a key is shown once, at creation; only its SHA-256 is kept. Keys are 256 random
-- bits, so a fast hash is enough (nothing to guess from a leaked hash); a slow one would only
-- add latency to every request.
CREATE TABLE api_keys (
    id          uuid        PRIMARY KEY,
    owner_id    text        NOT NULL CHECK (owner_id ~ '^[A-Za-z0-9_-]{1,64}$'),
    name        text        NOT NULL DEFAULT '',
    -- the key's first characters, so that a listing can tell keys apart
    prefix      text        NOT NULL,
    secret_hash bytea       NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at  timestamptz
);
CREATE INDEX api_keys_owner ON api_keys (owner_id, created_at);

-- Projects (albums): an asset belongs to at most one.
CREATE TABLE projects (
    id          uuid        PRIMARY KEY,
    owner_id    text        NOT NULL,
    name        text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX projects_owner_name ON projects (owner_id, lower(name));

ALTER TABLE assets
    ADD CONSTRAINT assets_project FOREIGN KEY (project_id) REFERENCES projects (id)
        ON DELETE SET NULL;
-- Listing one project, newest first (and the foreign key's lookups on project deletion).
CREATE INDEX assets_project_recent ON assets (project_id, created_at DESC, id DESC)
    WHERE project_id IS NOT NULL;

-- Sorting by when a photo was taken, falling back to when it was uploaded, as galleries do.
ALTER TABLE assets ADD COLUMN taken_sort timestamp
    GENERATED ALWAYS AS (COALESCE(taken_at, created_at AT TIME ZONE 'UTC')) STORED;
CREATE INDEX assets_owner_taken ON assets (owner_id, taken_sort DESC, id DESC);
CREATE INDEX assets_project_taken ON assets (project_id, taken_sort DESC, id DESC)
    WHERE project_id IS NOT NULL;

-- A multipart upload in progress (large originals), to complete or abort it.
ALTER TABLE assets ADD COLUMN multipart_upload_id text;

-- Deleted assets keep their row as a tombstone for sync; purged_at says their objects are gone
-- too (NULL while the bucket still may hold some: the reaper finishes the job).
ALTER TABLE assets ADD COLUMN purged_at timestamptz;
CREATE INDEX assets_unpurged ON assets (updated_at) WHERE status = 'deleted' AND purged_at IS NULL;

-- The change feed. Every insert and update stamps the row with its transaction's id; a reader
-- returns only changes of transactions older than every one still running (the snapshot's
-- xmin), so a change that commits late is never skipped by a cursor that moved past it.
ALTER TABLE assets ADD COLUMN change_xid xid8 NOT NULL DEFAULT pg_current_xact_id();
CREATE INDEX assets_owner_changes ON assets (owner_id, change_xid, id);

CREATE FUNCTION assets_stamp_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.change_xid := pg_current_xact_id();
    RETURN NEW;
END
$$;
CREATE TRIGGER assets_stamp_change BEFORE UPDATE ON assets
    FOR EACH ROW EXECUTE FUNCTION assets_stamp_change();
