"""How close the local stack comes to what the machine can render.

    ./dev.sh bench pipeline [--backends embedded,localstack] [--photos 60] [--clients 4]
                            [--write]

- **the machine**: PHOTOS photos (1600×1200 JPEGs) rendered by Lightbox's imaging core
  (``render``: both sizes, placeholder, perceptual hash) on one process per core, each
  warmed up first: the least time these renders can take here;
- **the stack**: for each backend a fresh ``python -m infra.local up``; a warm-up that starts
  every execution environment the burst will use; then CLIENTS threads presign and PUT the
  same photos. The time from the first presign to the last ``ready``, and the **efficiency**,
  the machine's time over the stack's. Each photo's PUT → ready (its row's ``updated_at``
  minus the end of its PUT, on this machine's clock), and the CPU each part of the stack
  used during the burst;
- **one photo's stages**: one more photo alone, with the runtime's debug log, which says when
  each queue delivered and how long each function took.

With ``--write``, the tables replace the pipeline section of docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from datetime import date, datetime
from pathlib import Path
from typing import Any

import psutil
import psycopg

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "functions")]

from report import machine, stack_processes, write_section  # noqa: E402 - bench/report.py
from triggers import Stack, jpeg, running, upload  # noqa: E402 - bench/triggers.py

START, END = "<!-- pipeline:start -->", "<!-- pipeline:end -->"
DEADLINE_SECONDS = 300


# --- the machine ----------------------------------------------------------------------------

def _warm_renderer() -> None:
    from lightbox.wiring import Container

    global _spec  # noqa: PLW0603 - one per process of the pool
    _spec = Container().render_spec
    _render(_warm_photo)


def _render(path: str) -> float:
    from lightbox.imaging.render import render

    started = time.perf_counter()
    render(Path(path), _spec)
    return time.perf_counter() - started


_spec: Any = None
_warm_photo = ""


def machine_seconds(paths: list[str]) -> tuple[float, float]:
    """The wall time of rendering every photo on one process per core, and the renders'
    own times summed (on otherwise idle cores, their CPU time)."""
    global _warm_photo  # noqa: PLW0603 - read by the pool's processes at their start
    _warm_photo = paths[-1]
    cores = os.cpu_count() or 1
    with ProcessPoolExecutor(cores, initializer=_warm_renderer) as pool:
        list(pool.map(time.sleep, [0.5] * cores))  # every process started and warm
        started = time.perf_counter()
        seconds = list(pool.map(_render, paths))
        return time.perf_counter() - started, sum(seconds)


# --- the stack ------------------------------------------------------------------------------

def ready_times(stack: Stack, ids: Iterable[str]) -> dict[str, float]:
    """When each asset became ready (its row's wall-clock ``updated_at``), once all are; read
    from the database itself, so that waiting costs the stack nothing."""
    ids = list(ids)
    deadline = time.monotonic() + DEADLINE_SECONDS
    with psycopg.connect(stack.exports["DATABASE_URL"], autocommit=True) as db:
        while time.monotonic() < deadline:
            rows = db.execute(
                "SELECT id::text, status, extract(epoch FROM updated_at)::float8 FROM assets"
                " WHERE id = ANY(%s::uuid[])", (ids,)).fetchall()
            if all(status not in ("pending", "uploaded", "processing") for _, status, _ in rows):
                bad = [(i, status) for i, status, _ in rows if status != "ready"]
                if bad or len(rows) != len(ids):
                    raise SystemExit(f"not every photo became ready: {bad}")
                return {i: at for i, _, at in rows}
            time.sleep(0.1)
    raise SystemExit("the photos did not become ready in time")


def send_all(stack: Stack, photos: list[bytes], clients: int,
             prefix: str) -> dict[str, float]:
    """Upload every photo from ``clients`` threads; each asset's PUT end."""
    with ThreadPoolExecutor(clients) as pool:
        done = pool.map(lambda n: upload(stack, f"{prefix}-{n}.jpg", "image/jpeg", photos[n]),
                        range(len(photos)))
        return dict(done)


def cpu_by_part(stack: Stack) -> dict[str, float]:
    """CPU seconds each part of the stack has used so far (processes alive now)."""
    used: dict[str, float] = defaultdict(float)
    for part, processes in stack_processes(stack.process.pid, stack.log.parent / "data").items():
        for process in processes:
            with contextlib.suppress(psutil.NoSuchProcess):
                times = process.cpu_times()
                used[part] += times.user + times.system
    return dict(used)


def measure(backend: str, photos: list[bytes], clients: int) -> dict[str, Any]:
    with running(backend, "--verbose") as stack:
        # The warm-up: enough at once that every execution environment of the burst starts.
        warm = send_all(stack, [jpeg(10_000 + n) for n in range(8)], 8, "warm-up")
        ready_times(stack, warm)
        before = cpu_by_part(stack)
        started = time.time()
        put_end = send_all(stack, photos, clients, "photo")
        ready = ready_times(stack, put_end)
        burst = max(ready.values()) - started
        after = cpu_by_part(stack)
        cpu = {part: after[part] - before.get(part, 0.0) for part in after}
        log_mark = stack.log.stat().st_size
        alone, alone_put = upload(stack, "alone.jpg", "image/jpeg", jpeg(20_000))
        alone_ready = ready_times(stack, [alone])[alone]
        time.sleep(0.5)  # the last delete's log line
        stages = _stages(stack.log, log_mark, alone_put, alone_ready)
    latencies = sorted(ready[i] - put_end[i] for i in ready)
    return {"backend": backend, "burst": burst, "latencies": latencies, "cpu": cpu,
            "stages": stages}


_STAMP = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) (?:\S+ )?(?:DEBUG|INFO) (\S+): ")
_DELIVERY = re.compile(r"(\w+): \d+ message\(s\) to (\w+), sent (\d+) ms before; it took (\d+) ms")


