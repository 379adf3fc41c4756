"""The Lambda packages' sizes, as the build measured them, written into the deploy guide.

    python -m infra.aws.sizes .build/dev/packages.json docs/DEPLOY.md

The build (``infra.aws.build``) leaves a manifest beside the packages: the architecture they
were built for, each package's unzipped size in bytes and the functions that run from it.
``./deploy.sh --dry-run`` renders it here as a table between the markers below, one table per
architecture, so that no size in the docs is typed by hand; tests/deploy checks that the
table the docs quote is the one the build computed.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from infra import marked

MANIFEST = "packages.json"
# The template's default architecture's table; another architecture's has markers of its own.
DEFAULT_ARCHITECTURE = "x86_64"
START = "<!-- package-sizes:start (./deploy.sh --dry-run writes this table) -->"
END = "<!-- package-sizes:end -->"
MIB = 2**20


def markers(architecture: str = DEFAULT_ARCHITECTURE) -> tuple[str, str]:
    """The start and end markers of ``architecture``'s table."""
    if architecture == DEFAULT_ARCHITECTURE:
        return START, END
    return (f"<!-- package-sizes-{architecture}:start (./deploy.sh --dry-run -p "
            f"Architecture={architecture} writes this table) -->",
            f"<!-- package-sizes-{architecture}:end -->")


def manifest(sizes: Mapping[str, int], functions: Mapping[str, str],
             limit: int, *, architecture: str) -> dict[str, Any]:
    """What the build measured: ``sizes`` by package, ``functions`` maps a function to its
    package."""
    return {
        "architecture": architecture,
        "limit_bytes": limit,
        "packages": {
            package: {"bytes": size,
                      "functions": sorted(f for f, p in functions.items() if p == package)}
            for package, size in sorted(sizes.items())
        },
    }


def table(built: Mapping[str, Any]) -> str:
    """The markdown table of a manifest, between its architecture's markers."""
    limit = built["limit_bytes"]
    start, end = markers(built["architecture"])
    rows = [f"| `{name}` | {', '.join(package['functions'])} | "
            f"{package['bytes'] / MIB:.0f} MiB | {package['bytes'] / limit:.0%} |"
            for name, package in sorted(built["packages"].items())]
    return "\n".join([
        start,
        f"| package | functions | unzipped | of the {limit / MIB:.0f} MiB limit |",
        "|---|---|---|---|",
        *rows,
        end,
    ])


def quoted(document: str, architecture: str = DEFAULT_ARCHITECTURE) -> str:
    """The table of ``architecture`` a document quotes, markers included."""
    start, end = markers(architecture)
    _, inside, _ = marked.split(document, start, end, f"{architecture} package-size")
    return start + inside + end


def with_table(document: str, built: Mapping[str, Any]) -> str:
    """The document with the quoted table of the manifest's architecture replaced by the
    manifest's."""
    start, end = markers(built["architecture"])
    before, _, after = marked.split(document, start, end, f"{built['architecture']} package-size")
    return before + table(built) + after


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.aws.sizes", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("manifest", type=Path, help=f"the build's {MANIFEST}")
    parser.add_argument("document", type=Path, help="the markdown file that quotes the table")
    options = parser.parse_args(argv)
    built = json.loads(options.manifest.read_text())
    document = options.document.read_text()
    try:
        updated = with_table(document, built)
    except ValueError as exc:
        print(f"{options.document}: {exc}", file=sys.stderr)
        return 1
    if updated == document:
        print(f"==> {options.document}: the package sizes it quotes are the build's")
    else:
        options.document.write_text(updated)
        print(f"==> {options.document}: package sizes updated from {options.manifest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
