"""The Catalog and ProjectRepository ports over PostgreSQL: what clients do with a library.

Listing queries are assembled from fixed fragments, never from user text, so that each shape
of filter gets its own index plan and every value travels as a parameter.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any
from uuid import UUID

from lightbox.adapters.postgres import (
    ASSET_COLUMNS,
    LOCK_OWNER,
    PROJECTS_LOCK,
    Database,
    Row,
    all_assets,
    one_asset,
)
from lightbox.domain import Asset, Project, Status
from lightbox.errors import Conflict, LimitReached, ProjectExists
from lightbox.ports import (
    AssetFilter,
    LegacyChangeCursor,
    PageCursor,
    SortOrder,
    StatusTotal,
)

_PAGE = f"SELECT {ASSET_COLUMNS} FROM assets WHERE owner_id = %(owner)s"
_ANY_LIVE_STATUS = " AND status <> 'deleted'"
_STATUS = " AND status = %(status)s"
_PROJECT = " AND project_id = %(project)s"
_CONTENT_TYPE = " AND content_type = %(content_type)s"
_TAKEN_FROM = " AND taken_at >= %(taken_from)s"
_TAKEN_UNTIL = " AND taken_at < %(taken_until)s"
_SORT_COLUMN = {False: "created_at", True: "taken_sort"}
_NONE = StatusTotal(count=0, size_bytes=0, oldest_update=None)

# Changes need no horizon: the owner's numbers are taken in commit order (migration 0006), so
# a snapshot that holds a number holds every committed one below it.
_CHANGES = f"""
    SELECT {ASSET_COLUMNS} FROM assets
    WHERE owner_id = %(owner)s AND change_seq > %(seq)s
    ORDER BY change_seq
    LIMIT %(limit)s
"""
_SEQUENCE = """
    SELECT COALESCE((SELECT last_seq FROM owner_sequences WHERE owner_id = %(owner)s), 0) AS seq
"""
# Rows still carrying change_xid are unchanged since migration 0006 numbered them in the old
# feed's order: the last of them at or before the old position has the highest such number,
# and every change the old cursor had not seen is after it in that order or changed since.
_LEGACY_SEQUENCE = """
    SELECT COALESCE((
        SELECT change_seq FROM assets
        WHERE owner_id = %(owner)s AND change_xid IS NOT NULL
          AND (change_xid, id) <= (%(xid)s::text::xid8, %(id)s)
        ORDER BY change_xid DESC, id DESC
        LIMIT 1), 0) AS seq
"""

_GET_MANY = f"""
    SELECT {ASSET_COLUMNS} FROM assets WHERE owner_id = %(owner)s AND id = ANY(%(ids)s)
"""

_TOTALS = """
    SELECT status, count(*) AS n, COALESCE(sum(size_bytes), 0) AS size_bytes,
           min(updated_at) AS oldest_update
    FROM assets WHERE owner_id = %(owner)s GROUP BY status
"""

_UPDATE = f"""
    UPDATE assets
    SET filename = COALESCE(%(filename)s, filename),
        project_id = CASE WHEN %(move)s THEN %(project)s ELSE project_id END,
        updated_at = now()
    WHERE owner_id = %(owner)s AND id = %(id)s AND status <> 'deleted'
    RETURNING {ASSET_COLUMNS}
"""

_DELETE = f"""
    UPDATE assets SET status = 'deleted', purged_at = NULL, updated_at = now()
    WHERE owner_id = %(owner)s AND id = %(id)s AND status <> 'deleted'
    RETURNING {ASSET_COLUMNS}
"""

_MARK_PURGED = """
    UPDATE assets SET purged_at = now()
    WHERE owner_id = %(owner)s AND id = %(id)s AND status = 'deleted'
"""

# A deleted asset's bytes stay while a live duplicate shows them.
_UNUSED = """
    NOT EXISTS (SELECT 1 FROM assets dup
                WHERE dup.duplicate_of = held.id AND dup.status = 'duplicate')
"""
_UNPURGED = f"""
    SELECT {ASSET_COLUMNS} FROM assets held
    WHERE status = 'deleted' AND purged_at IS NULL
      AND updated_at < now() - make_interval(secs => %(age)s) AND {_UNUSED}
    ORDER BY updated_at
    LIMIT %(limit)s
"""
_PURGEABLE = f"""
    SELECT {ASSET_COLUMNS} FROM assets held
    WHERE owner_id = %(owner)s AND id = %(id)s AND status = 'deleted' AND purged_at IS NULL
      AND {_UNUSED}
"""

_RESET_FAILED = """
    UPDATE assets SET status = 'pending', error = NULL, attempts = 0, claimed_at = NULL,
                      updated_at = now()
    WHERE owner_id = %(owner)s AND id = %(id)s AND status = 'failed'
