"""Camera RAW inputs: DNGs written by PiDNG (sensor data only) and by tifffile to the DNG
specification (sensor data and the camera's JPEG preview), read by rawpy (LibRaw), every
thumbnail decoded and looked at.

The DNGs' camera sees its green twice as strongly as its red (``images.CAMERA_NEUTRAL``): a
grey that comes out grey shows the recorded white balance applied.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from lightbox import filetypes
from lightbox.errors import ImageError
from tests.conftest import REPO
from tests.images import dng, pidng_dng
from tests.support import colour_at, derivative, render_data
from tests.unit.test_imaging_jpeg import _DISPLAYED, _INVERSE, quadrants

WRITERS = {
    "demosaiced": lambda image, **tags: pidng_dng(image, **tags),
    "preview": lambda image, **tags: dng(image, preview=image, **tags),
}


def stored(displayed: Image.Image, orientation: int) -> Image.Image:
    """The pixels a camera stores for ``displayed`` when it records this orientation."""
    turn = _DISPLAYED.get(orientation)
    return displayed if turn is None else displayed.transpose(_INVERSE.get(turn, turn))


def assert_corners(image: Image.Image) -> None:
    """Red, green / blue, white, as ``quadrants()`` draws them, whatever the tone curve."""
    red, green, blue, white = (colour_at(image, x, y) for x, y in
                               ((0.2, 0.2), (0.8, 0.2), (0.2, 0.8), (0.8, 0.8)))
    assert red[0] > 150 and red[0] > max(red[1:]) + 100, red
    assert green[1] > 130 and green[1] > max(green[0], green[2]) + 80, green
    assert blue[2] > 150 and blue[2] > max(blue[:2]) + 100, blue
    assert min(white) > 200, white


@pytest.mark.parametrize("writer", WRITERS)
def test_a_dng_is_told_from_a_tiff_by_its_bytes(writer: str) -> None:
    data = WRITERS[writer](quadrants(64, 48))
    assert data[:4] == b"II*\x00"
    assert filetypes.sniff(data[:filetypes.HEADER_BYTES]) == filetypes.DNG


@pytest.mark.parametrize("writer", WRITERS)
@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_orientation_comes_out_upright_and_portrait_stays_portrait(
    tmp_path: Path, writer: str, orientation: int
) -> None:
    displayed = quadrants(1000, 1500)  # a portrait, as a camera held upright takes it
    rendition = render_data(tmp_path, WRITERS[writer](stored(displayed, orientation),
                                                      orientation=orientation))

    assert rendition.info.orientation == orientation
    assert (rendition.info.width, rendition.info.height) == (1000, 1500)
    for size in (256, 1280):
        image = derivative(rendition, size)
        assert image.width < image.height and image.height <= size
        assert_corners(image)


def test_a_preview_large_enough_is_what_the_thumbnails_show(tmp_path: Path) -> None:
    # The preview and the sensor data differ here, to show which one was used.
    sensor = Image.new("RGB", (1500, 1000), (128, 128, 128))
    rendition = render_data(tmp_path, dng(sensor, preview=quadrants(1500, 1000)))
    assert_corners(derivative(rendition, 1280))
    assert derivative(rendition, 1280).size == (1280, 853)


def test_a_preview_smaller_than_the_largest_thumbnail_gives_way_to_the_sensor_data(
    tmp_path: Path
) -> None:
    preview = Image.new("RGB", (960, 640), (128, 128, 128))
    rendition = render_data(tmp_path, dng(quadrants(1500, 1000), preview=preview))
    assert_corners(derivative(rendition, 1280))
    # Demosaiced at half size: 750×500 pixels, never enlarged.
    assert derivative(rendition, 1280).size == (750, 500)


def test_the_recorded_white_balance_keeps_grey_grey_and_red_red(tmp_path: Path) -> None:
    scene = Image.new("RGB", (1200, 800), (128, 128, 128))
    scene.paste((200, 30, 30), (0, 0, 600, 400))
    scene.paste((255, 255, 255), (600, 400, 1200, 800))  # a highlight, as photos have
    image = derivative(render_data(tmp_path, pidng_dng(scene)), 256)

    grey = colour_at(image, 0.25, 0.75)
    assert max(grey) - min(grey) <= 8 and 100 < grey[1] < 200, grey
    red = colour_at(image, 0.25, 0.25)
    assert red[0] > 180 and max(red[1:]) < 70, red


def test_camera_and_time_come_from_ifd0_and_the_exif_ifd(tmp_path: Path) -> None:
    data = dng(quadrants(600, 400), make="NIKON CORPORATION", model="NIKON Z 6_2",
               taken="2024:05:31 14:00:12")
    info = render_data(tmp_path, data).info
    assert (info.camera_make, info.camera_model) == ("NIKON CORPORATION", "NIKON Z 6_2")
    assert info.taken_at is not None and info.taken_at.isoformat() == "2024-05-31T14:00:12"
    assert (info.pages, info.color_mode) == (1, "RGB")
    assert info.has_location is False


def test_a_gps_ifd_with_a_place_says_the_raw_records_where_it_was_taken(tmp_path: Path) -> None:
    data = dng(quadrants(600, 400), taken="2024:05:31 14:00:12", located=True)
    info = render_data(tmp_path, data).info
    assert info.has_location is True
    assert info.taken_at is not None  # the EXIF IFD is still found beside it


def test_thumbnails_carry_no_metadata_from_the_raw(tmp_path: Path) -> None:
    # LibRaw hands out the preview with an EXIF block of its own making; none of it is kept.
    data = dng(quadrants(1500, 1000), preview=quadrants(1500, 1000), taken="2024:05:31 14:00:12")
    for size in (256, 1280):
        image = derivative(render_data(tmp_path, data), size)
        assert not image.getexif() and "exif" not in image.info


@pytest.mark.parametrize("writer", WRITERS)
def test_the_pixel_limit_holds_before_the_sensor_data_is_unpacked(
    tmp_path: Path, writer: str
) -> None:
    with pytest.raises(ImageError, match=r"^the image is 1500×1000 pixels over the limit"):
        render_data(tmp_path, WRITERS[writer](quadrants(1500, 1000)), max_pixels=1_000_000)


@pytest.mark.parametrize("writer", WRITERS)
def test_a_truncated_file_fails_with_a_reason(tmp_path: Path, writer: str) -> None:
    data = WRITERS[writer](quadrants(1500, 1000))
    with pytest.raises(ImageError, match=r"^the RAW file is truncated \(Input/output error\)$"):
        render_data(tmp_path, data[: len(data) // 2])


def test_a_file_libraw_cannot_read_fails_saying_so(tmp_path: Path) -> None:
    # A DNG whose sensor data is not a colour filter array LibRaw knows.
    data = bytearray(pidng_dng(quadrants(64, 48)))
    at = data.find(b"\x06\x01\x03\x00\x01\x00\x00\x00\x23\x80")  # PhotometricInterpretation
    assert at > 0
    data[at + 8:at + 10] = (1).to_bytes(2, "little")  # now "black is zero"
    with pytest.raises(ImageError, match=r"^the RAW file cannot be read: an unsupported camera"):
        render_data(tmp_path, bytes(data))


def test_rawpy_is_loaded_only_for_a_raw() -> None:
    # LibRaw and its OpenMP runtime load with rawpy: no other kind of file should pay for them.
    code = "import sys, lightbox.imaging.render; print('rawpy' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, env={**os.environ, "PYTHONPATH": str(REPO / "functions")})
    assert done.stdout.strip() == "False"
