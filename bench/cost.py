"""What a million photos cost on AWS: each item's work measured here with Lightbox's own code,
then priced as AWS bills it.

    ./dev.sh bench cost [--runs 3] [--io-ms MS] [--write]

**Measured here**, each kind in a process of its own, warmed up once and then the median of
RUNS: for each kind of file in a phone's library (made in code, cached in .bench/cost/),

- what its lane computes: the original streamed through sha256 into a file (what the image
  lanes' ``downloaded`` does; a clip's bytes only through sha256), the render with the
  deployment's spec (``lightbox.imaging.render``; a clip's poster through ``RangedObject`` and
  ``render_clip``, as the video lane reads it), and a large photo's deep-zoom tiles made and
  encoded;
- its CPU seconds (all threads) and wall seconds, whose ratio says how many cores it keeps
  busy (libheif decodes a grid's tiles on several threads; the rest runs on one);
- the bytes of the original, of each derivative and of the tiles, a clip's ranged GETs, and
  the process's peak memory;
- what an asset takes in PostgreSQL: DATABASE_ROWS of the listing bench's rows;
- the 1600×1200 photo of the trigger bench rendered, to take its render out of the trigger
  path's PUT → ready in docs/BENCHMARKS.md: what is left is the I/O of one photo's path
  (queues, S3, the database), the default of ``--io-ms``.

**Modelled, not measured on Lambda**: Lambda gives a function CPU in proportion to its memory,
one full vCPU at 1,769 MB. Work of c CPU seconds takes c × max(1, 1769 / M) seconds at M MB:
as if on one core, which the renders mostly are (libheif decodes a grid's tiles on several
threads, which the model leaves out: above one vCPU a HEIC may go faster than it says). The
I/O time does not change with M.
The requests each item causes follow the code (``functions/``, ``template.yaml``); the prices
are the dated table below. docs/COST.md explains every assumption.

With ``--write``, the tables replace the cost section of docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import multiprocessing
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
from PIL import Image, ImageDraw

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "functions")]

from report import REPORT, machine, peak_mb, temporary_postgres, write_section  # noqa: E402
from thumbnails import photo  # noqa: E402 - bench/thumbnails.py: photo-like content
from triggers import jpeg as trigger_photo  # noqa: E402 - bench/triggers.py
from video import encode_clip  # noqa: E402 - bench/video.py

from infra.template import Template  # noqa: E402 - after the path is set
from lightbox.adapters.s3 import CHUNK_BYTES  # noqa: E402
from lightbox.imaging.render import render  # noqa: E402
from lightbox.ranged import RangedObject  # noqa: E402
from lightbox.services.thumbnails import TILE_UPLOADS, streamed_sha256  # noqa: E402
from lightbox.video.render import render_clip  # noqa: E402
from lightbox.wiring import Container  # noqa: E402

START, END = "<!-- cost:start -->", "<!-- cost:end -->"
CORPUS = REPO / ".bench" / "cost"
TEMPLATE = Template.load(REPO / "template.yaml")

# --- prices ----------------------------------------------------------------------------------
# US East (N. Virginia) list prices as AWS's pricing pages state them in December 2026 (AWS
# Lambda Pricing, Amazon S3 Pricing, Amazon SQS Pricing, Amazon API Gateway Pricing, Amazon RDS
# for PostgreSQL Pricing, Amazon RDS Proxy Pricing, Amazon Aurora Pricing, Amazon CloudWatch
# Pricing, Amazon VPC Pricing), first tier of each, free tiers left out. Check them for your
# region and date before relying on a total.
PRICES_AS_OF = "December 2026, us-east-1"
LAMBDA_GB_SECOND = {"x86_64": 0.0000166667, "arm64": 0.0000133334}
LAMBDA_REQUEST = 0.20 / 1e6
API_GATEWAY_REQUEST = 3.50 / 1e6  # REST API, the first 333 million a month
S3_STANDARD_GB_MONTH = 0.023  # the first 50 TB a month
S3_PUT = 0.005 / 1000  # PUT, COPY, POST, LIST
S3_GET = 0.0004 / 1000  # GET, HEAD and the others
# Originals moved out of Standard by a lifecycle rule after 30 days (not in template.yaml):
# storage a month, the transition request, and the retrieval of a GB read back.
COLD_CLASSES = {
    "Standard-IA": (0.0125, 0.01 / 1000, 0.01),
    "Glacier Instant Retrieval": (0.004, 0.02 / 1000, 0.03),
}
SQS_REQUEST = 0.40 / 1e6  # standard queue, per 64 KB of a request
DATA_TRANSFER_OUT_GB = 0.09  # to the internet, the first 10 TB a month
CLOUDWATCH_LOGS_GB = 0.50  # ingested
ALARM_MONTH = 0.10  # a standard-resolution metric alarm
HOURS_PER_MONTH = 730
RDS_HOUR = {"db.t4g.micro": 0.016, "db.t4g.small": 0.032}  # PostgreSQL, single-AZ
RDS_GP3_GB_MONTH = 0.115  # single-AZ; Multi-AZ doubles it
RDS_PROXY_VCPU_HOUR = 0.015  # per vCPU of the instance behind it, at least 2
RDS_PROXY_MIN_VCPUS = 2
RDS_PROXY_ACU_HOUR = 0.015  # in front of Aurora Serverless v2: per ACU, at least 8
RDS_PROXY_MIN_ACUS = 8
AURORA_ACU_HOUR = 0.12  # Aurora Serverless v2 (Aurora Standard)
AURORA_MIN_ACUS = 0.5
AURORA_GB_MONTH = 0.10
SECRET_MONTH = 0.40  # the database's master password (RDS-managed secret)
INTERFACE_ENDPOINT_HOUR = 0.01  # per zone: the SQS endpoint with PrivateRouteTableIds
NAT_GATEWAY_HOUR, NAT_GATEWAY_GB = 0.045, 0.045

# --- the model's assumptions (docs/COST.md says why each) ------------------------------------
FULL_VCPU_MB = 1769
MEMORY_SIZES = (512, 1024, 1536, FULL_VCPU_MB, 2048, 3008)
S3_STREAM_BYTES_PER_SECOND = 100e6  # one GET or PUT stream from Lambda
S3_REQUEST_SECONDS = 0.020  # a small GET or PUT, first byte to last
API_FUNCTION_SECONDS = 0.050  # presign, upload-complete, a listing page: a few queries each
# An upload's two completions (its bucket event, the client's POST .../complete) race: the
# second one finds the asset still `uploaded` in about half the cases and sends its job again,
# which the thumbnail function's claim turns into a short no-op (services/uploads.py).
REPEATED_JOB_SHARE = 0.5
REPEATED_JOB_SECONDS = 0.030
# API Gateway keeps the authorizer's answer for a key 300 s (template.yaml): an upload session
# of a hundred photos asks it about once.
AUTHORIZER_CALLS_PER_REQUEST = 0.01
# Cold starts, billed since August 2025 (INIT): the share of invocations that start an
# environment, and the INIT seconds of the packages (docs/BENCHMARKS.md, cold start).
COLD_START_SHARE = 0.05
INIT_SECONDS = {"imaging": 0.47, "video": 0.47, "api": 0.30}
LOG_BYTES_PER_INVOCATION = 1000  # START, END, REPORT and a line or two of Lightbox's
# Lambda's pollers long-poll every queue with a trigger, messages or not: about five pollers,
# each one ReceiveMessage per 20 s.
IDLE_RECEIVES_PER_QUEUE_MONTH = 5 * 3 * 60 * HOURS_PER_MONTH
# The gallery, per item and month: its 256 shown in the timeline (a page of 50 items per
# listing request, URLs signed afresh each time, so the browser fetches again), its 1280
# opened, its original downloaded.
GRID_VIEWS_PER_MONTH = 2.0
LISTING_PAGE_ITEMS = 50
FULL_VIEWS_PER_MONTH = 0.1
ORIGINAL_DOWNLOADS_PER_MONTH = 0.01
# The thumbnail function's memory size, by the measured sweep: the cheapest size at which no
# kind of photo takes longer than LATENCY_TOLERANCE × its time on one full vCPU.
LATENCY_TOLERANCE = 1.05
# And the size must hold the measured peak of every photo with a quarter to spare.
MEMORY_HEADROOM = 1.25
DATABASE_ROWS = 20_000  # assets written to measure what one takes in the database


# --- the library -------------------------------------------------------------------------------

def _heic(width: int, height: int) -> Callable[[Path], None]:
    """A phone's HEIC: a grid of 512-pixel HEVC tiles, at a quality that gives a phone's
    bytes (about 0.2 MB per megapixel)."""
    def make(path: Path) -> None:
        from tests.images import heic_grid  # x265 through pillow-heif, as the tests use it

        columns, rows = -(-width // 512), -(-height // 512)
        canvas = photo(columns * 512, rows * 512)
        tiles = [canvas.crop((x * 512, y * 512, x * 512 + 512, y * 512 + 512))
                 for y in range(rows) for x in range(columns)]
        path.write_bytes(heic_grid(tiles, columns, width, height, quality=50))
    return make


def _jpeg(path: Path) -> None:
    photo(4000, 3000).save(path, "JPEG", quality=90)


def _screenshot(path: Path) -> None:
    """A phone's screenshot: flat panels, text, a photo in a card (1179×2556, PNG)."""
    shot = Image.new("RGB", (1179, 2556), (242, 242, 247))
    draw = ImageDraw.Draw(shot)
    rng = np.random.default_rng(3)
    for top in range(160, 2400, 180):
        draw.rounded_rectangle((40, top, 1139, top + 150), 24, fill=(255, 255, 255))
        for line in range(3):
            width = int(rng.integers(300, 900))
            draw.rectangle((200, top + 30 + line * 36, 200 + width, top + 50 + line * 36),
                           fill=(60, 60, 67))
        draw.ellipse((60, top + 25, 160, top + 125), fill=tuple(rng.integers(0, 256, 3)))
    shot.paste(photo(1099, 600), (40, 900))
    shot.save(path, "PNG")


