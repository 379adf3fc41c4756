"""Who is calling: API keys, and JWTs from an OIDC issuer, each naming one owner.

An API key is ``lbk_`` and 43 URL-safe characters (256 random bits). Only its SHA-256 is
stored; the key itself is shown once, when it is created. A key is rotated without a moment
in which clients are refused: its successor works at once, and the key itself until a grace
period ends.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol
from uuid import UUID, uuid4

from lightbox.domain import OWNER_ID, ApiKey, Principal
from lightbox.errors import InvalidField, NotFound, Unauthorized
from lightbox.ports import ApiKeyRepository

KEY_PREFIX = "lbk_"
_SHOWN_CHARS = len(KEY_PREFIX) + 6
MAX_KEY_NAME_CHARS = 100
# How long a rotated key may go on working: a day by default, at most a month.
ROTATION_GRACE_SECONDS = 24 * 3600
MAX_ROTATION_GRACE_SECONDS = 30 * 24 * 3600


class TokenVerifier(Protocol):
    def owner_of(self, token: str) -> str:
        """The owner a signed token names; raises Unauthorized for any token it cannot trust."""
        ...


@dataclass(frozen=True)
class NewKey:
    key: ApiKey
    secret: str  # the key itself: shown once, never stored


def authenticate(
    headers: Mapping[str, str], *, keys: ApiKeyRepository, tokens: TokenVerifier | None
) -> Principal:
    """The owner named by a request's ``Authorization: Bearer`` credentials.

    Only an API key made as an admin's names an admin; a token never does.
    """
    authorization = next((value for name, value in headers.items()
                          if name.lower() == "authorization"), "")
    scheme, _, credentials = authorization.strip().partition(" ")
    credentials = credentials.strip()
    if scheme.lower() != "bearer" or not credentials:
        raise Unauthorized("send 'Authorization: Bearer <API key or token>'")
    if credentials.startswith(KEY_PREFIX):
        principal = keys.principal_of(hash_key(credentials))
        if principal is None:
            raise Unauthorized("this API key is not valid (unknown or revoked)")
        return principal
    if tokens is not None and credentials.count(".") == 2:
        return Principal(tokens.owner_of(credentials), admin=False)
    raise Unauthorized("the credentials are neither an API key nor a token this API accepts")


def hash_key(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def create_key(owner_id: str, name: str, *, admin: bool = False,
               keys: ApiKeyRepository) -> NewKey:
    _check_owner_id(owner_id)
    if len(name) > MAX_KEY_NAME_CHARS:
        raise InvalidField(f"a key's name must be at most {MAX_KEY_NAME_CHARS} characters")
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(id=uuid4(), owner_id=owner_id, name=name, prefix=secret[:_SHOWN_CHARS],
                 created_at=datetime.now(UTC), admin=admin)
    keys.add(key, hash_key(secret))
    return NewKey(key=key, secret=secret)


def rotate_key(owner_id: str, key_id: UUID, *, grace_seconds: int,
               keys: ApiKeyRepository) -> tuple[NewKey, ApiKey]:
    """A successor of the key (its name and role), and the key itself set to stop working
    ``grace_seconds`` from now: time for every client to take the new one, so that none is
    refused on the way. The successor is made first: a failure between the two steps leaves
    both working, never neither."""
    if not 0 <= grace_seconds <= MAX_ROTATION_GRACE_SECONDS:
        raise InvalidField(f"the grace period must be from 0 to {MAX_ROTATION_GRACE_SECONDS} "
                           "seconds")
    now = datetime.now(UTC)
    old = next((key for key in keys.list(owner_id) if key.id == key_id), None)
    if old is None:
        raise NotFound(f"owner {owner_id!r} has no key {key_id}")
    if not old.usable_at(now):
        raise InvalidField(f"key {key_id} is revoked or expired: create a new one instead")
    if old.expires_at is not None:
        # Each rotation makes a successor: a second would leave two, one of them unused.
        raise InvalidField(f"key {key_id} was rotated already and works until "
                           f"{old.expires_at.isoformat()}: revoke it to end it sooner")
    new = create_key(owner_id, old.name, admin=old.admin, keys=keys)
    expiring = keys.expire(owner_id, key_id, now + timedelta(seconds=grace_seconds))
    assert expiring is not None  # it was listed a moment ago, and keys are never deleted
    return new, expiring


def revoke_key(owner_id: str, key_id: UUID, *, keys: ApiKeyRepository) -> ApiKey:
    revoked = keys.revoke(owner_id, key_id)
    if revoked is None:
        raise NotFound(f"owner {owner_id!r} has no key {key_id}")
    return revoked


def _check_owner_id(owner_id: str) -> str:
    if not OWNER_ID.fullmatch(owner_id):
        raise InvalidField("an owner is 1-64 letters, digits, '-' or '_'")
    return owner_id
