"""Listing at a million assets: keyset pages, filters and the change feed, against OFFSET.

    ./dev.sh bench listing [--rows 1000000] [--repeats 200] [--offset-repeats 20] [--write]

Starts its own PostgreSQL (pgserver) in a temporary directory, applies the migrations and
fills ``assets`` server-side (``INSERT … SELECT … FROM generate_series``, in batches) with
rows of 100 owners, the largest holding about 30 % of them: mostly ``ready`` with two
derivatives, some failed, pending, deleted; a fifth in projects; created over five years,
in time order as uploads arrive. Every query then runs through ``PostgresAssetRepository`` over one
psycopg connection, as the listing function runs it: 51 rows asked (a page of 50 and one to
tell whether another follows), decoded into ``Asset``s. The deep keyset page and its OFFSET
equivalent are also measured at 10 % and 30 % of the rows while filling, to show which one
stays flat. EXPLAIN (ANALYZE, BUFFERS) names the index of each query. With ``--write``, the
tables replace the listing section of docs/BENCHMARKS.md. The server is stopped at exit.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
from psycopg import sql

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "functions")]

from report import machine, temporary_postgres, write_section  # noqa: E402 - bench/report.py

from lightbox.adapters.assets import ASSET_COLUMNS, PostgresAssetRepository, asset_of  # noqa: E402
from lightbox.adapters.migrations import apply_migrations  # noqa: E402
from lightbox.adapters.postgres import Database, Row  # noqa: E402
from lightbox.config import Config  # noqa: E402
from lightbox.domain import Status  # noqa: E402
from lightbox.ports import AssetRepository, Pipeline  # noqa: E402
from lightbox.services.listing import ListQuery, list_assets  # noqa: E402
from lightbox.values import AssetFilter, PageCursor, SortOrder  # noqa: E402
from lightbox.wiring import Container  # noqa: E402

START, END = "<!-- listing:start -->", "<!-- listing:end -->"
OWNERS = 100
BIG_OWNER = "owner-000"
PROJECTS_PER_OWNER = 10
PAGE = 50
ASKED = PAGE + 1  # list_assets asks one row more, to know whether another page follows
DEPTH = 0.9
BATCH = 20_000
GROWTH = (0.1, 0.3, 1.0)
SPAN = timedelta(days=5 * 365)

_PROJECTS = """
    INSERT INTO projects (id, owner_id, name)
    SELECT md5('project-' || o || '-' || p)::uuid, 'owner-' || lpad(o::text, 3, '0'),
           'Album ' || p
    FROM generate_series(0, %(owners)s - 1) AS o, generate_series(0, %(projects)s - 1) AS p
"""

# Random draws first (a materialized CTE: each volatile value is drawn once per row), then
# every column from them. Owner 0 gets 30 % of the rows, the other 99 a skewed share each.
_FILL = """
WITH raw AS MATERIALIZED (
    SELECT g, gen_random_uuid() AS id, random() AS r_owner, random() AS r_skew,
           random() AS r_status, random() AS r_type, random() AS r_project,
           random() AS r_album, random() AS r_taken, random() AS r_ago, random() AS r_size,
           random() AS r_camera, random() AS r_jitter
    FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS g
), drawn AS (
    SELECT raw.*,
           CASE WHEN r_owner < 0.3 THEN 0 ELSE 1 + floor(99 * r_skew ^ 2)::int END AS o,
           CASE WHEN r_status < 0.90 THEN 'ready' WHEN r_status < 0.93 THEN 'failed'
                WHEN r_status < 0.96 THEN 'deleted' WHEN r_status < 0.98 THEN 'pending'
                WHEN r_status < 0.99 THEN 'duplicate' ELSE 'uploaded' END AS status,
           CASE WHEN r_type < 0.80 THEN 'image/jpeg' WHEN r_type < 0.88 THEN 'image/png'
                WHEN r_type < 0.93 THEN 'image/webp' WHEN r_type < 0.97 THEN 'image/tiff'
                ELSE 'image/gif' END AS content_type,
           %(origin)s::timestamptz + %(span)s::interval * (g::float8 / %(total)s)
               + interval '1 hour' * r_jitter AS created_at
    FROM raw
), asset AS (
    SELECT drawn.*, 'owner-' || lpad(o::text, 3, '0') AS owner_id,
           status = 'ready' AS ready,
           status = 'ready' AND r_taken < 0.85 AS taken
    FROM drawn
)
INSERT INTO assets (id, owner_id, project_id, status, filename, content_type, size_bytes,
                    sha256, width, height, pages, bit_depth, color_mode, taken_at, camera_make,
                    camera_model, orientation, derivatives, placeholder, error, attempts,
                    created_at, updated_at, purged_at)
