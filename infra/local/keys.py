"""API keys of a local stack: the key ``./dev.sh up`` creates for the owner ``local`` (an
admin's: the developer runs the whole stack), and ``./dev.sh key create|list|revoke`` (the
admin function does the same in AWS)."""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

from infra.local.credentials import write_private
from infra.local.running import read_exports
from infra.local.services import EmbeddedPostgres
from lightbox.adapters.api_keys import PostgresApiKeyRepository
from lightbox.adapters.migrations import apply_migrations
from lightbox.adapters.postgres import Database
from lightbox.domain import ApiKey, Principal
from lightbox.errors import LightboxError
from lightbox.services import auth

REPO = Path(__file__).resolve().parents[2]
DEV_KEY_FILE = "dev-api-key"
DEV_OWNER = "local"


def ensure_dev_key(database_url: str, data_dir: Path) -> tuple[str, bool]:
    """The owner ``local``'s admin key saved in the data directory, created when missing or
    no longer valid (a fresh database); returns it and whether it is new. A key saved before
    keys could be admins' is made one."""
    path = data_dir / DEV_KEY_FILE
    database = Database(database_url)
    try:
        keys = PostgresApiKeyRepository(database)
        if path.exists():
            saved = path.read_text().strip()
            principal = keys.principal_of(auth.hash_key(saved))
            if principal is not None and principal.owner_id == DEV_OWNER:
                if principal != Principal(DEV_OWNER, admin=True):
                    keys.make_admin(auth.hash_key(saved))
                return saved, False
        new = auth.create_key(DEV_OWNER, "./dev.sh up", admin=True, keys=keys)
    finally:
        database.close()
    write_private(path, new.secret + "\n")
    return new.secret, True


def run(args: argparse.Namespace, data_dir: Path) -> int:
    with _database(data_dir) as database:
        keys = PostgresApiKeyRepository(database)
        if args.action == "create":
            new = auth.create_key(args.owner, args.name, admin=args.admin, keys=keys)
            role = "an admin key" if new.key.admin else "key"
            print(f"created {role} {new.key.id} ({new.key.prefix}…) for owner "
                  f"{new.key.owner_id}; it is shown only now:")
            print(new.secret)
        elif args.action == "list":
            print(f"{'KEY ID':36}  {'OWNER':16} {'PREFIX':11} {'CREATED':20} {'LAST USED':20} "
                  "STATE   ROLE  NAME")
            for key in keys.list(args.owner):
                print(_row(key))
        elif args.action == "rotate":
            new, old = auth.rotate_key(args.owner, args.key_id, grace_seconds=args.grace,
                                       keys=keys)
            assert old.expires_at is not None
            print(f"key {old.id} ({old.prefix}…) of owner {old.owner_id} works until "
                  f"{old.expires_at:%Y-%m-%d %H:%M:%S %Z}; its successor {new.key.id} "
                  f"({new.key.prefix}…) is shown only now:")
            print(new.secret)
        else:
            revoked = auth.revoke_key(args.owner, args.key_id, keys=keys)
            print(f"revoked key {revoked.id} ({revoked.prefix}…) of owner {revoked.owner_id}")
    return 0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="create a key; prints it on the last line")
    create.add_argument("--owner", required=True)
    create.add_argument("--name", default="", help="a label to tell keys apart")
    create.add_argument("--admin", action="store_true",
                        help="an admin's key: also sees the service's figures (queue depths)")
    listing = actions.add_parser("list", help="list keys (never the keys themselves)")
    listing.add_argument("--owner", help="only this owner's keys")
    revoke = actions.add_parser("revoke", help="revoke a key at once")
    revoke.add_argument("--owner", required=True)
    revoke.add_argument("key_id", type=UUID, help="the KEY ID that list shows")
    rotate = actions.add_parser("rotate", help="a successor of a key, printed on the last "
                                "line; the key itself works until --grace seconds from now")
    rotate.add_argument("--owner", required=True)
    rotate.add_argument("--grace", type=int, default=auth.ROTATION_GRACE_SECONDS,
                        help="seconds the old key goes on working (default a day)")
    rotate.add_argument("key_id", type=UUID, help="the KEY ID that list shows")
    for sub in (create, listing, revoke, rotate):
        sub.add_argument("--data", type=Path, help="the stack's data directory (default .data)")


@contextmanager
def _database(data_dir: Path) -> Iterator[Database]:
    """The running stack's database, an external DATABASE_URL, or the data directory's own
    PostgreSQL started for this command."""
    exports = read_exports(data_dir.resolve())
    url = (exports or {}).get("DATABASE_URL") or os.environ.get("DATABASE_URL")
    postgres = None
    if url is None:
        if not (data_dir / "postgres").exists():
            raise LightboxError(f"no Lightbox data in {data_dir}: run ./dev.sh up first")
        postgres = EmbeddedPostgres(data_dir.resolve() / "postgres")
        url = postgres.start()
    database = Database(url)
    try:
        apply_migrations(url, REPO / "migrations")
        yield database
    finally:
        database.close()
        if postgres is not None:
            postgres.stop()


def _row(key: ApiKey) -> str:
    # A rotated key "expires": it works until the time rotate printed.
    now = datetime.now(UTC)
    state = ("revoked" if key.revoked_at else "expired" if not key.usable_at(now)
             else "expires" if key.expires_at else "active")
    role = "admin" if key.admin else "owner"
    last_used = key.last_used_at.strftime("%Y-%m-%d %H:%M") if key.last_used_at else "never"
    return (f"{key.id}  {key.owner_id:16} {key.prefix:11} "
            f"{key.created_at.strftime('%Y-%m-%d %H:%M'):20} {last_used:20} {state:7} {role:5} "
            f"{key.name}")
