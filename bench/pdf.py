"""A 20-page PDF: what Lightbox pays per page against pdfium rendering that page alone.

    .venv/bin/python bench/pdf.py [--runs 5]

Three figures per page, each the median of the runs: bare pypdfium2 in this process (the page
opened and rendered at the scale the largest thumbnail needs, as ``page.render(scale=...)``);
Lightbox's ``PdfSource.decode`` (the same render in the renderer process, the pixels sent
over its pipe); and the whole pipeline (``render``: every size encoded), per page. The
document's pages are photographs of 2480×3508 pixels (A4 at 300 dpi) as Pillow writes them.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "functions"))
from thumbnails import photo  # noqa: E402 - bench/thumbnails.py

from lightbox.domain import RenderSpec  # noqa: E402
from lightbox.imaging.pdf_source import PdfSource  # noqa: E402
from lightbox.imaging.render import render  # noqa: E402

PAGES = 20
TARGET = 1280
SPEC = RenderSpec(sizes=(256, TARGET), jpeg_quality=85, max_pixels=250_000_000, max_pages=PAGES)


def document(path: Path) -> None:
    page = photo(2480, 3508)
    page.save(path, "PDF", resolution=300, quality=90, save_all=True,
              append_images=[page] * (PAGES - 1))


def bare(path: Path) -> float:
    import pypdfium2 as pdfium

    started = time.perf_counter()
    pdf = pdfium.PdfDocument(path)
    for index in range(PAGES):
        page = pdf[index]
        width, height = page.get_size()
        bitmap = page.render(scale=TARGET / max(width, height),
                             fill_color=(255, 255, 255, 255), rev_byteorder=True)
        bitmap.to_pil()
        bitmap.close()
        page.close()
    pdf.close()
    return (time.perf_counter() - started) / PAGES


def lightbox_decode(path: Path) -> float:
    started = time.perf_counter()
    source = PdfSource(path, SPEC)
    for index in range(PAGES):
        source.decode(index, TARGET)
    source.close()
    return (time.perf_counter() - started) / PAGES


def lightbox_pipeline(path: Path) -> float:
    started = time.perf_counter()
    render(path, SPEC)
    return (time.perf_counter() - started) / PAGES


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "twenty.pdf"
        document(path)
        print(f"{PAGES} pages, {path.stat().st_size / 1e6:.1f} MB, rendered to {TARGET} px")
        measures = (("bare pdfium", bare), ("PdfSource.decode", lightbox_decode),
                    ("render (all sizes)", lightbox_pipeline))
        figures = {name: statistics.median(measure(path) for _ in range(runs)) * 1000
                   for name, measure in measures}
    for name, ms in figures.items():
        print(f"{name:20} {ms:7.1f} ms per page")
    print(f"decode / bare: {figures['PdfSource.decode'] / figures['bare pdfium']:.2f}×")


if __name__ == "__main__":
    main()
