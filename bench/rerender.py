"""Rerendering and on-demand sizes, in-process.

    ./dev.sh bench rerender [--photos 40] [--write]

- **rerender**: PHOTOS ready photos (3000×2000 JPEGs, rendered at 256 and 1280) rendered again
  at 320, 1280 and 2048 in JPEG and WebP by ``rerender_job``, one worker: assets per second,
  download, render, PUT, replace and delete included.
- **on demand**: ``GET /thumbnails/640`` through the resize service on one of them: the first
  request (made from the 1280 derivative), then the same size again (a redirect only).

The imaging core is the real one; the records and the bucket are the in-memory fakes of the
unit tests, so the figures are the CPU's part of the work, without network round trips (on
AWS each asset adds a GET of its original and a PUT per derivative). With ``--write``, the
table replaces the rerender section of docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import replace
from datetime import date
from pathlib import Path

from report import machine, write_section

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "functions")]

from lightbox.domain import RenderSpec, Status, ThumbnailJob  # noqa: E402
from lightbox.imaging.render import render  # noqa: E402
from lightbox.services import resize  # noqa: E402
from lightbox.services.thumbnails import ProcessingPolicy, process_job, rerender_job  # noqa: E402
from tests.fakes import FakeLibrary  # noqa: E402
from tests.support import image_bytes  # noqa: E402

START, END = "<!-- rerender:start -->", "<!-- rerender:end -->"
OLD = RenderSpec(sizes=(256, 1280), jpeg_quality=85, max_pixels=250_000_000)
NEW = replace(OLD, sizes=(320, 1280, 2048), formats=("jpeg", "webp"))
POLICY = ProcessingPolicy(lease_seconds=900, max_attempts=3)
ON_DEMAND = resize.ResizePolicy(on_demand_sizes=(640,), url_ttl=600)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--photos", type=int, default=40)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    library = FakeLibrary("bench")
    assets = []
    for n in range(args.photos):
        asset_id = library.pending(image_bytes("JPEG", (3000 + n, 2000)))
        library.assets.mark_uploaded(library.owner, asset_id, "image/jpeg")
        assert process_job(ThumbnailJob(asset_id, library.owner), library.pipeline,
                           render=render, spec=OLD, policy=POLICY) is Status.READY
        assets.append(asset_id)
    started = time.perf_counter()
    for asset_id in assets:
        assert rerender_job(ThumbnailJob(asset_id, library.owner, rerender=True),
                            library.pipeline, render=render, spec=NEW, policy=POLICY)
    rerender_seconds = time.perf_counter() - started

    first, cached = [], []
    for asset_id in assets[:10]:
        for times in (first, cached):
            began = time.perf_counter()
            resize.thumbnail_url(library.owner, asset_id, resize.ThumbnailRequest(640),
                                 library.pipeline, render=render, spec=NEW, policy=ON_DEMAND)
            times.append(time.perf_counter() - began)
    rate = len(assets) / rerender_seconds
    section = "\n".join([
        START,
        "## Rerender and on-demand sizes (issue 20)",
        "",
        f"`./dev.sh bench rerender --photos {args.photos} --write`, {date.today()}: "
        f"{machine()}; in-process, one worker, the real imaging core over the in-memory "
        "records and bucket of the unit tests (no network: on AWS add a GET of the original "
        "and a PUT per derivative). Photos are 3000×2000 JPEGs rendered at 256 and 1280, then "
        "again at 320, 1280 and 2048 in JPEG and WebP.",
        "",
        "| what | figure |",
        "|---|---|",
        f"| rerender, {len(assets)} photos | {rerender_seconds:.1f} s, {rate:.1f} assets/s "
        f"per worker |",
        f"| `/thumbnails/640`, first request (made from the 1280 derivative) | median "
        f"{statistics.median(first) * 1000:.0f} ms |",
        f"| `/thumbnails/640` again (listed: a signed URL only) | median "
        f"{statistics.median(cached) * 1000:.2f} ms |",
        END,
    ])
    print(section)
    if args.write:
        write_section(section)


if __name__ == "__main__":
    main()
