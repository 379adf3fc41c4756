-- A duplicate shows the bytes of the asset it duplicates (its holder): a deleted holder's
-- objects are purged only once no live duplicate refers to it, which the purge asks per holder.
CREATE INDEX assets_duplicate_of ON assets (duplicate_of) WHERE status = 'duplicate';
