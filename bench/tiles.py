"""Deep-zoom tiles of a large scan: time and peak memory of the imaging core alone.

    ./dev.sh bench tiles [--width 20000] [--height 14000] [--write]

The scan is generated once into ``.bench/corpus``: an RGB TIFF of uncompressed strips, as a
flatbed scanner writes one, of photo-like texture under lines of fine print. A fresh process
opens it, decodes its page at full size and makes every tile (``imaging.tiles``), as the
thumbnail function does after its thumbnails; the tiles are counted, not stored. The pixel
limit is raised to the scan's size for the run: at the default LIGHTBOX_MAX_IMAGE_PIXELS
(250 million) a 280-megapixel page gets no tiles.

Then the same tiles are PUT, as the thumbnail service stores them (``services.thumbnails``,
through the S3 adapter), into a moto S3 server of their own on loopback: one at a time, and
``TILE_UPLOADS`` at a time. With ``--write``, the tables replace the tiles section of
docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import numpy as np
import tifffile
from PIL import Image, ImageDraw

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / ".bench" / "corpus"
sys.path.insert(0, str(Path(__file__).parent))
from report import machine, write_section  # noqa: E402 - bench/report.py

START, END = "<!-- tiles:start -->", "<!-- tiles:end -->"
ROWS_PER_STRIP = 64


def scan(width: int, height: int) -> Path:
    path = CORPUS / f"scan-{width}x{height}.tif"
    if path.exists():
        return path
    CORPUS.mkdir(parents=True, exist_ok=True)
    band = _band(width)
    strips = (band[: min(ROWS_PER_STRIP, height - top)] for top in range(0, height, ROWS_PER_STRIP))
    partial = path.with_suffix(".partial")
    tifffile.imwrite(partial, data=strips, shape=(height, width, 3), dtype=np.uint8,
                     photometric="rgb", rowsperstrip=ROWS_PER_STRIP, resolution=(600, 600))
    partial.rename(path)
    return path


def _band(width: int) -> np.ndarray:
    """A strip of texture and 9-pixel print, repeated down the page."""
    rng = np.random.default_rng(3)
    texture = rng.integers(150, 256, (ROWS_PER_STRIP, width, 3), dtype=np.uint8)
    picture = Image.fromarray(texture, "RGB")
    draw = ImageDraw.Draw(picture)
    for top in range(4, ROWS_PER_STRIP - 10, 16):
        draw.text((8, top), "Lightbox deep zoom fine print 0123456789 " * (width // 250),
                  fill=(0, 0, 0))
    return np.asarray(picture)


def measure(path: Path) -> dict[str, float]:
    """Tile the scan in a process of its own; its wall time and peak resident memory."""
    code = f"""
import json, resource, time
from pathlib import Path
from lightbox.domain import RenderSpec
from lightbox.imaging.render import open_source
from lightbox.imaging.tiles import tile_images
path = Path({str(path)!r})
started = time.perf_counter()
spec = RenderSpec(sizes=(256, 1280), jpeg_quality=85, max_pixels=10**9)
source = open_source(path, spec)
info = source.info
pyramid = spec.pyramid(info.width, info.height)
page = source.decode(0, max(info.width, info.height))
decoded = time.perf_counter() - started
count = size = 0
for tile, data in tile_images(page, pyramid, spec):
    count += 1
    size += len(data)
