"""What the benchmarks share: their section of docs/BENCHMARKS.md, a description of the
machine, and a PostgreSQL of their own."""

from __future__ import annotations

import os
import platform
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPORT = Path(__file__).resolve().parents[1] / "docs" / "BENCHMARKS.md"


def write_section(section: str) -> None:
    """Replace the report's section between the markers that open and close ``section``
    (its first and last lines), or append it."""
    start, end = section.splitlines()[0], section.splitlines()[-1]
    text = REPORT.read_text() if REPORT.exists() else "# Benchmarks\n"
    if start in text:
        before, rest = text.split(start, 1)
        text = before + section + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    REPORT.write_text(text)


def machine() -> str:
    """Cores, processor and Python: the start of every table's description."""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo
                        if line.startswith("model name")), platform.processor())
    except OSError:
        cpu = platform.processor()
    return f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}"


@contextmanager
def temporary_postgres() -> Iterator[str]:
    """A PostgreSQL of its own in a temporary directory, stopped (and removed) at the end."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # platformdirs, without XDG_RUNTIME_DIR
        from pgserver.postgres_server import get_server

    with tempfile.TemporaryDirectory(prefix="lightbox-bench-") as scratch:
        server = get_server(Path(scratch) / "data", cleanup_mode="stop")
        try:
            yield server.get_uri()
        finally:
            server.cleanup()