def _stages(log: Path, offset: int, put_end: float, ready: float) -> list[tuple[float, str]]:
    """What the runtime and the functions logged after ``offset``, as milliseconds since the
    PUT returned: a queue's delivery is logged when its function returns, and is shown at
    both ends."""
    with log.open("rb") as file:
        file.seek(offset)
        lines = file.read().decode(errors="replace").splitlines()
    stages = [(0.0, "the PUT answered")]
    for line in lines:
        stamp = _STAMP.match(line)
        # The keys the functions add after two spaces (asset_id=…) are the same asset's.
        message = line[stamp.end():].split("  ", 1)[0] if stamp else ""
        if not message or message.startswith('"'):  # not a log line, or the access log's
            continue
        at = (datetime.strptime(stamp.group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp()
              - put_end) * 1000
        delivery = _DELIVERY.search(message)
        if delivery:
            queue, function, waited, took = delivery.groups()
            stages.append((at - int(took), f"{queue} hands it to {function} ({waited} ms after "
                                           "it was sent)"))
            stages.append((at, f"{function} returns ({took} ms)"))
        else:
            stages.append((at, f"{stamp.group(2)}: {message}"))
    stages.append(((ready - put_end) * 1000, "the row says `ready` (its `updated_at`)"))
    return sorted(stages)


# --- the report -----------------------------------------------------------------------------

def percentile(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def report(photos: int, clients: int, machine_wall: float, render_cpu: float,
           results: list[dict[str, Any]]) -> str:
    cores = os.cpu_count() or 1
    lines = [
        START,
        "## The pipeline against the machine (issue 22)",
        "",
        f"`./dev.sh bench pipeline --write`, {date.today().isoformat()}: {machine()}. "
        f"{photos} photos of 1600×1200 (JPEG, about 240 kB). **The machine:** Lightbox's "
        f"imaging core renders them (256 and 1280 px, placeholder, perceptual hash) on "
        f"{cores} warm processes in **{machine_wall:.2f} s** ({render_cpu:.2f} s summed over "
        f"the renders). "
        f"**The stack:** `./dev.sh up` on a fresh data directory with its defaults; after a "
        f"warm-up of 8 photos at once, {clients} client threads presign and PUT the same "
        f"{photos}. Its time runs from the first presign to the last `ready`; the efficiency "
        f"is the machine's time over it. PUT → ready is each photo's `updated_at` minus the "
        f"end of its PUT.",
        "",
        "| backend | stack | efficiency | PUT → ready p50 | p99 | max |",
        "|---|---|---|---|---|---|",
    ]
    for result in results:
        latencies = result["latencies"]
        lines.append(
            f"| {result['backend']} | {result['burst']:.2f} s | "
            f"**{machine_wall / result['burst']:.2f}** | "
            f"{statistics.median(latencies) * 1000:,.0f} ms | "
            f"{percentile(latencies, 0.99) * 1000:,.0f} ms | {latencies[-1] * 1000:,.0f} ms |")
    lines += ["", "CPU-seconds each part of the stack used during the burst (the machine's renders "
              f"alone: {render_cpu:.2f}):", ""]
    parts = sorted({part for result in results for part in result["cpu"]})
    lines.append("| part | " + " | ".join(r["backend"] for r in results) + " |")
    lines.append("|---" * (len(results) + 1) + "|")
    for part in parts:
        lines.append(f"| {part} | " + " | ".join(
            f"{r['cpu'][part]:.2f}" if part in r["cpu"] else "–" for r in results) + " |")
    lines.append("| **all** | " + " | ".join(
        f"**{sum(r['cpu'].values()):.2f}**" for r in results) + " |")
    for result in results:
        lines += ["", f"One photo alone on {result['backend']}, after the burst: the "
                  "runtime's and functions' log, in milliseconds since its PUT returned.",
                  "", "| ms | what |", "|---|---|"]
        lines += [f"| {at:,.0f} | {what.replace('|', '/')} |" for at, what in result["stages"]]
    lines.append(END)
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="embedded",
                        help="comma-separated: embedded, localstack")
    parser.add_argument("--photos", type=int, default=60)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--write", action="store_true", help="update docs/BENCHMARKS.md")
    args = parser.parse_args()
    photos = [jpeg(n) for n in range(args.photos)]
    with tempfile.TemporaryDirectory(prefix="lightbox-bench-photos-") as scratch:
        paths = []
        for n, data in enumerate(photos):
            path = Path(scratch) / f"{n}.jpg"
            path.write_bytes(data)
            paths.append(str(path))
        machine_wall, render_cpu = machine_seconds(paths)
    print(f"the machine: {machine_wall:.2f} s ({render_cpu:.2f} CPU-s)", flush=True)
    results = []
    for backend in args.backends.split(","):
        result = measure(backend, photos, args.clients)
        print(f"{backend}: {result['burst']:.2f} s, efficiency "
              f"{machine_wall / result['burst']:.2f}", flush=True)
        results.append(result)
    section = report(args.photos, args.clients, machine_wall, render_cpu, results)
    print(section)
    if args.write:
        write_section(section)

if __name__ == "__main__":
    main()
