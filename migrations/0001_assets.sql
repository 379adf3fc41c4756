-- Assets: one row per upload, from the presign request to its thumbnails.
--
-- status moves pending → uploaded → processing → ready | failed | duplicate (plus deleted);
-- every transition is a conditional UPDATE on the expected current status, so replayed and
-- out-of-order events cannot move an asset backwards.
CREATE TABLE assets (
    id              uuid        PRIMARY KEY,
    owner_id        text        NOT NULL,
    project_id      uuid,
    status          text        NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'uploaded', 'processing', 'ready',
                                      'failed', 'duplicate', 'deleted')),
    filename        text        NOT NULL,
    content_type    text        NOT NULL,
    size_bytes      bigint      NOT NULL CHECK (size_bytes > 0),
    -- what the client said the content hashes to, and what Lightbox computed from the bytes
    declared_sha256 text        CHECK (declared_sha256 ~ '^[0-9a-f]{64}$'),
    sha256          text        CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    duplicate_of    uuid        REFERENCES assets (id) ON DELETE SET NULL,
    width           integer,
    height          integer,
    pages           integer,
    bit_depth       integer,
    color_mode      text,
    -- EXIF DateTimeOriginal is the camera's wall-clock time, with no zone
    taken_at        timestamp,
    camera_make     text,
    camera_model    text,
    orientation     smallint,
    -- [{size, page, format, width, height, key, bytes}], written with the move to ready
    derivatives     jsonb       NOT NULL DEFAULT '[]',
    error           text,
    attempts        integer     NOT NULL DEFAULT 0,
    claimed_at      timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- Listing: newest first, keyset on (created_at, id), per owner and optionally per status.
CREATE INDEX assets_owner_recent ON assets (owner_id, created_at DESC, id DESC);
CREATE INDEX assets_owner_status_recent ON assets (owner_id, status, created_at DESC, id DESC);

-- One live copy of each content per owner: the second asset to reach the same sha256
-- becomes a duplicate of the first, even when both are processed at the same moment.
CREATE UNIQUE INDEX assets_owner_content ON assets (owner_id, sha256)
    WHERE status IN ('processing', 'ready');
