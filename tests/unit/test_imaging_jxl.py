"""JPEG XL inputs, made by libjxl's encoder (through imagecodecs), every thumbnail decoded and
looked at: orientation from the codestream, colour encodings converted to sRGB, depth, alpha.

The expected colours are computed here from published constants (the Display P3 to sRGB
matrix, the PQ curve's reference white), not from Lightbox's own conversion code.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import imagecodecs
import numpy as np
import pytest
from PIL import Image

from lightbox import filetypes
from lightbox.errors import ImageError
from tests.images import jxl_recompressed
from tests.support import close_to, colour_at, derivative, render_data
from tests.unit.test_imaging_jpeg import (
    assert_quadrants,
    assert_upright,
    orientation_exif,
    quadrants,
    stored_for,
)


def jxl(image: Image.Image, **encode: object) -> bytes:
    return bytes(imagecodecs.jpegxl_encode(np.asarray(image), **encode))


@pytest.mark.parametrize("container", [False, True], ids=["codestream", "container"])
def test_the_bytes_say_what_they_are(container: bool) -> None:
    data = jxl(quadrants(64, 48), usecontainer=container)
    assert filetypes.sniff(data[:64]) == filetypes.JXL


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_orientation_comes_out_upright_once(tmp_path: Path, orientation: int) -> None:
    rendition = render_data(tmp_path, jxl_recompressed(stored_for(orientation),
                                                       exif=orientation_exif(orientation)))

    assert rendition.info.orientation == orientation
    assert_upright(rendition)


def test_the_camera_and_taken_time_come_from_the_exif_box(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x010F] = "Fujifilm"
    exif[0x0110] = "X-T5"
    exif.get_ifd(0x8769)[0x9003] = "2026:05:01 07:45:00"
    rendition = render_data(tmp_path, jxl_recompressed(quadrants(), exif=exif))

    assert (rendition.info.camera_make, rendition.info.camera_model) == ("Fujifilm", "X-T5")
    assert rendition.info.taken_at == datetime(2026, 5, 1, 7, 45)


def test_srgb_colours_stay_as_they_are(tmp_path: Path) -> None:
    rendition = render_data(tmp_path, jxl(quadrants(), distance=0.5))
    assert (rendition.info.bit_depth, rendition.info.color_mode) == (8, "RGB")
    assert_quadrants(derivative(rendition, 256))


# Linear Display P3 to linear sRGB (both D65), as published with the P3 colour space.
_P3_TO_SRGB = np.array([[1.2249, -0.2247, 0.0],
                        [-0.0420, 1.0419, 0.0],
                        [-0.0197, -0.0786, 1.0979]])


def srgb_of_display_p3(p3: tuple[int, int, int]) -> tuple[int, int, int]:
    encoded = np.array(p3) / 255
    linear = np.where(encoded <= 0.04045, encoded / 12.92, ((encoded + 0.055) / 1.055) ** 2.4)
    srgb = np.clip(_P3_TO_SRGB @ linear, 0, 1)
    out = np.where(srgb <= 0.0031308, srgb * 12.92, 1.055 * srgb ** (1 / 2.4) - 0.055)
    r, g, b = (round(float(v) * 255) for v in out)
    return r, g, b


@pytest.mark.parametrize("colour", [(200, 100, 50), (60, 160, 90), (90, 110, 220)])
def test_display_p3_colours_are_converted_to_srgb(tmp_path: Path, colour: tuple[int, int, int]
                                                  ) -> None:
    image = Image.new("RGB", (320, 240), colour)
    rendition = render_data(tmp_path, jxl(image, lossless=True, primaries="P3"))

    expected = srgb_of_display_p3(colour)
    assert expected != colour  # the conversion is visible at all
    assert close_to(colour_at(derivative(rendition, 256), 0.5, 0.5), expected, tolerance=4)


def test_hdr_in_pq_keeps_reference_white_white_and_black_black(tmp_path: Path) -> None:
    # BT.2408: diffuse white at 203 cd/m², which PQ encodes as 0.5806.
    white = round(0.5806 * 65535)
    samples = np.zeros((240, 320, 3), np.uint16)
    samples[:, 160:] = white
    data = bytes(imagecodecs.jpegxl_encode(samples, lossless=True, bitspersample=16,
                                           primaries="BT2100", transfer="PQ"))
    rendition = render_data(tmp_path, data)

    thumbnail = derivative(rendition, 256)
    assert rendition.info.bit_depth == 16
    assert close_to(colour_at(thumbnail, 0.25, 0.5), (0, 0, 0), tolerance=3)
    assert min(colour_at(thumbnail, 0.75, 0.5)) >= 235


def test_a_16_bit_linear_grey_is_encoded_for_display(tmp_path: Path) -> None:
    # 0.2140 of the light is sRGB's 128: linear samples must not be shown as they are.
    samples = np.full((240, 320), round(0.2140 * 65535), np.uint16)
    data = bytes(imagecodecs.jpegxl_encode(samples, lossless=True, bitspersample=16,
                                           transfer="LINEAR"))
    rendition = render_data(tmp_path, data)

    assert (rendition.info.bit_depth, rendition.info.color_mode) == (16, "L")
    assert close_to(colour_at(derivative(rendition, 256), 0.5, 0.5), (128, 128, 128),
                    tolerance=3)


def test_transparency_is_flattened_onto_white(tmp_path: Path) -> None:
    image = Image.new("RGBA", (320, 240), (0, 0, 255, 255))
    image.paste((0, 0, 0, 0), (0, 0, 160, 240))
    rendition = render_data(tmp_path, jxl(image, lossless=True))

    thumbnail = derivative(rendition, 256)
    assert rendition.info.color_mode == "RGBA"
    assert close_to(colour_at(thumbnail, 0.25, 0.5), (255, 255, 255))
    assert close_to(colour_at(thumbnail, 0.75, 0.5), (0, 0, 255))


def test_a_truncated_file_fails_saying_so(tmp_path: Path) -> None:
    data = jxl(quadrants(), distance=1.0)
    with pytest.raises(ImageError, match="JPEG XL"):
        render_data(tmp_path, data[: len(data) // 2])
