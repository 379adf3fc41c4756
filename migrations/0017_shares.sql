-- Read-only links to a project (an album). The token is shown once, at creation; only its
-- SHA-256 is kept, as for API keys (256 random bits: a fast hash is enough). A share opens its
-- project and nothing else, until it expires or is revoked; the project's deletion ends it.
CREATE TABLE shares (
    id             uuid        PRIMARY KEY,
    owner_id       text        NOT NULL,
    project_id     uuid        NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    token_hash     bytea       NOT NULL UNIQUE,
    -- Whether the link also serves originals, not only thumbnails.
    allow_original boolean     NOT NULL DEFAULT false,
    created_at     timestamptz NOT NULL DEFAULT now(),
    expires_at     timestamptz,
    revoked_at     timestamptz
);
CREATE INDEX shares_project ON shares (project_id, created_at);