SELECT id, owner_id,
       CASE WHEN r_project < 0.2
            THEN md5('project-' || o || '-' || floor(%(projects)s * r_album ^ 2)::int)::uuid
       END,
       status,
       'IMG_' || lpad((g %% 10000)::text, 4, '0') || '.' || split_part(content_type, '/', 2),
       content_type,
       CASE WHEN content_type = 'image/tiff' THEN 4 ELSE 1 END
           * (400000 + floor(r_size * 12000000)::bigint),
       CASE WHEN status NOT IN ('pending', 'uploaded')
            THEN encode(sha256(uuid_send(id)), 'hex') END,
       CASE WHEN ready THEN CASE WHEN r_camera < 0.5 THEN 4032 ELSE 6000 END END,
       CASE WHEN ready THEN CASE WHEN r_camera < 0.5 THEN 3024 ELSE 4000 END END,
       CASE WHEN ready THEN 1 END, CASE WHEN ready THEN 8 END,
       CASE WHEN ready THEN 'RGB' END,
       CASE WHEN taken
            THEN (created_at AT TIME ZONE 'UTC') - interval '3 years' * r_ago ^ 3 END,
       CASE WHEN taken THEN CASE WHEN r_camera < 0.4 THEN 'Apple' WHEN r_camera < 0.7
            THEN 'Canon' WHEN r_camera < 0.9 THEN 'SONY' ELSE 'FUJIFILM' END END,
       CASE WHEN taken THEN CASE WHEN r_camera < 0.4 THEN 'iPhone 15 Pro' WHEN r_camera < 0.7
            THEN 'EOS R6' WHEN r_camera < 0.9 THEN 'ILCE-7M4' ELSE 'X-T5' END END,
       CASE WHEN ready THEN 1 END,
       CASE WHEN ready THEN jsonb_build_array(
           jsonb_build_object('size', 256, 'page', 1, 'format', 'jpeg', 'width', 256,
                              'height', 192, 'bytes', 15000 + floor(r_size * 10000)::int,
                              'key', 'derivatives/' || owner_id || '/' || id || '/1-256.jpeg'),
           jsonb_build_object('size', 1280, 'page', 1, 'format', 'jpeg', 'width', 1280,
                              'height', 960, 'bytes', 180000 + floor(r_size * 90000)::int,
                              'key', 'derivatives/' || owner_id || '/' || id || '/1-1280.jpeg'))
            ELSE '[]'::jsonb END,
       CASE WHEN ready
            THEN encode(substring(sha256(uuid_send(id)) FROM 1 FOR 24), 'base64') END,
       CASE WHEN status = 'failed' THEN 'unsupported file: this is a ZIP archive, not a JPEG, '
                                        'PNG, TIFF, WebP, GIF, HEIC/HEIF or AVIF image, or '
                                        'a PDF document' END,
       CASE WHEN status IN ('pending', 'uploaded') THEN 0 ELSE 1 END,
       created_at,
       created_at + CASE WHEN status = 'deleted' THEN interval '30 days'
                         ELSE interval '20 seconds' END,
       CASE WHEN status = 'deleted' THEN created_at + interval '30 days' END
