"""The gallery's timeline with 1,000 and 100,000 assets: how soon the first thumbnails show,
how smoothly it scrolls, how many tiles the page holds, and how soon a jump to the oldest year
shows its photos.

    ./dev.sh bench gallery [--assets 1000 100000] [--write]

The gallery's own files are served from web/gallery/ on loopback; the API it calls is answered
in the browser (Playwright routes) from a library made up in memory: assets over eight years,
more in summers, of every shape, with real ThumbHash placeholders and a few real 256 px JPEG
thumbnails, so that only the page's own work is measured, not a server's. Chromium scrolls the
timeline by 40 px a frame for 600 frames; frame intervals come from requestAnimationFrame.
With ``--write``, the table replaces the gallery section of docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import io
import json
import os
import random
import shutil
import statistics
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from PIL import Image
from playwright.sync_api import Page, Route, sync_playwright

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "functions"), str(REPO)]

from report import machine, write_section  # noqa: E402 - bench/report.py

from lightbox.imaging.placeholder import placeholder  # noqa: E402
from tests.browser.pictures import landscape  # noqa: E402

START, END = "<!-- gallery:start -->", "<!-- gallery:end -->"
YEARS = 8
SHAPES = [(4, 3), (3, 4), (3, 2), (2, 3), (16, 9), (1, 1)]
PICTURES = 12
FRAMES = 600
STEP_PIXELS = 40


def made_up_library(count: int, rng: random.Random
                    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Assets newest first, and the timeline's months: {month, count, cursor}."""
    months = [(2026 - year, month) for year in range(YEARS) for month in range(12, 0, -1)]
    # Summers hold three times as many photos as winters.
    weights = [3 if month in (6, 7, 8) else 1 for _, month in months]
    counts = [0] * len(months)
    for index in rng.choices(range(len(months)), weights, k=count):
        counts[index] += 1
    shapes = [SHAPES[n % len(SHAPES)] for n in range(PICTURES)]
    pictures = [landscape(9000 + n, (512, 512 * height // width))
                for n, (width, height) in enumerate(shapes)]
    hashes = [placeholder(Image.open(io.BytesIO(data))) for data in pictures]
    assets: list[dict[str, Any]] = []
    timeline = []
    for (year, month), in_month in zip(months, counts, strict=True):
        if in_month == 0:
            continue
        timeline.append({"month": f"{year}-{month:02d}", "count": in_month,
                         "cursor": f"i:{len(assets)}"})
        for n in range(in_month):
            picture = len(assets) % PICTURES
            width, height = SHAPES[picture % len(SHAPES)]
            day = 28 - n * 27 // in_month
            assets.append({
                "asset_id": f"00000000-0000-4000-8000-{len(assets):012d}", "status": "ready",
                "filename": f"IMG_{len(assets):06d}.jpg", "content_type": "image/jpeg",
                "size_bytes": 4_000_000, "width": width * 1000, "height": height * 1000,
                "pages": 1, "taken_at": f"{year}-{month:02d}-{day:02d}T12:00:00",
                "created_at": "2026-01-01T00:00:00+00:00", "placeholder": hashes[picture],
                "error": None, "original_url": None, "tiles": None,
                "thumbnails": [{"size": 256, "page": 1, "format": "jpeg",
                                "width": 256, "height": 256,
                                "url": f"/bench-thumbnails/{picture}.jpg?asset={len(assets)}"}],
            })
    return assets, timeline


def answer_api(route: Route, assets: list[dict[str, Any]], timeline: list[dict[str, Any]],
               pictures: list[bytes]) -> None:
    url = urlsplit(route.request.url)
    query = parse_qs(url.query)
    if url.path == "/v1/timeline":
        route.fulfill(json={"months": timeline})
    elif url.path == "/v1/assets":
        start = int(query.get("cursor", ["i:0"])[0].split(":")[1])
        limit = int(query.get("limit", ["50"])[0])
        if "changed_since" in query:
            route.fulfill(json={"items": [], "next_cursor": None, "sync_cursor": "s"})
            return
        end = min(len(assets), start + limit)
        route.fulfill(json={"items": assets[start:end], "sync_cursor": "s",
                            "next_cursor": f"i:{end}" if end < len(assets) else None})
    elif url.path.startswith("/bench-thumbnails/"):
        picture = int(Path(url.path).stem)
        route.fulfill(body=pictures[picture], content_type="image/jpeg")
    else:
        route.fulfill(status=404, json={"error": {"code": "not_found", "message": url.path}})


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Not a line a request: the table is what this prints."""


@contextmanager
def served_gallery() -> Iterator[str]:
    """web/gallery/ on a loopback port, as any static host serves it."""
    handler = functools.partial(QuietHandler, directory=str(REPO / "web" / "gallery"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


def measure(page: Page, origin: str, count: int) -> dict[str, float]:
    rng = random.Random(count)
    assets, timeline = made_up_library(count, rng)
    pictures = [landscape(9000 + n, (256, 256)) for n in range(PICTURES)]
    def answer(route: Route) -> None:
        answer_api(route, assets, timeline, pictures)

    page.route(f"{origin}/v1/**", answer)
    page.route(f"{origin}/bench-thumbnails/**", answer)
    page.goto(f"{origin}/")
    page.evaluate("sessionStorage.clear()")
    page.get_by_label("API URL").fill(origin)
    page.get_by_label("API key").fill("lbk_bench")
    started = page.evaluate("performance.now()")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_function("document.querySelector('#timeline li.tile.has-image')", timeout=60_000)
    first = page.evaluate("performance.now()") - started
    frames: list[float] = page.evaluate("""([frames, step]) => new Promise((resolve) => {
        const times = [];
        let last = performance.now();
        const tick = (now) => {
            times.push(now - last);
            last = now;
            window.scrollBy(0, step);
            if (times.length < frames) requestAnimationFrame(tick);
            else resolve(times.slice(1));
        };
        requestAnimationFrame(tick);
    })""", [FRAMES, STEP_PIXELS])
    page.wait_for_timeout(1000)
    tiles = page.locator("#timeline li.tile").count()
    heap = page.evaluate("performance.memory ? performance.memory.usedJSHeapSize : 0")
    oldest = timeline[-1]["month"][:4]
    started = page.evaluate("performance.now()")
    page.locator("#scrubber button", has_text=oldest).click()
    page.wait_for_function(f"document.querySelector('[data-key^=\"{oldest}\"] li.tile.has-image')",
                           timeout=60_000)
    jump = page.evaluate("performance.now()") - started
    page.unroute(f"{origin}/v1/**")
    page.unroute(f"{origin}/bench-thumbnails/**")
    frames.sort()
    return {
        "assets": count, "months": len(timeline), "first_ms": first,
        "frame_median_ms": statistics.median(frames),
        "frame_p95_ms": frames[int(len(frames) * 0.95)],
        "long_frames": sum(1 for frame in frames if frame > 50), "tiles": tiles,
        "heap_mb": heap / 1e6, "jump_ms": jump,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assets", type=int, nargs="+", default=[1000, 100_000])
    parser.add_argument("--write", action="store_true",
                        help="replace the section in docs/BENCHMARKS.md")
    args = parser.parse_args()
    executable = os.environ.get("LIGHTBOX_BROWSER") or shutil.which("chromium")
    rows = []
    with served_gallery() as origin, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=[
            "--no-sandbox", "--disable-background-networking", "--enable-precise-memory-info"])
        for count in args.assets:
            # Playwright evaluates its waits as strings, which the gallery's policy refuses.
            context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US",
                                          bypass_csp=True)
            rows.append(measure(context.new_page(), origin, count))
            context.close()
            print(json.dumps(rows[-1]))
        browser.close()
    table = "\n".join(
        f"| {row['assets']:,} | {row['months']} | {row['first_ms']:.0f} "
        f"| {row['frame_median_ms']:.1f} | {row['frame_p95_ms']:.1f} | {row['long_frames']} "
        f"| {row['tiles']:,} | {row['heap_mb']:.0f} | {row['jump_ms']:.0f} |" for row in rows)
    section = f"""{START}
## The gallery's timeline at 100,000 assets

`./dev.sh bench gallery --write` — {machine()}; Chromium, 1280 × 800. The page's own work
only: the API is answered in the browser from a made-up library (assets over {YEARS} years, more
in summers, real ThumbHash placeholders, 256 px thumbnails). First: sign-in to the first
thumbnail drawn. Frames: {FRAMES} frames of scrolling {STEP_PIXELS} px each, intervals from
requestAnimationFrame (16.7 ms at 60 Hz; long: over 50 ms). Tiles: on the page after the
scroll. Jump: a click on the oldest year to its first thumbnail drawn.

| assets | months | first (ms) | frame median (ms) | frame p95 (ms) | long frames \
| tiles on the page | JS heap (MB) | jump (ms) |
|---|---|---|---|---|---|---|---|---|
{table}
{END}"""
    print(section)
    if args.write:
        write_section(section)


if __name__ == "__main__":
    main()
