"""JPEG inputs: every one generated here, every thumbnail decoded and looked at."""

from __future__ import annotations

import io
from pathlib import Path

import imagecodecs
import numpy as np
import pytest
from PIL import Image

from lightbox.domain import Rendition
from lightbox.errors import ImageError
from tests.images import SRGB_BLUE, SRGB_GREEN, SRGB_RED, rgb_profile, two_point_cmyk_profile
from tests.support import close_to, colour_at, derivative, render_data

RED, GREEN, BLUE, WHITE = (220, 30, 30), (30, 200, 30), (30, 30, 220), (250, 250, 250)
# Where each EXIF orientation's stored pixels end up when displayed.
_DISPLAYED = {
    2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE, 8: Image.Transpose.ROTATE_90,
}
_INVERSE = {Image.Transpose.ROTATE_270: Image.Transpose.ROTATE_90,
            Image.Transpose.ROTATE_90: Image.Transpose.ROTATE_270}


def quadrants(width: int = 1200, height: int = 800) -> Image.Image:
    """Red, green / blue, white: any turn or flip shows."""
    image = Image.new("RGB", (width, height))
    half_w, half_h = width // 2, height // 2
    for colour, box in ((RED, (0, 0)), (GREEN, (half_w, 0)), (BLUE, (0, half_h)),
                        (WHITE, (half_w, half_h))):
        image.paste(colour, (*box, box[0] + half_w, box[1] + half_h))
    return image


def stored_for(orientation: int) -> Image.Image:
    """Pixels as a camera stores them for this orientation, showing ``quadrants()`` upright."""
    displayed = quadrants()
    if orientation not in _DISPLAYED:
        return displayed
    turn = _DISPLAYED[orientation]
    return displayed.transpose(_INVERSE.get(turn, turn))


def jpeg(image: Image.Image, **save: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=92, **save)
    return buffer.getvalue()


def orientation_exif(orientation: int) -> Image.Exif:
    exif = Image.Exif()
    exif[0x0112] = orientation
    return exif


def assert_upright(rendition: Rendition) -> None:
    """The original is ``quadrants()`` as displayed, and every derivative shows it upright."""
    assert (rendition.info.width, rendition.info.height) == (1200, 800)
    for size in (256, 1280):
        image = derivative(rendition, size)
        assert image.width > image.height
        assert_quadrants(image)


def assert_quadrants(image: Image.Image) -> None:
    assert close_to(colour_at(image, 0.2, 0.2), RED)
    assert close_to(colour_at(image, 0.8, 0.2), GREEN)
    assert close_to(colour_at(image, 0.2, 0.8), BLUE)
    assert close_to(colour_at(image, 0.8, 0.8), WHITE)


@pytest.mark.parametrize("progressive", [False, True], ids=["baseline", "progressive"])
def test_baseline_and_progressive(tmp_path: Path, progressive: bool) -> None:
    rendition = render_data(tmp_path, jpeg(quadrants(), progressive=progressive))
    assert (rendition.info.width, rendition.info.height) == (1200, 800)
    assert (rendition.info.bit_depth, rendition.info.color_mode) == (8, "RGB")
    for size in (256, 1280):
        assert_quadrants(derivative(rendition, size))
    assert derivative(rendition, 256).size == (256, 171)
    assert derivative(rendition, 1280).size == (1200, 800)  # never upscaled


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_comes_out_upright(tmp_path: Path, orientation: int) -> None:
    rendition = render_data(tmp_path, jpeg(stored_for(orientation),
                                           exif=orientation_exif(orientation)))

    assert rendition.info.orientation == orientation
    assert_upright(rendition)


def test_greyscale(tmp_path: Path) -> None:
    ramp = Image.linear_gradient("L").resize((1000, 600))
    rendition = render_data(tmp_path, jpeg(ramp))
    image = derivative(rendition, 256)
    assert image.mode == "L" and rendition.info.color_mode == "L"
    assert colour_at(image, 0.5, 0.02)[0] < 20 and colour_at(image, 0.5, 0.98)[0] > 235


# How a typical coated press prints solid inks, in sRGB: what CMYK without a profile becomes.
PRESS_RED, PRESS_CYAN = (214, 27, 35), (0, 151, 218)


def test_cmyk_as_photoshop_writes_it(tmp_path: Path) -> None:
    # Pillow writes CMYK JPEG as Photoshop does: inverted, flagged by an Adobe marker.
    cmyk = Image.new("CMYK", (900, 600), (0, 255, 255, 0))  # magenta + yellow: red
    rendition = render_data(tmp_path, jpeg(cmyk))
    assert rendition.info.color_mode == "CMYK"
    assert close_to(colour_at(derivative(rendition, 256), 0.5, 0.5), PRESS_RED, tolerance=10)


@pytest.mark.parametrize(("ink", "press", "naive"), [
    ((255, 0, 0, 0), PRESS_CYAN, (0, 255, 255)),
    ((0, 255, 0, 0), (216, 9, 122), (255, 0, 255)),
    ((0, 0, 255, 0), (247, 224, 0), (255, 255, 0)),
    ((0, 0, 0, 255), (39, 39, 39), (0, 0, 0)),
    ((0, 0, 0, 0), (255, 255, 255), (255, 255, 255)),
])
def test_cmyk_without_a_profile_looks_as_printed_not_neon(
    tmp_path: Path, ink: tuple[int, int, int, int], press: tuple[int, int, int],
    naive: tuple[int, int, int],
) -> None:
    colour = colour_at(derivative(render_data(tmp_path, jpeg(Image.new("CMYK", (600, 400), ink))),
                                  256), 0.5, 0.5)
    assert close_to(colour, press, tolerance=10)
    assert press == naive or not close_to(colour, naive, tolerance=20)


