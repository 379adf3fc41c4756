"""The imaging core on files generated here, each checked by decoding what it returns."""

import io
from pathlib import Path

import pytest
from PIL import Image

from lightbox.domain import RenderSpec
from lightbox.errors import ImageError
from lightbox.imaging import render
from tests.support import decode, image_bytes, pattern

SPEC = RenderSpec(sizes=(256, 1280), jpeg_quality=85, max_pixels=50_000_000)


def write(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "original"
    path.write_bytes(data)
    return path


def sizes(rendition_images) -> list[tuple[int, int, int]]:  # type: ignore[no-untyped-def]
    return [(image.size, image.width, image.height) for image in rendition_images]


@pytest.mark.parametrize(
    ("fmt", "mode", "save_args"),
    [
        ("JPEG", "RGB", {}),
        ("JPEG", "RGB", {"progressive": True}),
        ("JPEG", "L", {}),
        ("JPEG", "CMYK", {}),
        ("PNG", "RGB", {}),
        ("PNG", "RGBA", {}),
        ("PNG", "P", {}),
        ("TIFF", "RGB", {"compression": "tiff_lzw"}),
        ("TIFF", "L", {}),
    ],
)
def test_each_size_fits_the_longest_side(tmp_path: Path, fmt: str, mode: str,
                                         save_args: dict[str, object]) -> None:
    rendition = render(write(tmp_path, image_bytes(fmt, (3000, 2000), mode, **save_args)), SPEC)

    assert (rendition.info.width, rendition.info.height) == (3000, 2000)
    assert sizes(rendition.images) == [(1280, 1280, 853), (256, 256, 171)]
    for image in rendition.images:
        decoded = decode(image.data)
        assert decoded.format == "JPEG"
        assert decoded.mode in ("RGB", "L")
        assert decoded.size == (image.width, image.height)


def test_never_upscales(tmp_path: Path) -> None:
    rendition = render(write(tmp_path, image_bytes("PNG", (300, 200))), SPEC)
    assert sizes(rendition.images) == [(1280, 300, 200), (256, 256, 171)]


@pytest.mark.parametrize("orientation", [6, 8])
def test_exif_orientation_is_applied_and_reported(tmp_path: Path, orientation: int) -> None:
    rendition = render(write(tmp_path, image_bytes("JPEG", (1200, 800), orientation=orientation)),
                       SPEC)
    assert rendition.info.orientation == orientation
    assert (rendition.info.width, rendition.info.height) == (800, 1200)
    assert sizes(rendition.images)[0] == (1280, 800, 1200)


def test_alpha_is_flattened_on_white(tmp_path: Path) -> None:
    transparent = Image.new("RGBA", (400, 400), (0, 0, 0, 0))
    buffer = io.BytesIO()
    transparent.save(buffer, "PNG")
    rendition = render(write(tmp_path, buffer.getvalue()), SPEC)
    corner = decode(rendition.images[0].data).convert("RGB").getpixel((0, 0))
    assert all(channel > 250 for channel in corner)  # type: ignore[union-attr]


def test_sixteen_bit_greyscale_keeps_its_tones(tmp_path: Path) -> None:
    ramp = Image.linear_gradient("L").resize((512, 512)).convert("I").point(lambda v: v * 257)
    buffer = io.BytesIO()
    ramp.convert("I;16").save(buffer, "PNG")
    rendition = render(write(tmp_path, buffer.getvalue()), SPEC)

    assert rendition.info.bit_depth == 16
    thumbnail = decode(rendition.images[-1].data)
    top, bottom = thumbnail.getpixel((128, 2)), thumbnail.getpixel((128, 253))
    assert top < 10 and bottom > 245  # type: ignore[operator]


def test_a_multipage_tiff_reports_its_pages(tmp_path: Path) -> None:
    rendition = render(write(tmp_path, image_bytes("TIFF", (600, 400), pages=3)), SPEC)
    assert rendition.info.pages == 3


def test_exif_date_and_camera_are_recorded(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x010F] = "Lightbox Camera Co."
    exif[0x0110] = "LX-1\x00"
    exif.get_ifd(0x8769)[0x9003] = "2026:07:14 18:30:05"
    buffer = io.BytesIO()
    pattern((640, 480)).save(buffer, "JPEG", exif=exif)
    info = render(write(tmp_path, buffer.getvalue()), SPEC).info

    assert info.camera_make == "Lightbox Camera Co."
    assert info.camera_model == "LX-1"
    assert info.taken_at is not None and info.taken_at.isoformat() == "2026-07-14T18:30:05"


def test_outputs_carry_no_metadata(tmp_path: Path) -> None:
    data = image_bytes("JPEG", (800, 600), orientation=6)
    for image in render(write(tmp_path, data), SPEC).images:
        decoded = decode(image.data)
        assert not decoded.getexif()
        assert "icc_profile" not in decoded.info


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "not an image Lightbox can read"),
        (b"%PDF-1.4 not an image", "not an image Lightbox can read"),
        (image_bytes("JPEG", (800, 600))[:2000], "corrupt or truncated"),
        (image_bytes("PNG", (800, 600))[:300], "corrupt"),
    ],
)
def test_what_cannot_be_decoded_is_an_image_error(tmp_path: Path, data: bytes, message: str) -> None:
    with pytest.raises(ImageError, match=message):
        render(write(tmp_path, data), SPEC)


def test_an_image_over_the_pixel_limit_is_refused_before_decoding(tmp_path: Path) -> None:
    small_limit = RenderSpec(sizes=(256,), jpeg_quality=85, max_pixels=1_000_000)
    with pytest.raises(ImageError, match="too large"):
        render(write(tmp_path, image_bytes("PNG", (2000, 2000))), small_limit)
    assert Image.MAX_IMAGE_PIXELS != 1_000_000  # the limit does not leak to other callers
