"""What the imaging core hands back, whatever the input: sizes, formats, cleanliness, placeholder."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import numpy as np
import pytest
import thumbhash
from PIL import Image, ImageFilter

from lightbox.imaging.placeholder import placeholder
from tests.images import heic, jxl_recompressed
from tests.support import close_to, decode, derivative, image_bytes, render_data


def test_every_configured_size_and_format_is_made(tmp_path: Path) -> None:
    rendition = render_data(tmp_path, image_bytes("JPEG", (3000, 2000)),
                            sizes=(64, 300, 1000), formats=("jpeg", "webp"))
    made = [(image.size, image.format, image.width, image.height) for image in rendition.images]
    assert made == [
        (1000, "jpeg", 1000, 667), (1000, "webp", 1000, 667),
        (300, "jpeg", 300, 200), (300, "webp", 300, 200),
        (64, "jpeg", 64, 43), (64, "webp", 64, 43),
    ]
    for image in rendition.images:
        decoded = decode(image.data)
        assert decoded.format == image.format.upper()
        assert decoded.size == (image.width, image.height)


def test_jpeg_derivatives_are_progressive_quality_as_configured(tmp_path: Path) -> None:
    low = render_data(tmp_path, image_bytes("PNG", (1600, 1200)), jpeg_quality=40)
    high = render_data(tmp_path, image_bytes("PNG", (1600, 1200)), jpeg_quality=95)
    assert decode(low.images[0].data).info.get("progressive") == 1
    assert len(low.images[0].data) < len(high.images[0].data)


def test_no_metadata_leaves_with_a_derivative(tmp_path: Path) -> None:
    from PIL import ImageCms

    exif = Image.Exif()
    exif[0x010F] = "Secret Camera"
    exif[0x0112] = 6
    buffer = io.BytesIO()
    Image.new("RGB", (800, 600), (90, 90, 90)).save(
        buffer, "JPEG", exif=exif, comment=b"private note",
        icc_profile=ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    rendition = render_data(tmp_path, buffer.getvalue(), formats=("jpeg", "webp"))
    for image in rendition.images:
        decoded = decode(image.data)
        assert not decoded.getexif()
        assert not {"icc_profile", "exif", "comment", "xmp"} & set(decoded.info)
        assert b"Secret Camera" not in image.data


def _with_gps(latitude: bool = True) -> Image.Exif:
    exif = Image.Exif()
    gps = exif.get_ifd(0x8825)
    gps[0x07] = (10.0, 30.0, 0.0)  # the time of the fix
    if latitude:
        gps.update({0x01: "N", 0x02: (52.0, 22.0, 1.5), 0x03: "E", 0x04: (4.0, 53.0, 2.0)})
    return exif


def _photo_with(exif: Image.Exif, fmt: str = "JPEG") -> bytes:
    picture = Image.new("RGB", (800, 600), (90, 90, 90))
    if fmt == "HEIF":
        return heic(picture, exif=exif)
    if fmt == "JXL":
        return jxl_recompressed(picture, exif=exif)
    buffer = io.BytesIO()
    picture.save(buffer, fmt, exif=exif.tobytes())
    return buffer.getvalue()


@pytest.mark.parametrize("fmt", ["JPEG", "HEIF", "JXL", "WEBP", "PNG"])
def test_where_a_photo_was_taken_is_recorded_and_never_leaves(tmp_path: Path, fmt: str) -> None:
    rendition = render_data(tmp_path, _photo_with(_with_gps(), fmt), formats=("jpeg", "webp"))

    assert rendition.info.has_location is True
    for image in rendition.images:
        assert not decode(image.data).getexif()


@pytest.mark.parametrize("exif", [Image.Exif(), _with_gps(latitude=False)],
                         ids=["no GPS", "a GPS time, no place"])
def test_a_photo_that_says_nothing_of_where_has_no_location(tmp_path: Path,
                                                            exif: Image.Exif) -> None:
    assert render_data(tmp_path, _photo_with(exif)).info.has_location is False


def test_a_small_image_keeps_its_size_in_every_derivative(tmp_path: Path) -> None:
    rendition = render_data(tmp_path, image_bytes("PNG", (120, 80)))
    assert [(i.width, i.height) for i in rendition.images] == [(120, 80), (120, 80)]


def test_a_placeholder_comes_with_every_rendition(tmp_path: Path) -> None:
    rendition = render_data(tmp_path, image_bytes("JPEG", (1200, 800)))
    assert rendition.placeholder is not None
    assert 20 <= len(base64.b64decode(rendition.placeholder)) <= 40


def blurred(width: int, height: int, seed: int) -> Image.Image:
    noise = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    return Image.fromarray(noise, "RGB").filter(ImageFilter.GaussianBlur(max(width, height) / 12))


@pytest.mark.parametrize(("width", "height", "seed"), [(100, 75, 1), (64, 100, 2), (100, 100, 3),
                                                       (37, 91, 4)])
def test_placeholders_match_an_independent_thumbhash_encoder(width: int, height: int,
                                                             seed: int) -> None:
    image = blurred(width, height, seed).convert("RGBA")
    ours = base64.b64decode(placeholder(image))
    reference = bytes(thumbhash.rgba_to_thumb_hash(width, height, list(image.tobytes())))
    assert ours == reference


def test_a_placeholder_carries_the_average_colour_and_aspect_ratio() -> None:
    image = Image.new("RGB", (1280, 853), (200, 60, 30))
    digest = list(base64.b64decode(placeholder(image)))
    assert abs(thumbhash.thumb_hash_to_approximate_aspect_ratio(digest) - 1280 / 853) < 0.3
    red, green, blue, alpha = thumbhash.thumb_hash_to_average_rgba(digest)
    assert close_to((round(red * 255), round(green * 255), round(blue * 255)), (200, 60, 30),
                    tolerance=8)
    assert alpha == 1.0


def test_a_placeholder_of_a_transparent_image_carries_its_alpha() -> None:
    image = Image.new("RGBA", (400, 400), (0, 0, 0, 0))
    image.paste((20, 200, 20, 255), (100, 100, 300, 300))  # a quarter is opaque
    digest = list(base64.b64decode(placeholder(image)))
    red, green, blue, alpha = thumbhash.thumb_hash_to_average_rgba(digest)
    assert abs(alpha - 0.25) < 0.07
    assert close_to((round(red * 255), round(green * 255), round(blue * 255)), (20, 200, 20),
                    tolerance=12)


def test_multipage_thumbnails_are_numbered_by_page(tmp_path: Path) -> None:
    rendition = render_data(tmp_path, image_bytes("TIFF", (700, 500), pages=3))
    assert sorted((i.page, i.size) for i in rendition.images) == [
        (1, 256), (1, 1280), (2, 256), (2, 1280), (3, 256), (3, 1280)
    ]
    assert derivative(rendition, 256, page=3).size == (256, 183)
