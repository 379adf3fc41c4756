"""The README's screenshots, made from a real library. They go with the test's other
artifacts; ``LIGHTBOX_SCREENSHOTS=docs/screenshots .venv/bin/python -m pytest tests/browser -k
screenshots`` writes them over the README's.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from PIL import Image, ImageOps
from playwright.sync_api import expect

from tests.browser.gallery import SETTLE_MS, Gallery
from tests.browser.pictures import landscape, scan
from tests.browser.test_timeline import SHAPES, upload_dated
from tests.conftest import REPO

pytestmark = pytest.mark.e2e

TARGET = os.environ.get("LIGHTBOX_SCREENSHOTS")
PHOTOS = ["coast-at-dusk.jpg", "IMG_2041.jpg", "ridge-line.jpg", "harbour.jpg", "IMG_2047.jpg",
          "first-snow.jpg", "valley-morning.jpg", "IMG_2052.jpg", "lagoon.jpg", "dunes.jpg",
          "IMG_2060.jpg", "pass-road.jpg", "IMG_2066.jpg", "estuary.jpg", "late-light.jpg",
          "IMG_2071.jpg", "moor.jpg"]
SCAN = "parish-register-1894.tif"
# Committed files stay small.
MAX_BYTES = 200_000


def test_screenshots_for_the_readme(gallery: Gallery) -> None:
    target = REPO / TARGET if TARGET else gallery.artifacts
    # Photos from two summers, and a scan uploaded today.
    upload_dated(gallery.api, [
        (name, landscape(900 + n, SHAPES[n % len(SHAPES)]),
         f"{2023 - n // 9}-{8 - n % 9 // 5:02d}-{28 - n % 9 * 3:02d}T10:00:00Z")
        for n, name in enumerate(PHOTOS)])
    gallery.sign_in()
    gallery.signed_in()
    gallery.choose((SCAN, "image/tiff", scan(4, seed=900)))
    for name in [SCAN, *PHOTOS[:12]]:
        expect(gallery.badge(name)).to_have_text("Ready", timeout=SETTLE_MS)
        gallery.wait_for_thumbnail(name)
    gallery.page.get_by_role("button", name="Clear finished").click()
    gallery.page.mouse.move(0, 799)
    _save(gallery.page.screenshot(), target / "gallery.png")

    viewer = gallery.open_viewer(SCAN)
    gallery.natural_width(viewer.get_by_role("img", name=f"{SCAN}, page 1 of 4"))
    for image in viewer.locator("#page-list img").all():
        gallery.natural_width(image)
    _save(gallery.page.screenshot(), target / "viewer.png")
    gallery.page.keyboard.press("Escape")

    # On a phone: narrow rows, the same timeline.
    gallery.page.set_viewport_size({"width": 390, "height": 844})
    gallery.page.evaluate("window.scrollTo(0, 0)")
    for name in PHOTOS[:6]:
        gallery.wait_for_thumbnail(name)
    _save(gallery.page.screenshot(), target / "phone.png")


def _save(png: bytes, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.open(io.BytesIO(png)).convert("RGB")
    # Fewer shades per channel compress better and, unlike a 256-colour palette, keep the
    # skies' gradients smooth.
    for bits in (8, 6, 5, 4):
        ImageOps.posterize(image, bits).save(path, optimize=True)
        if path.stat().st_size <= MAX_BYTES:
            return
    raise AssertionError(f"{path} is {path.stat().st_size} bytes, over {MAX_BYTES}")
