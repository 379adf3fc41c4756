"""The trigger path through the running local stack: latency, lanes, and the cost of replays.

    ./dev.sh bench triggers [--backends embedded,localstack] [--write]

For each backend it starts ``python -m infra.local up`` on a fresh data directory and
measures, bounded in count and time:

- **latency**: PHOTOS photos, each uploaded once the previous one is ready; from the end of
  its PUT to the moment the listing shows it ``ready`` (the bucket event, upload-complete,
  the job, the thumbnail function and both queues on the way);
- **lanes**: a scanned book over the large-lane threshold, then PHOTOS photos, with one
  worker per function so that contention shows; the photos' latency with the two lanes, and
  with every job on one lane (the thresholds raised out of reach);
- **replays**: REPLAYS copies of one creation notification put on the ingest queue at once;
  how long upload-complete takes to drain them (each a no-op on a ``ready`` asset).

With ``--write``, the tables replace the triggers section of docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import requests
import tifffile
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "functions")]

from report import write_section  # noqa: E402 - bench/report.py

from infra.local.stack import client_of  # noqa: E402 - after the path is set

START, END = "<!-- triggers:start -->", "<!-- triggers:end -->"
PHOTOS = 20
REPLAYS = 200
BOOK_PAGES = 24  # 24 pages of 12 MP, JPEG-compressed strips: about 90 MB, the large lane
BOOK = REPO / ".bench" / "triggers" / "book.tif"
DEADLINE_SECONDS = 300


@dataclass
class Stack:
    process: subprocess.Popen[bytes]
    exports: dict[str, str]
    log: Path

    @property
    def api(self) -> str:
        return self.exports["LIGHTBOX_URL"]

    @property
    def auth(self) -> dict[str, str]:
        """The owner ``local``'s key, which ``./dev.sh up`` created."""
        return {"Authorization": f"Bearer {self.exports['LIGHTBOX_API_KEY']}"}

    def client(self, service: str) -> Any:
        return client_of(self.exports, service)


@contextmanager
def running(backend: str, *args: str, **settings: str) -> Iterator[Stack]:
    with tempfile.TemporaryDirectory(prefix="lightbox-bench-") as scratch:
        data = Path(scratch) / "data"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("LIGHTBOX_", "AWS_"))}
        env.update(settings)
        with (Path(scratch) / "stack.log").open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "infra.local", "up", "--port", "0", "--data", str(data),
                 "--s3", backend, *args], cwd=REPO, stdout=log, stderr=subprocess.STDOUT, env=env)
        try:
            yield Stack(process, _wait_until_healthy(process, data), Path(scratch) / "stack.log")
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=120)


def _wait_until_healthy(process: subprocess.Popen[bytes], data: Path) -> dict[str, str]:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the stack exited with {process.returncode}")
        try:
            exports: dict[str, str] = json.loads((data / "stack.json").read_text())["exports"]
            if requests.get(f"{exports['LIGHTBOX_URL']}/health", timeout=5).ok:
                return exports
        except (FileNotFoundError, ValueError, KeyError, requests.ConnectionError):
            pass
        time.sleep(0.2)
    raise SystemExit("the stack did not become healthy")


def jpeg(seed: int, size: tuple[int, int] = (1600, 1200)) -> bytes:
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (size[1] // 40, size[0] // 40, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(small).resize(size, Image.Resampling.BICUBIC).save(buffer, "JPEG",
                                                                       quality=90)
    return buffer.getvalue()


def book() -> bytes:
    """A scanned book: many 12 MP pages with grain, as a book scanner writes them (cached)."""
    if not BOOK.exists():
        BOOK.parent.mkdir(parents=True, exist_ok=True)
        rng = np.random.default_rng(1)
        with tifffile.TiffWriter(BOOK) as writer:
            for _ in range(BOOK_PAGES):
                coarse = rng.integers(0, 256, (75, 100, 3), dtype=np.uint8)
                page = np.asarray(Image.fromarray(coarse).resize((4000, 3000),
                                                                 Image.Resampling.BICUBIC))
                grain = rng.normal(0, 8, page.shape)
                page = np.clip(page + grain, 0, 255).astype(np.uint8)
                writer.write(page, photometric="rgb", compression="jpeg",
                             compressionargs={"level": 90}, rowsperstrip=256, metadata=None)
    return BOOK.read_bytes()


