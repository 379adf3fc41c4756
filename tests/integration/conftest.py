from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from lightbox.adapters.assets import PostgresAssetRepository
from lightbox.adapters.migrations import apply_migrations
from lightbox.adapters.postgres import Database
from tests.conftest import REPO
from tests.support import unique_owner


@pytest.fixture(scope="session")
def database_url(postgres_url: str) -> str:
    """The shared database with Lightbox's schema; tests keep apart by owner."""
    apply_migrations(postgres_url, REPO / "migrations")
    return postgres_url


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    """A connection of the functions' own kind to the shared database."""
    database = Database(database_url)
    yield database
    database.close()


@pytest.fixture
def repo(database: Database) -> PostgresAssetRepository:
    return PostgresAssetRepository(database)


@pytest.fixture
def owner() -> str:
    """An owner of its own, so that tests sharing the database keep apart."""
    return unique_owner()


@pytest.fixture(scope="session")
def aws_endpoint() -> Iterator[str]:
    """A moto server (S3 + SQS) on 127.0.0.1, shared by the session."""
    from moto.server import ThreadedMotoServer

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture(scope="session")
def aws_session() -> boto3.session.Session:
    return boto3.session.Session(aws_access_key_id="test", aws_secret_access_key="test",
                                 region_name="us-east-1")


@pytest.fixture
def s3_client(aws_session: boto3.session.Session, aws_endpoint: str) -> Any:
    return aws_session.client("s3", endpoint_url=aws_endpoint)


@pytest.fixture
def sqs_client(aws_session: boto3.session.Session, aws_endpoint: str) -> Any:
    return aws_session.client("sqs", endpoint_url=aws_endpoint)


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, aws_endpoint: str) -> None:
    """The environment a handler finds: credentials, region, and the moto endpoint."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT_URL": aws_endpoint,
    }.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def bucket(s3_client: Any) -> str:
    name = f"lightbox-{uuid.uuid4().hex[:12]}"
    s3_client.create_bucket(Bucket=name)
    return name
