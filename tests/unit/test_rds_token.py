"""IAM sign-in tokens for the database, signed without an RDS client."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from botocore.session import Session

from lightbox.adapters.rds import iam_auth_token
from lightbox.config import Config
from lightbox.errors import ConfigError
from lightbox.wiring import Container

URL = "postgresql://lightbox@proxy.example.com:5432/lightbox?sslmode=require"


def _session() -> Session:
    session = Session()
    session.set_credentials("AKIDEXAMPLE", "secret", "session-token")
    session.set_config_variable("region", "eu-west-1")
    return session


def test_the_token_is_the_one_an_rds_client_would_sign() -> None:
    session = _session()
    rds = session.create_client("rds")
    for _ in range(5):  # both must fall in the same second
        ours = iam_auth_token(session, URL)
        theirs = rds.generate_db_auth_token("proxy.example.com", 5432, "lightbox")
        if _query(ours)["X-Amz-Date"] == _query(theirs)["X-Amz-Date"]:
            break
    assert ours == theirs
    query = _query(ours)
    assert ours.startswith("proxy.example.com:5432/?")
    assert query["Action"] == ["connect"] and query["DBUser"] == ["lightbox"]
    assert query["X-Amz-Expires"] == ["900"]


def test_a_url_without_a_user_cannot_sign_in_with_iam() -> None:
    with pytest.raises(ConfigError, match="host and a user"):
        iam_auth_token(_session(), "postgresql://proxy.example.com/lightbox")


def test_without_a_region_the_token_is_a_configuration_error() -> None:
    session = Session()
    session.set_credentials("AKIDEXAMPLE", "secret")
    session.set_config_variable("region", None)
    with pytest.raises(ConfigError, match="region"):
        iam_auth_token(session, URL)


def test_the_container_asks_for_a_token_only_when_iam_is_on() -> None:
    plain = Container(Config.from_env({"DATABASE_URL": URL}))
    assert plain.database_password is None
    iam = Container(Config.from_env({"DATABASE_URL": URL, "LIGHTBOX_DATABASE_IAM_AUTH": "true",
                                     "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE"}))
    assert iam.database_password is not None


def _query(token: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(f"https://{token}").query)
