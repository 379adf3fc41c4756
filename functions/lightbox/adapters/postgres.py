"""The AssetRepository port over PostgreSQL, with psycopg 3.

One connection per execution environment, opened on first use and reopened after it
breaks: a Lambda handles one invocation at a time, so a pool would only add start-up cost.
Every state change is one conditional UPDATE; none of them reads before it writes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import psycopg
from psycopg.conninfo import make_conninfo
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from lightbox.domain import Asset, Derivative, ImageInfo, NewAsset, Status
from lightbox.errors import Conflict, DatabaseUnavailable, LightboxError, LimitReached

Row = dict[str, Any]

ASSET_COLUMNS = """
    id, owner_id, project_id, status, filename, content_type, size_bytes, declared_sha256,
    sha256, duplicate_of, width, height, pages, bit_depth, color_mode, taken_at, camera_make,
    camera_model, orientation, derivatives, placeholder, error, attempts, claimed_at,
    created_at, updated_at, multipart_upload_id, change_seq
"""

_INSERT = f"""
    INSERT INTO assets (id, owner_id, project_id, filename, content_type, size_bytes,
                        declared_sha256, multipart_upload_id)
    VALUES (%(id)s, %(owner_id)s, %(project_id)s, %(filename)s, %(content_type)s,
            %(size_bytes)s, %(declared_sha256)s, %(multipart_upload_id)s)
    RETURNING {ASSET_COLUMNS}
"""

# Counting and inserting under a lock of the owner's makes a per-owner limit hold against
# concurrent requests; the lock is the transaction's, released at its end. Its first key names
# the limit, so that the limits of one owner do not wait for each other.
LOCK_OWNER = "SELECT pg_advisory_xact_lock(%(limit_kind)s, hashtext(%(owner)s))"
PENDING_UPLOADS_LOCK = 1
PROJECTS_LOCK = 2

_PENDING_COUNT = """
    SELECT count(*) AS n FROM assets WHERE owner_id = %(owner)s AND status = 'pending'
"""

_GET = f"SELECT {ASSET_COLUMNS} FROM assets WHERE owner_id = %(owner)s AND id = %(id)s"

# The holder is locked for the statement, as in _MARK_DUPLICATE: a deletion of it either
# commits first (and nothing is added) or waits, and then finds the duplicate. A copy already
# in the project is answered instead of a second one, so that a repeated presign adds nothing.
_ADD_DUPLICATE = f"""
    WITH holder AS (
        SELECT id, content_type, sha256 FROM assets
        WHERE owner_id = %(owner_id)s AND id = %(holder)s AND status IN ('processing', 'ready')
        FOR SHARE
    ), existing AS (
        SELECT dup.id FROM assets dup JOIN holder ON dup.duplicate_of = holder.id
        WHERE dup.owner_id = %(owner_id)s AND dup.status = 'duplicate'
          AND dup.project_id IS NOT DISTINCT FROM %(project_id)s
        LIMIT 1
    ), added AS (
        INSERT INTO assets (id, owner_id, project_id, status, filename, content_type, size_bytes,
                            declared_sha256, sha256, duplicate_of)
        SELECT %(id)s, %(owner_id)s, %(project_id)s, 'duplicate', %(filename)s,
               holder.content_type, %(size_bytes)s, %(declared_sha256)s, holder.sha256, holder.id
        FROM holder WHERE NOT EXISTS (SELECT 1 FROM existing)
        RETURNING {ASSET_COLUMNS}
    )
    SELECT * FROM added
    UNION ALL
    SELECT {ASSET_COLUMNS} FROM assets WHERE id IN (SELECT id FROM existing)
"""

_FIND_BY_CONTENT = f"""
    SELECT {ASSET_COLUMNS} FROM assets
    WHERE owner_id = %(owner)s AND sha256 = %(sha256)s AND status IN ('processing', 'ready')
      AND id IS DISTINCT FROM %(exclude)s
    LIMIT 1
