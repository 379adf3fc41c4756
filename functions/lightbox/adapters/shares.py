"""The ShareRepository port over PostgreSQL: a share is found by the hash of its token."""

from __future__ import annotations

from uuid import UUID

from lightbox.adapters.postgres import LOCK_OWNER, SHARES_LOCK, Database, Row
from lightbox.domain import Share
from lightbox.errors import LimitReached

_COLUMNS = "id, owner_id, project_id, allow_original, created_at, expires_at, revoked_at"
_ACTIVE = "revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())"

_COUNT_ACTIVE = f"""
    SELECT count(*) AS n FROM shares WHERE project_id = %(project)s AND {_ACTIVE}
"""
_ADD = f"""
    INSERT INTO shares (id, owner_id, project_id, token_hash, allow_original, expires_at)
    SELECT %(id)s, %(owner)s, p.id, %(hash)s, %(allow_original)s, %(expires_at)s
    FROM projects p WHERE p.owner_id = %(owner)s AND p.id = %(project)s
    RETURNING {_COLUMNS}
"""
_LIST = f"""
    SELECT {_COLUMNS} FROM shares WHERE owner_id = %(owner)s AND project_id = %(project)s
    ORDER BY created_at, id
"""
_REVOKE = f"""
    UPDATE shares SET revoked_at = COALESCE(revoked_at, now())
    WHERE owner_id = %(owner)s AND project_id = %(project)s AND id = %(id)s
    RETURNING {_COLUMNS}
"""
_OPEN = f"SELECT {_COLUMNS} FROM shares WHERE token_hash = %(hash)s AND {_ACTIVE}"


class PostgresShareRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    def add(self, share: Share, token_hash: bytes, *, max_active: int) -> Share | None:
        params = {"id": share.id, "owner": share.owner_id, "project": share.project_id,
                  "hash": token_hash, "allow_original": share.allow_original,
                  "expires_at": share.expires_at}
        with self._db.cursor(transaction=True) as cur:
            cur.execute(LOCK_OWNER, {"limit_kind": SHARES_LOCK, "owner": share.owner_id})
            cur.execute(_COUNT_ACTIVE, params)
            counted = cur.fetchone()
            if counted is not None and counted["n"] >= max_active:
                raise LimitReached(f"a project may have at most {max_active} live shares: "
                                   "revoke some first")
            cur.execute(_ADD, params)
            row = cur.fetchone()
        return _share(row) if row else None

    def list(self, owner_id: str, project_id: UUID) -> list[Share]:
        return [_share(row) for row in
                self._db.fetch_all(_LIST, {"owner": owner_id, "project": project_id})]

    def revoke(self, owner_id: str, project_id: UUID, share_id: UUID) -> Share | None:
        row = self._db.fetch_one(_REVOKE, {"owner": owner_id, "project": project_id,
                                           "id": share_id})
        return _share(row) if row else None

    def open(self, token_hash: bytes) -> Share | None:
        row = self._db.fetch_one(_OPEN, {"hash": token_hash})
        return _share(row) if row else None


def _share(row: Row) -> Share:
    return Share(id=row["id"], owner_id=row["owner_id"], project_id=row["project_id"],
                 allow_original=row["allow_original"], created_at=row["created_at"],
                 expires_at=row["expires_at"], revoked_at=row["revoked_at"])