def upload(stack: Stack, name: str, content_type: str, data: bytes) -> tuple[str, float]:
    """Presign and PUT; the asset id and when the PUT returned (wall clock, as the rows'
    ``updated_at``)."""
    ticket = requests.post(f"{stack.api}/v1/uploads", timeout=30, headers=stack.auth, json={
        "filename": name, "content_type": content_type, "size_bytes": len(data)}).json()
    requests.put(ticket["upload"]["url"], data=data, headers=ticket["upload"]["headers"],
                 timeout=120).raise_for_status()
    return ticket["asset_id"], time.time()


class Watcher:
    """Polls the listing every 50 ms from the start, noting when each asset first settles."""

    def __init__(self, stack: Stack) -> None:
        self._stack = stack
        self._settled: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def __enter__(self) -> Watcher:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _poll(self) -> None:
        while not self._stop.wait(0.05):
            items = requests.get(f"{self._stack.api}/v1/assets?limit=200",
                                 headers=self._stack.auth, timeout=30).json()["items"]
            now = time.time()  # the clock upload() reports on
            for item in items:
                if item["status"] not in ("pending", "uploaded", "processing"):
                    assert item["status"] == "ready", item
                    self._settled.setdefault(item["asset_id"], now)

    def wait(self, ids: set[str]) -> dict[str, float]:
        deadline = time.monotonic() + DEADLINE_SECONDS
        while not ids <= self._settled.keys():
            if time.monotonic() > deadline:
                raise SystemExit(f"{len(ids - self._settled.keys())} assets did not settle")
            time.sleep(0.05)
        return {asset_id: self._settled[asset_id] for asset_id in ids}


def percentiles(values: list[float]) -> str:
    values = sorted(values)
    p95 = values[min(len(values) - 1, round(0.95 * (len(values) - 1)))]
    return f"{statistics.median(values) * 1000:,.0f} | {p95 * 1000:,.0f} | {values[-1] * 1000:,.0f}"


def latency(backend: str) -> str:
    """One photo at a time: each is uploaded once the previous one is ready."""
    with running(backend) as stack, Watcher(stack) as watcher:
        upload(stack, "warm-up.jpg", "image/jpeg", jpeg(10_000))  # the cold starts
        uploaded, settled = {}, {}
        for n in range(PHOTOS):
            asset_id, put_done = upload(stack, f"photo-{n}.jpg", "image/jpeg", jpeg(n))
            uploaded[asset_id] = put_done
            settled.update(watcher.wait({asset_id}))
    return f"| {backend} | {PHOTOS} | " + percentiles(
        [settled[i] - uploaded[i] for i in uploaded]) + " |"


def lanes(backend: str, book_bytes: bytes) -> list[str]:
    rows = []
    for label, settings in (
        ("two lanes", {}),
        ("one lane", {"LIGHTBOX_LARGE_UPLOAD_BYTES": str(10**12),
                      "LIGHTBOX_LARGE_IMAGE_PIXELS": str(10**12)}),
    ):
        with running(backend, "--concurrency", "1", **settings) as stack, \
                Watcher(stack) as watcher:
            watcher.wait({upload(stack, "warm-up.jpg", "image/jpeg", jpeg(10_000))[0]})
            book_id, book_put = upload(stack, "book.tif", "image/tiff", book_bytes)
            photos = [jpeg(100 + n) for n in range(PHOTOS)]
            with ThreadPoolExecutor(max_workers=4) as pool:
                results = list(pool.map(
                    lambda item: upload(stack, f"photo-{item[0]}.jpg", "image/jpeg", item[1]),
                    enumerate(photos)))
            settled = watcher.wait({book_id} | {i for i, _ in results})
        photo_latency = [settled[i] - put for i, put in results]
        rows.append(f"| {backend} | {label} | {percentiles(photo_latency)} | "
                    f"{(settled[book_id] - book_put) * 1000:,.0f} |")
    return rows


