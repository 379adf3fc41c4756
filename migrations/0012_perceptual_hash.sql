-- Near-duplicates: the 64-bit DCT hash of what a ready asset shows (its first page, a clip's
-- poster), as a signed bigint (the bits as they are; the sign is the first bit), NULL until it
-- is rendered with one. A tombstone forgets it.
--
-- PostgreSQL has no index on Hamming distance, so the hash is also kept as four 16-bit bands
-- (multi-index hashing): two hashes within distance d agree, in at least one band, to within
-- d / 4 bits (pigeonhole), so a search probes each band's index with every value that near to
-- its own band and checks the candidates' exact distance with bit_count. Each index holds only
-- ready assets with a hash, and carries the hash, so that candidates are checked in the index.
ALTER TABLE assets
    ADD COLUMN perceptual_hash bigint,
    ADD COLUMN phash_band0 integer GENERATED ALWAYS AS ((perceptual_hash >> 48) & 65535) STORED,
    ADD COLUMN phash_band1 integer GENERATED ALWAYS AS ((perceptual_hash >> 32) & 65535) STORED,
    ADD COLUMN phash_band2 integer GENERATED ALWAYS AS ((perceptual_hash >> 16) & 65535) STORED,
    ADD COLUMN phash_band3 integer GENERATED ALWAYS AS (perceptual_hash & 65535) STORED;

CREATE INDEX assets_phash_band0 ON assets (owner_id, phash_band0) INCLUDE (perceptual_hash, id)
    WHERE status = 'ready' AND perceptual_hash IS NOT NULL;
CREATE INDEX assets_phash_band1 ON assets (owner_id, phash_band1) INCLUDE (perceptual_hash, id)
    WHERE status = 'ready' AND perceptual_hash IS NOT NULL;
CREATE INDEX assets_phash_band2 ON assets (owner_id, phash_band2) INCLUDE (perceptual_hash, id)
    WHERE status = 'ready' AND perceptual_hash IS NOT NULL;
CREATE INDEX assets_phash_band3 ON assets (owner_id, phash_band3) INCLUDE (perceptual_hash, id)
    WHERE status = 'ready' AND perceptual_hash IS NOT NULL;
-- The group listing walks an owner's hashed assets in id order, a page at a time.
CREATE INDEX assets_phash_owner ON assets (owner_id, id) INCLUDE (perceptual_hash)
    WHERE status = 'ready' AND perceptual_hash IS NOT NULL;
