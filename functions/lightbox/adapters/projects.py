"""The ProjectRepository port over PostgreSQL."""

from __future__ import annotations

from uuid import UUID

from lightbox.adapters.postgres import LOCK_OWNER, PROJECTS_LOCK, Database, Row
from lightbox.domain import Project
from lightbox.errors import Conflict, LimitReached, ProjectExists

_PROJECT_COLUMNS = """
    p.id, p.owner_id, p.name, p.created_at, p.updated_at,
    (SELECT count(*) FROM assets a WHERE a.project_id = p.id AND a.status <> 'deleted'
        AND a.trashed_at IS NULL)
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
      AND NOT EXISTS (SELECT 1 FROM assets a WHERE a.project_id = p.id AND a.status <> 'deleted'
                      AND a.trashed_at IS NULL)
"""
_COUNT_PROJECTS = "SELECT count(*) AS n FROM projects WHERE owner_id = %(owner)s"


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



def _project(row: Row) -> Project:
    return Project(id=row["id"], owner_id=row["owner_id"], name=row["name"],
                   created_at=row["created_at"], updated_at=row["updated_at"],
                   asset_count=row["asset_count"])
