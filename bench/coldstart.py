"""Cold start of each function: importing its handler module, then building its clients.

Each sample is a fresh interpreter, as a new Lambda execution environment is. No network is
touched: each function builds what its first request needs — presign and listing sign a URL
(they never create an S3 client for that), the others create their S3 (and SQS) clients
without calling them — and the database connects lazily.

    .venv/bin/python bench/coldstart.py [--runs 15]
    .venv/bin/python bench/coldstart.py --build .build/dev --python python3.12 [--strip-bytecode]

With --build, each function runs from the package deploy.sh built for it, isolated from
everything else installed and unable to write bytecode (Lambda's disk is read-only);
--strip-bytecode runs a copy without the compiled files, to show what they save.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

FUNCTIONS = Path(__file__).resolve().parents[1] / "functions"
HEAVY = ("PIL", "numpy", "tifffile")

# What each function's first request builds, as statements on its ``container``.
FIRST_REQUEST = {
    "presign": "container.assets; container.storage.presign_put("
               "'k', content_type='image/jpeg', size_bytes=1, expires_in=60)",
    "upload_complete": "container.assets; container.jobs; container.storage._client",
    "library": "container.assets; container.storage.presign_get('k', expires_in=60)",
    "thumbnail": "container.assets; container.storage._client; container.render",
}

PROBE = """
import time
started = time.perf_counter()
import json, sys
sys.path.insert(0, sys.argv[1])
module = __import__(sys.argv[2])
imported = time.perf_counter()
exec(sys.argv[3], {"container": module.container})
built = time.perf_counter()
print(json.dumps({
    "import_ms": (imported - started) * 1000,
    "clients_ms": (built - imported) * 1000,
    "heavy": sorted(m for m in ("PIL", "numpy", "tifffile") if m in sys.modules),
}))
"""

ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "DATABASE_URL": "postgresql://bench@127.0.0.1:1/bench",
    "LIGHTBOX_BUCKET": "bench",
    "LIGHTBOX_THUMBNAIL_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/000000000000/bench",
}


# The package deploy.sh builds for each function (template.yaml's Metadata.Package).
PACKAGES = {"presign": "api", "upload_complete": "api", "library": "api", "thumbnail": "imaging"}


def sample(function: str, python: str, code: Path, isolated: bool) -> dict[str, object]:
    env = {"PATH": os.environ["PATH"], **ENVIRONMENT}
    flags = ["-I", "-S", "-B"] if isolated else []
    output = subprocess.run(
        [python, *flags, "-c", PROBE, str(code), function, FIRST_REQUEST[function]],
        check=True, capture_output=True, text=True, env=env,
    ).stdout
    result: dict[str, object] = json.loads(output)
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--build", type=Path, help="a deploy build directory (.build/dev)")
    parser.add_argument("--python", default=sys.executable, help="the interpreter to run")
    parser.add_argument("--strip-bytecode", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        packages = args.build / "packages" if args.build else None
        if packages and args.strip_bytecode:
            packages = _without_bytecode(packages, Path(scratch))
        _report(args.runs, args.python, packages)


def _report(runs_per_function: int, python: str, packages: Path | None) -> None:
    version = subprocess.run([python, "-c", "import sys; print(sys.version.split()[0])"],
                             check=True, capture_output=True, text=True).stdout.strip()
    where = f"from {packages}" if packages else "from functions/ with the venv"
    print(f"Python {version}, {where}, {runs_per_function} fresh interpreters per function, "
          "median (p90) in ms\n")
    print(f"| function | import | + clients | total | loads {'/'.join(HEAVY)} at first use |")
    print("|---|---|---|---|---|")
    for function in FIRST_REQUEST:
        code = packages / PACKAGES[function] if packages else FUNCTIONS
        sample(function, python, code, packages is not None)  # warms the file cache (and
        # compiles functions/ once: deploy builds ship bytecode)
        runs = [sample(function, python, code, packages is not None)
                for _ in range(runs_per_function)]
        imports = [float(r["import_ms"]) for r in runs]  # type: ignore[arg-type]
        clients = [float(r["clients_ms"]) for r in runs]  # type: ignore[arg-type]
        totals = [i + c for i, c in zip(imports, clients, strict=True)]
        heavy = runs[0]["heavy"]
        print(f"| {function} | {_stat(imports)} | {_stat(clients)} | {_stat(totals)} | "
              f"{', '.join(heavy) if heavy else 'no'} |")  # type: ignore[arg-type]


def _without_bytecode(packages: Path, scratch: Path) -> Path:
    copy = scratch / "packages"
    shutil.copytree(packages, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def _stat(values: list[float]) -> str:
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))]
    return f"{statistics.median(values):.0f} ({p90:.0f})"


if __name__ == "__main__":
    main()
