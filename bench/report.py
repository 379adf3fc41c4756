"""What the benchmarks share: their section of docs/BENCHMARKS.md, a description of the
machine, and a PostgreSQL of their own."""

from __future__ import annotations

import contextlib
import os
import platform
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil

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


def peak_mb() -> float:
    """This process's peak resident memory (VmHWM), in MB. Not getrusage's ru_maxrss: Linux
    keeps that across exec, so a child would report its parent's peak."""
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


def stack_processes(runtime_pid: int, data_dir: Path) -> dict[str, list[psutil.Process]]:
    """The processes of a running local stack by the part of it each is: the runtime's and,
    when embedded, PostgreSQL's (which runs on its own), a function's workers by its name."""
    runtime = psutil.Process(runtime_pid)
    processes = [runtime, *runtime.children(recursive=True)]
    pidfile = data_dir / "postgres" / "postmaster.pid"
    if pidfile.exists():
        postmaster = psutil.Process(int(pidfile.read_text().split()[0]))
        processes += [postmaster, *postmaster.children(recursive=True)]
    parts: dict[str, list[psutil.Process]] = {}
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            parts.setdefault(_part_of(process), []).append(process)
    return parts


def _part_of(process: psutil.Process) -> str:
    command = " ".join(process.cmdline())
    if "filer.meta.tail" in command:
        return "SeaweedFS notifications (its log's tail)"
    if "weed " in command:
        return "SeaweedFS"
    if "infra.local.mock_aws" in command:
        return "queues (moto)"
    if process.name() == "postgres" or "postgres" in command.split(" ", 1)[0]:
        return "PostgreSQL"
    if "spawn_main" in command:  # an execution environment, named after its function
        return f"function {process.name()}"
    if "infra.local" in command:  # before LocalStack: the runtime is told --s3 localstack
        return "runtime (gateway, queue pollers)"
    if "localstack" in command:
        return "LocalStack"
    return "runtime (gateway, queue pollers)"


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
