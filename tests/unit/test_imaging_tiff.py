"""TIFF inputs: pages, pyramids, bit depths, colour spaces, compressions, layouts, huge scans."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import tifffile
from PIL import Image

from lightbox.errors import ImageError
from tests.conftest import REPO
from tests.images import SRGB_BLUE, SRGB_GREEN, SRGB_RED, rgb_profile
from tests.support import close_to, colour_at, derivative, render_data

HEIGHT, WIDTH = 600, 900


def tiff(*pages: np.ndarray, **options: Any) -> bytes:
    buffer = io.BytesIO()
    with tifffile.TiffWriter(buffer, bigtiff=options.pop("bigtiff", False),
                             byteorder=options.pop("byteorder", "<")) as writer:
        for page in pages:
            writer.write(page, metadata=None, **options)
    return buffer.getvalue()


def gradient(dtype: type = np.uint8, top: float = 255) -> np.ndarray:
    """Red rising left to right, blue falling: orientation and scale both show."""
    rising = np.linspace(0, top, WIDTH, dtype=np.float64)
    red = np.tile(rising, (HEIGHT, 1))
    rgb = np.stack([red, np.zeros_like(red), red[:, ::-1]], axis=-1)
    return np.round(rgb).astype(dtype) if np.dtype(dtype).kind in "iu" else rgb.astype(dtype)


def assert_gradient(rendition: Any, page: int = 1) -> None:
    image = derivative(rendition, 256, page)
    assert close_to(colour_at(image, 0.01, 0.5), (0, 0, 255))
    assert close_to(colour_at(image, 0.99, 0.5), (255, 0, 0))
    assert close_to(colour_at(image, 0.5, 0.5), (128, 0, 128))


@pytest.mark.parametrize("compression", [None, "lzw", "zlib", "packbits", "jpeg", "zstd"])
@pytest.mark.parametrize("layout", ["strips", "tiles"])
def test_rgb_in_every_compression_and_layout(tmp_path: Path, compression: str | None,
                                             layout: str) -> None:
    options: dict[str, Any] = {"photometric": "rgb", "compression": compression}
    options.update({"tile": (256, 256)} if layout == "tiles" else {"rowsperstrip": 64})
    rendition = render_data(tmp_path, tiff(gradient(), **options))
    assert (rendition.info.width, rendition.info.height, rendition.info.pages) == (WIDTH, HEIGHT, 1)
    assert (rendition.info.bit_depth, rendition.info.color_mode) == (8, "RGB")
    assert derivative(rendition, 256).size == (256, 171)
    assert derivative(rendition, 1280).size == (WIDTH, HEIGHT)
    assert_gradient(rendition)


@pytest.mark.parametrize("options", [
    {"planarconfig": "separate"},
    {"byteorder": ">"},
    {"bigtiff": True},
    {"bigtiff": True, "tile": (128, 128), "compression": "zlib"},
], ids=["planar", "big-endian", "bigtiff", "bigtiff-tiled"])
def test_layout_variants(tmp_path: Path, options: dict[str, Any]) -> None:
    samples = gradient(np.uint16, 65535)
    if options.get("planarconfig") == "separate":
        samples = np.moveaxis(samples, -1, 0)  # tifffile takes planes first
    assert_gradient(render_data(tmp_path, tiff(samples, photometric="rgb", **options)))


def test_sixteen_bit_rgb_is_reduced_like_its_eight_bit_twin(tmp_path: Path) -> None:
    sixteen = render_data(tmp_path, tiff(gradient(np.uint16, 65535), photometric="rgb"))
    eight = render_data(tmp_path, tiff(gradient(), photometric="rgb"))
    assert sixteen.info.bit_depth == 16
    a = np.asarray(derivative(sixteen, 256), np.int16)
    b = np.asarray(derivative(eight, 256), np.int16)
    assert np.abs(a - b).max() <= 3


@pytest.mark.parametrize(("dtype", "top"), [(np.float32, 1.0), (np.float64, 1.0),
                                            (np.float32, 4000.0), (np.int16, 30000)])
def test_float_and_signed_samples_are_mapped_from_their_range(tmp_path: Path, dtype: type,
                                                               top: float) -> None:
    samples = gradient(dtype, top)
    samples[0, 0, 1] = np.nan if np.dtype(dtype).kind == "f" else samples[0, 0, 1]
    rendition = render_data(tmp_path, tiff(samples, photometric="rgb"))
    assert_gradient(rendition)


def test_float_outside_zero_to_one_is_stretched_over_its_range(tmp_path: Path) -> None:
    samples = (gradient(np.float32, 1.0) * 2 - 0.5).astype(np.float32)  # -0.5 … 1.5
    assert_gradient(render_data(tmp_path, tiff(samples, photometric="rgb")))


@pytest.mark.parametrize(("bits", "dtype"), [(1, bool), (8, np.uint8), (16, np.uint16)])
def test_greyscale(tmp_path: Path, bits: int, dtype: type) -> None:
    top = 1 if dtype is bool else 2**bits - 1
    columns = np.tile(np.linspace(0, top, WIDTH) > top / 2 if dtype is bool
                      else np.round(np.linspace(0, top, WIDTH)).astype(dtype), (HEIGHT, 1))
    rendition = render_data(tmp_path, tiff(columns, photometric="minisblack"))
    assert (rendition.info.bit_depth, rendition.info.color_mode) == (bits, "L")
    image = derivative(rendition, 256)
    assert colour_at(image, 0.02, 0.5)[0] < 20 and colour_at(image, 0.98, 0.5)[0] > 235


def test_min_is_white_is_inverted(tmp_path: Path) -> None:
    ink = np.zeros((HEIGHT, WIDTH), np.uint8)
    ink[:, : WIDTH // 2] = 255  # full ink on the left
    image = derivative(render_data(tmp_path, tiff(ink, photometric="miniswhite")), 256)
    assert colour_at(image, 0.2, 0.5)[0] < 10 and colour_at(image, 0.8, 0.5)[0] > 245


def test_palette(tmp_path: Path) -> None:
    colormap = np.zeros((3, 256), np.uint16)
    colormap[:, 1] = (65535, 32768, 0)  # orange
    indices = np.zeros((HEIGHT, WIDTH), np.uint8)
    indices[:, WIDTH // 2:] = 1
    rendition = render_data(tmp_path, tiff(indices, photometric="palette", colormap=colormap))
    assert rendition.info.color_mode == "P"
    image = derivative(rendition, 256)
    assert close_to(colour_at(image, 0.2, 0.5), (0, 0, 0))
    assert close_to(colour_at(image, 0.8, 0.5), (255, 128, 0))


@pytest.mark.parametrize("extrasample", ["unassalpha", "assocalpha"])
def test_rgba(tmp_path: Path, extrasample: str) -> None:
    samples = np.zeros((HEIGHT, WIDTH, 4), np.uint8)
    samples[..., 2] = 200
    samples[:, WIDTH // 2:, 3] = 255  # left half transparent
    rendition = render_data(tmp_path, tiff(samples, photometric="rgb", extrasamples=[extrasample]),
                            formats=("jpeg", "webp"))
    assert rendition.info.color_mode == "RGBA"
    jpeg = derivative(rendition, 256)
    assert close_to(colour_at(jpeg, 0.2, 0.5), (255, 255, 255))
    assert close_to(colour_at(jpeg, 0.8, 0.5), (0, 0, 200))
    assert derivative(rendition, 256, fmt="webp").getchannel("A").getpixel((5, 5)) == 0


def test_cmyk(tmp_path: Path) -> None:
    ink = np.zeros((HEIGHT, WIDTH, 4), np.uint8)
    ink[..., 1:3] = 255  # magenta + yellow
    rendition = render_data(tmp_path, tiff(ink, photometric="separated"))
    assert rendition.info.color_mode == "CMYK"
    assert close_to(colour_at(derivative(rendition, 256), 0.5, 0.5), (214, 27, 35), tolerance=10)


def test_an_embedded_profile_is_converted(tmp_path: Path) -> None:
    swapped = rgb_profile(SRGB_GREEN, SRGB_RED, SRGB_BLUE, "Red and green swapped")
    red = np.zeros((HEIGHT, WIDTH, 3), np.uint8)
    red[..., 0] = 255
    image = derivative(render_data(tmp_path, tiff(red, photometric="rgb", iccprofile=swapped)), 256)
    assert close_to(colour_at(image, 0.5, 0.5), (0, 255, 0), tolerance=30)


def test_orientation_and_camera_tags(tmp_path: Path) -> None:
    tags = [(274, "H", 1, 6, True), (271, "s", 0, "Scanner Co.", True),
            (272, "s", 0, "Flatbed 9000", True), (306, "s", 0, "2025:03:02 10:11:12", True)]
    rendition = render_data(tmp_path, tiff(gradient(), photometric="rgb", extratags=tags))
    info = rendition.info
    assert (info.width, info.height, info.orientation) == (HEIGHT, WIDTH, 6)
    assert (info.camera_make, info.camera_model) == ("Scanner Co.", "Flatbed 9000")
    assert info.taken_at is not None and info.taken_at.isoformat() == "2025-03-02T10:11:12"
    image = derivative(rendition, 256)
    assert image.height > image.width
    assert close_to(colour_at(image, 0.5, 0.01), (0, 0, 255))  # the left edge is now on top


def test_every_page_gets_its_own_thumbnails(tmp_path: Path) -> None:
    colours = [(200, 30, 30), (30, 200, 30), (30, 30, 200), (200, 200, 30), (30, 200, 200)]
    pages = [np.full((HEIGHT + 20 * n, WIDTH, 3), colour, np.uint8) for n, colour in enumerate(colours)]
    rendition = render_data(tmp_path, tiff(*pages, photometric="rgb", compression="lzw"))
    assert rendition.info.pages == 5
    assert sorted({(i.page, i.size) for i in rendition.images}) == [
        (page, size) for page in range(1, 6) for size in (256, 1280)
    ]
    for page, colour in enumerate(colours, start=1):
        assert close_to(colour_at(derivative(rendition, 256, page), 0.5, 0.5), colour)
        assert derivative(rendition, 1280, page).height == HEIGHT + 20 * (page - 1)


def test_pages_past_the_limit_are_counted_but_not_rendered(tmp_path: Path) -> None:
    pages = [np.full((200, 300, 3), 40 * n, np.uint8) for n in range(5)]
    rendition = render_data(tmp_path, tiff(*pages, photometric="rgb"), max_pages=2)
    assert rendition.info.pages == 5
    assert {image.page for image in rendition.images} == {1, 2}


@pytest.mark.parametrize("layout", ["subifds", "pages"])
def test_a_pyramid_is_read_from_its_smallest_level_that_is_large_enough(
    tmp_path: Path, layout: str
) -> None:
    # Each level has a colour of its own, so the thumbnail shows which level was read.
    levels = [(8000, (200, 30, 30)), (4000, (30, 200, 30)), (2000, (30, 30, 200)),
              (1000, (200, 200, 30))]
    buffer = io.BytesIO()
    with tifffile.TiffWriter(buffer) as writer:
        for index, (side, colour) in enumerate(levels):
            options: dict[str, Any] = {"photometric": "rgb", "tile": (256, 256),
                                       "compression": "zlib", "metadata": None}
            if index == 0 and layout == "subifds":
                options["subifds"] = len(levels) - 1
            elif index > 0:
                options["subfiletype"] = 1
            writer.write(np.full((side, side, 3), colour, np.uint8), **options)
    rendition = render_data(tmp_path, buffer.getvalue(), sizes=(256, 1280))
    assert (rendition.info.width, rendition.info.pages) == (8000, 1)
    # 1280 needs 1280 pixels: the 2000-pixel level is the smallest that has them.
    assert close_to(colour_at(derivative(rendition, 1280), 0.5, 0.5), (30, 30, 200))
    small = render_data(tmp_path, buffer.getvalue(), sizes=(256,))
    assert close_to(colour_at(derivative(small, 256), 0.5, 0.5), (200, 200, 30))


def test_missing_tiles_read_as_blank(tmp_path: Path) -> None:
    data = bytearray(tiff(gradient(), photometric="rgb", tile=(256, 256), compression="zlib"))
    with tifffile.TiffFile(io.BytesIO(bytes(data))) as file:
        page = file.pages[0]
        counts_offset = page.tags["TileByteCounts"].valueoffset
    data[counts_offset:counts_offset + 4] = bytes(4)  # the first tile has no data
    image = derivative(render_data(tmp_path, bytes(data)), 256)
    assert close_to(colour_at(image, 0.02, 0.02), (0, 0, 0))
    assert close_to(colour_at(image, 0.99, 0.5), (255, 0, 0))


@pytest.mark.parametrize("cut", [0.5, 0.9])
def test_a_truncated_tiff_fails(tmp_path: Path, cut: float) -> None:
    data = tiff(gradient(), photometric="rgb", rowsperstrip=32, compression="zlib")
    with pytest.raises(ImageError, match="TIFF"):
        render_data(tmp_path, data[: int(len(data) * cut)])


def test_an_unsupported_colour_space_fails_clearly(tmp_path: Path) -> None:
    lab = tiff(np.zeros((64, 64, 3), np.uint8), photometric="cielab")
    with pytest.raises(ImageError, match="TIFF colour space CIELAB is not supported"):
        render_data(tmp_path, lab)


def test_a_page_over_the_streaming_limit_fails(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match="over the limit of 100,000"):
        render_data(tmp_path, tiff(gradient(), photometric="rgb"), max_streamed_pixels=100_000)


_MEASURE = """
import json, sys
sys.path.insert(0, sys.argv[1])
from pathlib import Path
from lightbox.domain import RenderSpec
from lightbox.imaging.render import render
rendition = render(Path(sys.argv[2]), RenderSpec(sizes=(256, 1280), jpeg_quality=85,
                                                 max_pixels=1_000_000))
