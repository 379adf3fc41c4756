"""The ApiKeyRepository port over PostgreSQL: keys are found by the hash of their secret."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from uuid import UUID

from lightbox.adapters.postgres import Database, Row
from lightbox.domain import ApiKey, Principal

_COLUMNS = ("id, owner_id, name, prefix, created_at, last_used_at, revoked_at, admin, "
            "expires_at")

_ADD = """
    INSERT INTO api_keys (id, owner_id, name, prefix, secret_hash, created_at, admin)
    VALUES (%(id)s, %(owner_id)s, %(name)s, %(prefix)s, %(secret_hash)s, %(created_at)s,
            %(admin)s)
"""
# Last use is written at most hourly: a write on every request would cost more than it tells.
_PRINCIPAL_OF = """
    WITH found AS (
        SELECT id, owner_id, admin, last_used_at FROM api_keys
        WHERE secret_hash = %(hash)s AND revoked_at IS NULL
          AND (expires_at IS NULL OR expires_at > now())
    ), touched AS (
        UPDATE api_keys SET last_used_at = now()
        WHERE id = (SELECT id FROM found)
          AND (last_used_at IS NULL OR last_used_at < now() - interval '1 hour')
    )
    SELECT owner_id, admin FROM found
"""
_MAKE_ADMIN = "UPDATE api_keys SET admin = true WHERE secret_hash = %(hash)s"
_LIST_ALL = f"SELECT {_COLUMNS} FROM api_keys ORDER BY owner_id, created_at"
_LIST_OWNER = f"SELECT {_COLUMNS} FROM api_keys WHERE owner_id = %(owner)s ORDER BY created_at"
_REVOKE = f"""
    UPDATE api_keys SET revoked_at = COALESCE(revoked_at, now())
    WHERE owner_id = %(owner)s AND id = %(id)s
    RETURNING {_COLUMNS}
"""

# Only ever brought forward: a second rotation of the same key cannot extend its life.
_EXPIRE = f"""
    UPDATE api_keys SET expires_at = LEAST(COALESCE(expires_at, %(at)s), %(at)s)
    WHERE owner_id = %(owner)s AND id = %(id)s
    RETURNING {_COLUMNS}
"""


class PostgresApiKeyRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    def add(self, key: ApiKey, secret_hash: bytes) -> None:
        fields = asdict(key)
        self._db.execute(_ADD, {**fields, "secret_hash": secret_hash})

    def principal_of(self, secret_hash: bytes) -> Principal | None:
        row = self._db.fetch_one(_PRINCIPAL_OF, {"hash": secret_hash})
        return Principal(owner_id=row["owner_id"], admin=row["admin"]) if row else None

    def list(self, owner_id: str | None) -> list[ApiKey]:
        rows = (self._db.fetch_all(_LIST_ALL, {}) if owner_id is None
                else self._db.fetch_all(_LIST_OWNER, {"owner": owner_id}))
        return [_key(row) for row in rows]

    def revoke(self, owner_id: str, key_id: UUID) -> ApiKey | None:
        row = self._db.fetch_one(_REVOKE, {"owner": owner_id, "id": key_id})
        return _key(row) if row else None

    def expire(self, owner_id: str, key_id: UUID, at: datetime) -> ApiKey | None:
        row = self._db.fetch_one(_EXPIRE, {"owner": owner_id, "id": key_id, "at": at})
        return _key(row) if row else None

    def make_admin(self, secret_hash: bytes) -> None:
        self._db.execute(_MAKE_ADMIN, {"hash": secret_hash})


def _key(row: Row) -> ApiKey:
    return ApiKey(id=row["id"], owner_id=row["owner_id"], name=row["name"], prefix=row["prefix"],
                  created_at=row["created_at"], last_used_at=row["last_used_at"],
                  revoked_at=row["revoked_at"], admin=row["admin"],
                  expires_at=row["expires_at"])
