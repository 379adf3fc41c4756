-- Albums: an asset may be in any number of projects. project_members says which; an asset's
-- project_id stays what it was (the project it was uploaded, adopted or moved into), and is
-- always one of them: the trigger below keeps the two together, so that every way an asset
-- enters or leaves its project_id (a presign, an import, a move, a project's deletion) is a
-- membership too.
CREATE TABLE project_members (
    project_id uuid        NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    asset_id   uuid        NOT NULL REFERENCES assets (id) ON DELETE CASCADE,
    added_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (project_id, asset_id)
);
-- An asset's albums, for its listing.
CREATE INDEX project_members_asset ON project_members (asset_id);

INSERT INTO project_members (project_id, asset_id, added_at)
    SELECT project_id, id, created_at FROM assets WHERE project_id IS NOT NULL;

CREATE FUNCTION assets_follow_project() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.project_id IS NOT NULL
            AND OLD.project_id IS DISTINCT FROM NEW.project_id THEN
        DELETE FROM project_members WHERE project_id = OLD.project_id AND asset_id = OLD.id;
    END IF;
    IF NEW.project_id IS NOT NULL
            AND (TG_OP = 'INSERT' OR OLD.project_id IS DISTINCT FROM NEW.project_id) THEN
        INSERT INTO project_members (project_id, asset_id) VALUES (NEW.project_id, NEW.id)
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER assets_follow_project AFTER INSERT OR UPDATE OF project_id ON assets
    FOR EACH ROW EXECUTE FUNCTION assets_follow_project();

-- Listings of a project now go through its members (their primary key).
DROP INDEX assets_project_taken;
