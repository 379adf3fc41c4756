"""PNG inputs of every bit depth and colour type, interlaced or not; WebP and GIF."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from lightbox.errors import ImageError
from tests.images import GREY, GREY_ALPHA, PALETTE, RGB, RGBA, png
from tests.support import close_to, colour_at, derivative, render_data

WIDTH, HEIGHT = 640, 400


def ramp(bit_depth: int) -> np.ndarray:
    """Dark at the left, bright at the right, in the range of ``bit_depth``."""
    top = 2**bit_depth - 1
    row = np.round(np.linspace(0, top, WIDTH)).astype(np.uint16)
    return np.tile(row, (HEIGHT, 1))


def left_and_right(rendition_image: Image.Image) -> tuple[int, int]:
    return colour_at(rendition_image, 0.02, 0.5)[0], colour_at(rendition_image, 0.98, 0.5)[0]


@pytest.mark.parametrize("bit_depth", [1, 2, 4, 8, 16])
def test_greyscale_of_every_bit_depth(tmp_path: Path, bit_depth: int) -> None:
    rendition = render_data(tmp_path, png(ramp(bit_depth), GREY, bit_depth))
    assert (rendition.info.bit_depth, rendition.info.color_mode) == (bit_depth, "L")
    left, right = left_and_right(derivative(rendition, 256))
    assert left < 30 and right > 225


@pytest.mark.parametrize("interlaced", [False, True], ids=["sequential", "interlaced"])
@pytest.mark.parametrize("bit_depth", [8, 16])
def test_rgb(tmp_path: Path, bit_depth: int, interlaced: bool) -> None:
    grey = ramp(bit_depth)
    samples = np.stack([grey, np.zeros_like(grey), grey[:, ::-1]], axis=-1)  # red rises, blue falls
    rendition = render_data(tmp_path, png(samples, RGB, bit_depth, interlaced=interlaced))
    assert (rendition.info.bit_depth, rendition.info.color_mode) == (bit_depth, "RGB")
    image = derivative(rendition, 256)
    assert close_to(colour_at(image, 0.01, 0.5), (0, 0, 255), tolerance=20)
    assert close_to(colour_at(image, 0.99, 0.5), (255, 0, 0), tolerance=20)


def test_interlacing_changes_nothing(tmp_path: Path) -> None:
    samples = np.random.default_rng(5).integers(0, 256, (HEIGHT, WIDTH, 3), dtype=np.uint8)
    plain = render_data(tmp_path, png(samples, RGB, 8))
    interlaced = render_data(tmp_path, png(samples, RGB, 8, interlaced=True))
    assert [i.data for i in plain.images] == [i.data for i in interlaced.images]


def test_palette_with_transparency(tmp_path: Path) -> None:
    indices = np.zeros((HEIGHT, WIDTH), np.uint8)
    indices[:, WIDTH // 2:] = 1
    data = png(indices, PALETTE, 8, palette=[(0, 0, 0), (200, 40, 40)], transparency=b"\x00")
    rendition = render_data(tmp_path, data, formats=("jpeg", "webp"))
    assert rendition.info.color_mode == "P"
    jpeg = derivative(rendition, 256, fmt="jpeg")
    assert close_to(colour_at(jpeg, 0.2, 0.5), (255, 255, 255))  # transparent: on white
    assert close_to(colour_at(jpeg, 0.8, 0.5), (200, 40, 40))
    webp = derivative(rendition, 256, fmt="webp")
    assert webp.mode == "RGBA"
    assert webp.getpixel((10, 10))[3] == 0  # type: ignore[index]


@pytest.mark.parametrize("bit_depth", [8, 16])
def test_greyscale_with_alpha(tmp_path: Path, bit_depth: int) -> None:
    top = 2**bit_depth - 1
    samples = np.zeros((HEIGHT, WIDTH, 2), np.uint16)
    samples[..., 0] = top // 4  # dark grey
    samples[:, WIDTH // 2:, 1] = top  # opaque right half, transparent left half
    rendition = render_data(tmp_path, png(samples, GREY_ALPHA, bit_depth))
    assert rendition.info.color_mode == "LA"
    image = derivative(rendition, 256)
    assert colour_at(image, 0.2, 0.5)[0] > 245
    assert 50 < colour_at(image, 0.8, 0.5)[0] < 80


def test_rgba_is_flattened_on_white_for_jpeg_and_kept_in_webp(tmp_path: Path) -> None:
    samples = np.zeros((HEIGHT, WIDTH, 4), np.uint8)
    samples[..., :3] = (20, 90, 200)
    samples[:, WIDTH // 2:, 3] = 255
    samples[:, : WIDTH // 2, 3] = 128
    rendition = render_data(tmp_path, png(samples, RGBA, 8), formats=("jpeg", "webp"))
    jpeg = derivative(rendition, 256)
    assert jpeg.mode == "RGB"
    assert close_to(colour_at(jpeg, 0.2, 0.5), (137, 172, 227), tolerance=10)  # half over white
    assert close_to(colour_at(jpeg, 0.8, 0.5), (20, 90, 200), tolerance=10)
    webp = derivative(rendition, 256, fmt="webp")
    alpha = webp.getchannel("A")
    assert abs(alpha.getpixel((10, 10)) - 128) < 4  # type: ignore[operator]
    assert alpha.getpixel((250, 10)) == 255


def test_edges_of_transparent_areas_keep_their_colour(tmp_path: Path) -> None:
    # Transparent pixels are black; averaging them in without alpha would darken the edge.
    samples = np.zeros((HEIGHT, WIDTH, 4), np.uint8)
    samples[:, WIDTH // 2:] = (255, 255, 255, 255)
    image = derivative(render_data(tmp_path, png(samples, RGBA, 8), formats=("webp",)), 256,
                       fmt="webp")
    edge = [image.getpixel((x, 50)) for x in range(120, 136)]
    assert all(pixel[:3] == (255, 255, 255) or pixel[3] < 8 for pixel in edge)  # type: ignore[index]


def test_webp(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (1500, 1000), (30, 160, 90)).save(buffer, "WEBP", quality=90)
    rendition = render_data(tmp_path, buffer.getvalue())
    assert (rendition.info.width, rendition.info.height) == (1500, 1000)
    assert close_to(colour_at(derivative(rendition, 256), 0.5, 0.5), (30, 160, 90))


def test_gif_renders_its_first_frame(tmp_path: Path) -> None:
    frames = [Image.new("RGB", (500, 300), colour).convert("P")
              for colour in ((200, 30, 30), (30, 30, 200))]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], duration=100)
    rendition = render_data(tmp_path, buffer.getvalue())
    assert rendition.info.pages == 1
    assert close_to(colour_at(derivative(rendition, 256), 0.5, 0.5), (200, 30, 30))


def test_a_png_declaring_huge_dimensions_fails_before_decoding(tmp_path: Path) -> None:
    header = png(np.zeros((1, 1), np.uint8), GREY, 8)
    # Same file, but the header claims 100000 × 100000 pixels.
    import struct
    import zlib

    ihdr = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 0, 0, 0, 0)
    chunk = struct.pack(">I", 13) + b"IHDR" + ihdr + struct.pack(
        ">I", zlib.crc32(b"IHDR" + ihdr) & 0xFFFFFFFF)
    bomb = header[:8] + chunk + header[8 + 25:]
    with pytest.raises(ImageError, match="100000×100000 pixels over the limit of 250,000,000"):
        render_data(tmp_path, bomb)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "not an image Lightbox can read: this is an empty file"),
        (b"PK\x03\x04 not an image", "this is a ZIP archive"),
        (b"BM" + bytes(60), "this is a BMP image"),
    ],
)
def test_other_files_fail_saying_what_they_are(tmp_path: Path, data: bytes, message: str) -> None:
    with pytest.raises(ImageError, match=message):
        render_data(tmp_path, data)


def test_a_truncated_png_fails(tmp_path: Path) -> None:
    data = png(np.random.default_rng(1).integers(0, 256, (HEIGHT, WIDTH, 3), dtype=np.uint8),
               RGB, 8)
    with pytest.raises(ImageError, match=r"truncated|corrupt"):
        render_data(tmp_path, data[: len(data) // 2])