def test_ycck_adobe_inverted(tmp_path: Path) -> None:
    # YCCK: CMYK whose CMY went through a YCbCr transform, stored inverted (Adobe).
    cmyk = np.zeros((600, 900, 4), np.uint8)
    cmyk[..., 0] = 255  # cyan
    data = imagecodecs.jpeg8_encode(255 - cmyk, level=92, colorspace="CMYK",
                                    outcolorspace="YCCK")
    rendition = render_data(tmp_path, bytes(data))
    assert rendition.info.color_mode == "CMYK"
    assert close_to(colour_at(derivative(rendition, 256), 0.5, 0.5), PRESS_CYAN, tolerance=10)


def test_cmyk_with_a_press_profile_is_converted_through_it(tmp_path: Path) -> None:
    corners = {(c, m, y, k): (max(0.0, 100 - 25.0 * (c + m + y) - 60 * k), 0.0, 0.0)
               for c in (0, 1) for m in (0, 1) for y in (0, 1) for k in (0, 1)}
    corners[(0, 1, 1, 0)] = (50.0, 40.0, 30.0)  # this press prints a muted red
    cmyk = Image.new("CMYK", (900, 600), (0, 255, 255, 0))
    data = jpeg(cmyk, icc_profile=two_point_cmyk_profile(corners, "Test press"))
    colour = colour_at(derivative(render_data(tmp_path, data), 256), 0.5, 0.5)
    assert close_to(colour, (187, 88, 70), tolerance=12)  # Lab(50, 40, 30) in sRGB


def test_an_embedded_rgb_profile_is_converted_to_srgb(tmp_path: Path) -> None:
    # A profile whose "red" is sRGB's green: only a real conversion turns red into green.
    swapped = rgb_profile(SRGB_GREEN, SRGB_RED, SRGB_BLUE, "Red and green swapped")
    data = jpeg(Image.new("RGB", (800, 600), (255, 0, 0)), icc_profile=swapped)
    image = derivative(render_data(tmp_path, data), 256)
    assert close_to(colour_at(image, 0.5, 0.5), (0, 255, 0), tolerance=30)
    assert "icc_profile" not in image.info


def test_an_srgb_profile_changes_nothing(tmp_path: Path) -> None:
    from PIL import ImageCms

    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = jpeg(Image.new("RGB", (800, 600), (200, 120, 40)), icc_profile=srgb)
    assert close_to(colour_at(derivative(render_data(tmp_path, data), 256), 0.5, 0.5),
                    (200, 120, 40), tolerance=6)


def test_a_broken_profile_is_ignored(tmp_path: Path) -> None:
    data = jpeg(Image.new("RGB", (800, 600), (200, 120, 40)), icc_profile=b"not a profile" * 20)
    assert close_to(colour_at(derivative(render_data(tmp_path, data), 256), 0.5, 0.5),
                    (200, 120, 40), tolerance=6)


def test_a_truncated_jpeg_fails_with_a_clear_reason(tmp_path: Path) -> None:
    data = jpeg(quadrants())
    with pytest.raises(ImageError, match=r"^the image data is truncated \("):
        render_data(tmp_path, data[: len(data) // 2])


def test_a_jpeg_with_a_broken_header_is_corrupt(tmp_path: Path) -> None:
    data = bytearray(jpeg(quadrants()))
    data[20:400] = bytes(380)
    with pytest.raises(ImageError, match="corrupt"):
        render_data(tmp_path, bytes(data))


def test_a_huge_jpeg_is_decoded_at_reduced_scale_under_the_pixel_limit(tmp_path: Path) -> None:
    # 6000×4000 is over a 2 MP limit, but for 1280 pixels it decodes at 1/4: 1500×1000.
    data = jpeg(quadrants(6000, 4000))
    rendition = render_data(tmp_path, data, max_pixels=2_000_000)
    assert_quadrants(derivative(rendition, 1280))
    with pytest.raises(ImageError, match="6000×4000 pixels, 1500×1000 even at reduced scale, over"):
        render_data(tmp_path, data, max_pixels=1_000_000)


def test_exif_date_and_camera_are_recorded(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x010F] = "Lightbox Camera Co."
    exif[0x0110] = "LX-1\x00"
    exif.get_ifd(0x8769)[0x9003] = "2026:07:14 18:30:05"
    info = render_data(tmp_path, jpeg(quadrants(), exif=exif)).info
    assert info.camera_make == "Lightbox Camera Co."
    assert info.camera_model == "LX-1"
    assert info.taken_at is not None and info.taken_at.isoformat() == "2026-07-14T18:30:05"


def test_garbage_exif_values_are_ignored(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x0112] = 77
    exif.get_ifd(0x8769)[0x9003] = "yesterday"
    info = render_data(tmp_path, jpeg(quadrants(), exif=exif)).info
    assert info.orientation is None and info.taken_at is None
