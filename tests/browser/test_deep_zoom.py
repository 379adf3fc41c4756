"""A 20,000-pixel scan in the viewer: shown from its IIIF level-0 tiles with OpenSeadragon,
zoomed until its fine print, too small to see when the scan fits the screen, can be read."""

from __future__ import annotations

import io
import re
import time
from urllib.parse import urlsplit

import pytest
from PIL import Image, ImageDraw, ImageFont
from playwright.sync_api import expect

from tests.browser.gallery import SETTLE_MS, Gallery

pytestmark = pytest.mark.e2e

WIDTH, HEIGHT = 20_000, 1_400
FINE_PRINT = "Baptised 14 July 1894, Mary Ann, daughter of Thomas Hale, mariner"


def long_scan() -> bytes:
    """A strip of a register 20,000 pixels wide: ruled lines, and a line of small print at its
    centre, 16 pixels high."""
    page = Image.new("L", (WIDTH, HEIGHT), 236)
    draw = ImageDraw.Draw(page)
    for y in range(40, HEIGHT, 120):
        draw.line((0, y, WIDTH, y), fill=150, width=3)
    font = ImageFont.load_default(size=16)
    draw.text((WIDTH / 2, HEIGHT / 2), FINE_PRINT, fill=20, font=font, anchor="mm")
    buffer = io.BytesIO()
    page.save(buffer, "TIFF", compression="tiff_lzw")
    return buffer.getvalue()


def dark_share(png: bytes) -> float:
    """The share of the picture's centre (where the fine print is) that is near black."""
    image = Image.open(io.BytesIO(png)).convert("L")
    width, height = image.size
    centre = image.crop((width // 2 - 200, height // 2 - 30, width // 2 + 200, height // 2 + 30))
    histogram = centre.histogram()
    return sum(histogram[:80]) / (centre.width * centre.height)


def test_a_20000_pixel_scan_zooms_from_its_tiles_until_its_fine_print_reads(gallery: Gallery) -> None:
    asset_id = gallery.api.upload("register-1894.tif", "image/tiff", long_scan())
    asset = gallery.api.wait_until_settled(asset_id, timeout=180)
    assert asset["status"] == "ready" and asset["width"] == WIDTH
    assert asset["tiles"] is not None, "a scan this large has tiles"
    gallery.sign_in()
    gallery.signed_in()
    viewer = gallery.open_viewer("register-1894.tif")
    deep = viewer.get_by_role("img", name=f"register-1894.tif, {WIDTH} × {HEIGHT} px, zoomable")
    expect(deep).to_be_visible()
    expect(deep.locator("canvas")).to_be_visible()
    level = viewer.locator("#zoom-level")
    expect(level).not_to_have_text("0%", timeout=SETTLE_MS)
    gallery.page.wait_for_load_state("networkidle")
    # The whole strip fits: the print is a grey smudge, if anything.
    assert dark_share(deep.screenshot()) < 0.002
    gallery.expect_accessible()

    zoom_in = viewer.get_by_role("button", name="Zoom in")
    for _ in range(12):
        if int(level.inner_text().rstrip("%")) >= 100:
            break
        zoom_in.click()
        # OpenSeadragon animates each step.
        gallery.page.wait_for_timeout(400)
    assert int(level.inner_text().rstrip("%")) >= 100
    deadline = time.monotonic() + SETTLE_MS / 1000
    while dark_share(shot := deep.screenshot()) < 0.02 and time.monotonic() < deadline:
        gallery.page.wait_for_timeout(250)
    (gallery.artifacts / "fine-print.png").parent.mkdir(parents=True, exist_ok=True)
    (gallery.artifacts / "fine-print.png").write_bytes(shot)
    assert dark_share(shot) >= 0.02, "the fine print is not drawn at full size"

    # Tiles at the scan's own resolution were asked for: a region drawn at its own width.
    full_size = [request.url for request in gallery.requests_to("GET", r"/v1/tiles/")
                 if (match := re.search(r"/(\d+),(\d+),(\d+),(\d+)/(\d+),\d*/0/default\.", urlsplit(request.url).path))
                 and match.group(3) == match.group(5)]
    assert full_size, [request.url for request in gallery.requests_to("GET", r"/v1/tiles/")]
