-- Adopting what is already in a bucket (lightbox import s3://BUCKET/PREFIX): one row per run,
-- listed page by page; after_key is the last source key handled, from which a crashed or
-- interrupted run goes on. Skipped objects are counted by reason, as a JSON object.
CREATE TABLE imports (
    id uuid PRIMARY KEY,
    owner_id text NOT NULL,
    source_bucket text NOT NULL,
    source_prefix text NOT NULL,
    project_id uuid REFERENCES projects (id) ON DELETE SET NULL,
    status text NOT NULL DEFAULT 'listing' CHECK (status IN ('listing', 'listed', 'failed')),
    after_key text,
    listed bigint NOT NULL DEFAULT 0,
    skipped jsonb NOT NULL DEFAULT '{}',
    error text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX imports_owner_recent ON imports (owner_id, created_at DESC);
-- One run at a time lists a source: a second request for it joins the run under way.
CREATE UNIQUE INDEX imports_one_listing ON imports (owner_id, source_bucket, source_prefix)
    WHERE status = 'listing';
-- The reaper's search for runs whose worker stopped.
CREATE INDEX imports_listing ON imports (updated_at) WHERE status = 'listing';

-- An adopted asset knows the object it came from: a source object (bucket, key, ETag) becomes
-- at most one asset of an owner, whichever run lists it, deleted ones included, so that no
-- import adds it twice and none brings back what its owner deleted.
ALTER TABLE assets
    ADD COLUMN import_id uuid REFERENCES imports (id) ON DELETE SET NULL,
    ADD COLUMN source_bucket text,
    ADD COLUMN source_key text,
    ADD COLUMN source_etag text,
    ADD CONSTRAINT assets_source_whole
        CHECK ((source_key IS NULL) = (source_bucket IS NULL)
               AND (source_key IS NULL) = (source_etag IS NULL));
CREATE UNIQUE INDEX assets_owner_source ON assets (owner_id, source_bucket, source_key, source_etag)
    WHERE source_key IS NOT NULL;
CREATE INDEX assets_import ON assets (import_id, status) WHERE import_id IS NOT NULL;
-- The reaper looks for users' own assets and an import's apart: tens of thousands of imported
-- assets waiting for the backfill must not hide the few lost jobs of live uploads.
DROP INDEX assets_waiting;
CREATE INDEX assets_waiting_live ON assets (status, updated_at)
    WHERE status IN ('pending', 'uploaded', 'processing') AND import_id IS NULL;
CREATE INDEX assets_waiting_imported ON assets (status, updated_at)
    WHERE status IN ('pending', 'uploaded', 'processing') AND import_id IS NOT NULL;