FROM asset
"""

_PLACEHOLDER = re.compile(r"%\((\w+)\)s")
_LIVE = " FROM assets WHERE owner_id = %(owner)s AND status <> 'deleted'"
_OFFSET_PAGE = (f"SELECT {ASSET_COLUMNS}{_LIVE} ORDER BY created_at DESC, id DESC "
                "OFFSET %(offset)s LIMIT %(limit)s")


# --- the server and the data -----------------------------------------------------------------


def prepare(url: str) -> None:
    apply_migrations(url, REPO / "migrations")
    with psycopg.connect(url, autocommit=True) as connection:
        # The bulk fill neither waits for each commit to reach the disk nor checkpoints
        # every gigabyte; neither matters to the reads measured afterwards.
        connection.execute("ALTER SYSTEM SET synchronous_commit = off")
        connection.execute("ALTER SYSTEM SET max_wal_size = '8GB'")
        connection.execute("SELECT pg_reload_conf()")
        connection.execute(_PROJECTS, {"owners": OWNERS, "projects": PROJECTS_PER_OWNER})


class Filler:
    """Adds rows in batches, each a transaction of its own, in the order they were created."""

    def __init__(self, url: str, total: int) -> None:
        self._connection = psycopg.connect(url, autocommit=True)
        self._connection.execute("SELECT setseed(0.42)")
        self._total = total
        self._origin = datetime.now(UTC) - SPAN
        self.rows = 0
        self.seconds = 0.0

    def fill_to(self, target: int) -> None:
        started = time.perf_counter()
        while self.rows < target:
            last = min(target, self.rows + BATCH)
            self._connection.execute(_FILL, {
                "first": self.rows + 1, "last": last, "total": self._total,
                "origin": self._origin, "span": SPAN, "projects": PROJECTS_PER_OWNER,
            })
            self.rows = last
            elapsed = self.seconds + time.perf_counter() - started
            print(f"\r  {self.rows:,} rows, {elapsed:.0f} s", end="", file=sys.stderr,
                  flush=True)
        self.seconds += time.perf_counter() - started
        print(file=sys.stderr)

    def settle(self) -> float:
        """VACUUM ANALYZE and a checkpoint, so that the reads that follow find a steady table."""
        started = time.perf_counter()
        self._connection.execute("VACUUM ANALYZE assets")
        self._connection.execute("CHECKPOINT")
        return time.perf_counter() - started

    def close(self) -> None:
        self._connection.close()


# --- measuring -------------------------------------------------------------------------------

@dataclass
class Timing:
    samples: list[float]  # milliseconds

    @property
    def p50(self) -> float:
        return statistics.median(self.samples)

    @property
    def p99(self) -> float:
        ordered = sorted(self.samples)
        return ordered[math.ceil(0.99 * len(ordered)) - 1]

    @property
    def mean(self) -> float:
        return statistics.fmean(self.samples)


def timed(call: Callable[[], object], repeats: int, warmup: int = 3) -> Timing:
    for _ in range(warmup):
        call()
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return Timing(samples)


@dataclass(frozen=True)
class Plan:
    """What EXPLAIN (ANALYZE, BUFFERS) says of a query: its scans and sorts, buffers, time."""

    steps: tuple[str, ...]
    buffers: int
    server_ms: float

    @classmethod
    def of(cls, explained: dict[str, Any]) -> Plan:
        nodes = list(_nodes(explained["Plan"]))
        steps = [f"{n['Node Type']} using {n['Index Name']}" if "Index Name" in n
                 else n["Node Type"] for n in nodes if "Scan" in n["Node Type"]]
        steps += [n["Node Type"] for n in nodes if n["Node Type"] in ("Sort", "Incremental Sort")]
        top = explained["Plan"]
        return cls(tuple(steps), top.get("Shared Hit Blocks", 0) + top.get("Shared Read Blocks", 0),
                   explained["Execution Time"])

    def __str__(self) -> str:
        return f"{', '.join(self.steps)}; {self.buffers:,} buffers, {self.server_ms:.2f} ms"


class RecordingDatabase(Database):
    """The repository's connection, keeping its last query so that EXPLAIN can show its plan."""

    last: tuple[str, Mapping[str, Any]] = ("", {})

    def fetch_all(self, query: str, params: Mapping[str, Any]) -> list[Row]:
        self.last = (query, params)
        return super().fetch_all(query, params)

    def explain(self, query: str, params: Mapping[str, Any]) -> Plan:
        """The plan made for these values (what the first executions of a statement get)."""
        rows = super().fetch_all("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + query, params)
        return Plan.of(rows[0]["QUERY PLAN"][0])

    def explain_generic(self, query: str, params: Mapping[str, Any]) -> Plan:
        """The plan made for any values, which a prepared statement may switch to.

        psycopg prepares a statement at its 5th execution; after 5 more, the server keeps
        one generic plan when it does not look costlier than planning for each set of values.
        """
        names = list(dict.fromkeys(_PLACEHOLDER.findall(query)))
        numbered = _PLACEHOLDER.sub(lambda m: f"${names.index(m[1]) + 1}", query)
        with self.cursor() as cur:
            values = ", ".join(sql.Literal(params[n]).as_string(cur.connection) for n in names)
            cur.execute(f"PREPARE bench_generic AS {numbered}".encode())
            try:
                cur.execute(b"SET plan_cache_mode = force_generic_plan")
                cur.execute(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) "
                            f"EXECUTE bench_generic ({values})".encode())
                row = cur.fetchone()
            finally:
                cur.execute(b"RESET plan_cache_mode")
                cur.execute(b"DEALLOCATE bench_generic")
        assert row is not None
        return Plan.of(row["QUERY PLAN"][0])

    def went_generic(self) -> set[str]:
        """The statements of this connection that ran on a generic plan at least once."""
        rows = super().fetch_all("SELECT statement FROM pg_prepared_statements "
                                 "WHERE generic_plans > 0", {})
        return {_shape(str(row["statement"])) for row in rows}


