-- An admin's key also sees the figures of the whole service (queue depths); every other key
-- sees only its owner's library.
ALTER TABLE api_keys ADD COLUMN admin boolean NOT NULL DEFAULT false;