def _clip(path: Path) -> None:
    """A phone's clip: 1080p at 30 fps, H.264 at 16 Mbit/s, 15 s, moving detail."""
    encode_clip(path, np.asarray(photo(3840, 1080)), seconds=15, bitrate=16_000_000)


@dataclass(frozen=True)
class Kind:
    name: str
    filename: str
    make: Callable[[Path], None]
    share: float  # of a library's items
    video: bool = False


# A phone library: mostly HEIC (iPhones: 12 MP, or 24 MP, the default of the recent ones) and
# JPEG (Android), screenshots, and one item in ten a clip.
LIBRARY = (
    Kind("HEIC 12 MP (4032×3024)", "12mp.heic", _heic(4032, 3024), 0.40),
    Kind("HEIC 24 MP (5712×4284)", "24mp.heic", _heic(5712, 4284), 0.15),
    Kind("JPEG 12 MP (4000×3000)", "12mp.jpg", _jpeg, 0.25),
    Kind("PNG screenshot (1179×2556)", "screenshot.png", _screenshot, 0.10),
    Kind("H.264 clip (1080p, 15 s)", "clip.mp4", _clip, 0.10, video=True),
)


def original(kind: Kind) -> Path:
    path = CORPUS / kind.filename
    if not path.exists():
        CORPUS.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial" + path.suffix)
        print(f"  making {kind.name}", file=sys.stderr)
        kind.make(partial)
        partial.rename(path)
    return path