def _shape(query: str) -> str:
    return " ".join(re.sub(r"\$\d+|%\(\w+\)s", "?", query).split())


def _nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", []):
        yield from _nodes(child)


@dataclass
class Positions:
    """Where the largest owner's deep pages start: the row just before 90 % of the library."""

    live: int
    total: int
    offset: int
    newest: PageCursor
    taken: PageCursor
    change: int  # a number of the owner's change sequence
    project: UUID


def positions(db: Database) -> Positions:
    owner = {"owner": BIG_OWNER}
    live = _one(db, "SELECT count(*) AS n" + _LIVE, owner)["n"]
    total = _one(db, "SELECT count(*) AS n FROM assets WHERE owner_id = %(owner)s", owner)["n"]
    offset = max(0, int(live * DEPTH))
    before = {**owner, "at": max(0, offset - 1)}
    newest = _one(db, "SELECT created_at AS key, id" + _LIVE
                  + " ORDER BY created_at DESC, id DESC OFFSET %(at)s LIMIT 1", before)
    taken = _one(db, "SELECT taken_sort AS key, id" + _LIVE
                 + " ORDER BY taken_sort DESC, id DESC OFFSET %(at)s LIMIT 1", before)
    change = _one(db, "SELECT change_seq AS seq FROM assets "
                  "WHERE owner_id = %(owner)s ORDER BY change_seq OFFSET %(at)s LIMIT 1",
                  {**owner, "at": max(0, int(total * DEPTH) - 1)})
    project = _one(db, "SELECT project_id FROM assets WHERE owner_id = %(owner)s "
                   "AND project_id IS NOT NULL GROUP BY project_id ORDER BY count(*) DESC "
                   "LIMIT 1", owner)["project_id"]
    return Positions(live=live, total=total, offset=offset,
                     newest=PageCursor(newest["key"], newest["id"]),
                     taken=PageCursor(taken["key"], taken["id"]),
                     change=change["seq"], project=project)


def _one(db: Database, query: str, params: Mapping[str, Any]) -> Row:
    row = db.fetch_one(query, params)
    assert row is not None, query
    return row


@dataclass
class Case:
    name: str
    call: Callable[[], object]


def cases(db: RecordingDatabase, at: Positions) -> list[Case]:
    assets = PostgresAssetRepository(db)
    newest, taken = SortOrder.NEWEST, SortOrder.TAKEN_NEWEST
    everything = AssetFilter()
    in_project = AssetFilter(status=Status.READY, project_id=at.project)

    def page(filters: AssetFilter, sort: SortOrder,
             after: PageCursor | None) -> Callable[[], object]:
        return lambda: assets.page(BIG_OWNER, filters=filters, sort=sort, limit=ASKED,
                                   after=after)

    return [
        Case("first page, newest first", page(everything, newest, None)),
        Case("90 % deep, keyset (`after=`)", page(everything, newest, at.newest)),
        Case("90 % deep, OFFSET", lambda: offset_page(db, at.offset)),
        Case("first page, `sort=-taken`", page(everything, taken, None)),
        Case("90 % deep, `sort=-taken`, keyset", page(everything, taken, at.taken)),
        Case("`status=ready` + `project_id`", page(in_project, newest, None)),
        Case("`status=ready` + `project_id`, `sort=-taken`", page(in_project, taken, None)),
        Case("change feed, 90 % along", lambda: assets.changes(BIG_OWNER, after=at.change,
                                                                 limit=ASKED)),
        Case("timeline: the library's months", lambda: assets.months(BIG_OWNER, everything)),
        Case("timeline: a project's months",
             lambda: assets.months(BIG_OWNER, AssetFilter(project_id=at.project))),
    ]


def offset_page(db: Database, offset: int) -> list[Any]:
    rows = db.fetch_all(_OFFSET_PAGE, {"owner": BIG_OWNER, "offset": offset, "limit": ASKED})
    return [asset_of(row) for row in rows]


