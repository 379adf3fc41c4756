"""Adopting what a bucket holds, through the running local stack: how fast an import adopts
and renders, and what it does to a user's live uploads meanwhile.

    ./dev.sh bench imports [--objects 10000] [--backends embedded,localstack] [--write]

For each backend it starts ``python -m infra.local up`` on a fresh data directory, puts
OBJECTS small JPEGs (each different) under the owner ``local``'s ``imports/local/``, then:

- **idle**: LIVE photos of 1600×1200 uploaded one at a time, each once the one before is
  ready: milliseconds from the end of its PUT to ``ready`` (GET of the asset every 50 ms);
- **import**: ``POST /v1/imports`` of the prefix, and the same LIVE photos again while it
  runs; how long until every object is adopted (``listed``), and until every adopted one is
  ready, in objects per second;
- the ratio of the live uploads' median during the import to the idle one.

With ``--write``, the table replaces the imports section of docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import numpy as np
import requests
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "functions")]

from report import machine, write_section  # noqa: E402 - bench/report.py
from triggers import Stack, jpeg, running, upload  # noqa: E402 - bench/triggers.py

START, END = "<!-- imports:start -->", "<!-- imports:end -->"
LIVE = 20
DEADLINE_SECONDS = 3600


def small_jpeg(seed: int) -> bytes:
    """A 64×48 photo of its own: the bytes of each seed differ."""
    pixels = np.random.default_rng(seed).integers(0, 256, (48, 64, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


def fill(stack: Stack, count: int) -> None:
    s3, bucket = stack.client("s3"), stack.exports["LIGHTBOX_BUCKET"]

    def put(n: int) -> None:
        s3.put_object(Bucket=bucket, Key=f"imports/local/{n // 1000:02}/IMG_{n:05}.JPG",
                      Body=small_jpeg(n))

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(put, range(count)))


def settled_after(stack: Stack, asset_id: str, put_done: float) -> float:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        status = requests.get(f"{stack.api}/v1/assets/{asset_id}", headers=stack.auth,
                              timeout=30).json()["status"]
        if status == "ready":
            return time.monotonic() - put_done
        if status not in ("pending", "uploaded", "processing"):
            raise SystemExit(f"live upload {asset_id} ended {status}")
        time.sleep(0.05)
    raise SystemExit(f"live upload {asset_id} did not settle")


def live_uploads(stack: Stack, seed: int) -> list[float]:
    return [settled_after(stack, *upload(stack, f"live-{seed + n}.jpg", "image/jpeg",
                                         jpeg(seed + n)))
            for n in range(LIVE)]


def follow(stack: Stack, import_id: str, started: float, marks: dict[str, float]) -> None:
    """Note when the run had listed everything, and when every adopted asset was settled."""
    while time.monotonic() - started < DEADLINE_SECONDS:
        run = requests.get(f"{stack.api}/v1/imports/{import_id}", headers=stack.auth,
                           timeout=30).json()
        marks["run"] = run  # type: ignore[assignment]
        if run["status"] != "listing":
            marks.setdefault("listed", time.monotonic() - started)
            waiting = sum(run["assets"].get(s, 0) for s in ("pending", "uploaded",
                                                             "processing"))
            if not waiting:
                marks["settled"] = time.monotonic() - started
                return
        time.sleep(0.5)
    raise SystemExit("the import did not finish in time")


def measure(backend: str, objects: int) -> str:
    with running(backend) as stack:
        upload(stack, "warm-up.jpg", "image/jpeg", jpeg(99_999))  # the cold starts
        fill(stack, objects)
        idle = live_uploads(stack, 0)
        started = time.monotonic()
        answer = requests.post(f"{stack.api}/v1/imports", headers=stack.auth, timeout=30,
                               json={"source": f"s3://{stack.exports['LIGHTBOX_BUCKET']}"
                                               "/imports/local/"}).json()
        marks: dict[str, float] = {}
        follower = threading.Thread(target=follow,
                                    args=(stack, answer["import_id"], started, marks))
        follower.start()
        time.sleep(2)  # the import under way: the importer and the backfill both busy
        during = live_uploads(stack, 1000)
        follower.join()
    run = marks["run"]
    assert run["adopted"] == objects and run["assets"] == {"ready": objects}, run  # type: ignore[index]
    ratio = statistics.median(during) / statistics.median(idle)
    return (f"| {backend} | {objects:,} | {marks['listed']:.0f} | "
            f"{objects / marks['listed']:,.0f} | {marks['settled']:.0f} | "
            f"{objects / marks['settled']:,.0f} | {_ms(idle)} | {_ms(during)} | {ratio:.2f}× |")


def _ms(values: list[float]) -> str:
    values = sorted(values)
    p95 = values[min(len(values) - 1, round(0.95 * (len(values) - 1)))]
    return f"{statistics.median(values) * 1000:,.0f} / {p95 * 1000:,.0f}"


def report(backends: list[str], objects: int) -> str:
    rows = [measure(backend, objects) for backend in backends]
    return "\n".join([
        START,
        "## Importing what a bucket holds (issue 20)",
        "",
        f"`./dev.sh bench imports --write`, {date.today().isoformat()}: {machine()}, the local "
        "stack with 2 workers per function. Small JPEGs (64×48) already in the bucket under "
        "`imports/local/`, adopted by one `POST /v1/imports`: seconds until every object was "
        "listed and copied (adopted), and until every copy was rendered (ready). Meanwhile, "
        f"{LIVE} photos of 1600×1200 uploaded one at a time by the same owner: milliseconds "
        "from the end of each PUT to `ready`, median / p95, with the stack idle and during the "
        "import.",
        "",
        "| backend | objects | adopted in (s) | adopted /s | ready in (s) | ready /s "
        "| live idle (ms) | live during (ms) | median ratio |",
        "|---|---|---|---|---|---|---|---|---|",
        *rows,
        END,
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=10_000)
    parser.add_argument("--backends", default="embedded")
    parser.add_argument("--write", action="store_true", help="update docs/BENCHMARKS.md")
    args = parser.parse_args()
    section = report(args.backends.split(","), args.objects)
    print(section)
    if args.write:
        write_section(section)


if __name__ == "__main__":
    main()