# --- measuring ---------------------------------------------------------------------------------

class LocalObject:
    """The ObjectStore calls the lanes make of an original, over a local file: what they read
    and how many requests that takes, without a network."""

    def __init__(self, path: Path) -> None:
        self._path = path

    def iter_chunks(self, key: str) -> Iterator[bytes]:
        with self._path.open("rb") as file:
            while chunk := file.read(CHUNK_BYTES):
                yield chunk

    def read_range(self, key: str, length: int, *, start: int = 0) -> bytes:
        with self._path.open("rb") as file:
            file.seek(start)
            return file.read(length)


@dataclass
class Measured:
    kind: Kind
    original_bytes: int
    derivative_bytes: dict[int, int]  # by size
    tiles: int
    tile_bytes: int
    ranged_gets: int
    seconds: dict[str, float]  # CPU seconds of each part (all threads): hash, render, tiles
    wall_seconds: dict[str, float]  # and the time each took
    start_mb: float  # the measuring process's resident memory before the first item
    peak_mb: float  # and at its peak

    @property
    def cpu_seconds(self) -> float:
        return sum(self.seconds.values())

    @property
    def cores(self) -> float:
        """How many cores its work keeps busy, on average (at least one)."""
        return max(1.0, self.cpu_seconds / sum(self.wall_seconds.values()))


class _Clock:
    """The CPU seconds (all threads) and wall seconds of each part timed with ``part``."""

    def __init__(self) -> None:
        self.cpu: dict[str, float] = {}
        self.wall: dict[str, float] = {}

    @contextmanager
    def part(self, name: str) -> Iterator[None]:
        cpu, wall = time.process_time(), time.perf_counter()
        yield
        self.cpu[name] = time.process_time() - cpu
        self.wall[name] = time.perf_counter() - wall


def _once(kind: Kind, path: Path, spec: Any, scratch: Path) -> dict[str, Any]:
    """One pass of the lane's work: the seconds of each part, and what it made."""
    clock = _Clock()
    with clock.part("hash"):
        if kind.video:
            streamed_sha256(LocalObject(path), kind.filename)  # type: ignore[arg-type]
        else:
            with (scratch / "original").open("wb") as file:
                streamed_sha256(LocalObject(path), kind.filename,  # type: ignore[arg-type]
                                into=file)
    with clock.part("render"):
        if kind.video:
            clip = RangedObject(LocalObject(path), kind.filename,  # type: ignore[arg-type]
                                path.stat().st_size)
            rendition = render_clip(clip, spec)  # type: ignore[arg-type]
        else:
            rendition = render(scratch / "original", spec)
    made = {"tiles": 0, "tile_bytes": 0,
            "derivative_bytes": {image.size: len(image.data) for image in rendition.images},
            "ranged_gets": clip.requests if kind.video else 0}
    if rendition.tiles is not None:
        with clock.part("tiles"):
            tiles = rendition.tiles.make()
            for _, data in tiles[1] if tiles else ():
                made["tiles"] += 1
                made["tile_bytes"] += len(data)
    return {**made, "seconds": clock.cpu, "wall_seconds": clock.wall}


def _measure_alone(index: int, runs: int) -> dict[str, Any]:
    """In a process of its own, so that its peak memory is this item's: a warm-up (imports,
    first decode), then ``runs`` passes, the median of each part's seconds."""
    kind, start_mb = LIBRARY[index], peak_mb()
    spec = Container().render_spec
    with tempfile.TemporaryDirectory(prefix="lightbox-bench-cost-") as scratch:
        _once(kind, original(kind), spec, Path(scratch))
        samples = [_once(kind, original(kind), spec, Path(scratch)) for _ in range(runs)]
    made = samples[-1]
    for clock in ("seconds", "wall_seconds"):
        made[clock] = {part: statistics.median(sample[clock][part] for sample in samples)
                       for part in made[clock]}
    return {**made, "start_mb": start_mb, "peak_mb": peak_mb()}