"""

_IN_PROJECT = f"""
    SELECT {ASSET_COLUMNS} FROM assets
    WHERE owner_id = %(owner)s AND project_id = %(project)s AND status <> 'deleted'
    LIMIT %(limit)s
"""

_PROJECT_COLUMNS = """
    p.id, p.owner_id, p.name, p.created_at, p.updated_at,
    (SELECT count(*) FROM assets a WHERE a.project_id = p.id AND a.status <> 'deleted')
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
      AND NOT EXISTS (SELECT 1 FROM assets a WHERE a.project_id = p.id AND a.status <> 'deleted')
"""
_COUNT_PROJECTS = "SELECT count(*) AS n FROM projects WHERE owner_id = %(owner)s"


class PostgresCatalog:
    def __init__(self, database: Database) -> None:
        self._db = database

    def page(
        self, owner_id: str, *, filters: AssetFilter, sort: SortOrder, limit: int,
        after: PageCursor | None,
    ) -> list[Asset]:
        query = _PAGE + (_STATUS if filters.status else _ANY_LIVE_STATUS)
        params: dict[str, Any] = {"owner": owner_id, "limit": limit}
        if filters.status:
            params["status"] = filters.status.value
        for fragment, name, value in (
            (_PROJECT, "project", filters.project_id),
            (_CONTENT_TYPE, "content_type", filters.content_type),
            (_TAKEN_FROM, "taken_from", filters.taken_from),
            (_TAKEN_UNTIL, "taken_until", filters.taken_until),
        ):
            if value is not None:
                query += fragment
                params[name] = value
        column = _SORT_COLUMN[sort.by_taken]
        direction, before = ("DESC", "<") if sort.descending else ("ASC", ">")
        if after is not None:
            query += f" AND ({column}, id) {before} (%(after_key)s, %(after_id)s)"
            params.update(after_key=after.key, after_id=after.asset_id)
        query += f" ORDER BY {column} {direction}, id {direction} LIMIT %(limit)s"
        return all_assets(self._db, query, params)

    def changes(self, owner_id: str, *, after: int, limit: int) -> list[Asset]:
        return all_assets(self._db, _CHANGES, {"owner": owner_id, "seq": after, "limit": limit})

    def sequence(self, owner_id: str) -> int:
        return self._number(_SEQUENCE, {"owner": owner_id})

    def get_many(self, owner_id: str, asset_ids: Collection[UUID]) -> list[Asset]:
        return all_assets(self._db, _GET_MANY, {"owner": owner_id, "ids": list(asset_ids)})

    def sequence_at(self, owner_id: str, legacy: LegacyChangeCursor) -> int:
        return self._number(_LEGACY_SEQUENCE, {"owner": owner_id, "xid": str(legacy.xid),
                                               "id": legacy.asset_id})

    def _number(self, query: str, params: dict[str, Any]) -> int:
        row = self._db.fetch_one(query, params)
        assert row is not None  # a SELECT without FROM answers one row
        return int(row["seq"])

    def totals(self, owner_id: str) -> dict[Status, StatusTotal]:
        totals = dict.fromkeys(Status, _NONE)
        for row in self._db.fetch_all(_TOTALS, {"owner": owner_id}):
            totals[Status(row["status"])] = StatusTotal(
                count=row["n"], size_bytes=int(row["size_bytes"]),
                oldest_update=row["oldest_update"])
        return totals

    def update(
        self, owner_id: str, asset_id: UUID, *, filename: str | None, move: bool,
        project_id: UUID | None,
    ) -> Asset | None:
        return one_asset(self._db, _UPDATE, {"owner": owner_id, "id": asset_id,
                                             "filename": filename, "move": move,
                                             "project": project_id})

    def delete(self, owner_id: str, asset_id: UUID) -> Asset | None:
        return one_asset(self._db, _DELETE, {"owner": owner_id, "id": asset_id})

    def mark_purged(self, owner_id: str, asset_id: UUID) -> None:
        self._db.execute(_MARK_PURGED, {"owner": owner_id, "id": asset_id})

    def unpurged(self, older_than_seconds: int, limit: int) -> list[Asset]:
        return all_assets(self._db, _UNPURGED, {"age": older_than_seconds, "limit": limit})

    def purgeable(self, owner_id: str, asset_id: UUID) -> Asset | None:
        return one_asset(self._db, _PURGEABLE, {"owner": owner_id, "id": asset_id})

    def reset_failed(self, owner_id: str, asset_id: UUID) -> bool:
        return self._db.execute(_RESET_FAILED, {"owner": owner_id, "id": asset_id}) == 1

    def in_project(self, owner_id: str, project_id: UUID, limit: int) -> list[Asset]:
        return all_assets(self._db, _IN_PROJECT,
                          {"owner": owner_id, "project": project_id, "limit": limit})


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
