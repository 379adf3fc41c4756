"""The ImportRepository port over PostgreSQL (migration 0011)."""

from __future__ import annotations

from uuid import UUID

from psycopg.types.json import Jsonb

from lightbox.adapters.postgres import Database, Row, like_pattern
from lightbox.domain import Import, ImportSource, ImportStatus, Status
from lightbox.errors import Conflict

_IMPORT_COLUMNS = """
    id, owner_id, source_bucket, source_prefix, project_id, time_zone, status, after_key, listed,
    skipped, error, created_at, updated_at
"""
# The run already listing this source wins (imports_one_listing): a second request joins it.
_START = f"""
    WITH added AS (
        INSERT INTO imports (id, owner_id, source_bucket, source_prefix, project_id, time_zone)
        VALUES (%(id)s, %(owner)s, %(bucket)s, %(prefix)s, %(project_id)s, %(time_zone)s)
        ON CONFLICT (owner_id, source_bucket, source_prefix) WHERE status = 'listing'
            DO NOTHING
        RETURNING {_IMPORT_COLUMNS}, true AS added
    )
    SELECT * FROM added
    UNION ALL
    SELECT {_IMPORT_COLUMNS}, false AS added FROM imports
    WHERE owner_id = %(owner)s AND source_bucket = %(bucket)s AND source_prefix = %(prefix)s
      AND status = 'listing' AND NOT EXISTS (SELECT 1 FROM added)
"""
_GET = f"SELECT {_IMPORT_COLUMNS} FROM imports WHERE owner_id = %(owner)s AND id = %(id)s"
_LIST = f"""
    SELECT {_IMPORT_COLUMNS} FROM imports WHERE owner_id = %(owner)s
    ORDER BY created_at DESC, id DESC LIMIT %(limit)s
"""
# Conditional on where the caller's page started: a repeated message finds the run moved on,
# so the totals it carries (the run's as read, plus its page) are never counted twice.
_ADVANCE = """
    UPDATE imports
    SET after_key = %(after_key)s, listed = %(listed)s, skipped = %(skipped)s,
        status = CASE WHEN %(done)s THEN 'listed' ELSE status END, updated_at = now()
    WHERE owner_id = %(owner)s AND id = %(id)s AND status = 'listing'
      AND after_key IS NOT DISTINCT FROM %(expected)s
"""
_FAIL = """
    UPDATE imports SET status = 'failed', error = %(reason)s, updated_at = now()
    WHERE owner_id = %(owner)s AND id = %(id)s AND status = 'listing'
"""
_ASSET_TOTALS = """
    SELECT status, count(*) AS n FROM assets
    WHERE owner_id = %(owner)s AND import_id = %(id)s GROUP BY status
"""
_STALLED = f"""
    SELECT {_IMPORT_COLUMNS} FROM imports
    WHERE status = 'listing' AND updated_at < now() - make_interval(secs => %(age)s)
    ORDER BY updated_at LIMIT %(limit)s
"""
_ALBUMS = "SELECT folder, project_id FROM import_albums WHERE import_id = %(id)s"
_ADD_ALBUM = """
    INSERT INTO import_albums (import_id, folder, project_id)
    VALUES (%(id)s, %(folder)s, %(project_id)s)
    ON CONFLICT (import_id, folder) DO NOTHING
"""
# The folder's photos the run adopted before it met the description: those in the folder
# itself, not in one below it, that no one has put in a project since.
_JOIN_ALBUM = """
    UPDATE assets SET project_id = %(project_id)s, updated_at = now()
    WHERE owner_id = %(owner)s AND import_id = %(id)s AND project_id IS NULL
      AND status <> 'deleted' AND source_key LIKE %(pattern)s
      AND strpos(substr(source_key, %(length)s + 1), '/') = 0
"""
_RENEW = """
    UPDATE imports SET updated_at = now()
    WHERE owner_id = %(owner)s AND id = %(id)s AND status = 'listing'
      AND updated_at = %(updated_at)s
"""


class PostgresImportRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    def start(self, owner_id: str, import_id: UUID, source: ImportSource,
              project_id: UUID | None, time_zone: str) -> tuple[Import, bool]:
        params = {"id": import_id, "owner": owner_id, "bucket": source.bucket,
                  "prefix": source.prefix, "project_id": project_id, "time_zone": time_zone}
        row = self._db.fetch_one(_START, params)
        if row is None:
            # The run under way finished between the insert's check and the read: the insert
            # would now succeed.
            row = self._db.fetch_one(_START, params)
        if row is None:
            raise Conflict(f"imports of {source.uri} are starting concurrently; try again")
        return _import(row), row["added"]

    def get(self, owner_id: str, import_id: UUID) -> Import | None:
        row = self._db.fetch_one(_GET, {"owner": owner_id, "id": import_id})
        return _import(row) if row else None

    def recent(self, owner_id: str, limit: int) -> list[Import]:
        return [_import(row) for row in
                self._db.fetch_all(_LIST, {"owner": owner_id, "limit": limit})]

    def advance(self, run: Import, *, after_key: str | None, listed: int,
                skipped: dict[str, int], done: bool) -> bool:
        return self._db.execute(_ADVANCE, {
            "owner": run.owner_id, "id": run.id, "expected": run.after_key,
            "after_key": after_key, "listed": listed, "skipped": Jsonb(skipped), "done": done,
        }) == 1

    def fail(self, run: Import, reason: str) -> bool:
        return self._db.execute(_FAIL, {"owner": run.owner_id, "id": run.id,
                                        "reason": reason}) == 1

    def asset_totals(self, owner_id: str, import_id: UUID) -> dict[Status, int]:
        rows = self._db.fetch_all(_ASSET_TOTALS, {"owner": owner_id, "id": import_id})
        return {Status(row["status"]): row["n"] for row in rows}

    def stalled(self, older_than_seconds: int, limit: int) -> list[Import]:
        rows = self._db.fetch_all(_STALLED, {"age": older_than_seconds, "limit": limit})
        return [_import(row) for row in rows]

    def albums(self, run: Import) -> dict[str, UUID]:
        rows = self._db.fetch_all(_ALBUMS, {"id": run.id})
        return {row["folder"]: row["project_id"] for row in rows}

    def add_album(self, run: Import, folder: str, project_id: UUID) -> int:
        params = {"id": run.id, "owner": run.owner_id, "folder": folder,
                  "project_id": project_id, "pattern": like_pattern(folder, anywhere=False),
                  "length": len(folder)}
        with self._db.cursor(transaction=True) as cur:
            cur.execute(_ADD_ALBUM, params)
            cur.execute(_JOIN_ALBUM, params)
            return cur.rowcount

    def renew(self, run: Import) -> bool:
        return self._db.execute(_RENEW, {"owner": run.owner_id, "id": run.id,
                                         "updated_at": run.updated_at}) == 1


def _import(row: Row) -> Import:
    return Import(
        id=row["id"], owner_id=row["owner_id"],
        source=ImportSource(row["source_bucket"], row["source_prefix"]),
        project_id=row["project_id"], time_zone=row["time_zone"],
        status=ImportStatus(row["status"]),
        created_at=row["created_at"], updated_at=row["updated_at"],
        after_key=row["after_key"], listed=row["listed"], skipped=dict(row["skipped"]),
        error=row["error"],
    )