def check_same_rows(db: RecordingDatabase, at: Positions) -> None:
    """The keyset page after the cursor is the OFFSET page: the same rows, in order."""
    keyset = PostgresAssetRepository(db).page(BIG_OWNER, filters=AssetFilter(),
                                              sort=SortOrder.NEWEST, limit=ASKED, after=at.newest)
    offset = offset_page(db, at.offset)
    assert [a.id for a in keyset] == [a.id for a in offset], "keyset and OFFSET pages differ"


@dataclass
class Measured:
    name: str
    timing: Timing
    plan: Plan
    query: str
    generic: Plan
    went_generic: bool = False

    @property
    def repeated_plan(self) -> str:
        """The plan of the timed runs, as far as the server says: custom, or generic."""
        if not self.went_generic:
            return "planned for its values"
        if self.generic.steps == self.plan.steps:
            return "generic, the same"
        return f"generic: {self.generic}"


def measure_all(db: RecordingDatabase, at: Positions, repeats: int,
                offset_repeats: int) -> list[Measured]:
    measured = []
    for case in cases(db, at):
        offset = "OFFSET" in case.name
        timing = timed(case.call, offset_repeats if offset else repeats)
        # The case's last query.
        query, params = db.last
        measured.append(Measured(case.name, timing, db.explain(query, params), query,
                                 db.explain_generic(query, params)))
    generic = db.went_generic()
    for m in measured:
        m.went_generic = _shape(m.query) in generic
    return measured


def measure_service(db: RecordingDatabase, repeats: int) -> Timing:
    """The first page through list_assets: the page, the owner's sequence, and every URL
    signed."""
    pipeline = signing_pipeline("bench", PostgresAssetRepository(db))
    return timed(lambda: list_assets(BIG_OWNER, ListQuery(limit=PAGE), pipeline, url_ttl=3600),
                 repeats)


def signing_pipeline(bucket: str, assets: AssetRepository) -> Pipeline:
    """The functions' own pipeline over these assets, with dummy credentials and endpoint: its
    store only signs here (nothing listens at the endpoint), and nothing is queued."""
    for name, value in {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
                        "AWS_DEFAULT_REGION": "us-east-1"}.items():
        os.environ[name] = value
    config = Config.from_env({"LIGHTBOX_BUCKET": bucket, "AWS_ENDPOINT_URL": "http://127.0.0.1:9"})
    return Container(config, assets=assets).pipeline


@dataclass
class Growth:
    rows: int
    live: int
    first: Timing
    keyset: Timing
    offset: Timing


def measure_growth(db: RecordingDatabase, rows: int, at: Positions, repeats: int,
                   offset_repeats: int) -> Growth:
    assets = PostgresAssetRepository(db)

    def page(after: PageCursor | None) -> Callable[[], object]:
        return lambda: assets.page(BIG_OWNER, filters=AssetFilter(), sort=SortOrder.NEWEST,
                                   limit=ASKED, after=after)

    return Growth(rows=rows, live=at.live, first=timed(page(None), repeats),
                  keyset=timed(page(at.newest), repeats),
                  offset=timed(lambda: offset_page(db, at.offset), offset_repeats))


# --- the run ---------------------------------------------------------------------------------

@dataclass
class Run:
    rows: int
    repeats: int
    offset_repeats: int
    fill_seconds: float = 0.0
    settle_seconds: float = 0.0
    growth: list[Growth] = field(default_factory=list)
    measured: list[Measured] = field(default_factory=list)
    service: Timing | None = None
    positions: Positions | None = None
    server: str = ""
    seconds: float = 0.0


def run(rows: int, repeats: int, offset_repeats: int) -> Run:
    started = time.perf_counter()
    result = Run(rows, repeats, offset_repeats)
    with temporary_postgres() as url:
        prepare(url)
        filler = Filler(url, rows)
        db = RecordingDatabase(url)
        try:
            result.server = str(_one(db, "SHOW server_version", {})["server_version"])
            for fraction in GROWTH:
                target = max(1, round(rows * fraction))
                print(f"filling to {target:,} rows …", file=sys.stderr, flush=True)
                filler.fill_to(target)
                result.settle_seconds += filler.settle()
                at = positions(db)
                check_same_rows(db, at)
                print(f"measuring at {target:,} rows …", file=sys.stderr, flush=True)
                result.growth.append(measure_growth(db, target, at, repeats, offset_repeats))
            result.fill_seconds = filler.seconds
            result.positions = at
            result.measured = measure_all(db, at, repeats, offset_repeats)
            result.service = measure_service(db, min(repeats, 50))
        finally:
            db.close()
            filler.close()
    result.seconds = time.perf_counter() - started
    return result


