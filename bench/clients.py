"""The ``lightbox`` command's uploads through the running local stack.

    ./dev.sh bench clients [--photos 100] [--write]

On the embedded stack, bounded in count and time:

- **folder**: PHOTOS photos (1600×1200 JPEGs) with ``lightbox upload DIR`` at 1, 4 and 8 files
  at a time (other photos each time, so nothing is a duplicate): until the command returns (all
  bytes sent and verified), and with ``--wait`` until every asset is ``ready``;
- **again**: the same folder a second time, when everything is skipped: the price of
  resumability (each file hashed, one request each);
- **large**: one uncompressed TIFF of LARGE_MB MB, sent in parts: throughput, and the command's
  peak memory (it streams from disk, so it should not grow with the file).

With ``--write``, the table replaces the clients section of docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import psutil
import tifffile
from report import machine, write_section
from triggers import Stack, jpeg, running

START, END = "<!-- clients:start -->", "<!-- clients:end -->"
LIGHTBOX = Path(sys.executable).parent / "lightbox"
LARGE_MB = 300
TIMEOUT_SECONDS = 600


def lightbox(stack: Stack, *args: str) -> tuple[float, float]:
    """Run the command against the stack: its wall time (s) and peak resident memory (MB)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIGHTBOX_")}
    env.update(LIGHTBOX_URL=stack.api, LIGHTBOX_API_KEY=stack.exports["LIGHTBOX_API_KEY"])
    # A file, not a pipe: a pipe nobody reads while the command runs could fill and stall it.
    with tempfile.TemporaryFile("w+") as output:
        started = time.perf_counter()
        process = psutil.Popen([str(LIGHTBOX), *args], env=env, stdout=output,
                               stderr=subprocess.STDOUT)
        peak = 0
        while process.poll() is None:
            with contextlib.suppress(psutil.NoSuchProcess):
                peak = max(peak, process.memory_info().rss)
            time.sleep(0.02)
            if time.perf_counter() - started > TIMEOUT_SECONDS:
                process.kill()
        seconds = time.perf_counter() - started
        if process.returncode != 0:
            output.seek(0)
            raise SystemExit(f"lightbox {' '.join(args)} failed:\n{output.read()}")
    return seconds, peak / 2**20


def photos(folder: Path, count: int, first_seed: int) -> int:
    """``count`` different photos in ``folder``; their total size in bytes."""
    folder.mkdir(parents=True)
    total = 0
    for n in range(count):
        data = jpeg(first_seed + n)
        (folder / f"photo-{n:04d}.jpg").write_bytes(data)
        total += len(data)
    return total


def folder_rows(stack: Stack, scratch: Path, count: int) -> list[str]:
    rows = []
    for jobs in (1, 4, 8):
        for wait in (False, True):
            folder = scratch / f"jobs{jobs}-{'wait' if wait else 'sent'}"
            size = photos(folder, count, first_seed=10_000 * jobs + 5_000 * wait)
            seconds, _ = lightbox(stack, "upload", str(folder), "--jobs", str(jobs),
                                  *(["--wait"] if wait else []))
            until = "ready" if wait else "sent"
            rows.append(f"| {count} photos, {jobs} at a time | {until} | {seconds:.1f} s | "
                        f"{count / seconds:.1f} files/s | {size / seconds / 1e6:.1f} MB/s |")
            print(rows[-1], file=sys.stderr, flush=True)
    seconds, _ = lightbox(stack, "upload", str(scratch / "jobs4-sent"), "--jobs", "4")
    rows.append(f"| the same {count} again, 4 at a time | all skipped | {seconds:.1f} s | "
                f"{count / seconds:.0f} files/s | |")
    return rows


def large_row(stack: Stack, scratch: Path) -> str:
    side = int((LARGE_MB * 1e6 / 3) ** 0.5)
    noise = np.random.default_rng(7).integers(0, 256, (side, side, 3), dtype=np.uint8)
    path = scratch / "large.tif"
    tifffile.imwrite(path, noise)
    size = path.stat().st_size
    seconds, peak_mb = lightbox(stack, "upload", str(path))
    return (f"| one {size / 1e6:.0f} MB TIFF, in parts | sent | {seconds:.1f} s | | "
            f"{size / seconds / 1e6:.0f} MB/s (the command's peak memory: {peak_mb:.0f} MB) |")


def report(count: int) -> str:
    with tempfile.TemporaryDirectory(prefix="lightbox-bench-") as scratch, \
            running("embedded") as stack:
        rows = folder_rows(stack, Path(scratch), count)
        rows.append(large_row(stack, Path(scratch)))
    return "\n".join([
        START,
        "## The lightbox command's uploads (issue 7)",
        "",
        f"`./dev.sh bench clients --write`, {date.today().isoformat()}: {machine()}; the "
        "embedded stack with 2 workers per function, on the same machine as the command. "
        "\"sent\": until the command returns (each file hashed, presigned, PUT, completed); "
        "\"ready\": with `--wait`, until the change feed shows every asset ready (thumbnails "
        "rendered). Photos are 1600×1200 JPEGs of about "
        f"{len(jpeg(0)) // 1000} kB.",
        "",
        "| upload | until | time | files | bytes |",
        "|---|---|---|---|---|",
        *rows,
        END,
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--photos", type=int, default=100)
    parser.add_argument("--write", action="store_true", help="update docs/BENCHMARKS.md")
    args = parser.parse_args()
    section = report(args.photos)
    print(section)
    if args.write:
        write_section(section)


if __name__ == "__main__":
    main()