print(json.dumps({{"seconds": time.perf_counter() - started, "decode": decoded, "tiles": count,
                  "mib": size / 2**20,
                  "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""
    result = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True,
                            text=True, cwd=REPO / "functions")
    if result.returncode:
        raise SystemExit(f"tiling failed:\n{result.stderr}")
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def measure_uploads(path: Path) -> dict[int, float]:
    """Seconds to PUT every tile of the scan into a moto server, by uploads at once."""
    code = f"""
import json, socket, subprocess, sys, time, uuid
from datetime import UTC, datetime
from pathlib import Path
from botocore.config import Config as BotoConfig
from botocore.session import Session
from lightbox.adapters.s3 import S3ObjectStore, S3UrlSigner
from lightbox.domain import Asset, RenderSpec, Status
from lightbox.imaging.render import open_source
from lightbox.imaging.tiles import tile_images
from lightbox.services import thumbnails

spec = RenderSpec(sizes=(256, 1280), jpeg_quality=85, max_pixels=10**9)
source = open_source(Path({str(path)!r}), spec)
page = source.decode(0, max(source.info.width, source.info.height))
tiles = list(tile_images(page, spec.pyramid(source.info.width, source.info.height), spec))
del page
source.close()
with socket.socket() as probe:
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p",
                           str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
try:
    session = Session()
    session.set_credentials("bench", "bench")
    endpoint = f"http://127.0.0.1:{{port}}"
    client = session.create_client("s3", region_name="us-east-1", endpoint_url=endpoint,
                                   config=BotoConfig(s3={{"addressing_style": "path"}}))
    for _ in range(100):
        try:
            client.create_bucket(Bucket="bench")
            break
        except Exception:
            time.sleep(0.1)
    signer = S3UrlSigner(session, "bench", endpoint_url=endpoint, path_style=True)
    store = S3ObjectStore(lambda: client, "bench", signer=signer)
    now = datetime.now(UTC)
    seconds = {{}}
    for uploads in (1, thumbnails.TILE_UPLOADS):
        thumbnails.TILE_UPLOADS = uploads
        asset = Asset(id=uuid.uuid4(), owner_id="bench", status=Status.PROCESSING,
                      filename="scan.tif", content_type="image/tiff", size_bytes=0,
                      created_at=now, updated_at=now)
        started = time.perf_counter()
        thumbnails._put_each(asset, iter(tiles), store)
        seconds[uploads] = time.perf_counter() - started
    print(json.dumps(seconds))
finally:
    server.terminate()
    server.wait()
"""
    result = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True,
                            text=True, cwd=REPO / "functions")
    if result.returncode:
        raise SystemExit(f"storing failed:\n{result.stderr}")
    return {int(uploads): seconds
            for uploads, seconds in json.loads(result.stdout.strip().splitlines()[-1]).items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=20000)
    parser.add_argument("--height", type=int, default=14000)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    path = scan(args.width, args.height)
    found = measure(path)
    stored = measure_uploads(path)
    megapixels = args.width * args.height / 1e6
    section = "\n".join([
        START,
        "## Deep-zoom tiles of a large scan",
        "",
        f"Measured {date.today().isoformat()} on {machine()} (`./dev.sh bench tiles`): one "
        f"{args.width}×{args.height} RGB TIFF of uncompressed strips ({megapixels:.0f} MP, "
        f"{path.stat().st_size / 2**20:.0f} MiB), decoded at full size and cut into every "
        "tile of its pyramid (512 px, JPEG quality 85) in one process; tiles counted, not "
        "stored. The peak is the decode's: while a strip TIFF's page is read, tifffile's array "
        "(3 bytes a pixel) and Pillow's image made from it (4) are both held; cutting the "
        "tiles adds a level at half size, within that peak.",
        "",
        "| tiles | JPEG total | decode | decode + tiles | peak RSS |",
        "|---:|---:|---:|---:|---:|",
        f"| {found['tiles']:.0f} | {found['mib']:.0f} MiB | {found['decode']:.1f} s | "
        f"{found['seconds']:.1f} s | {found['peak_mib']:.0f} MiB |",
        "",
        "The same tiles PUT through the S3 adapter into a moto server on loopback (its own "
        "process), as the thumbnail service stores them:",
        "",
        "| uploads at once | seconds | tiles a second |",
        "|---:|---:|---:|",
        *(f"| {uploads} | {seconds:.1f} s | {found['tiles'] / seconds:.0f} |"
          for uploads, seconds in sorted(stored.items())),
        END,
    ])
    print(section)
    if args.write:
        write_section(section)


if __name__ == "__main__":
    main()
