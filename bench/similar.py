"""Near-duplicates at a million assets of one owner: the band indexes against a scan.

    ./dev.sh bench similar [--rows 1000000] [--repeats 200] [--pages 20] [--write]

Starts its own PostgreSQL (pgserver) in a temporary directory, applies the migrations and loads
one owner's ready assets by COPY: mostly random perceptual hashes, and 2 % of the rows planted
near-duplicates (clusters of 2 to 6 copies of a hash, each 1 to 10 bits off it, as re-encodes,
resizes and crops land). The indexes of migration 0012 are dropped for the load and made again
from their own definitions after it, as the migration makes them on a table already full
(inserting a million random keys into five btrees larger than shared_buffers takes far longer,
and is not what is measured). Then,
over one psycopg connection as the library function uses it: ``similar`` through the
repository for random assets at each distance (and past the API's largest, to show what it
would cost), the same through the service (one more read, and every URL signed), a page of
groups (``similar_groups``: 200 assets walked) at several distances, and the scan an index
saves (the exact distance of every hash of the owner). With ``--write``, the section replaces
the near-duplicates section of docs/BENCHMARKS.md. The server is stopped at exit.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TypeVar

import psycopg

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "functions")]

from listing import RecordingDatabase, Timing, signing_pipeline  # noqa: E402
from report import machine, temporary_postgres, write_section  # noqa: E402

from lightbox.adapters.assets import PostgresAssetRepository  # noqa: E402
from lightbox.adapters.migrations import apply_migrations  # noqa: E402
from lightbox.services.listing import (  # noqa: E402
    DEFAULT_SIMILAR_DISTANCE,
    MAX_SIMILAR_DISTANCE,
    SIMILAR_WALK,
    GroupsQuery,
    SimilarQuery,
    similar_assets,
    similar_groups,
)

START, END = "<!-- similar:start -->", "<!-- similar:end -->"
OWNER = "owner-similar"
BATCH = 20_000
PLANTED = 0.02
DISTANCES = (3, 7, DEFAULT_SIMILAR_DISTANCE, MAX_SIMILAR_DISTANCE, 12, 15)
GROUP_DISTANCES = (3, 7, DEFAULT_SIMILAR_DISTANCE)
T = TypeVar("T")
_SCAN = """
    SELECT count(*) AS n FROM assets
    WHERE owner_id = %(owner)s AND status = 'ready' AND perceptual_hash IS NOT NULL
      AND bit_count((perceptual_hash # %(hash)s)::bit(64)) <= %(distance)s
"""


def hashes(rows: int, rng: random.Random) -> list[int]:
    """``rows`` hashes: random ones, and clusters of near copies of some of them."""
    found: list[int] = []
    planted = int(rows * PLANTED)
    while len(found) < rows - planted:
        found.append(rng.getrandbits(64))
    while len(found) < rows:
        centre = rng.choice(found)
        for _ in range(min(rng.randint(1, 5), rows - len(found))):
            copy = centre
            for bit in rng.sample(range(64), rng.randint(1, 10)):
                copy ^= 1 << bit
            found.append(copy)
    return found


def timed_each(call: Callable[[T], object], inputs: Sequence[T], warmup: int = 3) -> Timing:
    """Milliseconds of ``call`` on each input, after a few calls to warm the caches."""
    for value in inputs[:warmup]:
        call(value)
    samples = []
    for value in inputs:
        started = time.perf_counter()
        call(value)
        samples.append((time.perf_counter() - started) * 1000)
    return Timing(samples)


def signed(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def plan_of(db: RecordingDatabase) -> str:
    """Which indexes the last query used, the buffers it touched and its time in the server."""
    plan = db.explain(*db.last)
    bands = sum(step.startswith("Index Only Scan using assets_phash_band") for step in plan.steps)
    scans = sum(step == "Seq Scan" for step in plan.steps)
    return (f"{bands} band index-only scans, {scans} sequential; {plan.buffers:,} buffers, "
            f"{plan.server_ms:.2f} ms")


def load(url: str, values: list[int], rng: random.Random) -> list[uuid.UUID]:
    """COPY in batches, each a transaction of its own: every row takes the owner's next change
    number (migration 0006), and one transaction updating that row a million times would
    walk an ever longer chain of its versions."""
    ids = [uuid.UUID(int=rng.getrandbits(128), version=4) for _ in values]
    rows = list(zip(ids, values, strict=True))
    with psycopg.connect(url) as connection:
        for first in range(0, len(rows), BATCH):
            with connection.transaction(), connection.cursor().copy(
                    "COPY assets (id, owner_id, status, filename, content_type, size_bytes, "
                    "width, height, pages, bit_depth, color_mode, perceptual_hash) "
                    "FROM STDIN") as copy:
                for number, (asset_id, value) in enumerate(rows[first:first + BATCH], first):
                    copy.write_row((asset_id, OWNER, "ready", f"IMG_{number % 10000:04d}.jpg",
                                    "image/jpeg", 3_000_000, 4032, 3024, 1, 8, "RGB",
                                    signed(value)))
            print(f"\r  {min(first + BATCH, len(rows)):,} rows", end="", file=sys.stderr,
                  flush=True)
    print(file=sys.stderr)
    return ids


@dataclass(frozen=True)
class Filled:
    ids: list[uuid.UUID]
    description: str  # how the table was filled, for the report


def fill(url: str, values: list[int], rng: random.Random) -> Filled:
    """The owner's assets loaded, the indexes made, the table vacuumed and analysed."""
    apply_migrations(url, REPO / "migrations")
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("ALTER SYSTEM SET synchronous_commit = off")
        connection.execute("ALTER SYSTEM SET max_wal_size = '8GB'")
        connection.execute("SELECT pg_reload_conf()")
        version = connection.execute("SHOW server_version").fetchone()
    with psycopg.connect(url, autocommit=True) as connection:
        indexes = [str(row[0]) for row in connection.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname LIKE 'assets_phash_%'")]
        connection.execute("DROP INDEX " + ", ".join(
            f"assets_phash_{name}" for name in ("band0", "band1", "band2", "band3", "owner")))
    started = time.perf_counter()
    ids = load(url, values, rng)
    loaded = time.perf_counter() - started
    with psycopg.connect(url, autocommit=True) as connection:
        for definition in indexes:
            connection.execute(definition.encode())
        indexed = time.perf_counter() - started - loaded
        connection.execute("VACUUM ANALYZE assets")
        sizes = connection.execute(
            "SELECT pg_size_pretty(sum(pg_relation_size(indexrelid))) AS size "
            "FROM pg_index JOIN pg_class ON pg_class.oid = indexrelid "
            "WHERE relname LIKE 'assets_phash_%'").fetchone()
    settled = time.perf_counter() - started - loaded - indexed
    return Filled(ids, (
        f"PostgreSQL {version[0] if version else '?'} (pgserver, its default settings: "
        f"shared_buffers 128 MB); {len(values):,} ready assets of one owner, "
        f"{PLANTED:.0%} of them planted near-duplicates (clusters of 2-6, each copy 1-10 "
        f"bits off), the rest random hashes. Loaded by COPY in {loaded:.0f} s, the five "
        f"indexes of migration 0012 made after it in {indexed:.0f} s "
        f"({sizes[0] if sizes else '?'}), VACUUM ANALYZE {settled:.0f} s."))


def run(rows: int, repeats: int, pages: int) -> str:
    rng = random.Random(42)
    lines = []
    with temporary_postgres() as url:
        values = hashes(rows, rng)
        filled = fill(url, values, rng)
        ids = filled.ids
        db = RecordingDatabase(url)
        repo = PostgresAssetRepository(db)
        by_id = dict(zip(ids, values, strict=True))

        lines.append("| `similar` for one asset | p50 | p99 | found (mean) | plan |")
        lines.append("|---|---|---|---|---|")
        for distance in DISTANCES:
            counts: list[int] = []
            timing = timed_each(lambda asset_id, d=distance, n=counts: n.append(len(
                repo.similar(OWNER, asset_id, distance=d, limit=200))), rng.choices(ids, k=repeats))
            note = "" if distance <= MAX_SIMILAR_DISTANCE else " (past the API's limit)"
            lines.append(f"| distance {distance}{note} | {timing.p50:.1f} | {timing.p99:.1f} | "
                         f"{sum(counts) / len(counts):.2f} | {plan_of(db)} |")
        planted = ids[len(ids) - int(rows * PLANTED):]
        counts = []
        timing = timed_each(lambda asset_id: counts.append(len(repo.similar(
            OWNER, asset_id, distance=DEFAULT_SIMILAR_DISTANCE, limit=200))),
            rng.choices(planted, k=repeats))
        lines.append(f"| distance {DEFAULT_SIMILAR_DISTANCE}, assets of planted clusters | "
                     f"{timing.p50:.1f} | {timing.p99:.1f} | {sum(counts) / len(counts):.2f} | "
                     f"{plan_of(db)} |")

        pipeline = signing_pipeline("bench", repo)
        service = timed_each(lambda asset_id: similar_assets(
            OWNER, asset_id, SimilarQuery(), pipeline, url_ttl=3600), rng.choices(ids, k=repeats))
        lines.append(f"| through `similar_assets`, distance {DEFAULT_SIMILAR_DISTANCE} "
                     f"(the asset read, then URLs signed) | {service.p50:.1f} | "
                     f"{service.p99:.1f} | | |")

        with psycopg.connect(url) as connection:
            scan = timed_each(lambda asset_id: connection.execute(_SCAN, {
                "owner": OWNER, "hash": signed(by_id[asset_id]),
                "distance": DEFAULT_SIMILAR_DISTANCE}).fetchone(),
                rng.choices(ids, k=max(5, repeats // 20)))
        lines.append(f"| a scan of every hash instead (`bit_count` on each row) | "
                     f"{scan.p50:.1f} | {scan.p99:.1f} | | |")

        lines.append("")
        lines.append(f"| a page of groups (`similar_groups`, {SIMILAR_WALK} assets walked) "
                     "| p50 | p99 | groups a page (mean) | the whole library at p50 |")
        lines.append("|---|---|---|---|---|")
        ordered = sorted(ids)
        for distance in GROUP_DISTANCES:
            found: list[int] = []
            timing = timed_each(lambda after, d=distance, n=found: n.append(len(similar_groups(
                OWNER, GroupsQuery(distance=d, after=after), pipeline).groups)),
                rng.choices(ordered, k=pages))
            whole = timing.p50 / 1000 * rows / SIMILAR_WALK
            lines.append(f"| distance {distance} | {timing.p50:.0f} | {timing.p99:.0f} | "
                         f"{sum(found) / len(found):.1f} | {whole / 60:.0f} min |")
        db.close()

    header = [
        START,
        "## Near-duplicates at a million assets (issue 20)",
        "",
        f"`./dev.sh bench similar --write`, {date.today().isoformat()}: {machine()}, "
        f"{filled.description} Milliseconds on the client, over one psycopg "
        f"connection (Unix socket), for {repeats} random assets each (pages: {pages} random "
        "starts); plans are EXPLAIN (ANALYZE, BUFFERS) of the last run.",
        "",
    ]
    footer = ["",
              "Reproduce: `./dev.sh bench similar --write` (`--rows N`, default 1 000 000; "
              "`--repeats`, `--pages`).", END]
    return "\n".join(header + lines + footer)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="the owner's assets")
    parser.add_argument("--repeats", type=int, default=200, help="assets asked at each distance")
    parser.add_argument("--pages", type=int, default=20, help="pages of groups at each distance")
    parser.add_argument("--write", action="store_true", help="update docs/BENCHMARKS.md")
    args = parser.parse_args()
    if args.rows < 1000:
        parser.error("--rows must be at least 1000")
    section = run(args.rows, args.repeats, args.pages)
    print(section)
    if args.write:
        write_section(section)


if __name__ == "__main__":
    main()
