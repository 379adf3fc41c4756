"""Hostile files against the imaging core: what each costs in memory and time.

    ./dev.sh bench hostile [--write]

Every file of tests/hostile/corpus.py is rendered as tests/hostile/test_imaging_limits.py
renders it: in a child process under a 1 GiB address-space limit, with the renderer and limits
the thumbnail function is built with. The child reports its outcome, its peak resident size
(VmHWM) and its render time. With ``--write`` the table replaces the hostile section of
docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import inspect
import sys
import tempfile
from collections.abc import Callable
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "functions")]

from report import machine, write_section  # noqa: E402 - bench/report.py

from tests.hostile import corpus  # noqa: E402 - after the path is set
from tests.hostile.test_imaging_limits import ADDRESS_SPACE_LIMIT, render_isolated  # noqa: E402

START, END = "<!-- hostile:start -->", "<!-- hostile:end -->"


def builders() -> list[Callable[[], bytes]]:
    return [function for name, function in inspect.getmembers(corpus, inspect.isfunction)
            if not name.startswith("_") and function.__module__ == corpus.__name__]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="update docs/BENCHMARKS.md")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="lightbox-hostile-") as scratch:
        for build in builders():
            size = len(build())
            result = render_isolated(Path(scratch), build)
            outcome = ("rendered" if result["outcome"] == "rendered"
                       else result["message"].split(" (")[0])
            rows.append(f"| `{build.__name__}` | {size:,} | {outcome} | "
                        f"{result['peak_mb']:.0f} | {result['seconds']:.2f} |")
            print(rows[-1], flush=True)
    section = "\n".join([
        START,
        "## Hostile files (issue 8)",
        "",
        f"`./dev.sh bench hostile --write` ({machine()}, {date.today()}): each file of "
        "`tests/hostile/corpus.py` rendered in a child process limited to "
        f"{ADDRESS_SPACE_LIMIT // 1024**3} GiB of address space, with the thumbnail function's "
        "renderer and limits. Peak resident size (VmHWM) of the child, which starts at about "
        "60 MB with the imaging libraries loaded; render time without the start.",
        "",
        "| file | bytes | outcome | peak MB | seconds |",
        "|---|---|---|---|---|",
        *rows,
        END,
    ])
    if args.write:
        write_section(section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
