"""Which Lightbox to talk to, and with which key: read in this one place.

Each of the two is looked up on its own, first found wins: the command line (``--url``,
``--api-key``), the environment (``LIGHTBOX_URL``, ``LIGHTBOX_API_KEY``), the config file
(``--config``, else ``LIGHTBOX_CONFIG``, else ``~/.config/lightbox/config.toml``), and last the
local stack of ``./dev.sh up`` (``LIGHTBOX_LOCAL_STACK``, else the nearest ``.data`` directory
above the current one), so that a developer needs no set-up at all.
"""

from __future__ import annotations

import json
import os
import stat
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

CONFIG_KEYS = ("url", "api_key")
STACK_FILE = "stack.json"


class SettingsError(Exception):
    pass


@dataclass(frozen=True)
class Settings:
    url: str
    api_key: str


def default_config_path(env: Mapping[str, str]) -> Path:
    if env.get("LIGHTBOX_CONFIG"):
        return Path(env["LIGHTBOX_CONFIG"])
    base = Path(env["XDG_CONFIG_HOME"]) if env.get("XDG_CONFIG_HOME") else Path.home() / ".config"
    return base / "lightbox" / "config.toml"


def state_dir(env: Mapping[str, str]) -> Path:
    """Where the CLI keeps what it needs to remember between runs (import journals)."""
    base = (Path(env["XDG_STATE_HOME"]) if env.get("XDG_STATE_HOME")
            else Path.home() / ".local" / "state")
    return base / "lightbox"


def resolve(url: str | None, api_key: str | None, config_path: Path | None,
            env: Mapping[str, str], cwd: Path) -> Settings:
    url = url or env.get("LIGHTBOX_URL")
    api_key = api_key or env.get("LIGHTBOX_API_KEY")
    if not (url and api_key):
        config = read_config(config_path or default_config_path(env))
        url, api_key = url or config.get("url"), api_key or config.get("api_key")
    if not (url and api_key):
        stack = _local_stack(env, cwd)
        url, api_key = url or stack.get("LIGHTBOX_URL"), api_key or stack.get(
            "LIGHTBOX_API_KEY")
    if not url:
        raise SettingsError("which Lightbox? Pass --url, set LIGHTBOX_URL, run `lightbox login`, "
                            "or start the local stack with ./dev.sh up")
    if not api_key:
        raise SettingsError(f"no API key for {url}: pass --api-key, set LIGHTBOX_API_KEY or run "
                            "`lightbox login`")
    return Settings(url.rstrip("/"), api_key)


def read_config(path: Path) -> dict[str, str]:
    try:
        with path.open("rb") as file:
            config = tomllib.load(file)
    except FileNotFoundError:
        return {}
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SettingsError(f"cannot read the config file {path}: {exc}") from exc
    unknown = sorted(set(config) - set(CONFIG_KEYS))
    if unknown:
        raise SettingsError(f"{path}: unknown setting {', '.join(unknown)} "
                            f"(it knows {', '.join(CONFIG_KEYS)})")
    wrong = [key for key, value in config.items() if not isinstance(value, str) or not value]
    if wrong:
        raise SettingsError(f"{path}: {', '.join(wrong)} must be a non-empty string")
    if "api_key" in config and path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise SettingsError(f"{path} holds an API key and others may read it: chmod 600 {path}")
    return dict(config)


def write_config(path: Path, settings: Settings) -> None:
    """Keep ``settings`` for later commands, readable by this user alone."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "".join(f"{key} = {json.dumps(value)}\n"
                   for key, value in (("url", settings.url), ("api_key", settings.api_key)))
    # Created private, never briefly world-readable.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(text)
    path.chmod(0o600)


def _local_stack(env: Mapping[str, str], cwd: Path) -> dict[str, str]:
    """The exports of the local stack (``./dev.sh env``'s), or nothing if there is none."""
    if env.get("LIGHTBOX_LOCAL_STACK"):
        candidates = [Path(env["LIGHTBOX_LOCAL_STACK"])]
    else:
        candidates = [directory / ".data" for directory in (cwd, *cwd.parents)]
    for directory in candidates:
        try:
            state = json.loads((directory / STACK_FILE).read_text())
        except (OSError, ValueError):
            continue
        exports = state.get("exports") if isinstance(state, dict) else None
        if isinstance(exports, dict):
            return {key: str(value) for key, value in exports.items()}
    return {}


def machine_time_zone() -> str:
    """This machine's time zone, by its IANA name: ``TZ`` when it names one, else the zone
    ``/etc/localtime`` links to; UTC when neither says."""
    name = os.environ.get("TZ", "").removeprefix(":")
    if not name:
        try:
            _, found, name = os.readlink("/etc/localtime").partition("zoneinfo/")
        except OSError:
            found = ""
        name = name if found else ""
    try:
        ZoneInfo(name)
    except (ValueError, ZoneInfoNotFoundError):  # none, a path, or a POSIX rule as "CET-1"
        return "UTC"
    return name
