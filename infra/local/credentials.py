"""The secrets of one data directory, made on its first start and kept in it (mode 600).

The embedded object store's key pair and the webhook's bearer token are random per data
directory: no local stack answers to a published default that anyone could send.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path

FILE = "secrets.json"


@dataclass(frozen=True)
class LocalSecrets:
    s3_access_key: str
    s3_secret_key: str
    webhook_token: str


def local_secrets(data_dir: Path) -> LocalSecrets:
    """This data directory's secrets; made now if it has none yet."""
    path = data_dir / FILE
    try:
        return LocalSecrets(**json.loads(path.read_text()))
    except (FileNotFoundError, TypeError, ValueError):
        made = LocalSecrets(
            s3_access_key="lightbox-" + secrets.token_hex(6),
            s3_secret_key=secrets.token_urlsafe(30),
            webhook_token=secrets.token_urlsafe(32),
        )
        write_private(path, json.dumps(asdict(made)))
        return made


def write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read, whole or not at all."""
    partial = path.with_name(path.name + ".partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(text)
    os.chmod(partial, 0o600)
    partial.replace(path)
