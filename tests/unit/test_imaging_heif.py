"""HEIC/HEIF and AVIF inputs, made by real encoders (libheif with x265, libavif with aom),
every thumbnail decoded and looked at.

pillow-heif, whose wheel carries the x265 encoder (GPL), makes the HEIC files here; it is a
test requirement only. The functions read HEIC with pi-heif, its decoder-only build.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pillow_heif
import pytest
from PIL import Image

from lightbox import filetypes
from lightbox.errors import ImageError
from tests.images import SRGB_BLUE, SRGB_GREEN, SRGB_RED, heic, heic_grid, rgb_profile
from tests.support import close_to, colour_at, derivative, render_data
from tests.unit.test_imaging_jpeg import (
    BLUE,
    GREEN,
    RED,
    WHITE,
    assert_quadrants,
    assert_upright,
    orientation_exif,
    quadrants,
    stored_for,
)
from tests.unit.test_imaging_jxl import srgb_of_display_p3


def avif(image: Image.Image, *, exif: Image.Exif | None = None, **save: object) -> bytes:
    buffer = io.BytesIO()
    extra = {"exif": exif.tobytes()} if exif is not None else {}
    image.save(buffer, "AVIF", quality=90, **extra, **save)
    return buffer.getvalue()


ENCODERS = {"heic": heic, "avif": avif}


@pytest.mark.parametrize("kind", ENCODERS)
def test_the_bytes_say_what_they_are(kind: str) -> None:
    data = ENCODERS[kind](quadrants(64, 48))
    assert filetypes.sniff(data[:64]) == {"heic": filetypes.HEIC, "avif": filetypes.AVIF}[kind]


@pytest.mark.parametrize("kind", ENCODERS)
@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_orientation_comes_out_upright_once(
    tmp_path: Path, kind: str, orientation: int
) -> None:
    # The encoders write the turn as the file's irot/imir boxes and keep EXIF's orientation
    # too, as phones do: applying both would turn the picture twice.
    rendition = render_data(tmp_path, ENCODERS[kind](stored_for(orientation),
                                                     exif=orientation_exif(orientation)))

    # An orientation of 1 changes nothing, and the encoders leave it out.
    assert rendition.info.orientation == (orientation if orientation > 1 else None)
    assert_upright(rendition)


def test_a_heic_records_its_camera_and_time(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "Apple", "iPhone 15 Pro"
    exif.get_ifd(0x8769)[0x9003] = "2024:05:31 14:00:12"
    info = render_data(tmp_path, heic(quadrants(640, 480), exif=exif)).info
    assert (info.camera_make, info.camera_model) == ("Apple", "iPhone 15 Pro")
    assert info.taken_at is not None and info.taken_at.isoformat() == "2024-05-31T14:00:12"


def test_a_ten_bit_heic_is_recorded_as_such_and_rendered(tmp_path: Path) -> None:
    samples = np.zeros((480, 640, 3), np.uint16)
    samples[...] = (0xC000, 0x4000, 0x1000)  # 16-bit samples, stored in 10 bits
    ten_bit = pillow_heif.from_bytes(mode="RGB;16", size=(640, 480), data=samples.tobytes())
    buffer = io.BytesIO()
    ten_bit.save(buffer, format="HEIF", quality=95)

    rendition = render_data(tmp_path, buffer.getvalue())
    assert (rendition.info.bit_depth, rendition.info.color_mode) == (10, "RGB")
    assert close_to(colour_at(derivative(rendition, 256), 0.5, 0.5), (192, 64, 16), tolerance=8)


@pytest.mark.parametrize("kind", ENCODERS)
def test_an_embedded_profile_is_converted_to_srgb(tmp_path: Path, kind: str) -> None:
    # A profile whose "red" is sRGB's green: only a real conversion turns red into green.
    swapped = rgb_profile(SRGB_GREEN, SRGB_RED, SRGB_BLUE, "Red and green swapped")
    data = ENCODERS[kind](Image.new("RGB", (640, 480), (255, 0, 0)), icc_profile=swapped)
    image = derivative(render_data(tmp_path, data), 256)
    assert close_to(colour_at(image, 0.5, 0.5), (0, 255, 0), tolerance=30)


def test_a_grid_of_tiles_is_one_image_cropped_to_its_declared_size(tmp_path: Path) -> None:
    # Phones store large HEICs as grids of 512-pixel tiles; the grid's size crops the last ones.
    tiles = [Image.new("RGB", (512, 512), colour) for colour in (RED, GREEN, BLUE, WHITE)]
    rendition = render_data(tmp_path, heic_grid(tiles, 2, 1000, 700))

    assert (rendition.info.width, rendition.info.height) == (1000, 700)
    assert_quadrants(derivative(rendition, 256))


def test_display_p3_given_by_code_points_alone_is_converted_to_srgb(tmp_path: Path) -> None:
    # Android phones mark Display P3 in an nclx box (primaries 12, sRGB's transfer 13) and
    # embed no ICC profile.
    colour = (200, 100, 50)
    data = heic(Image.new("RGB", (320, 240), colour), quality=100, color_primaries=12,
                transfer_characteristics=13, matrix_coefficients=6, full_range_flag=1)
    thumbnail = derivative(render_data(tmp_path, data), 256)
    assert close_to(colour_at(thumbnail, 0.5, 0.5), srgb_of_display_p3(colour), tolerance=5)


@pytest.mark.parametrize("kind", ENCODERS)
def test_transparency_is_kept_in_webp_and_flattened_on_white_in_jpeg(
    tmp_path: Path, kind: str
) -> None:
    image = Image.new("RGBA", (640, 480), (0, 0, 0, 0))
    image.paste((30, 30, 220, 255), (0, 0, 320, 480))
    rendition = render_data(tmp_path, ENCODERS[kind](image), formats=("jpeg", "webp"))
    assert close_to(colour_at(derivative(rendition, 256), 0.8, 0.5), (255, 255, 255), 8)
    webp = derivative(rendition, 256, fmt="webp")
    assert webp.mode == "RGBA" and webp.getpixel((200, 90))[3] == 0  # type: ignore[index]


@pytest.mark.parametrize("kind", ENCODERS)
def test_the_pixel_limit_holds_before_anything_is_decoded(tmp_path: Path, kind: str) -> None:
    with pytest.raises(ImageError, match="1200×800 pixels over the limit"):
        render_data(tmp_path, ENCODERS[kind](quadrants()), max_pixels=500_000)


@pytest.mark.parametrize("kind", ENCODERS)
def test_a_truncated_file_fails_with_a_reason(tmp_path: Path, kind: str) -> None:
    data = ENCODERS[kind](quadrants())
    with pytest.raises(ImageError, match=r"corrupt|truncated"):
        render_data(tmp_path, data[: len(data) * 2 // 3])
