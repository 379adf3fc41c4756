"""Presign throughput in process: upload requests per second of one function instance.

    ./dev.sh bench presign [--seconds 10 | --count N] [--write]

The presign function's own code with real adapters where they are cheap: PostgreSQL
(pgserver in a temporary directory, migrations applied) behind the repositories, and the
functions' own ``S3ObjectStore`` (botocore's SigV4 query signer, no S3 client) with dummy
credentials and a dummy endpoint (``http://127.0.0.1:9``): presigning is local signing, no
request leaves the process. One
request at a time, as one Lambda instance serves them; each case runs for ``--seconds``
(or ``--count`` times) after a short warm-up:

- the signing alone (``presign_put``, with and without a declared sha256; ``presign_get``,
  which every listed asset needs once per URL);
- ``create_upload`` with ``parse_upload_request``: the pending count, the INSERT, the
  signature (and, given a sha256 and a project, the duplicate and project lookups);
- ``POST /v1/uploads`` through the handler: an API Gateway proxy event handed to
  ``presign.app`` with its container holding these adapters;
- a 1 GiB multipart upload: signing its parts alone, and through ``create_upload`` with
  CreateMultipartUpload (a round trip to S3) answered by a fixed id.

Owners change every 100 requests, so that none reaches the limit of pending uploads. With
``--write``, the table replaces the presign section of docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from types import ModuleType
from typing import Any
from uuid import UUID, uuid4

import botocore
import chalice
from botocore.session import Session as BotoSession

REPO = Path(__file__).resolve().parents[1]
FUNCTIONS = REPO / "functions"
sys.path[:0] = [str(FUNCTIONS)]  # ahead of bench/, which has a presign.py of its own

from report import machine, temporary_postgres, write_section  # noqa: E402 - bench/report.py

from lightbox.adapters.assets import PostgresAssetRepository  # noqa: E402
from lightbox.adapters.migrations import apply_migrations  # noqa: E402
from lightbox.adapters.postgres import Database  # noqa: E402
from lightbox.adapters.projects import PostgresProjectRepository  # noqa: E402
from lightbox.adapters.s3 import S3ObjectStore, S3UrlSigner  # noqa: E402
from lightbox.config import GIB, Config  # noqa: E402
from lightbox.http.inputs import parse_upload_request  # noqa: E402
from lightbox.services.uploads import UploadPolicy, create_upload  # noqa: E402
from lightbox.wiring import Container  # noqa: E402

START, END = "<!-- presign:start -->", "<!-- presign:end -->"
BUCKET = "lightbox-bench"
REQUESTS_PER_OWNER = 100
WARMUP = 50
PHOTO_BYTES = 4_200_000
MULTIPART_BYTES = GIB
EVENT = REPO / "tests" / "events" / "apiGatewayProxyRequest.json"


# --- the adapters ----------------------------------------------------------------------------


class LocalMultipartStore(S3ObjectStore):
    """S3ObjectStore whose CreateMultipartUpload, a round trip to S3, answers a fixed id."""

    def start_multipart(self, key: str, *, content_type: str) -> str:
        return "bench-upload-id"


@dataclass
class Adapters:
    """What the presign function's container builds, over one database connection."""

    config: Config
    database: Database
    assets: PostgresAssetRepository
    projects: PostgresProjectRepository
    storage: S3ObjectStore
    multipart_storage: LocalMultipartStore
    policy: UploadPolicy


def adapters(url: str) -> Adapters:
    apply_migrations(url, REPO / "migrations")
    # Dummy credentials and endpoint: the store only signs here, nothing asks S3.
    for name, value in {"AWS_ACCESS_KEY_ID": "AKIABENCHMARKBENCH00",
                        "AWS_SECRET_ACCESS_KEY": "bench" * 8,
                        "AWS_DEFAULT_REGION": "us-east-1"}.items():
        os.environ[name] = value
    config = Config.from_env({"DATABASE_URL": url, "LIGHTBOX_BUCKET": BUCKET,
                              "AWS_ENDPOINT_URL": "http://127.0.0.1:9"})
    database, container = Database(url), Container(config)
    storage = container.storage
    assert isinstance(storage, S3ObjectStore)
    signer = S3UrlSigner(BotoSession(), BUCKET, endpoint_url=config.s3_endpoint_url,
                         path_style=True)
    return Adapters(config=config, database=database, assets=PostgresAssetRepository(database),
                    projects=PostgresProjectRepository(database),
                    storage=storage,
                    multipart_storage=LocalMultipartStore(_no_client, BUCKET, signer=signer),
                    policy=container.upload_policy)


