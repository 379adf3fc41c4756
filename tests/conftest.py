"""Fixtures for the real services the integration and end-to-end tests use."""

from __future__ import annotations

import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from psycopg.conninfo import make_conninfo

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def postgres_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real PostgreSQL 16 (pgserver), shared by every test in the session."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # platformdirs, when XDG_RUNTIME_DIR is unset
        from pgserver.postgres_server import get_server

    server = get_server(tmp_path_factory.mktemp("postgres") / "data", cleanup_mode="stop")
    yield server.get_uri()
    server.cleanup()


@pytest.fixture
def fresh_database(postgres_url: str) -> Iterator[str]:
    """An empty database of its own on the shared server."""
    with database_of_its_own(postgres_url) as url:
        yield url


@contextmanager
def database_of_its_own(postgres_url: str) -> Iterator[str]:
    """An empty database on the shared server, dropped afterwards."""
    import psycopg

    name = f"test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"'.encode())
    try:
        yield make_conninfo(postgres_url, dbname=name)
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)'.encode())


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--load-assets", type=int, default=300, metavar="N",
                     help="images the load test uploads on each backend (default 300)")