"""

_MARK_UPLOADED = """
    UPDATE assets SET status = 'uploaded', content_type = %(content_type)s,
                      multipart_upload_id = NULL, updated_at = now()
    WHERE owner_id = %(owner)s AND id = %(id)s AND status = 'pending'
"""

# Every attempt hashes the bytes again: a hash kept from an earlier attempt would make the row
# collide (assets_owner_content) with a copy of the same bytes that became live meanwhile.
_CLAIM = f"""
    UPDATE assets
    SET status = 'processing', attempts = attempts + 1, sha256 = NULL, claimed_at = now(),
        updated_at = now()
    WHERE owner_id = %(owner)s AND id = %(id)s
      AND (status = 'uploaded'
           OR (status = 'processing' AND claimed_at < now() - make_interval(secs => %(lease)s)))
    RETURNING {ASSET_COLUMNS}
"""

_RECORD_CONTENT = """
    UPDATE assets SET sha256 = %(sha256)s, updated_at = now()
    WHERE owner_id = %(owner)s AND id = %(id)s AND status = 'processing'
"""

_MARK_READY = """
    UPDATE assets
    SET status = 'ready', width = %(width)s, height = %(height)s, pages = %(pages)s,
        bit_depth = %(bit_depth)s, color_mode = %(color_mode)s, taken_at = %(taken_at)s,
        camera_make = %(camera_make)s, camera_model = %(camera_model)s,
        orientation = %(orientation)s, derivatives = %(derivatives)s,
        placeholder = %(placeholder)s, error = NULL, updated_at = now()
    WHERE owner_id = %(owner)s AND id = %(id)s AND status = 'processing'
"""

# Only of a live holder, locked for the statement: a deletion of the holder either commits
# first (and the asset stays processing) or waits, and then finds the duplicate when it decides
# whether the holder's bytes may go.
_MARK_DUPLICATE = """
    UPDATE assets SET status = 'duplicate', duplicate_of = %(original)s, updated_at = now()
    WHERE owner_id = %(owner)s AND id = %(id)s AND status = 'processing'
      AND EXISTS (SELECT 1 FROM assets holder
                  WHERE holder.owner_id = %(owner)s AND holder.id = %(original)s
                    AND holder.status IN ('processing', 'ready')
                  FOR SHARE)
"""

_MARK_FAILED = """
    UPDATE assets SET status = 'failed', error = %(reason)s, updated_at = now()
    WHERE owner_id = %(owner)s AND id = %(id)s AND status = %(expected)s
"""

_MARK_DELETED = """
    UPDATE assets SET status = 'deleted', updated_at = now()
    WHERE owner_id = %(owner)s AND id = %(id)s AND status NOT IN ('deleted', 'duplicate')
"""

_WAITING = f"""
    SELECT {ASSET_COLUMNS} FROM assets
    WHERE status = %(status)s AND updated_at < now() - make_interval(secs => %(age)s)
    ORDER BY updated_at
    LIMIT %(limit)s
"""

_STRANDED = f"""
    SELECT {ASSET_COLUMNS} FROM assets
    WHERE status = %(status)s AND updated_at < %(before)s
      AND (updated_at, id) > (%(after_time)s, %(after_id)s)
    ORDER BY updated_at, id
    LIMIT %(limit)s
"""

_RENEW = """
    UPDATE assets SET updated_at = now()
    WHERE owner_id = %(owner)s AND id = %(id)s AND status = %(status)s
      AND updated_at < now() - make_interval(secs => %(age)s)
"""

_RELEASE = """
    UPDATE assets SET status = 'uploaded', error = %(reason)s, sha256 = NULL, claimed_at = NULL,
                      updated_at = now()
    WHERE owner_id = %(owner)s AND id = %(id)s AND status = 'processing'