def measure(index: int, runs: int) -> Measured:
    kind = LIBRARY[index]
    path = original(kind)  # made here: the measuring process's peak is the lane's alone
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        made = pool.submit(_measure_alone, index, runs).result()
    return Measured(kind, path.stat().st_size, **made)


def database_bytes_per_asset(rows: int) -> float:
    """What an asset takes in PostgreSQL, its row and index entries: ``rows`` assets as the
    listing bench makes them (ready photos with two derivatives, some in albums) written into
    a fresh database with Lightbox's migrations."""
    from listing import Filler, prepare  # bench/listing.py

    with temporary_postgres() as url:
        prepare(url)
        before = _tables_bytes(url)
        filler = Filler(url, rows)
        try:
            filler.fill_to(rows)
            filler.settle()
        finally:
            filler.close()
        return (_tables_bytes(url) - before) / rows


def _tables_bytes(url: str) -> int:
    with psycopg.connect(url, autocommit=True) as connection:
        row = connection.execute(
            "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint FROM pg_class c"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE c.relkind = 'r' AND n.nspname = 'public'").fetchone()
    return int(row[0]) if row else 0


def trigger_render_seconds(spec: Any, runs: int) -> float:
    """The render of the trigger bench's photo (1600×1200), which its PUT → ready includes."""
    with tempfile.TemporaryDirectory(prefix="lightbox-bench-cost-") as scratch:
        path = Path(scratch) / "photo.jpg"
        path.write_bytes(trigger_photo(0))
        render(path, spec)
        return statistics.median(_timed(lambda: render(path, spec)) for _ in range(runs * 3))


def _timed(call: Callable[[], object]) -> float:
    """The wall seconds of ``call``: what the trigger path's latency includes."""
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def trigger_path_seconds() -> float:
    """The median PUT → ready of a photo on the local stack, as the trigger bench last wrote
    it in docs/BENCHMARKS.md (the mean over its backends)."""
    section = REPORT.read_text().split("<!-- triggers:start -->", 1)[1].split(
        "<!-- triggers:end -->", 1)[0]
    table = section.split("| backend | photos | median | p95 | max |", 1)[-1].split("\n\n")[0]
    medians = [float(m.replace(",", "")) for m in
               re.findall(r"^\| \w+ \| \d+ \| ([\d,]+) \|", table, re.M)]
    if not medians:
        raise SystemExit("docs/BENCHMARKS.md has no trigger-path latency: give --io-ms")
    return statistics.fmean(medians) / 1000


# --- the model ---------------------------------------------------------------------------------

def duration(item: Measured, memory_mb: int, io_seconds: float) -> float:
    """Seconds of one invocation of the item's lane at ``memory_mb``: its CPU seconds as on
    one core, stretched below a full vCPU, plus its I/O. Work on several threads (a HEIC's
    decode) could go faster above a full vCPU; the model leaves that out."""
    return item.cpu_seconds * max(1.0, FULL_VCPU_MB / memory_mb) + io_of(item, io_seconds)


def io_of(item: Measured, io_seconds: float) -> float:
    """What the lane waits for: the path's I/O, the original streamed from S3 (a clip's too,
    for its hash), a clip's ranged GETs, and a large photo's tiles, TILE_UPLOADS PUTs at once
    (counted apart from the encoding they overlap: an upper bound)."""
    return (io_seconds + item.original_bytes / S3_STREAM_BYTES_PER_SECOND
            + item.ranged_gets * S3_REQUEST_SECONDS
            + item.tiles * S3_REQUEST_SECONDS / TILE_UPLOADS)


def gb_seconds(item: Measured, memory_mb: int, io_seconds: float) -> float:
    return memory_mb / 1024 * duration(item, memory_mb, io_seconds)


def mean(items: list[Measured], value: Callable[[Measured], float]) -> float:
    """The library's mean of ``value`` over ``items``, weighted by their shares."""
    return (sum(item.kind.share * value(item) for item in items)
            / sum(item.kind.share for item in items))


def photos(items: list[Measured]) -> list[Measured]:
    return [item for item in items if not item.kind.video]


def function_memory(name: str) -> int:
    return TEMPLATE.functions[name].memory


def lane_memory(item: Measured, thumbnail_mb: int) -> int:
    return function_memory("VideoFunction") if item.kind.video else thumbnail_mb


@dataclass
class Bill:
    """Dollars per million items of the library, by part: once (the upload and its renders)
    and per month (storage, views)."""

    once: dict[str, float] = field(default_factory=dict)
    monthly: dict[str, float] = field(default_factory=dict)

    def add(self, part: str, dollars_per_item: float, *, monthly: bool = False) -> None:
        (self.monthly if monthly else self.once)[part] = dollars_per_item * 1e6


# What every upload costs the API functions (512 MB): presign, then upload-complete twice (the
# client's POST .../complete and the bucket event), each about API_FUNCTION_SECONDS; and the
# authorizer for the two API requests, mostly answered from API Gateway's cache.
API_REQUESTS = 2
API_INVOCATIONS = 3 + API_REQUESTS * AUTHORIZER_CALLS_PER_REQUEST


def bill(items: list[Measured], io_seconds: float, thumbnail_mb: int,
         architecture: str = "x86_64") -> Bill:
    """A million items of the library: the thumbnail function at ``thumbnail_mb``, every other
    function at its memory in template.yaml."""
    price = LAMBDA_GB_SECOND[architecture]
    api_gb = function_memory("PresignFunction") / 1024
    result = Bill()
    lanes = mean(items, lambda i: gb_seconds(i, lane_memory(i, thumbnail_mb), io_seconds))
    others = (API_INVOCATIONS * api_gb * API_FUNCTION_SECONDS
              + REPEATED_JOB_SHARE * mean(items, lambda i: lane_memory(i, thumbnail_mb) / 1024)
              * REPEATED_JOB_SECONDS
              + COLD_START_SHARE * (mean(items, lambda i: lane_memory(i, thumbnail_mb) / 1024
                                         * INIT_SECONDS["video" if i.kind.video else "imaging"])
                                    + API_INVOCATIONS * api_gb * INIT_SECONDS["api"]))
    invocations = 1 + API_INVOCATIONS + REPEATED_JOB_SHARE
    result.add("Lambda: the render lanes (GB-s)", lanes * price)
    result.add("Lambda: API functions, repeated jobs, cold starts (GB-s)", others * price)
    result.add("Lambda: requests", invocations * LAMBDA_REQUEST)
    result.add("API Gateway: presign and complete", API_REQUESTS * API_GATEWAY_REQUEST)
    # S3: the original's PUT, the derivatives' and tiles' PUTs; the 64 KB sniff, whose ranged
    # GET also tells the size (upload-complete), the sniff again for a repeated job, the
    # lane's GET, a clip's ranged GETs.
    puts = 1 + mean(items, lambda i: len(i.derivative_bytes))
    gets = 1 + REPEATED_JOB_SHARE + mean(items, lambda i: 1 + i.ranged_gets)
    result.add("S3 requests: the original, its checks and derivatives", puts * S3_PUT
               + gets * S3_GET)
    result.add("S3 requests: deep-zoom tiles", mean(items, lambda i: i.tiles) * S3_PUT)
    # SQS: the bucket event and the job, each sent, received and deleted (batches of one, as
    # for a trickle of uploads), a repeated job's three; every message under 64 KB.
    result.add("SQS", (6 + 3 * REPEATED_JOB_SHARE) * SQS_REQUEST)
    result.add("CloudWatch Logs", invocations * LOG_BYTES_PER_INVOCATION / 1e9
               * CLOUDWATCH_LOGS_GB)

    result.add("S3 storage: originals", mean(items, lambda i: i.original_bytes) / 1e9
               * S3_STANDARD_GB_MONTH, monthly=True)
    result.add("S3 storage: derivatives", mean(items, lambda i: sum(i.derivative_bytes.values()))
               / 1e9 * S3_STANDARD_GB_MONTH, monthly=True)
    result.add("S3 storage: deep-zoom tiles", mean(items, lambda i: i.tile_bytes) / 1e9
               * S3_STANDARD_GB_MONTH, monthly=True)
    small, large = min(items[0].derivative_bytes), max(items[0].derivative_bytes)
    viewed = (GRID_VIEWS_PER_MONTH * mean(items, lambda i: i.derivative_bytes[small])
              + FULL_VIEWS_PER_MONTH * mean(items, lambda i: i.derivative_bytes[large])
              + ORIGINAL_DOWNLOADS_PER_MONTH * mean(items, lambda i: i.original_bytes))
    pages = GRID_VIEWS_PER_MONTH / LISTING_PAGE_ITEMS
    result.add("Gallery: listing pages (API Gateway, Lambda)", pages * (
        API_GATEWAY_REQUEST + LAMBDA_REQUEST + api_gb * API_FUNCTION_SECONDS * price),
        monthly=True)
    result.add("Gallery: S3 GETs", (GRID_VIEWS_PER_MONTH + FULL_VIEWS_PER_MONTH
                                    + ORIGINAL_DOWNLOADS_PER_MONTH) * S3_GET, monthly=True)
    result.add("Gallery: data transfer out", viewed / 1e9 * DATA_TRANSFER_OUT_GB, monthly=True)
    return result


def sweep(items: list[Measured], io_seconds: float) -> tuple[int, dict[int, float]]:
    """The thumbnail function's default by the rule (LATENCY_TOLERANCE), and its dollars per
    million photos at each memory size."""
    shown = photos(items)
    dollars = {mb: mean(shown, lambda i, mb=mb: gb_seconds(i, mb, io_seconds))  # type: ignore[misc]
               * LAMBDA_GB_SECOND["x86_64"] * 1e6 for mb in MEMORY_SIZES}
    fit = [mb for mb in MEMORY_SIZES if all(
        duration(i, mb, io_seconds) <= LATENCY_TOLERANCE * duration(i, FULL_VCPU_MB, io_seconds)
        and fits(i, mb) for i in shown)]
    return min(fit, key=lambda mb: dollars[mb]), dollars


def fits(item: Measured, memory_mb: int) -> bool:
    return item.peak_mb * MEMORY_HEADROOM <= memory_mb


@dataclass(frozen=True)
class Fixed:
    what: str
    dollars: float  # a month
    note: str = ""
    # In the deployment's total: what template.yaml makes with CreateDatabase=true and
    # PrivateRouteTableIds, as prod.env and its local companion set them up.
    counted: bool = False


def fixed_monthly(items: list[Measured], database_gb: float) -> list[Fixed]:
    """What a deployment costs a month before any photo; ``database_gb`` is what a million
    assets take in the database."""
    hours = HOURS_PER_MONTH
    proxy = RDS_PROXY_MIN_VCPUS * RDS_PROXY_VCPU_HOUR * hours
    storage = 20 * RDS_GP3_GB_MONTH
    aurora = AURORA_MIN_ACUS * AURORA_ACU_HOUR * hours + database_gb * AURORA_GB_MONTH
    triggers = len(TEMPLATE.triggers)
    alarms = sum(1 for r in TEMPLATE.document["Resources"].values()
                 if r["Type"] == "AWS::CloudWatch::Alarm")
    original = mean(items, lambda i: i.original_bytes)
    return [
        Fixed("RDS db.t4g.micro, 20 GB gp3, RDS Proxy, secret (CreateDatabase=true)",
              RDS_HOUR["db.t4g.micro"] * hours + storage + proxy + SECRET_MONTH,
              f"instance ${RDS_HOUR['db.t4g.micro'] * hours:.2f}, proxy ${proxy:.2f}; a "
              f"million assets take {database_gb:.1f} GB of the 20", counted=True),
        Fixed("RDS db.t4g.small Multi-AZ, 20 GB gp3 (both billed twice), RDS Proxy, secret "
              "(prod.env)", 2 * RDS_HOUR["db.t4g.small"] * hours + 2 * storage + proxy
              + SECRET_MONTH, f"instances ${2 * RDS_HOUR['db.t4g.small'] * hours:.2f}, "
              f"proxy ${proxy:.2f}"),
        Fixed("Aurora Serverless v2 at its 0.5 ACU floor, no proxy (not in the template)",
              aurora + SECRET_MONTH, "more when busy; 0 ACU (auto-pause) where its engine "
              "version allows, then cold resumes"),
        Fixed("Aurora Serverless v2, 0.5 ACU, with RDS Proxy (8 ACU minimum)",
              aurora + RDS_PROXY_MIN_ACUS * RDS_PROXY_ACU_HOUR * hours + SECRET_MONTH,
              f"proxy ${RDS_PROXY_MIN_ACUS * RDS_PROXY_ACU_HOUR * hours:.2f}"),
        Fixed("Your own PostgreSQL (CreateDatabase=false, dev)", 0.0,
              "whatever it costs elsewhere"),
        Fixed("SQS interface endpoint, two zones (with PrivateRouteTableIds)",
              2 * INTERFACE_ENDPOINT_HOUR * hours, "the S3 gateway endpoint is free",
              counted=True),
        Fixed("or a NAT gateway instead (no PrivateRouteTableIds)", NAT_GATEWAY_HOUR * hours,
              f"plus ${NAT_GATEWAY_GB}/GB through it: the lanes' reads of a million items' "
              f"originals, ${original / 1e9 * NAT_GATEWAY_GB * 1e6:,.0f}"),
        Fixed(f"Lambda's pollers on the {triggers} queues with a trigger, idle",
              triggers * IDLE_RECEIVES_PER_QUEUE_MONTH * SQS_REQUEST,
              "long polls, messages or not", counted=True),
        Fixed(f"{alarms} dead-letter alarms", alarms * ALARM_MONTH, counted=True),
    ]


def cold_classes(items: list[Measured]) -> list[tuple[str, float, float]]:
    """The originals of a million items in another class after 30 days: (class, dollars a
    month, the transitions once)."""
    gigabytes = mean(items, lambda i: i.original_bytes) / 1e9 * 1e6
    rows = [("Standard", gigabytes * S3_STANDARD_GB_MONTH, 0.0)]
    rows += [(name, gigabytes * storage, transition * 1e6)
             for name, (storage, transition, _) in COLD_CLASSES.items()]
    return rows


# --- the report --------------------------------------------------------------------------------

def _money(dollars: float) -> str:
    return f"${dollars:,.2f}" if dollars < 100 else f"${dollars:,.0f}"


def report(items: list[Measured], io_seconds: float, trigger_render: float, runs: int,
           database_bytes: float) -> str:
    spec = Container().render_spec
    template_mb = function_memory("ThumbnailFunction")
    chosen, dollars = sweep(items, io_seconds)
    lines = [
        START,
        "## What a million photos cost (issue 22)",
        "",
        f"`./dev.sh bench cost --write`, {date.today().isoformat()}: {machine()}; prices "
        f"of {PRICES_AS_OF} (the table at the top of `bench/cost.py`). What each item's lane "
        f"computes was measured here, the median of {runs} runs after a warm-up; everything "
        "on Lambda is **modelled** from it, not measured there "
        "([COST.md](COST.md) says how and with which assumptions). This machine is shared: its "
        "CPU times move by ±20 % between runs.",
        "",
        "Each kind of item: its share of the library, its size, its derivatives "
        f"({' + '.join(str(s) for s in spec.sizes)} px JPEG) and deep-zoom tiles, the CPU "
        "seconds its lane computes (sha256 of the original, render, tiles; all threads), how "
        "many cores that keeps busy (CPU over wall seconds, on this machine's two, lower when "
        "another process has the second), "
        "and the peak resident memory of a process that did only that (of which about "
        f"{statistics.median(i.start_mb for i in items):.0f} MB were the interpreter and the "
        "benchmark's imports before the first item).",
        "",
        "| item | share | original | derivatives | tiles | hash s | render s | tiles s "
        "| cores | ranged GETs | peak MB |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for item in items:
        tiles = (f"{item.tiles} ({item.tile_bytes / 1e6:.1f} MB)" if item.tiles else "–")
        lines.append(
            f"| {item.kind.name} | {item.kind.share:.0%} | {item.original_bytes / 1e6:.1f} MB | "
            + " + ".join(f"{b / 1e3:.0f}" for _, b in sorted(item.derivative_bytes.items()))
            + f" kB | {tiles} | {item.seconds['hash']:.3f} | {item.seconds['render']:.3f} | "
            f"{item.seconds.get('tiles', 0):.3f} | {item.cores:.2f} | "
            f"{item.ranged_gets or '–'} | {item.peak_mb:.0f} |")
    lines += [
        "",
        f"Lambda's seconds and GB-seconds per item at each memory size: the CPU seconds above "
        f"× max(1, {FULL_VCPU_MB} / MB), as if on one core (the cores column says how far a "
        f"HEIC is not: it might go faster above {FULL_VCPU_MB} MB than this says); plus "
        f"{io_seconds * 1000:.0f} ms of the path's I/O "
        f"(the trigger path's {(io_seconds + trigger_render) * 1000:.0f} ms PUT → ready less "
        f"the {trigger_render * 1000:.0f} ms render of its photo, measured here), the original "
        f"from S3 at {S3_STREAM_BYTES_PER_SECOND / 1e6:.0f} MB/s, a clip's ranged GETs and "
        f"a photo's tiles at {S3_REQUEST_SECONDS * 1000:.0f} ms per request "
        f"({TILE_UPLOADS} at once). Photos run in the thumbnail function "
        f"({template_mb} MB in template.yaml), clips in the video function "
        f"({function_memory('VideoFunction')} MB). Each cell: seconds, GB-seconds.",
        "",
        "| item | " + " | ".join(f"{mb} MB" for mb in MEMORY_SIZES) + " |",
        "|---|" + "---|" * len(MEMORY_SIZES),
    ]
    for item in items:
        lines.append(f"| {item.kind.name} | " + " | ".join(
            f"{duration(item, mb, io_seconds):.2f} s, {gb_seconds(item, mb, io_seconds):.2f}"
            + ("" if fits(item, mb) else " (tight)") for mb in MEMORY_SIZES) + " |")
    lines += [
        "",
        "The thumbnail function by memory size, for the library's photos (the clips aside): "
        "GB-seconds per photo and their dollars per million photos, at x86_64's price and at "
        "arm64's with the same durations (arm64's speed is not measured here).",
        "",
        "| memory | GB-s per photo | $ per 1M photos, x86_64 | arm64 price | mean photo "
        "| slowest photo |",
        "|---|---|---|---|---|---|",
    ]
    shown = photos(items)
    for mb in MEMORY_SIZES:
        gbs = mean(shown, lambda i, mb=mb: gb_seconds(i, mb, io_seconds))  # type: ignore[misc]
        typical = mean(shown, lambda i, mb=mb: duration(i, mb, io_seconds))  # type: ignore[misc]
        slowest = max(duration(i, mb, io_seconds) for i in shown)
        mark = " (template)" if mb == template_mb else ""
        mark += " **(the rule's choice)**" if mb == chosen else ""
        lines.append(f"| {mb} MB{mark} | {gbs:.3f} | {_money(dollars[mb])} | "
                     f"{_money(gbs * LAMBDA_GB_SECOND['arm64'] * 1e6)} | {typical:.2f} s | "
                     f"{slowest:.2f} s |")
    slowest_kind = max(shown, key=lambda i: duration(i, chosen, io_seconds))
    lines += [
        "",
        f"The rule: the cheapest size at which no kind of photo takes longer than "
        f"{LATENCY_TOLERANCE:.2f}× its time on one full vCPU ({FULL_VCPU_MB} MB), and every "
        f"photo's peak fits with {MEMORY_HEADROOM - 1:.0%} to spare (\"tight\" above where it "
        f"does not). Below {FULL_VCPU_MB} MB the render's GB-seconds stay the same (less CPU, "
        "longer) and only the I/O's shrink; above, the model's renders are no faster and "
        "every second costs more. "
        f"{chosen} MB costs {1 - dollars[chosen] / dollars[template_mb]:.0%} less than the "
        f"template's {template_mb} MB for the same modelled latency "
        f"({duration(slowest_kind, chosen, io_seconds):.2f} s for the slowest, the "
        f"{slowest_kind.kind.name}).",
        "",
    ]
    lines += _totals(items, io_seconds, chosen, database_bytes * 1e6 / 1e9)
    lines.append(END)
    return "\n".join(lines)


def _totals(items: list[Measured], io_seconds: float, chosen: int,
            database_gb: float) -> list[str]:
    template_mb = function_memory("ThumbnailFunction")
    bills = {"x86_64": bill(items, io_seconds, template_mb),
             "arm64": bill(items, io_seconds, template_mb, "arm64"),
             "chosen": bill(items, io_seconds, chosen)}
    base = bills["x86_64"]
    lines = [
        "A million items of the library (the mix above; the gallery shows each item's 256 "
        f"{GRID_VIEWS_PER_MONTH:g} times a month, opens its 1280 {FULL_VIEWS_PER_MONTH:g} "
        f"times and downloads its original {ORIGINAL_DOWNLOADS_PER_MONTH:g} times), the "
        f"functions at their memory in template.yaml, x86_64:",
        "",
        "| part | once (upload, renders) | per month |",
        "|---|---|---|",
    ]
    for part in [*base.once, *base.monthly]:
        lines.append(f"| {part} | {_money(base.once[part]) if part in base.once else '–'} | "
                     f"{_money(base.monthly[part]) if part in base.monthly else '–'} |")
    once, monthly = sum(base.once.values()), sum(base.monthly.values())
    fixed = fixed_monthly(items, database_gb)
    deployment = sum(row.dollars for row in fixed if row.counted)
    lines += [
        f"| **total** | **{_money(once)}** | **{_money(monthly)}** |",
        "",
        f"A million items uploaded and kept a month: **{_money(once + monthly)}**; kept a "
        f"year: **{_money(once + 12 * monthly)}**. With what template.yaml makes besides, "
        "given CreateDatabase=true and PrivateRouteTableIds (the rows marked \"yes\" below, "
        f"{_money(deployment)} a month): "
        f"**{_money(once + monthly + deployment)}** for the month, "
        f"**{_money(once + 12 * (monthly + deployment))}** for the year. At arm64's price "
        f"(durations not measured): {_money(sum(bills['arm64'].once.values()))} once instead of "
        f"{_money(once)}; with the thumbnail function at {chosen} MB: "
        f"{_money(sum(bills['chosen'].once.values()))}. Before any photo, a deployment pays "
        "each month:",
        "",
        "| fixed, per month | $ | in the total | |",
        "|---|---|---|---|",
    ]
    for row in fixed:
        lines.append(f"| {row.what} | {_money(row.dollars)} | {'yes' if row.counted else ''} "
                     f"| {row.note} |")
    lines += [
        "",
        "The originals of a million items, kept in another storage class after 30 days by a "
        "lifecycle rule (not in template.yaml): per month, and the transition requests once. "
        "Standard-IA and Glacier Instant Retrieval bill each GB read back as well "
        f"(${COLD_CLASSES['Standard-IA'][2]} and ${COLD_CLASSES['Glacier Instant Retrieval'][2]}"
        "), and at least 30 and 90 days of storage.",
        "",
        "| originals' class | per month | transitions, once |",
        "|---|---|---|",
    ]
    for name, dollars, transitions in cold_classes(items):
        once = _money(transitions) if transitions else "–"
        lines.append(f"| {name} | {_money(dollars)} | {once} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="measured runs per item, after one "
                        "to warm up (default 3)")
    parser.add_argument("--io-ms", type=float, help="the I/O of one item's path on Lambda, in "
                        "ms (default: the trigger path's in docs/BENCHMARKS.md less its render)")
    parser.add_argument("--write", action="store_true", help="replace the cost section of "
                        "docs/BENCHMARKS.md")
    options = parser.parse_args()
    spec = Container().render_spec
    started = time.perf_counter()
    items = []
    for index, kind in enumerate(LIBRARY):
        items.append(measure(index, options.runs))
        print(f"  {kind.name}: {items[-1].cpu_seconds:.2f} CPU s, {items[-1].peak_mb:.0f} MB",
              file=sys.stderr)
    trigger_render = trigger_render_seconds(spec, options.runs)
    io_seconds = (options.io_ms / 1000 if options.io_ms is not None
                  else trigger_path_seconds() - trigger_render)
    database_bytes = database_bytes_per_asset(DATABASE_ROWS)
    section = report(items, io_seconds, trigger_render, options.runs, database_bytes)
    print(section)
    print(f"measured in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    if options.write:
        write_section(section)


if __name__ == "__main__":
    main()
