"""PostgreSQL with psycopg 3: the connection every repository shares.

One connection per execution environment, opened on first use and reopened after it
breaks: a Lambda handles one invocation at a time, so a pool would only add start-up cost.
The importer's threads share it (psycopg runs their statements one at a time); opening and
closing it take a lock, so that two threads never each open one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, nullcontext
from typing import Any

import psycopg
from psycopg.conninfo import make_conninfo
from psycopg.rows import dict_row

from lightbox.errors import Conflict, DatabaseUnavailable, LightboxError

Row = dict[str, Any]

# Counting and inserting under a lock of the owner's makes a per-owner limit hold against
# concurrent requests; the lock is the transaction's, released at its end. Its first key names
# the limit, so that the limits of one owner do not wait for each other.
LOCK_OWNER = "SELECT pg_advisory_xact_lock(%(limit_kind)s, hashtext(%(owner)s))"
PENDING_UPLOADS_LOCK = 1
PROJECTS_LOCK = 2
SHARES_LOCK = 3


class Database:
    """A lazily opened connection that maps psycopg's errors onto Lightbox's."""

    def __init__(
        self, url: str, *, password: Callable[[], str] | None = None, connect_timeout: int = 5
    ) -> None:
        self._url = url
        self._password = password
        self._connect_timeout = connect_timeout
        self._connection: psycopg.Connection[Row] | None = None
        self._lock = threading.Lock()

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
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    def _connect(self) -> psycopg.Connection[Row]:
        with self._lock:
            return self._open()

    def _open(self) -> psycopg.Connection[Row]:
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


def like_pattern(text: str, *, anywhere: bool) -> str:
    """A LIKE pattern for ``text`` as written (its wildcards and the escape character escaped):
    a prefix, or text ``anywhere`` in the value."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%" if anywhere else f"{escaped}%"
