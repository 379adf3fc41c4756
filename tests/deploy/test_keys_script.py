"""infra/aws/keys.py: what it asks the deployed stack's admin function, and what it prints."""

from __future__ import annotations

from typing import Any

import pytest

from infra.aws import keys


@pytest.fixture
def asked(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, Any]]]:
    calls: list[tuple[str, dict[str, Any]]] = []

    def invoke(function: str, event: dict[str, Any]) -> dict[str, Any]:
        calls.append((function, event))
        if event["command"] == "create-key":
            return {"key": {"key_id": "k1", "owner": event["owner"]}, "secret": "lbk_secret"}
        return {"keys": []}

    monkeypatch.setattr(keys, "admin_function", lambda stack: f"{stack}-admin")
    monkeypatch.setattr(keys, "invoke", invoke)
    return calls


def test_create_asks_the_admin_function_and_prints_the_key_last(
    asked: list[tuple[str, dict[str, Any]]], capsys: pytest.CaptureFixture[str]
) -> None:
    assert keys.main(["-e", "prod", "create", "--owner", "alice", "--name", "laptop"]) == 0
    assert asked == [("lightbox-prod-admin",
                      {"command": "create-key", "owner": "alice", "name": "laptop"})]
    assert capsys.readouterr().out.strip().splitlines()[-1] == "lbk_secret"


def test_create_admin_asks_for_an_admin_key(
    asked: list[tuple[str, dict[str, Any]]]
) -> None:
    keys.main(["-e", "dev", "create", "--owner", "ops", "--admin"])
    assert asked == [("lightbox-dev-admin",
                      {"command": "create-key", "owner": "ops", "name": "", "admin": True})]


def test_list_and_revoke_name_their_commands(
    asked: list[tuple[str, dict[str, Any]]]
) -> None:
    keys.main(["-e", "dev", "list"])
    keys.main(["-e", "dev", "revoke", "--owner", "alice", "5b1e0f3a-0000-4000-8000-000000000000"])
    assert [event for _, event in asked] == [
        {"command": "list-keys", "owner": None},
        {"command": "revoke-key", "owner": "alice",
         "key_id": "5b1e0f3a-0000-4000-8000-000000000000"},
    ]


def test_rotate_asks_for_a_successor_and_the_grace_of_the_old_key(
    asked: list[tuple[str, dict[str, Any]]]
) -> None:
    key_id = "5b1e0f3a-0000-4000-8000-000000000000"
    keys.main(["-e", "prod", "rotate", "--owner", "alice", key_id])
    keys.main(["-e", "prod", "rotate", "--owner", "alice", "--grace", "0", key_id])
    assert [event for _, event in asked] == [
        {"command": "rotate-key", "owner": "alice", "key_id": key_id, "grace_seconds": 86400},
        {"command": "rotate-key", "owner": "alice", "key_id": key_id, "grace_seconds": 0},
    ]


def test_an_unknown_environment_is_refused() -> None:
    with pytest.raises(SystemExit):
        keys.main(["-e", "staging", "list"])
