"""Thumbnail engines on a generated corpus: Lightbox, the tutorial Pillow pipeline and libvips.

    ./dev.sh bench thumbnails [--runs 5] [--only NAME] [--write]

Every measurement runs in a fresh process (libraries imported before the clock starts): the
median wall time of the work, from the path of the original to the encoded JPEGs, and the
peak resident memory of that process. libvips is measured when pyvips can load it (Debian:
``apt install libvips42``). The corpus is generated once into ``.bench/corpus``. With
``--write``, the tables replace the thumbnails section of docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageFilter

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / ".bench" / "corpus"
OUTPUT = REPO / ".bench" / "output"
from report import machine, peak_mb, write_section  # noqa: E402 - bench/report.py

SIZES = (256, 1280)
QUALITY = 85
START, END = "<!-- thumbnails:start -->", "<!-- thumbnails:end -->"


# --- the corpus ---------------------------------------------------------------------------

def texture(side: int = 2048, seed: int = 7) -> Image.Image:
    """Photo-like content: soft shapes, edges and grain, so that codecs work as on photos."""
    rng = np.random.default_rng(seed)
    coarse = Image.fromarray(rng.integers(0, 256, (12, 12, 3), dtype=np.uint8), "RGB")
    base = np.asarray(coarse.resize((side, side), Image.Resampling.BICUBIC), np.int16)
    shapes = Image.fromarray(rng.integers(0, 256, (side // 16, side // 16, 3), dtype=np.uint8))
    detail = np.asarray(shapes.resize((side, side), Image.Resampling.NEAREST)
                        .filter(ImageFilter.GaussianBlur(3)), np.int16)
    grain = rng.normal(0, 6, (side, side, 3))
    pixels = np.clip(base * 0.7 + detail * 0.3 + grain, 0, 255).astype(np.uint8)
    return Image.fromarray(pixels, "RGB")


def photo(width: int, height: int) -> Image.Image:
    tile = texture()
    canvas = Image.new("RGB", (width, height))
    for top in range(0, height, tile.height):
        for left in range(0, width, tile.width):
            mirrored = (left // tile.width) % 2
            canvas.paste(tile.transpose(Image.Transpose.FLIP_LEFT_RIGHT) if mirrored else tile,
                         (left, top))
    return canvas


def save_jpeg(path: Path, image: Image.Image, **options: Any) -> None:
    image.save(path, "JPEG", quality=90, **options)


def rotated_jpeg(path: Path) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6
    save_jpeg(path, photo(6000, 4000).transpose(Image.Transpose.ROTATE_90), exif=exif)


def heic(path: Path) -> None:
    import pillow_heif  # its x265 encoder makes the file; Lightbox reads it with pi-heif

    pillow_heif.from_pillow(photo(4032, 3024)).save(path, format="HEIF", quality=85)


def jxl(path: Path) -> None:
    import imagecodecs  # libjxl's encoder, at cjxl's default distance

    path.write_bytes(imagecodecs.jpegxl_encode(np.asarray(photo(4032, 3024)), distance=1.0))


def raw_dng(path: Path, *, preview: bool) -> None:
    # The tests' DNG writers (PiDNG, and tifffile to the DNG specification with a JPEG preview).
    sys.path[:0] = [str(REPO), str(REPO / "functions")]
    from tests.images import dng, pidng_dng

    image = photo(6000, 4000)
    path.write_bytes(dng(image, preview=image) if preview else pidng_dng(image))


def rgba_png(path: Path) -> None:
    image = photo(6000, 4000)
    alpha = Image.linear_gradient("L").resize(image.size)
    image.putalpha(alpha)
    image.save(path, "PNG")


def sixteen_bit_tiff(path: Path) -> None:
    import tifffile

    pixels = np.asarray(photo(6000, 4000), np.uint16) * 257
    tifffile.imwrite(path, pixels, photometric="rgb", metadata=None)


def five_page_tiff(path: Path) -> None:
    import tifffile

    pages = [np.asarray(photo(3000, 2000).rotate(90 * n, expand=False)) for n in range(5)]
    with tifffile.TiffWriter(path) as writer:
        for page in pages:
            writer.write(page, photometric="rgb", compression="lzw", metadata=None)


def _bands(side: int, rows: int, scale: int = 1) -> Iterator[np.ndarray]:
    # Level n of a pyramid is level 0 halved n times: the texture, halved, tiled alike.
    base = texture()
    tile = np.asarray(base.resize((base.width // scale, base.height // scale),
                                  Image.Resampling.LANCZOS))
    repeat = -(-side // tile.shape[1])
    row = np.concatenate([tile] * repeat, axis=1)[:, :side]
    for top in range(0, side, rows):
        band = row[np.arange(top, min(side, top + rows)) % tile.shape[0]]
        yield band


def huge_strip_tiff(path: Path) -> None:
    import tifffile

    side = 20000
    with tifffile.TiffWriter(path, bigtiff=True) as writer:
        writer.write(_bands(side, 512), shape=(side, side, 3), dtype=np.uint8,
                     photometric="rgb", metadata=None)


def huge_pyramid_tiff(path: Path) -> None:
    import tifffile

    side, tile = 20000, 512
    levels = []
    while side >= 1000:
        levels.append(side)
        side //= 2

    def tiles(level_side: int, scale: int) -> Iterator[np.ndarray]:
        for band in _bands(level_side, tile, scale):
            for left in range(0, level_side, tile):
                yield band[:, left:left + tile]

    with tifffile.TiffWriter(path, bigtiff=True) as writer:
        for index, level_side in enumerate(levels):
            options: dict[str, Any] = {"subifds": len(levels) - 1} if index == 0 else {
                "subfiletype": 1}
            writer.write(tiles(level_side, 2**index), shape=(level_side, level_side, 3),
                         dtype=np.uint8, photometric="rgb", tile=(tile, tile),
                         compression="jpeg", compressionargs={"level": 90}, metadata=None,
                         **options)


@dataclass(frozen=True)
class Case:
    name: str
    filename: str
    make: Callable[[Path], None]
    runs: int = 5


CASES = [
    Case("JPEG 12 MP baseline", "12mp.jpg", lambda p: save_jpeg(p, photo(4000, 3000))),
    Case("JPEG 24 MP baseline", "24mp.jpg", lambda p: save_jpeg(p, photo(6000, 4000))),
    Case("JPEG 48 MP baseline", "48mp.jpg", lambda p: save_jpeg(p, photo(8000, 6000))),
    Case("JPEG 12 MP progressive", "12mp-progressive.jpg",
         lambda p: save_jpeg(p, photo(4000, 3000), progressive=True)),
    Case("JPEG 24 MP progressive", "24mp-progressive.jpg",
         lambda p: save_jpeg(p, photo(6000, 4000), progressive=True)),
    Case("JPEG 48 MP progressive", "48mp-progressive.jpg",
         lambda p: save_jpeg(p, photo(8000, 6000), progressive=True)),
    Case("JPEG 24 MP EXIF-rotated", "24mp-rotated.jpg", rotated_jpeg),
    Case("JPEG 24 MP CMYK", "24mp-cmyk.jpg",
         lambda p: save_jpeg(p, photo(6000, 4000).convert("CMYK"))),
    Case("HEIC 12 MP (a phone's)", "12mp.heic", heic),
    Case("AVIF 12 MP", "12mp.avif", lambda p: photo(4032, 3024).save(p, "AVIF", quality=80)),
    Case("JPEG XL 12 MP", "12mp.jxl", jxl),
    Case("RAW: DNG 24 MP, full-size preview", "24mp-preview.dng",
         lambda p: raw_dng(p, preview=True)),
    Case("RAW: DNG 24 MP, no preview (demosaiced)", "24mp.dng",
         lambda p: raw_dng(p, preview=False)),
    Case("PNG 24 MP RGBA", "24mp-rgba.png", rgba_png),
    Case("TIFF 24 MP 16-bit RGB", "24mp-16bit.tif", sixteen_bit_tiff),
    Case("TIFF 5 pages of 6 MP, LZW", "5-pages.tif", five_page_tiff),
    Case("TIFF 20000² strips, uncompressed", "20000-strips.tif", huge_strip_tiff),
    Case("TIFF 20000² pyramid, JPEG tiles", "20000-pyramid.tif", huge_pyramid_tiff),
]


def corpus(cases: list[Case]) -> None:
    CORPUS.mkdir(parents=True, exist_ok=True)
    for case in cases:
        path = CORPUS / case.filename
        if not path.exists():
            print(f"generating {case.filename} …", file=sys.stderr, flush=True)
            partial = path.with_suffix(".partial" + path.suffix)
            case.make(partial)
            partial.rename(path)


# --- strategies, each run in a worker process -----------------------------------------------

def lightbox(path: Path, sizes: tuple[int, ...]) -> dict[int, bytes]:
    from lightbox.domain import RenderSpec
    from lightbox.imaging.render import render

    rendition = render(path, RenderSpec(sizes=sizes, jpeg_quality=QUALITY,
                                        max_pixels=250_000_000))
    return {i.size: i.data for i in rendition.images if i.page == 1 and i.format == "jpeg"}


# Lightbox renders every page of a multi-page file; so do the others here, for a fair count.
# Only the first page's output is kept, to compare quality.

def tutorial(path: Path, sizes: tuple[int, ...]) -> dict[int, bytes]:
    with Image.open(path) as probe:
        pages = getattr(probe, "n_frames", 1)
    outputs = {}
    for page in range(pages):
        for size in sizes:
            with Image.open(path) as image:
                image.seek(page)
                image.thumbnail((size, size))
                buffer = io.BytesIO()
                image.convert("RGB").save(buffer, "JPEG", quality=QUALITY, progressive=True)
                if page == 0:
                    outputs[size] = buffer.getvalue()
    return outputs


def vips(path: Path, sizes: tuple[int, ...]) -> dict[int, bytes]:
    import pyvips

    pages = pyvips.Image.new_from_file(str(path)).get_n_pages()
    outputs = {}
    for page in range(pages):
        for size in sizes:
            source = f"{path}[page={page}]" if pages > 1 else str(path)
            thumbnail = pyvips.Image.thumbnail(source, size)
            if thumbnail.hasalpha():  # JPEG has none: on white, as Lightbox does
                thumbnail = thumbnail.flatten(background=[255] * (thumbnail.bands - 1))
            data = thumbnail.jpegsave_buffer(Q=QUALITY, interlace=True, strip=True)
            if page == 0:
                outputs[size] = data
    return outputs


Strategy = Callable[[Path, tuple[int, ...]], dict[int, bytes]]
STRATEGIES: dict[str, tuple[Strategy, tuple[int, ...]]] = {
    "lightbox": (lightbox, SIZES),
    "lightbox-1280": (lightbox, (1280,)),
    "lightbox-256": (lightbox, (256,)),
    "tutorial": (tutorial, SIZES),
    "vips-1280": (vips, (1280,)),
    "vips-256": (vips, (256,)),
    # Both spread their work over every core. A Lambda of up to 1769 MB has one: each of
    # them held to one (Lightbox's process pinned to a core, libvips to one thread).
    "lightbox-1-core-1280": (lightbox, (1280,)),
    "vips-1-thread-1280": (vips, (1280,)),
}


def worker(strategy: str, path: Path) -> None:
    function, sizes = STRATEGIES[strategy]
    if strategy.startswith("lightbox"):
        if "1-core" in strategy:
            os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
        sys.path.insert(0, str(REPO / "functions"))
        # The renderer and every library it loads, before the clock starts, as pyvips' import
        # loads libvips: the package alone imports none of them.
        import lightbox.imaging.render  # noqa: F401
    elif strategy.startswith("vips"):
        import pyvips  # noqa: F401
    else:
        import pi_heif  # what a tutorial adds to read HEIC with Pillow

        pi_heif.register_heif_opener()
    started = time.perf_counter()
    try:
        outputs = function(path, sizes)
    except Exception as exc:
        print(json.dumps({"error": f"{type(exc).__name__}: {str(exc)[:120]}",
                          "peak_mb": peak_mb()}))
        return
    seconds = time.perf_counter() - started
    OUTPUT.mkdir(parents=True, exist_ok=True)
    for size, data in outputs.items():
        (OUTPUT / f"{path.stem}.{strategy}.{size}.jpg").write_bytes(data)
    print(json.dumps({"seconds": seconds, "peak_mb": peak_mb()}))


# --- measuring and reporting ----------------------------------------------------------------

@dataclass
class Measured:
    seconds: float | None
    peak_mb: float
    error: str | None = None


def measure(strategy: str, path: Path, runs: int) -> Measured:
    results = []
    env = dict(os.environ, VIPS_CONCURRENCY="1") if "1-thread" in strategy else None
    for _ in range(runs):
        output = subprocess.run([sys.executable, __file__, "--worker", strategy, str(path)],
                                check=True, capture_output=True, text=True, env=env).stdout
        results.append(json.loads(output))
        if "error" in results[-1]:
            return Measured(None, results[-1]["peak_mb"], results[-1]["error"])
    return Measured(statistics.median(r["seconds"] for r in results),
                    statistics.median(r["peak_mb"] for r in results))


def similarity(case: Case, size: int) -> tuple[float, float] | None:
    """PSNR (dB) and SSIM of Lightbox's derivative against libvips' for the same size."""
    stem = Path(case.filename).stem
    ours = OUTPUT / f"{stem}.lightbox.{size}.jpg"
    theirs = OUTPUT / f"{stem}.vips-{size}.{size}.jpg"
    if not ours.exists() or not theirs.exists():
        return None
    a = Image.open(ours).convert("RGB")
    b = Image.open(theirs).convert("RGB")
    if a.size != b.size:
        b = b.resize(a.size, Image.Resampling.LANCZOS)
    x, y = np.asarray(a, np.float64), np.asarray(b, np.float64)
    mse = float(((x - y) ** 2).mean())
    psnr = float("inf") if mse == 0 else 10 * np.log10(255**2 / mse)
    return psnr, _ssim(x.mean(axis=2), y.mean(axis=2))


def _ssim(x: np.ndarray, y: np.ndarray, window: int = 8) -> float:
    """Mean SSIM over non-overlapping windows of luminance."""
    height, width = (s - s % window for s in x.shape)

    def blocks(a: np.ndarray) -> np.ndarray:
        return a[:height, :width].reshape(height // window, window, width // window, window)

    bx, by = blocks(x), blocks(y)
    mx, my = bx.mean(axis=(1, 3)), by.mean(axis=(1, 3))
    vx, vy = bx.var(axis=(1, 3)), by.var(axis=(1, 3))
    cov = ((bx - mx[:, None, :, None]) * (by - my[:, None, :, None])).mean(axis=(1, 3))
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    ssim = ((2 * mx * my + c1) * (2 * cov + c2)) / ((mx**2 + my**2 + c1) * (vx + vy + c2))
    return float(ssim.mean())


def vips_available() -> str | None:
    try:
        import pyvips

        return f"{pyvips.version(0)}.{pyvips.version(1)}.{pyvips.version(2)}"
    except Exception:
        return None


def report(cases: list[Case], runs: int | None) -> str:
    vips_version = vips_available()
    strategies = [s for s in STRATEGIES if vips_version or not s.startswith("vips")]
    rows_time, rows_memory = [], []
    for case in cases:
        path = CORPUS / case.filename
        print(f"measuring {case.name} …", file=sys.stderr, flush=True)
        m = {s: measure(s, path, runs or case.runs) for s in strategies}
        rows_time.append(_time_row(case, m))
        rows_memory.append(_memory_row(case, m))
    return "\n".join([
        START,
        "## Thumbnails (issue 3)",
        "",
        f"`./dev.sh bench thumbnails --write`, {date.today().isoformat()}: "
        f"{_machine(vips_version)}.",
        "Median wall time in ms from the original's path to encoded JPEGs (quality 85,",
        "progressive), each measurement a fresh process with its libraries already imported.",
        "*all* is every default size (256 and 1280) from one call; the ratios divide",
        "Lightbox's time by libvips' (`pyvips.Image.thumbnail` + `jpegsave_buffer`), both",
        "on every core; the last one divides Lightbox's 1280 on one core by libvips' on one",
        "thread, as on a Lambda of up to 1,769 MB.",
        "",
        "| input | Lightbox all | vips 1280 | all ÷ vips 1280 | Lightbox 1280 | ÷ vips | "
        "Lightbox 256 | vips 256 | ÷ vips | tutorial all | 1280 on 1 core ÷ vips on 1 |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
        *rows_time,
        "",
        "Peak resident memory of the measuring process (MB; the interpreter and libraries",
        "alone take about 35 for Lightbox and the tutorial, and vips about the same), and the",
        "similarity of Lightbox's derivatives to libvips' (PSNR in dB, SSIM over 8×8 blocks).",
        "",
        "| input | Lightbox all | vips 1280 | tutorial all | PSNR 1280 | SSIM 1280 | PSNR 256 "
        "| SSIM 256 |",
        "|---|---|---|---|---|---|---|---|",
        *rows_memory,
        END,
    ])


def _ms(m: Measured | None) -> str:
    return "—" if m is None or m.seconds is None else f"{m.seconds * 1000:,.0f}"


def _ratio(a: Measured | None, b: Measured | None) -> str:
    if a is None or b is None or a.seconds is None or b.seconds is None:
        return "—"
    return f"{a.seconds / b.seconds:.2f}×"


def _time_row(case: Case, m: dict[str, Measured]) -> str:
    tutorial_cell = _ms(m["tutorial"]) if m["tutorial"].error is None else (
        f"fails: {m['tutorial'].error.split(':')[0]}")
    vips_1280, vips_256 = m.get("vips-1280"), m.get("vips-256")
    cells = [
        case.name, _ms(m["lightbox"]), _ms(vips_1280), _ratio(m["lightbox"], vips_1280),
        _ms(m["lightbox-1280"]), _ratio(m["lightbox-1280"], vips_1280),
        _ms(m["lightbox-256"]), _ms(vips_256), _ratio(m["lightbox-256"], vips_256),
        tutorial_cell, _ratio(m["lightbox-1-core-1280"], m.get("vips-1-thread-1280")),
    ]
    return "| " + " | ".join(cells) + " |"


def _memory_row(case: Case, m: dict[str, Measured]) -> str:
    quality = [similarity(case, size) for size in (1280, 256)]
    cells = [f"{q[0]:.1f} | {q[1]:.3f}" if q else "— | —" for q in quality]
    vips_peak = f"{m['vips-1280'].peak_mb:.0f}" if "vips-1280" in m else "—"
    return (f"| {case.name} | {m['lightbox'].peak_mb:.0f} | {vips_peak} | "
            f"{m['tutorial'].peak_mb:.0f} | {cells[0]} | {cells[1]} |")


def _machine(vips_version: str | None) -> str:
    import PIL
    import tifffile

    parts = [machine(), f"Pillow {PIL.__version__}", f"numpy {np.__version__}",
             f"tifffile {tifffile.__version__}",
             f"libvips {vips_version}" if vips_version else "libvips not installed"]
    return ", ".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--worker", nargs=2, metavar=("STRATEGY", "PATH"), help=argparse.SUPPRESS)
    parser.add_argument("--runs", type=int, help="runs per measurement (default: 5, 3 for huge)")
    parser.add_argument("--only", help="only the cases whose name contains this")
    parser.add_argument("--write", action="store_true", help="update docs/BENCHMARKS.md")
    args = parser.parse_args()
    if args.worker:
        worker(args.worker[0], Path(args.worker[1]))
        return
    cases = [c for c in CASES if not args.only or args.only.lower() in c.name.lower()]
    corpus(cases)
    section = report(cases, args.runs)
    print(section)
    if args.write:
        write_section(section)


if __name__ == "__main__":
    main()
