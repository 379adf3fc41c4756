-- An admin's key also sees the figures of the whole service (queue depths); every other key
-- sees only its owner's library.
ALTER TABLE api_keys ADD COLUMN admin boolean NOT NULL DEFAULT false;

-- The change feed numbers each owner's changes on a sequence of their own: a cursor tells a
-- client nothing of anyone else (the transaction ids of 0004 counted every owner's writes).
-- Each insert or update of an asset takes the owner's next number from owner_sequences and
-- keeps that row locked until it commits, so the owner's changes commit in number order: a
-- reader that has seen number n has seen every committed change below it, and a change that
-- commits later gets a higher number. Writers of one owner wait for each other from their
-- first change of an asset to their commit; writers of different owners never do.
CREATE TABLE owner_sequences (
    owner_id text   PRIMARY KEY,
    last_seq bigint NOT NULL
);

DROP TRIGGER assets_stamp_change ON assets;
DROP FUNCTION assets_stamp_change();

-- Existing rows are numbered in the order the old feed returned them, so that a cursor of
-- the old feed maps to a number below every change it had not seen.
ALTER TABLE assets ADD COLUMN change_seq bigint;
UPDATE assets SET change_seq = numbered.seq
FROM (SELECT id, row_number() OVER (PARTITION BY owner_id ORDER BY change_xid, id) AS seq
      FROM assets) AS numbered
WHERE assets.id = numbered.id;
ALTER TABLE assets ALTER COLUMN change_seq SET NOT NULL;
INSERT INTO owner_sequences (owner_id, last_seq)
    SELECT owner_id, max(change_seq) FROM assets GROUP BY owner_id;
CREATE UNIQUE INDEX assets_owner_change_seq ON assets (owner_id, change_seq);

-- change_xid stays only on rows unchanged since this migration, to map cursors of the old
-- feed (clients keep them across the upgrade); a row that changes leaves that mapping.
ALTER TABLE assets ALTER COLUMN change_xid DROP NOT NULL, ALTER COLUMN change_xid DROP DEFAULT;
DROP INDEX assets_owner_changes;
CREATE INDEX assets_legacy_changes ON assets (owner_id, change_xid, id)
    WHERE change_xid IS NOT NULL;

CREATE FUNCTION assets_stamp_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO owner_sequences AS s (owner_id, last_seq) VALUES (NEW.owner_id, 1)
    ON CONFLICT (owner_id) DO UPDATE SET last_seq = s.last_seq + 1
    RETURNING last_seq INTO NEW.change_seq;
    NEW.change_xid := NULL;
    RETURN NEW;
END
$$;
CREATE TRIGGER assets_stamp_change BEFORE INSERT OR UPDATE ON assets
    FOR EACH ROW EXECUTE FUNCTION assets_stamp_change();
