-- One rule for when two project names are the same name, kept by the database alone (clients
-- ask the API rather than fold case themselves): compatibility-normalised (NFKC: a ligature or
-- a full-width letter is its plain letters), lower-cased, and with the case pairs lower() leaves
-- apart made one: ß and ẞ are ss (STRASSE is Straße), a final ς is σ (ΟΔΟΣ is οδος).
CREATE FUNCTION project_name_key(name text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN replace(replace(replace(lower(normalize(name, NFKC)), 'ẞ', 'ss'), 'ß', 'ss'), 'ς', 'σ');

-- Names that were apart under lower() alone but are one name now: the oldest of each keeps its
-- name, each later one gets the first free " (2)", " (3)", … (cut to fit 200 characters).
DO $$
DECLARE
    duplicate record;
    n integer;
    candidate text;
BEGIN
    FOR duplicate IN
        SELECT id, owner_id, name FROM (
            SELECT id, owner_id, name, created_at,
                   row_number() OVER (PARTITION BY owner_id, project_name_key(name)
                                      ORDER BY created_at, id) AS rank
            FROM projects
        ) ranked
        WHERE rank > 1
        ORDER BY owner_id, created_at, id
    LOOP
        n := 2;
        LOOP
            candidate := left(duplicate.name, 200 - length(' (' || n || ')')) || ' (' || n || ')';
            EXIT WHEN NOT EXISTS (
                SELECT 1 FROM projects
                WHERE owner_id = duplicate.owner_id
                  AND project_name_key(name) = project_name_key(candidate));
            n := n + 1;
        END LOOP;
        UPDATE projects SET name = candidate, updated_at = now() WHERE id = duplicate.id;
    END LOOP;
END
$$;

DROP INDEX projects_owner_name;
CREATE UNIQUE INDEX projects_owner_name_key ON projects (owner_id, project_name_key(name));
