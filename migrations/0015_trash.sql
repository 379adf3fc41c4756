-- The trash: an asset its owner deletes keeps its bytes, its state and its place in projects
-- for LIGHTBOX_TRASH_DAYS, out of listings, until restored or emptied (then it is deleted as
-- before: a tombstone, its objects purged). Restoring clears trashed_at and nothing else.
ALTER TABLE assets ADD COLUMN trashed_at timestamptz;
-- The reaper's search for what has been in the trash too long, and DELETE /v1/trash.
CREATE INDEX assets_trash ON assets (owner_id, trashed_at) WHERE trashed_at IS NOT NULL;
