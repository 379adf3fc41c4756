"""What the embedded stack costs on a laptop, and how long a crash costs.

    ./dev.sh bench footprint [--photos 200] [--write]

Starts ``python -m infra.local up`` (the embedded default) on a fresh data directory and
measures, bounded in count and time:

- **memory**: the resident set of each of its processes (SeaweedFS, the moto server that
  holds the queues, PostgreSQL with its backends, the function workers, the runtime), idle
  after the start and again once PHOTOS photos are ``ready``;
- **disk**: the data directory's size per part once they are;
- **restart**: the time from ``up`` to a healthy API on a new data directory, after a clean
  stop, and after a SIGKILL of every process (what the recovery adds).

With ``--write``, the tables replace the footprint section of docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
import time
from collections import defaultdict
from datetime import date
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "functions")]

from report import machine, stack_processes, write_section  # noqa: E402 - bench/report.py

from tests.crash.test_crash import crash  # noqa: E402 - after the path is set
from tests.e2e.conftest import Stack, start_stack  # noqa: E402
from tests.uploader import photos, upload_all  # noqa: E402

START, END = "<!-- footprint:start -->", "<!-- footprint:end -->"
DEADLINE_SECONDS = 600


def memory(stack: Stack) -> dict[str, float]:
    """MB resident per part of the stack (a function's workers together)."""
    totals: dict[str, float] = defaultdict(float)
    for part, processes in stack_processes(stack.process.pid, stack.data_dir).items():
        for process in processes:
            with contextlib.suppress(psutil.NoSuchProcess):
                totals["function workers" if part.startswith("function ") else part] += (
                    process.memory_info().rss / 1e6)
    return dict(totals)


def disk(data_dir: Path) -> dict[str, float]:
    return {part: sum(f.stat().st_size for f in (data_dir / part).rglob("*") if f.is_file()) / 1e6
            for part in ("seaweedfs", "postgres")}


def timed_start(data_dir: Path) -> tuple[Stack, float]:
    started = time.monotonic()
    stack = start_stack(data_dir)
    return stack, time.monotonic() - started


def measure(count: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="lightbox-footprint-") as scratch:
        data_dir = Path(scratch) / "data"
        stack, fresh = timed_start(data_dir)
        time.sleep(5)
        idle = memory(stack)
        items = photos(count, seed=77)
        receipts = upload_all(stack.api, stack.api_key, items, clients=4)
        owner = stack.api_client()
        for receipt in receipts:
            owner.wait_until_settled(receipt.sent.asset_id, DEADLINE_SECONDS)
        loaded = memory(stack)
        sizes = disk(data_dir)
        sent_mb = sum(len(item.data) for item in items) / 1e6
        assert stack.stop() == 0, stack.log_tail()

        stack, clean = timed_start(data_dir)
        crash(stack)
        stack, crashed = timed_start(data_dir)
        check = owner.__class__(stack.api, stack.api_key)
        assert all(check.asset(r.sent.asset_id)["status"] == "ready" for r in receipts)
        stack.stop()
    return {"idle": idle, "loaded": loaded, "disk": sizes, "sent_mb": sent_mb, "count": count,
            "start": {"fresh": fresh, "after a clean stop": clean, "after a crash": crashed}}


def section(result: dict[str, object]) -> str:
    idle, loaded = result["idle"], result["loaded"]
    assert isinstance(idle, dict) and isinstance(loaded, dict)
    parts = sorted(set(idle) | set(loaded), key=lambda p: -loaded.get(p, 0))
    rows = "\n".join(f"| {p} | {idle.get(p, 0):.0f} | {loaded.get(p, 0):.0f} |" for p in parts)
    disk_ = result["disk"]
    starts = result["start"]
    assert isinstance(disk_, dict) and isinstance(starts, dict)
    return f"""{START}
## The embedded stack's footprint (issue 16)

`./dev.sh bench footprint --photos {result['count']}` (`bench/footprint.py`), {machine()},
{date.today().isoformat()}. `./dev.sh up` with its defaults (2 execution environments per
function) on a fresh data directory; resident memory (RSS, MB) of each part, idle 5 s after
the start and again once {result['count']} photos (1024×768, {result['sent_mb']:.0f} MB in all)
sent by 4 clients are `ready`. Workers share pages, so their sum overstates them.

| part | idle MB | after the uploads MB |
|---|---|---|
{rows}
| **all** | **{sum(idle.values()):.0f}** | **{sum(loaded.values()):.0f}** |

On disk after the uploads: SeaweedFS {disk_['seaweedfs']:.0f} MB (originals and two
derivatives each, in volumes it preallocates lazily), PostgreSQL {disk_['postgres']:.0f} MB.
From `./dev.sh up` to a healthy API: {starts['fresh']:.1f} s on a new data directory,
{starts['after a clean stop']:.1f} s after a clean stop, {starts['after a crash']:.1f} s after a
SIGKILL of every process (the stale servers stopped, the recovery run; every photo `ready`
again).
{END}"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=200)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    text = section(measure(args.photos))
    print(text)
    if args.write:
        write_section(text)


if __name__ == "__main__":
    main()