def _ms(value: float) -> str:
    return f"{value:,.1f}" if value < 100 else f"{value:,.0f}"


def _machine(server: str) -> str:
    return (f"{machine()}, "
            f"PostgreSQL {server} (pgserver, its default settings: shared_buffers 128 MB)")


def report(result: Run) -> str:
    at = result.positions
    assert at is not None and result.service is not None
    measured = [
        f"| {m.name} | {_ms(m.timing.p50)} | {_ms(m.timing.p99)} | {_ms(m.timing.mean)} | "
        f"{len(m.timing.samples)} | {m.plan} | {m.repeated_plan} |"
        for m in result.measured
    ]
    service = result.service
    measured.append(f"| first page through `list_assets` (page, horizon, 150 signed URLs) | "
                    f"{_ms(service.p50)} | {_ms(service.p99)} | {_ms(service.mean)} | "
                    f"{len(service.samples)} | — | — |")
    growth = [
        f"| {g.rows:,} | {g.live:,} | {_ms(g.first.p50)} | {_ms(g.keyset.p50)} | "
        f"{_ms(g.keyset.p99)} | {_ms(g.offset.p50)} | {_ms(g.offset.p99)} | "
        f"{g.offset.p50 / g.keyset.p50:,.0f}× |"
        for g in result.growth
    ]
    return "\n".join([
        START,
        "## Listing at a million assets (issue 6)",
        "",
        f"`./dev.sh bench listing --write`, {date.today().isoformat()}: "
        f"{_machine(result.server)}; {result.rows:,} assets of {OWNERS} owners, the largest "
        f"(`{BIG_OWNER}`) holding {at.total:,} of them ({at.live:,} not deleted). Filled "
        f"server-side in {result.fill_seconds:.0f} s (`INSERT … SELECT … generate_series`, "
        f"batches of {BATCH:,}), then VACUUM ANALYZE ({result.settle_seconds:.0f} s in all); "
        f"the whole run took {result.seconds / 60:.1f} min.",
        "Each query runs through `PostgresAssetRepository` over one psycopg connection (Unix "
        f"socket), as the library function runs it: {ASKED} rows asked (a page of {PAGE} and one "
        "to tell whether another follows), decoded into `Asset`s. Milliseconds on the client; the "
        "plans are EXPLAIN (ANALYZE, BUFFERS) of the same SQL with the same values (buffers "
        "touched, time in the server): as planned for these values, and, where the server "
        "switched the prepared statement to a generic plan (psycopg prepares at the 5th "
        "execution), that one. "
        f"Deep pages start at {DEPTH * 100:.0f} % of `{BIG_OWNER}`'s library: after the "
        f"cursor of the row before position {at.offset:,} (keyset), or "
        f"`OFFSET {at.offset:,}` (the same rows, checked).",
        "",
        "| query | p50 | p99 | mean | runs | plan for its values | plan of repeated runs |",
        "|---|---|---|---|---|---|---|",
        *measured,
        "",
        "As the table grows: the same pages of the largest owner, measured while filling "
        "(p50 and p99, ms).",
        "",
        "| assets | owner's live assets | first page | keyset 90 % deep | p99 | "
        "OFFSET 90 % deep | p99 | OFFSET ÷ keyset |",
        "|---|---|---|---|---|---|---|---|",
        *growth,
        "",
        "Reproduce: `./dev.sh bench listing --write` (`--rows N`, default 1 000 000; "
        "`--repeats`, `--offset-repeats`).",
        END,
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="assets in the table")
    parser.add_argument("--repeats", type=int, default=200, help="runs of each keyset query")
    parser.add_argument("--offset-repeats", type=int, default=20,
                        help="runs of each OFFSET query (slow by design)")
    parser.add_argument("--write", action="store_true", help="update docs/BENCHMARKS.md")
    args = parser.parse_args()
    if args.rows < 1000:
        parser.error("--rows must be at least 1000")
    section = report(run(args.rows, args.repeats, args.offset_repeats))
    print(section)
    if args.write:
        write_section(section)


if __name__ == "__main__":
    main()