"""


class Database:
    """A lazily opened connection that maps psycopg's errors onto Lightbox's."""

    def __init__(
        self, url: str, *, password: Callable[[], str] | None = None, connect_timeout: int = 5
    ) -> None:
        self._url = url
        self._password = password
        self._connect_timeout = connect_timeout
        self._connection: psycopg.Connection[Row] | None = None

    @contextmanager
    def cursor(self, *, transaction: bool = False) -> Iterator[psycopg.Cursor[Row]]:
        """A cursor whose statements commit one by one, or all together with ``transaction``."""
        try:
            connection = self._connect()
            with (connection.transaction() if transaction else nullcontext(),
                  connection.cursor() as cursor):
                yield cursor
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            self.close()
            raise DatabaseUnavailable(f"database unavailable: {exc}") from exc
        except psycopg.errors.UniqueViolation as exc:
            raise Conflict(f"already exists: {exc.diag.constraint_name}") from exc
        except psycopg.errors.ForeignKeyViolation as exc:
            raise Conflict(f"refers to what no longer exists: {exc.diag.constraint_name}") from exc
        except psycopg.Error as exc:
            raise LightboxError(f"database error: {exc}") from exc

    def fetch_one(self, query: str, params: Mapping[str, Any]) -> Row | None:
        with self.cursor() as cur:
            cur.execute(query, params)
            return cur.fetchone()

    def fetch_all(self, query: str, params: Mapping[str, Any]) -> list[Row]:
        with self.cursor() as cur:
            cur.execute(query, params)
            return cur.fetchall()

    def execute(self, query: str, params: Mapping[str, Any]) -> int:
        """Run a statement; returns how many rows it touched."""
        with self.cursor() as cur:
            cur.execute(query, params)
            return cur.rowcount

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _connect(self) -> psycopg.Connection[Row]:
        if self._connection is None or self._connection.closed:
            # A password source is asked again at every connection: IAM tokens expire.
            conninfo = make_conninfo(self._url, password=self._password()) if self._password \
                else self._url
            self._connection = psycopg.connect(
                conninfo,
                autocommit=True,
                row_factory=dict_row,
                connect_timeout=self._connect_timeout,
                application_name="lightbox",
                # No server-side prepared statements: a prepared listing query may switch to a
                # generic plan that ignores the filter's values (120 ms instead of 1 ms in
                # bench/listing.py), and RDS Proxy pins a session to a client that prepares.
                prepare_threshold=None,
            )
        return self._connection


class PostgresAssetRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    def add(self, asset: NewAsset, *, max_pending: int) -> Asset:
        with self._db.cursor(transaction=True) as cur:
            cur.execute(LOCK_OWNER, {"limit_kind": PENDING_UPLOADS_LOCK, "owner": asset.owner_id})
            cur.execute(_PENDING_COUNT, {"owner": asset.owner_id})
            row = cur.fetchone()
            if row is not None and row["n"] >= max_pending:
                raise LimitReached(f"{max_pending} uploads are already waiting for their bytes: "
                                   "finish or abort some first")
            cur.execute(_INSERT, asdict(asset))
            added = cur.fetchone()
        assert added is not None
        return asset_of(added)

    def get(self, owner_id: str, asset_id: UUID) -> Asset | None:
        return one_asset(self._db, _GET, {"owner": owner_id, "id": asset_id})

    def add_duplicate(self, asset: NewAsset, holder_id: UUID) -> Asset | None:
        return one_asset(self._db, _ADD_DUPLICATE, {**asdict(asset), "holder": holder_id})

    def find_by_content(self, owner_id: str, sha256: str) -> Asset | None:
        return self._find_by_content(owner_id, sha256, exclude=None)

    def mark_uploaded(self, owner_id: str, asset_id: UUID, content_type: str) -> bool:
        return self._update(_MARK_UPLOADED, owner_id, asset_id, content_type=content_type)

    def claim(self, owner_id: str, asset_id: UUID, lease_seconds: int) -> Asset | None:
        return one_asset(self._db, _CLAIM,
                         {"owner": owner_id, "id": asset_id, "lease": lease_seconds})

    def record_content(self, owner_id: str, asset_id: UUID, sha256: str) -> UUID | None:
        # The partial unique index on (owner_id, sha256) decides races between two workers.
        for _ in range(2):
            try:
                self._update(_RECORD_CONTENT, owner_id, asset_id, sha256=sha256)
                return None
            except Conflict:
                pass
            existing = self._find_by_content(owner_id, sha256, exclude=asset_id)
            if existing is not None:
                return existing.id
        return None

    def mark_ready(
        self,
        owner_id: str,
        asset_id: UUID,
        info: ImageInfo,
        derivatives: Sequence[Derivative],
        placeholder: str | None,
    ) -> bool:
        return self._update(
            _MARK_READY,
            owner_id,
            asset_id,
            **asdict(info),
            derivatives=Jsonb([asdict(d) for d in derivatives]),
            placeholder=placeholder,
        )

    def mark_duplicate(self, owner_id: str, asset_id: UUID, original_id: UUID) -> bool:
        return self._update(_MARK_DUPLICATE, owner_id, asset_id, original=original_id)

    def mark_failed(self, owner_id: str, asset_id: UUID, *, expected: Status, reason: str) -> bool:
        return self._update(
            _MARK_FAILED, owner_id, asset_id, expected=expected.value, reason=reason
        )

    def mark_deleted(self, owner_id: str, asset_id: UUID) -> bool:
        return self._update(_MARK_DELETED, owner_id, asset_id)

    def release(self, owner_id: str, asset_id: UUID, reason: str) -> bool:
        return self._update(_RELEASE, owner_id, asset_id, reason=reason)

    def waiting(self, status: Status, older_than_seconds: int, limit: int) -> list[Asset]:
        return all_assets(self._db, _WAITING,
                          {"status": status.value, "age": older_than_seconds, "limit": limit})

    def stranded(self, status: Status, *, before: datetime,
                 after: tuple[datetime, UUID] | None, limit: int) -> list[Asset]:
        after_time, after_id = after or (datetime.min.replace(tzinfo=UTC), UUID(int=0))
        return all_assets(self._db, _STRANDED, {
            "status": status.value, "before": before, "after_time": after_time,
            "after_id": after_id, "limit": limit,
        })

    def renew(self, owner_id: str, asset_id: UUID, status: Status,
              older_than_seconds: int) -> bool:
        return self._update(_RENEW, owner_id, asset_id, status=status.value,
                            age=older_than_seconds)

    def ping(self) -> None:
        self._db.execute("SELECT 1", {})

    def _find_by_content(self, owner_id: str, sha256: str, *, exclude: UUID | None) -> Asset | None:
        return one_asset(self._db, _FIND_BY_CONTENT,
                         {"owner": owner_id, "sha256": sha256, "exclude": exclude})

    def _update(self, query: str, owner_id: str, asset_id: UUID, **params: Any) -> bool:
        return self._db.execute(query, {"owner": owner_id, "id": asset_id, **params}) == 1


def one_asset(db: Database, query: str, params: Mapping[str, Any]) -> Asset | None:
    row = db.fetch_one(query, params)
    return asset_of(row) if row else None


def all_assets(db: Database, query: str, params: Mapping[str, Any]) -> list[Asset]:
    return [asset_of(row) for row in db.fetch_all(query, params)]


def asset_of(row: Row) -> Asset:
    info = None
    if row["width"] is not None:
        info = ImageInfo(
            width=row["width"],
            height=row["height"],
            pages=row["pages"],
            bit_depth=row["bit_depth"],
            color_mode=row["color_mode"],
            taken_at=row["taken_at"],
            camera_make=row["camera_make"],
            camera_model=row["camera_model"],
            orientation=row["orientation"],
        )
    return Asset(
        id=row["id"],
        owner_id=row["owner_id"],
        project_id=row["project_id"],
        status=Status(row["status"]),
        filename=row["filename"],
        content_type=row["content_type"],
        size_bytes=row["size_bytes"],
        declared_sha256=row["declared_sha256"],
        sha256=row["sha256"],
        duplicate_of=row["duplicate_of"],
        info=info,
        derivatives=tuple(Derivative(**item) for item in row["derivatives"]),
        placeholder=row["placeholder"],
        error=row["error"],
        attempts=row["attempts"],
        claimed_at=row["claimed_at"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        multipart_upload_id=row["multipart_upload_id"],
        change_seq=row["change_seq"],
    )
