"""Numbered SQL migrations, applied in order, each exactly once.

Files are named ``NNNN_description.sql``. Each runs in its own transaction and is recorded
in ``schema_migrations`` with a checksum of its text; a file that changes after it was
applied stops every later run, because the databases that already ran it would silently
differ from new ones. A session advisory lock makes concurrent starts wait for each other
instead of racing.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg.conninfo import make_conninfo

from lightbox.errors import DatabaseUnavailable, MigrationError

log = logging.getLogger(__name__)

# Any fixed number works, as long as nothing else takes the same advisory lock.
_LOCK_KEY = 0x4C49_4748  # "LIGH"
_FILENAME = re.compile(r"^(?P<version>\d{4})_(?P<name>[a-z0-9_]+)\.sql$")

_CREATE_TABLE = """
    CREATE TABLE IF NOT EXISTS schema_migrations (
        version    text        PRIMARY KEY,
        name       text        NOT NULL,
        checksum   text        NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
    )
"""


@dataclass(frozen=True)
class Migration:
    version: str
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def discover(directory: Path) -> list[Migration]:
    migrations = []
    for path in sorted(directory.glob("*.sql")):
        match = _FILENAME.match(path.name)
        if match is None:
            raise MigrationError(f"{path.name}: migration files are named NNNN_description.sql")
        migrations.append(Migration(match["version"], match["name"], path.read_text()))
    versions = [m.version for m in migrations]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"two migration files share a version number in {directory}")
    return migrations


def apply_migrations(
    database_url: str, directory: Path, *, password: Callable[[], str] | None = None
) -> list[str]:
    """Apply what is not yet applied; returns the versions applied by this call.

    ``password``, when given, is asked for the connection's password (an IAM token)."""
    migrations = discover(directory)
    conninfo = make_conninfo(database_url, password=password()) if password else database_url
    try:
        with psycopg.connect(conninfo, autocommit=True) as connection:
            connection.execute("SELECT pg_advisory_lock(%s)", (_LOCK_KEY,))
            try:
                return _apply(connection, migrations)
            finally:
                connection.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_KEY,))
    except psycopg.OperationalError as exc:
        raise DatabaseUnavailable(f"cannot migrate, database unavailable: {exc}") from exc
    except psycopg.Error as exc:
        raise MigrationError(f"migration failed: {exc}") from exc


def _apply(
    connection: psycopg.Connection[tuple[str, str]], migrations: list[Migration]
) -> list[str]:
    connection.execute(_CREATE_TABLE)
    applied = dict(
        connection.execute("SELECT version, checksum FROM schema_migrations").fetchall()
    )
    done = []
    for migration in migrations:
        if migration.version in applied:
            if applied[migration.version] != migration.checksum:
                raise MigrationError(
                    f"migration {migration.version}_{migration.name} changed after it was "
                    "applied; add a new migration instead of editing one"
                )
            continue
        with connection.transaction():
            # As bytes: the file is SQL to run as written, never a template for parameters.
            connection.execute(migration.sql.encode())
            connection.execute(
                "INSERT INTO schema_migrations (version, name, checksum) VALUES (%s, %s, %s)",
                (migration.version, migration.name, migration.checksum),
            )
        log.info("applied migration %s_%s", migration.version, migration.name)
        done.append(migration.version)
    return done
