"""``lightbox import immich`` from an Immich on loopback into the running local stack: how fast
a library comes over, and what a second run costs.

    ./dev.sh bench immich [--photos 200] [--write]

It starts ``python -m infra.local up`` on a fresh data directory and the Immich of the CLI's
tests (``tests/cli/fake_immich.py``, answering as Immich's OpenAPI document says) holding
PHOTOS photos of 1600×1200 in two albums, then runs the installed ``lightbox`` command twice:
the first run downloads, hashes and uploads every original (seconds, photos and MB per
second, and seconds from its start until every photo is ``ready``); the second finds
everything in its journal and downloads nothing.

With ``--write``, the table replaces the Immich section of docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "functions")]

from report import machine, write_section  # noqa: E402 - bench/report.py
from triggers import Stack, jpeg, running  # noqa: E402 - bench/triggers.py

from tests.cli.fake_immich import FakeImmich, serve  # noqa: E402 - after the path is set

START, END = "<!-- immich:start -->", "<!-- immich:end -->"
LIGHTBOX = Path(sys.executable).parent / "lightbox"


def library(photos: int) -> FakeImmich:
    immich = FakeImmich()
    ids = [immich.add(jpeg(n), f"IMG_{n:04}.JPG", "image/jpeg",
                      local=f"2019-07-{1 + n % 28:02}T10:{n % 60:02}:00", offset_hours=2)
           for n in range(photos)]
    immich.albums["a1"] = ("Summer 2019", ids[: photos // 2])
    immich.albums["a2"] = ("Family", ids[photos // 4:])
    return immich


def run_import(stack: Stack, immich: FakeImmich, state: Path) -> float:
    env = {**os.environ, "LIGHTBOX_URL": stack.api,
           "LIGHTBOX_API_KEY": stack.exports["LIGHTBOX_API_KEY"],
           "XDG_STATE_HOME": str(state), "IMMICH_API_KEY": immich.api_key}
    started = time.monotonic()
    subprocess.run([str(LIGHTBOX), "import", "immich", "--url", immich.url], env=env,
                   check=True, capture_output=True, timeout=1800)
    return time.monotonic() - started


def settled(stack: Stack, count: int) -> None:
    deadline = time.monotonic() + 1800
    while time.monotonic() < deadline:
        stats = requests.get(f"{stack.api}/v1/stats", headers=stack.auth, timeout=30).json()
        if stats["assets"]["ready"] >= count and not stats["waiting"]["assets"]:
            return
        time.sleep(0.5)
    raise SystemExit("the imported photos did not settle")


def measure(photos: int) -> str:
    immich = library(photos)
    megabytes = sum(len(asset.data) for asset in immich.assets.values()) / 1e6
    with tempfile.TemporaryDirectory(prefix="lightbox-bench-") as state, \
            running("embedded") as stack:
        server = serve(immich)
        next(server)
        try:
            started = time.monotonic()
            first = run_import(stack, immich, Path(state))
            settled(stack, photos)
            ready = time.monotonic() - started
            downloads = len(immich.downloads)
            second = run_import(stack, immich, Path(state))
            again = len(immich.downloads) - downloads
        finally:
            server.close()
    return (f"| {photos} | {megabytes:,.0f} | {first:.1f} | {photos / first:.1f} | "
            f"{megabytes / first:.1f} | {ready:.1f} | {second:.1f} | {again} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=200)
    parser.add_argument("--write", action="store_true", help="update docs/BENCHMARKS.md")
    args = parser.parse_args()
    row = measure(args.photos)
    section = "\n".join([
        START,
        "## Importing from Immich (issue 20)",
        "",
        f"`./dev.sh bench immich --write`, {date.today().isoformat()}: {machine()}, the local "
        "stack with 2 workers per function, and the Immich of the CLI's tests on loopback "
        "(`tests/cli/fake_immich.py`). `lightbox import immich` with its defaults (4 files at "
        "once): each original downloaded to a spool file while hashed, then uploaded as "
        "`lightbox upload` does. Seconds for the whole command; the second run finds every "
        "asset in its journal.",
        "",
        "| photos | MB | first run (s) | photos/s | MB/s | all ready (s) | second run (s) "
        "| downloaded again |",
        "|---|---|---|---|---|---|---|---|",
        row,
        END,
    ])
    print(section)
    if args.write:
        write_section(section)


if __name__ == "__main__":
    main()