def replays(backend: str) -> str:
    with running(backend) as stack, Watcher(stack) as watcher:
        asset_id, _ = upload(stack, "replayed.jpg", "image/jpeg", jpeg(999))
        watcher.wait({asset_id})
        message = json.dumps({"Records": [{
            "eventVersion": "2.1", "eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
            "s3": {"bucket": {"name": stack.exports["LIGHTBOX_BUCKET"]},
                   "object": {"key": f"originals/local/{asset_id}"}},
        }]})
        sqs, url = stack.client("sqs"), stack.exports["LIGHTBOX_INGEST_QUEUE_URL"]
        started = time.monotonic()
        for first in range(0, REPLAYS, 10):
            sqs.send_message_batch(QueueUrl=url, Entries=[
                {"Id": str(n), "MessageBody": message} for n in range(first, first + 10)])
        deadline = started + DEADLINE_SECONDS
        while time.monotonic() < deadline:
            attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
                "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
            ])["Attributes"]
            if all(value == "0" for value in attributes.values()):
                break
            time.sleep(0.05)
        elapsed = time.monotonic() - started
        asset = requests.get(f"{stack.api}/v1/assets/{asset_id}", headers=stack.auth,
                             timeout=30).json()
        assert asset["status"] == "ready"
    return f"| {backend} | {REPLAYS} | {elapsed * 1000:,.0f} | {REPLAYS / elapsed:,.0f} |"


def report(backends: list[str]) -> str:
    book_bytes = book()
    latency_rows, lane_rows, replay_rows = [], [], []
    for backend in backends:
        print(f"{backend}: latency …", file=sys.stderr, flush=True)
        latency_rows.append(latency(backend))
        print(f"{backend}: lanes …", file=sys.stderr, flush=True)
        lane_rows += lanes(backend, book_bytes)
        print(f"{backend}: replays …", file=sys.stderr, flush=True)
        replay_rows.append(replays(backend))
    return "\n".join([
        START,
        "## Trigger path (issue 4)",
        "",
        f"`./dev.sh bench triggers --write`, {date.today().isoformat()}: {os.cpu_count()} "
        f"cores, Python {platform.python_version()}, the local stack with 2 workers per "
        "function unless said otherwise. Milliseconds from the end of a PUT to the listing "
        "showing the asset `ready` (polled every 50 ms): the bucket event, upload-complete, "
        "the thumbnail job and the thumbnail function, through the queues as the bridge polls "
        "them.",
        "",
        f"Photos of 1600×1200 ({len(jpeg(0)) // 1000} kB), each uploaded once the one before is "
        "ready, after a first one that pays the cold starts:",
        "",
        "| backend | photos | median | p95 | max |",
        "|---|---|---|---|---|",
        *latency_rows,
        "",
        f"A scanned book ({BOOK_PAGES} pages of 4000×3000 in one TIFF, "
        f"{len(book_bytes) // 10**6} MB) and right after it {PHOTOS} photos, uploaded 4 at a "
        "time, with one worker per function: the photos' latency with the book on the large "
        "lane, and with every job on one lane (the thresholds raised out of reach).",
        "",
        "| backend | lanes | photo median | photo p95 | photo max | book |",
        "|---|---|---|---|---|---|",
        *lane_rows,
        "",
        "The same creation notification put on the ingest queue many times at once, for an "
        "asset already `ready`: how long upload-complete takes to acknowledge them all.",
        "",
        "| backend | messages | drained in | per second |",
        "|---|---|---|---|",
        *replay_rows,
        END,
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backends", default="embedded,localstack")
    parser.add_argument("--write", action="store_true", help="update docs/BENCHMARKS.md")
    args = parser.parse_args()
    section = report(args.backends.split(","))
    print(section)
    if args.write:
        write_section(section)


if __name__ == "__main__":
    main()
