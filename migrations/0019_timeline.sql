-- The timeline's months (GET /v1/timeline): a count of the owner's live assets by the date a
-- taken-order listing sorts by, read from this index alone (an index-only scan) rather than
-- from every row of the owner's.
CREATE INDEX assets_owner_live_taken ON assets (owner_id, taken_sort)
    WHERE status <> 'deleted' AND trashed_at IS NULL;