# VmHWM, not ru_maxrss: the latter keeps the peak of the test runner this process forked from.
peak_kb = int(next(line.split()[1] for line in open("/proc/self/status")
                   if line.startswith("VmHWM:")))
print(json.dumps({"peak_mb": peak_kb / 1024,
                  "sizes": [[i.width, i.height] for i in rendition.images]}))
"""


@pytest.mark.parametrize("options", [
    {},  # one uncompressed strip of the whole image, as Pillow and tifffile write it
    {"compression": "zlib", "rowsperstrip": 16},
    {"compression": "lzw", "tile": (512, 512)},
], ids=["one-strip", "deflate-strips", "lzw-tiles"])
def test_a_scan_larger_than_memory_allows_is_read_piece_by_piece(
    tmp_path: Path, options: dict[str, Any]
) -> None:
    # 9000 × 8000 RGB: 216 MB of pixels, 216 times the whole-decode limit of this run.
    path = tmp_path / "scan.tif"
    height, width = 8000, 9000
    rows, columns = options.get("tile") or (options.get("rowsperstrip") or height, width)
    ramp = np.linspace(0, 255, width).astype(np.uint8)
    pixels = np.stack([ramp, ramp[::-1], np.full_like(ramp, 90)], axis=-1)

    def tiles() -> Any:  # written a tile at a time, as a scanner does
        for top in range(0, height, rows):
            for left in range(0, width, columns):
                piece = pixels[left:left + columns]
                yield np.broadcast_to(piece, (min(rows, height - top), *piece.shape))

    data = tiles() if "tile" in options else np.broadcast_to(pixels, (height, width, 3))
    with tifffile.TiffWriter(path) as writer:
        writer.write(data, shape=(height, width, 3), dtype=np.uint8, photometric="rgb",
                     metadata=None, **options)
    # With the code compiled beforehand, as the Lambda package ships it: compiling it at
    # import (a clean checkout, where no bytecode is written) costs some 10 MB of peak itself.
    code = shutil.copytree(REPO / "functions", tmp_path / "functions")
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(code)], check=True)
    result = subprocess.run([sys.executable, "-c", _MEASURE, str(code), str(path)],
                            check=True, capture_output=True, text=True)
    measured = json.loads(result.stdout)
    assert measured["sizes"] == [[1280, 1138], [256, 228]]
    # Decoded whole, the pixels alone would take 216 MB and the libraries some 35 more. Read
    # piece by piece, the peak is 95-145 MB here (the LZW tiles highest), and a busy machine
    # has been seen to add 12 MB: the bound sits between the two.
    assert measured["peak_mb"] < 175, measured


@pytest.mark.parametrize("width", [7001, 7000])
def test_block_averaging_keeps_the_geometry_of_a_partial_last_block(tmp_path: Path,
                                                                     width: int) -> None:
    # 7001 pixels in blocks of 2: the last block holds one. Resampled as if it held two, the
    # picture would stretch by a fraction of a pixel, which fine detail shows at once.
    x = np.arange(width)
    stripes = (127 + 120 * np.sin(x / 9.0)).astype(np.uint8)
    pixels = np.repeat(np.tile(stripes, (600, 1))[..., None], 3, axis=-1)
    image = derivative(render_data(tmp_path, tiff(pixels, photometric="rgb"), sizes=(1280,)), 1280)
    reference = Image.fromarray(pixels).resize(image.size, Image.Resampling.LANCZOS)
    difference = np.abs(np.asarray(image, np.int16) - np.asarray(reference, np.int16))
    assert difference.mean() < 3


@pytest.mark.parametrize("planar", [False, True], ids=["contiguous", "planar"])
def test_strips_of_a_few_rows_are_averaged_as_one_strip_of_the_whole_is(
        tmp_path: Path, planar: bool) -> None:
    # Joined into bands before averaging: a band must never run from one plane into the next.
    rows, columns = np.mgrid[0:1700, 0:2300]
    pixels = np.stack([127.5 + 127 * np.sin(columns / (5 + 4 * c) + rows / (7 + 3 * c))
                       for c in range(3)], axis=-1).round().astype(np.uint8)
    samples = np.moveaxis(pixels, -1, 0) if planar else pixels
    options = {"planarconfig": "separate"} if planar else {}
    one_strip = render_data(tmp_path, tiff(pixels, photometric="rgb"))
    few_rows = render_data(tmp_path, tiff(samples, photometric="rgb", compression="zlib",
                                          rowsperstrip=3, **options))
    for size in (256, 1280):
        assert np.array_equal(np.asarray(derivative(few_rows, size)),
                              np.asarray(derivative(one_strip, size)))