def _no_client() -> Any:
    raise AssertionError("the benchmark never calls S3")


# --- measuring -------------------------------------------------------------------------------

@dataclass
class Timing:
    samples: list[float]  # seconds, each one call

    @property
    def per_second(self) -> float:
        return len(self.samples) / sum(self.samples)

    @property
    def p50_ms(self) -> float:
        return statistics.median(self.samples) * 1000

    @property
    def p99_ms(self) -> float:
        ordered = sorted(self.samples)
        return ordered[math.ceil(0.99 * len(ordered)) - 1] * 1000


class Budget:
    """How long each case runs: a number of calls, or seconds of them."""

    def __init__(self, seconds: float, count: int | None) -> None:
        self.seconds = seconds
        self.count = count

    def measure(self, prepare: Callable[[int], Callable[[], object]]) -> Timing:
        """Times the call that ``prepare(i)`` returns; preparing it is not timed."""
        for i in range(WARMUP):
            prepare(-1 - i)()
        samples: list[float] = []
        deadline = time.perf_counter() + self.seconds
        i = 0
        while (len(samples) < self.count) if self.count is not None \
                else time.perf_counter() < deadline:
            call = prepare(i)
            started = time.perf_counter()
            call()
            samples.append(time.perf_counter() - started)
            i += 1
        return Timing(samples)


class Owners:
    """A new owner every REQUESTS_PER_OWNER requests, with a project when asked for one."""

    def __init__(self, case: str, projects: PostgresProjectRepository | None = None) -> None:
        self._case = case
        self._projects = projects
        self._project_of: dict[str, UUID] = {}

    def __call__(self, i: int) -> str:
        return f"{self._case}-{i // REQUESTS_PER_OWNER if i >= 0 else 'warm'}"

    def project(self, owner: str) -> UUID:
        if owner not in self._project_of:
            assert self._projects is not None
            project_id = uuid4()
            self._projects.add(owner, project_id, "Holidays", max_projects=100)
            self._project_of[owner] = project_id
        return self._project_of[owner]


def body(size_bytes: int = PHOTO_BYTES, **extra: Any) -> dict[str, Any]:
    return {"filename": "IMG_4242.JPG", "content_type": "image/jpeg", "size_bytes": size_bytes,
            **extra}


def service_call(a: Adapters, owner: str, request: dict[str, Any],
                 storage: S3ObjectStore | None = None) -> Callable[[], object]:
    pipeline = Container(a.config, assets=a.assets, storage=storage or a.storage).pipeline

    def call() -> object:
        upload = parse_upload_request(request, max_upload_bytes=a.config.max_upload_bytes)
        return create_upload(owner, upload, pipeline=pipeline, projects=a.projects,
                             policy=a.policy)
    return call


def handler(a: Adapters) -> ModuleType:
    """The presign function's module, its container holding the benchmark's adapters."""
    module = importlib.import_module("presign")
    assert Path(str(module.__file__)).parent == FUNCTIONS, module.__file__
    module.container = Container(a.config, assets=a.assets, projects=a.projects,
                                 storage=a.storage)
    return module


def http_call(app: Any, template: dict[str, Any], owner: str) -> Callable[[], object]:
    event = {**template, "body": json.dumps(body()),
             "requestContext": {**template["requestContext"],
                                "authorizer": {"principalId": owner, "owner_id": owner}}}

    def call() -> object:
        response = app(event, None)
        if response["statusCode"] != 201:
            raise RuntimeError(f"POST /v1/uploads answered {response}")
        return response
    return call


@dataclass
class Row:
    name: str
    timing: Timing
    unit: str = "requests"


