"""infra/local/keys.py against a real PostgreSQL: the key ``./dev.sh up`` makes, and
``./dev.sh key``."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path

import pytest

from infra.local.keys import DEV_KEY_FILE, DEV_OWNER, add_arguments, ensure_dev_key, run
from lightbox.adapters.api_keys import PostgresApiKeyRepository
from lightbox.adapters.postgres import Database
from lightbox.domain import Principal
from lightbox.services import auth
from tests.support import unique_owner


def test_the_dev_key_is_an_admins_also_in_a_data_directory_from_before_admins(
    database_url: str, database: Database, tmp_path: Path
) -> None:
    keys = PostgresApiKeyRepository(database)
    fresh, created = ensure_dev_key(database_url, tmp_path)
    assert created
    assert keys.principal_of(auth.hash_key(fresh)) == Principal(DEV_OWNER, admin=True)

    earlier = tmp_path / "earlier"
    earlier.mkdir()
    plain = auth.create_key(DEV_OWNER, "./dev.sh up", keys=keys)
    (earlier / DEV_KEY_FILE).write_text(plain.secret + "\n")
    assert ensure_dev_key(database_url, earlier) == (plain.secret, False)  # kept, and now admin
    assert keys.principal_of(auth.hash_key(plain.secret)) == Principal(DEV_OWNER, admin=True)


@pytest.fixture
def parser(database_url: str, monkeypatch: pytest.MonkeyPatch) -> argparse.ArgumentParser:
    """./dev.sh key's arguments, against the test's database."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser


def test_key_create_admin_makes_an_admin_key_and_list_says_so(
    parser: argparse.ArgumentParser, database: Database, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    owner = unique_owner()
    keys = PostgresApiKeyRepository(database)
    secrets = []
    for extra in (["--admin"], []):
        assert run(parser.parse_args(["create", "--owner", owner, *extra]), tmp_path) == 0
        secrets.append(capsys.readouterr().out.strip().splitlines()[-1])
    assert [keys.principal_of(auth.hash_key(secret)) for secret in secrets] == [
        Principal(owner, admin=True), Principal(owner, admin=False)]
    assert run(parser.parse_args(["list", "--owner", owner]), tmp_path) == 0
    listed = capsys.readouterr().out.strip().splitlines()
    assert [line.split()[-1] for line in listed[1:]] == ["admin", "owner"]


def test_key_rotate_keeps_the_old_key_working_for_its_grace_then_refuses_it(
    parser: argparse.ArgumentParser, database: Database, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    owner = unique_owner()
    keys = PostgresApiKeyRepository(database)
    old = auth.create_key(owner, "phone", keys=keys)

    def rotate(*extra: str) -> str:
        assert run(parser.parse_args(["rotate", "--owner", owner, *extra, str(old.key.id)]),
                   tmp_path) == 0
        return capsys.readouterr().out.strip().splitlines()[-1]

    def states() -> list[str]:
        assert run(parser.parse_args(["list", "--owner", owner]), tmp_path) == 0
        return [line.split()[-3] for line in capsys.readouterr().out.strip().splitlines()[1:]]

    first = rotate()
    assert keys.principal_of(auth.hash_key(old.secret)) == Principal(owner)
    assert keys.principal_of(auth.hash_key(first)) == Principal(owner)
    assert states() == ["expires", "active"]

    # PostgreSQL's own clock ends the old key once its expiry passes (here: made now, as two
    # rotations racing could; an expiry is only ever brought forward).
    now = keys.expire(owner, old.key.id, datetime.now(UTC))
    assert now is not None
    later = keys.expire(owner, old.key.id, datetime(2100, 1, 1, tzinfo=UTC))
    assert later is not None and later.expires_at == now.expires_at
    assert keys.principal_of(auth.hash_key(old.secret)) is None
    assert keys.principal_of(auth.hash_key(first)) == Principal(owner)
    assert states() == ["expired", "active"]
