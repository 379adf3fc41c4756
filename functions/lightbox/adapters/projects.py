"""The ProjectRepository port over PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

from psycopg import Cursor

from lightbox.adapters.postgres import LOCK_OWNER, PROJECTS_LOCK, Database, Row
from lightbox.domain import Project
from lightbox.errors import AssetNotFound, Conflict, LimitReached, ProjectExists

_PROJECT_COLUMNS = """
    p.id, p.owner_id, p.name, p.created_at, p.updated_at,
    (SELECT count(*) FROM project_members m JOIN assets a ON a.id = m.asset_id
     WHERE m.project_id = p.id AND a.status <> 'deleted' AND a.trashed_at IS NULL)
        AS asset_count
"""
_ADD_PROJECT = """
    INSERT INTO projects (id, owner_id, name) VALUES (%(id)s, %(owner)s, %(name)s)
    RETURNING id, owner_id, name, created_at, updated_at, 0 AS asset_count
"""
_LIST_PROJECTS = f"""
    SELECT {_PROJECT_COLUMNS} FROM projects p WHERE p.owner_id = %(owner)s
    ORDER BY project_name_key(p.name), p.id
"""
# project_name_key (migration 0005) is the one rule for "the same name"; its unique index
# serves this lookup.
_FIND_PROJECT = f"""
    SELECT {_PROJECT_COLUMNS} FROM projects p
    WHERE p.owner_id = %(owner)s AND project_name_key(p.name) = project_name_key(%(name)s)
"""
_GET_PROJECT = f"""
    SELECT {_PROJECT_COLUMNS} FROM projects p WHERE p.owner_id = %(owner)s AND p.id = %(id)s
"""
_RENAME_PROJECT = f"""
    UPDATE projects p SET name = %(name)s, updated_at = now()
    WHERE p.owner_id = %(owner)s AND p.id = %(id)s
    RETURNING {_PROJECT_COLUMNS}
"""
_DELETE_EMPTY_PROJECT = """
    DELETE FROM projects p
    WHERE p.owner_id = %(owner)s AND p.id = %(id)s
      AND NOT EXISTS (SELECT 1 FROM project_members m JOIN assets a ON a.id = m.asset_id
                      WHERE m.project_id = p.id AND a.status <> 'deleted'
                        AND a.trashed_at IS NULL)
"""
_COUNT_PROJECTS = "SELECT count(*) AS n FROM projects WHERE owner_id = %(owner)s"

# Held for the change of members: a deletion of the project waits for it, and then finds them.
_LOCK_PROJECT = """
    SELECT id FROM projects WHERE owner_id = %(owner)s AND id = %(id)s FOR SHARE
"""
_LIVE_ASSETS = """
    SELECT id FROM assets
    WHERE owner_id = %(owner)s AND id = ANY(%(ids)s) AND status <> 'deleted'
      AND trashed_at IS NULL
"""
# An asset's albums are part of it: touching each one changed puts it in the change feed.
_ADD_MEMBERS = """
    WITH added AS (
        INSERT INTO project_members (project_id, asset_id)
        SELECT %(id)s, asset_id FROM unnest(%(ids)s::uuid[]) AS asset_id
        ON CONFLICT DO NOTHING
        RETURNING asset_id
    )
    UPDATE assets SET updated_at = now() WHERE id IN (SELECT asset_id FROM added)
"""
# Leaving the project it came in with, an asset is left with no project_id.
_REMOVE_MEMBERS = """
    WITH removed AS (
        DELETE FROM project_members m USING assets a
        WHERE m.project_id = %(id)s AND m.asset_id = ANY(%(ids)s)
          AND a.id = m.asset_id AND a.owner_id = %(owner)s
        RETURNING m.asset_id
    )
    UPDATE assets
    SET project_id = CASE WHEN project_id = %(id)s THEN NULL ELSE project_id END,
        updated_at = now()
    WHERE id IN (SELECT asset_id FROM removed)
