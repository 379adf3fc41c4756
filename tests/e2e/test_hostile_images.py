"""The worst of the hostile corpus (tests/hostile/corpus.py) uploaded through the local stack.

Each fails with its reason on the asset, and the thumbnail workers live on to render the next
photograph: a file that crashed, hung or starved a worker would leave it ``processing``.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.e2e.conftest import Client
from tests.e2e.test_api import unique_image
from tests.hostile import corpus

pytestmark = pytest.mark.e2e

# Generous: a worker renders each of these in well under a second (docs/BENCHMARKS.md), but
# the large lane's workers and a busy CI machine both take their time.
SETTLE_SECONDS = 120


def case(build: Callable[[], bytes], filename: str, content_type: str, reason: str) -> object:
    return pytest.param(build, filename, content_type, reason, id=build.__name__)


@pytest.mark.parametrize(("build", "filename", "content_type", "reason"), [
    case(corpus.png_declaring_100000_by_100000, "huge.png", "image/png",
     "the image is 100000×100000 pixels over the limit of 250,000,000 pixels"),
    case(corpus.png_deflate_bomb_over_the_pixel_limit, "bomb.png", "image/png",
     "the image is 50000×50000 pixels over the limit of 250,000,000 pixels"),
    case(corpus.png_with_a_ztxt_bomb, "text-bomb.png", "image/png",
     "Decompressed data too large"),
    case(corpus.tiff_with_an_ifd_pointing_to_itself, "loop.tif", "image/tiff",
     "the TIFF's chain of images loops"),
    case(corpus.tiff_with_100000_ifds, "pages.tif", "image/tiff",
     "the TIFF holds more than 10,000 images"),
    case(corpus.tiff_deflate_bomb_in_a_strip, "bomb.tif", "image/tiff",
     "page 1 of the TIFF is corrupt"),
    case(corpus.jpeg_with_flipped_scan_data, "corrupt.jpg", "image/jpeg",
     "the image data is corrupt"),
    case(corpus.progressive_jpeg_declaring_65500_by_65500, "huge.jpg", "image/jpeg",
     "the image is 65500×65500 pixels over the limit of 250,000,000 pixels"),
    case(corpus.pdf_encrypted, "locked.pdf", "application/pdf",
     "the PDF is encrypted: it opens only with a password"),
    case(corpus.pdf_cut_in_half, "cut.pdf", "application/pdf",
     "the PDF is corrupt or truncated: pdfium cannot read it"),
    case(corpus.pdf_with_a_deflate_bomb_as_its_content, "bomb.pdf", "application/pdf",
     "page 1 of the PDF could not be rendered: pdfium stopped"),
    case(corpus.dng_declaring_20000_by_20000, "huge.dng", "image/x-adobe-dng",
     "the image is 20000×20000 pixels over the limit of 250,000,000 pixels"),
    case(corpus.dng_cut_in_half, "cut.dng", "image/x-adobe-dng",
     "the RAW file is truncated"),
    case(corpus.clip_cut_before_its_index, "cut.mp4", "video/mp4",
     "the clip's index cannot be read: it is missing (the file was cut short) or corrupt"),
    case(corpus.clip_claiming_three_days, "days.mp4", "video/mp4",
     "the clip claims to last 72.0 hours, over the limit of 12.0 hours"),
    case(corpus.clip_with_10000_streams, "streams.mp4", "video/mp4",
     "declares more than 64 streams"),
])
def test_a_hostile_image_fails_with_its_reason(client: Client, build: Callable[[], bytes],
                                               filename: str, content_type: str,
                                               reason: str) -> None:
    asset_id = client.upload(filename, content_type, build())
    asset = client.wait_until_settled(asset_id, timeout=SETTLE_SECONDS)
    assert asset["status"] == "failed", asset
    assert reason in asset["error"], asset["error"]
    assert asset["thumbnails"] == []


def test_the_workers_still_render_a_photograph_after_the_hostile_images(client: Client) -> None:
    asset_id = client.upload("after.jpg", "image/jpeg", unique_image("JPEG", (1600, 1200)))
    asset = client.wait_until_settled(asset_id, timeout=SETTLE_SECONDS)
    assert asset["status"] == "ready", asset["error"]
