-- The reaper looks, across owners, for assets that have sat too long in a waiting state.
CREATE INDEX assets_waiting ON assets (status, updated_at)
    WHERE status IN ('pending', 'uploaded', 'processing');
