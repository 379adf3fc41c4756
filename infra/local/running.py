"""The record of the stack running on a data directory: its process and its exports.

``./dev.sh up`` writes it once everything answers and removes it at a clean stop; ``env``,
``key`` and ``redrive`` read it to find the running stack. A stack that crashed leaves it
behind, so it counts only while the same process (pid and start time) still runs.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

import psutil

FILE = "stack.json"


def write_record(data_dir: Path, exports: Mapping[str, str]) -> Path:
    path = data_dir / FILE
    path.write_text(json.dumps({"pid": os.getpid(), "started": _start_time(os.getpid()),
                                "exports": dict(exports)}, indent=2))
    return path


def read_exports(data_dir: Path) -> dict[str, str] | None:
    """The exports of the stack running on ``data_dir``, or None if none runs."""
    try:
        state = json.loads((data_dir / FILE).read_text())
        # The same pid and start time: the system may have given a dead stack's pid to
        # another process since.
        if _start_time(int(state["pid"])) != state["started"]:
            return None
    except (FileNotFoundError, ValueError, KeyError, TypeError, psutil.Error):
        return None
    exports: dict[str, str] = state["exports"]
    return exports


def _start_time(pid: int) -> float:
    return psutil.Process(pid).create_time()
