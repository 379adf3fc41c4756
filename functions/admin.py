"""admin: what an operator does inside the stack's network — apply the numbered migrations
shipped in the package (deploy.sh) and manage API keys (infra/aws/keys.py).

The event names a command: ``{"command": "migrate"}``, ``{"command": "create-key", "owner":
NAME, "name": LABEL, "admin": BOOL?}`` (an admin's key also sees the service's figures),
``{"command": "list-keys", "owner": NAME?}``, ``{"command": "revoke-key", "owner": NAME,
"key_id": UUID}``, ``{"command": "rotate-key", "owner": NAME, "key_id": UUID,
"grace_seconds": N?}`` (a successor now, the key itself until N seconds from now; a day by
default), ``{"command": "redrive", "limit": N?}`` (send back what the dead-letter
queues hold, up to N letters of each; 1000 by default), ``{"command": "recover", "before":
ISO-8601 TIME}`` (move on at once every asset and import left waiting since before that
time, when no worker ran: the local stack runs it as it starts; on AWS, after an incident that
lost queued messages, with the time the workers stopped).
"""

from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from lightbox.adapters.migrations import apply_migrations
from lightbox.domain import ApiKey
from lightbox.errors import InvalidField
from lightbox.function import entry_point
from lightbox.services import auth, imports, reaper, redrive
from lightbox.wiring import Container

# deploy.sh copies migrations/ next to the handlers in the Lambda package.
PACKAGED_MIGRATIONS = Path(__file__).with_name("migrations")
# Letters per dead-letter queue and run: a run stays well within the function's timeout.
REDRIVE_LIMIT = 1000

container = Container()


@entry_point(lambda: container.config)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    command = COMMANDS.get(str(event.get("command")))
    if command is None:
        raise InvalidField(f"unknown command {event.get('command')!r}: {', '.join(COMMANDS)}")
    return command(event)


def migrate(event: dict[str, Any]) -> dict[str, Any]:
    config = container.config
    directory = Path(config.migrations_dir) if config.migrations_dir else PACKAGED_MIGRATIONS
    return {"applied": apply_migrations(config.require("database_url"), directory,
                                        password=container.database_password)}


def create_key(event: dict[str, Any]) -> dict[str, Any]:
    new = auth.create_key(_text(event, "owner"), str(event.get("name") or ""),
                          admin=_flag(event, "admin"), keys=container.api_keys)
    return {"key": key_json(new.key), "secret": new.secret}


def list_keys(event: dict[str, Any]) -> dict[str, Any]:
    owner = event.get("owner")
    return {"keys": [key_json(key) for key in
                     container.api_keys.list(str(owner) if owner else None)]}


def revoke_key(event: dict[str, Any]) -> dict[str, Any]:
    return {"key": key_json(auth.revoke_key(_text(event, "owner"), _key_id(event),
                                            keys=container.api_keys))}


def rotate_key(event: dict[str, Any]) -> dict[str, Any]:
    new, old = auth.rotate_key(_text(event, "owner"), _key_id(event),
                               grace_seconds=_seconds(event, "grace_seconds",
                                                      auth.ROTATION_GRACE_SECONDS),
                               keys=container.api_keys)
    return {"key": key_json(new.key), "secret": new.secret, "rotated": key_json(old)}


def redrive_dead_letters(event: dict[str, Any]) -> dict[str, Any]:
    return asdict(redrive.redrive(
        events=container.ingest_dead_letters, job_letters=container.job_dead_letters,
        pipeline=container.pipeline, limit=_limit(event),
    ))


def recover(event: dict[str, Any]) -> dict[str, Any]:
    before = _time(event, "before")  # refused before anything is connected
    batch = container.reaper_policy.batch
    report = asdict(reaper.recover(container.pipeline, before=before, batch=batch))
    resumed = imports.resume_stalled(
        imports=container.imports, queue=container.import_queue,
        older_than_seconds=imports.stalled_since(before), limit=batch,
    ) if container.config.import_queue_url else 0
    return {**report, "imports_resumed": resumed}


COMMANDS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "migrate": migrate,
    "create-key": create_key,
    "list-keys": list_keys,
    "revoke-key": revoke_key,
    "rotate-key": rotate_key,
    "redrive": redrive_dead_letters,
    "recover": recover,
}


def key_json(key: ApiKey) -> dict[str, Any]:
    return {
        "key_id": str(key.id), "owner": key.owner_id, "name": key.name, "prefix": key.prefix,
        "created_at": key.created_at.isoformat(),
        "last_used_at": key.last_used_at.isoformat() if key.last_used_at else None,
        "revoked_at": key.revoked_at.isoformat() if key.revoked_at else None,
        "expires_at": key.expires_at.isoformat() if key.expires_at else None,
        "admin": key.admin,
    }


def _limit(event: dict[str, Any]) -> int:
    limit = event.get("limit", REDRIVE_LIMIT)
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise InvalidField("limit must be a positive whole number")
    return limit


def _flag(event: dict[str, Any], name: str) -> bool:
    value = event.get(name, False)
    if not isinstance(value, bool):
        raise InvalidField(f"{name} must be true or false")
    return value


def _seconds(event: dict[str, Any], name: str, default: int) -> int:
    value = event.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidField(f"{name} must be a whole number of seconds")
    return value


def _key_id(event: dict[str, Any]) -> UUID:
    try:
        return UUID(_text(event, "key_id"))
    except ValueError:
        raise InvalidField("key_id must be a UUID") from None


def _text(event: dict[str, Any], name: str) -> str:
    value = event.get(name)
    if not isinstance(value, str) or not value:
        raise InvalidField(f"{name} is required")
    return value


def _time(event: dict[str, Any], name: str) -> datetime:
    try:
        moment = datetime.fromisoformat(_text(event, name))
    except ValueError:
        raise InvalidField(f"{name} must be an ISO 8601 time") from None
    if moment.tzinfo is None:
        raise InvalidField(f"{name} must name its time zone (for example 2026-01-01T00:00Z)")
    return moment