def measure(a: Adapters, budget: Budget) -> list[Row]:
    storage, digest = a.storage, os.urandom(32).hex()
    key = f"originals/bench/{uuid4()}"
    owners, with_project = Owners("service"), Owners("project", a.projects)
    http, template = handler(a), json.loads(EVENT.read_text())
    part_size = a.policy.part_size(MULTIPART_BYTES)
    parts = math.ceil(MULTIPART_BYTES / part_size)
    rows = [
        Row("`presign_put`: signing alone", budget.measure(lambda i: lambda: storage.presign_put(
            key, content_type="image/jpeg", size_bytes=PHOTO_BYTES, expires_in=900)),
            "signatures"),
        Row("`presign_put` with a declared sha256", budget.measure(
            lambda i: lambda: storage.presign_put(key, content_type="image/jpeg",
                                                  size_bytes=PHOTO_BYTES, expires_in=900,
                                                  sha256=digest)), "signatures"),
        Row("`presign_get` (a listing signs 1–3 per asset)", budget.measure(
            lambda i: lambda: storage.presign_get(key, expires_in=3600)), "signatures"),
        Row("`create_upload`: parse, pending count, INSERT, sign", budget.measure(
            lambda i: service_call(a, owners(i), body()))),
        Row("`create_upload` with sha256 and project_id (+ 2 lookups)", budget.measure(
            lambda i: service_call(a, with_project(i), body(
                sha256=os.urandom(32).hex(),
                project_id=str(with_project.project(with_project(i))))))),
        Row("`POST /v1/uploads`: `presign.app(event, None)`", budget.measure(
            lambda i: http_call(http.app, template, f"http-{i // REQUESTS_PER_OWNER}"))),
        Row(f"1 GiB multipart: signing its {parts} parts alone", budget.measure(
            lambda i: lambda: [storage.presign_part(key, "bench-upload-id", n,
                                                    size_bytes=part_size, expires_in=900)
                               for n in range(1, parts + 1)]), "uploads"),
        Row(f"1 GiB multipart through `create_upload` ({parts} parts)", budget.measure(
            lambda i: service_call(a, owners(10**6 + i), body(MULTIPART_BYTES),
                                   a.multipart_storage)), "uploads"),
    ]
    return rows


# --- reporting -------------------------------------------------------------------------------

def _ms(value: float) -> str:
    return f"{value:.3f}" if value < 1 else f"{value:.2f}" if value < 10 else f"{value:.1f}"


def _machine(server: str) -> str:
    return (f"{machine()}, botocore {botocore.__version__}, chalice {chalice.__version__}, "
            f"PostgreSQL {server} (pgserver, Unix socket)")


def report(rows: list[Row], server: str, budget: Budget) -> str:
    how = f"{budget.count:,} calls" if budget.count is not None \
        else f"{budget.seconds:g} s of calls"
    table = [f"| {r.name} | {r.timing.per_second:,.0f} {r.unit}/s | {_ms(r.timing.p50_ms)} | "
             f"{_ms(r.timing.p99_ms)} | {len(r.timing.samples):,} |" for r in rows]
    return "\n".join([
        START,
        "## Presign throughput (issue 6)",
        "",
        f"`./dev.sh bench presign --write`, {date.today().isoformat()}: {_machine(server)}. "
        "In process, one request at a time as one Lambda instance serves them: the presign "
        "function's code over PostgreSQL and its own `S3ObjectStore`, which signs with "
        "botocore's SigV4 query signer and no S3 client, given dummy credentials and endpoint "
        "(signing is local; no request leaves the process). "
        f"Each case: {WARMUP} calls of warm-up, then {how}; the rate is calls ÷ their summed "
        "time, latencies in ms. A new owner every "
        f"{REQUESTS_PER_OWNER} requests keeps each under the limit of pending uploads. The "
        "INSERT of each upload commits durably (PostgreSQL's defaults: a WAL flush to this "
        "machine's disk), the largest share of a request and of its variance. The "
        "multipart cases sign every part of a 1 GiB upload (16 MiB parts); through "
        "`create_upload`, CreateMultipartUpload (a round trip to S3) answers a fixed id.",
        "",
        "| what | rate | p50 | p99 | calls |",
        "|---|---|---|---|---|",
        *table,
        "",
        "Reproduce: `./dev.sh bench presign --write` (`--seconds S` per case, default 10, or "
        "`--count N`).",
        END,
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="per case (default 10)")
    parser.add_argument("--count", type=int, help="calls per case, instead of --seconds")
    parser.add_argument("--write", action="store_true", help="update docs/BENCHMARKS.md")
    args = parser.parse_args()
    budget = Budget(args.seconds, args.count)
    with temporary_postgres() as url:
        a = adapters(url)
        try:
            row = a.database.fetch_one("SHOW server_version", {})
            server = str(row["server_version"]) if row else "?"
            rows = measure(a, budget)
        finally:
            a.database.close()
    section = report(rows, server, budget)
    print(section)
    if args.write:
        write_section(section)


if __name__ == "__main__":
    main()