"""
_TOUCH_PROJECT = "UPDATE projects SET updated_at = now() WHERE id = %(id)s"


class PostgresProjectRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    def add(self, owner_id: str, project_id: UUID, name: str, *, max_projects: int) -> Project:
        try:
            with self._db.cursor(transaction=True) as cur:
                cur.execute(LOCK_OWNER, {"limit_kind": PROJECTS_LOCK, "owner": owner_id})
                cur.execute(_COUNT_PROJECTS, {"owner": owner_id})
                counted = cur.fetchone()
                if counted is not None and counted["n"] >= max_projects:
                    raise LimitReached(f"an owner may have at most {max_projects} projects")
                cur.execute(_ADD_PROJECT, {"id": project_id, "owner": owner_id, "name": name})
                row = cur.fetchone()
        except LimitReached:
            raise  # a Conflict too, but not about the name
        except Conflict:
            raise ProjectExists(f"a project named {name!r} already exists") from None
        assert row is not None
        return _project(row)

    def list(self, owner_id: str) -> list[Project]:
        return [_project(row) for row in self._db.fetch_all(_LIST_PROJECTS, {"owner": owner_id})]

    def find_by_name(self, owner_id: str, name: str) -> Project | None:
        row = self._db.fetch_one(_FIND_PROJECT, {"owner": owner_id, "name": name})
        return _project(row) if row else None

    def get(self, owner_id: str, project_id: UUID) -> Project | None:
        row = self._db.fetch_one(_GET_PROJECT, {"owner": owner_id, "id": project_id})
        return _project(row) if row else None

    def rename(self, owner_id: str, project_id: UUID, name: str) -> Project | None:
        try:
            row = self._db.fetch_one(_RENAME_PROJECT, {"owner": owner_id, "id": project_id,
                                                       "name": name})
        except Conflict:
            raise ProjectExists(f"a project named {name!r} already exists") from None
        return _project(row) if row else None

    def delete_if_empty(self, owner_id: str, project_id: UUID) -> bool:
        return self._db.execute(_DELETE_EMPTY_PROJECT, {"owner": owner_id, "id": project_id}) == 1

    def add_members(self, owner_id: str, project_id: UUID,
                    asset_ids: Sequence[UUID]) -> int | None:
        def all_live(cur: Cursor[Row], params: dict[str, Any]) -> None:
            cur.execute(_LIVE_ASSETS, params)
            live = {row["id"] for row in cur.fetchall()}
            missing = [asset_id for asset_id in asset_ids if asset_id not in live]
            if missing:
                raise AssetNotFound(f"no asset {missing[0]} to add (it is not in the library, "
                                    "or is in the trash): nothing was added")

        return self._change_members(owner_id, project_id, asset_ids, _ADD_MEMBERS,
                                    check=all_live)

    def remove_members(self, owner_id: str, project_id: UUID,
                       asset_ids: Sequence[UUID]) -> int | None:
        return self._change_members(owner_id, project_id, asset_ids, _REMOVE_MEMBERS)

    def _change_members(
        self, owner_id: str, project_id: UUID, asset_ids: Sequence[UUID], change: str, *,
        check: Callable[[Cursor[Row], dict[str, Any]], None] | None = None,
    ) -> int | None:
        """Run ``change`` on the project's members under its lock (after ``check``): how many
        assets it changed; None when the owner has no such project."""
        params: dict[str, Any] = {"owner": owner_id, "id": project_id, "ids": list(asset_ids)}
        with self._db.cursor(transaction=True) as cur:
            cur.execute(_LOCK_PROJECT, params)
            if cur.fetchone() is None:
                return None
            if check is not None:
                check(cur, params)
            cur.execute(change, params)
            changed = cur.rowcount
            if changed:
                cur.execute(_TOUCH_PROJECT, params)
        return changed



def _project(row: Row) -> Project:
    return Project(id=row["id"], owner_id=row["owner_id"], name=row["name"],
                   created_at=row["created_at"], updated_at=row["updated_at"],
                   asset_count=row["asset_count"])
