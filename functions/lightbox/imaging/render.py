"""Decode an original once and derive every thumbnail size from that one decode.

Works on a file and returns bytes; knows nothing of buckets, queues or databases.
"""

from __future__ import annotations

import io
import math
import struct
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import cast

from PIL import Image, ImageOps, UnidentifiedImageError

from lightbox.domain import ImageInfo, RenderedImage, RenderSpec, Rendition
from lightbox.errors import ImageError

# What Pillow raises for files it cannot decode: corrupt, truncated or of an unknown kind.
_DECODE_ERRORS = (OSError, ValueError, SyntaxError, EOFError, struct.error)

_BIT_DEPTH = {"1": 1, "I;16": 16, "I;16B": 16, "I;16L": 16, "I": 32, "F": 32}
_TAG_ORIENTATION = 0x0112
_TAG_MAKE = 0x010F
_TAG_MODEL = 0x0110
_TAG_DATETIME = 0x0132
_TAG_EXIF_IFD = 0x8769
_TAG_DATETIME_ORIGINAL = 0x9003
# Orientations 5-8 turn the image a quarter: the displayed width is the stored height.
_QUARTER_TURNS = frozenset({5, 6, 7, 8})


def render(path: Path, spec: RenderSpec) -> Rendition:
    with _opened(path, spec.max_pixels) as image:
        try:
            info = _describe(image)
            images = tuple(_thumbnails(image, spec))
        except _DECODE_ERRORS as exc:
            raise ImageError(f"the image data is corrupt or truncated: {exc}") from exc
    return Rendition(info=info, images=images)


@contextmanager
def _opened(path: Path, max_pixels: int) -> Iterator[Image.Image]:
    previous = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = max_pixels
    try:
        with warnings.catch_warnings():
            # Over the limit is an error, not a warning to print and carry on.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            try:
                image = Image.open(path)
            except UnidentifiedImageError as exc:
                raise ImageError("the file is not an image Lightbox can read") from exc
            except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
                raise ImageError(f"the image is too large to process: {exc}") from exc
            except _DECODE_ERRORS as exc:
                raise ImageError(f"the file is corrupt: {exc}") from exc
            with image:
                yield image
    finally:
        Image.MAX_IMAGE_PIXELS = previous


def _describe(image: Image.Image) -> ImageInfo:
    exif = image.getexif()
    orientation = exif.get(_TAG_ORIENTATION)
    width, height = image.size
    if orientation in _QUARTER_TURNS:
        width, height = height, width
    taken = exif.get_ifd(_TAG_EXIF_IFD).get(_TAG_DATETIME_ORIGINAL) or exif.get(_TAG_DATETIME)
    return ImageInfo(
        width=width,
        height=height,
        pages=getattr(image, "n_frames", 1),
        bit_depth=_BIT_DEPTH.get(image.mode, 8),
        color_mode=image.mode,
        taken_at=_exif_datetime(taken),
        camera_make=_exif_text(exif.get(_TAG_MAKE)),
        camera_model=_exif_text(exif.get(_TAG_MODEL)),
        orientation=orientation if isinstance(orientation, int) and 1 <= orientation <= 8 else None,
    )


def _thumbnails(image: Image.Image, spec: RenderSpec) -> Iterator[RenderedImage]:
    largest = max(spec.sizes)
    # JPEG can decode at 1/2, 1/4 or 1/8 scale: ask for no less than twice the largest
    # thumbnail, so that the final resampling still has detail to work with.
    fit = largest / max(image.size)
    image.draft(None, (math.ceil(image.width * fit * 2), math.ceil(image.height * fit * 2)))
    base = _displayable(ImageOps.exif_transpose(image))
    # Largest first, each size derived from the one before: one decode serves them all.
    for size in sorted(spec.sizes, reverse=True):
        base.thumbnail((size, size), Image.Resampling.LANCZOS)
        yield RenderedImage(
            size=size,
            page=1,
            format="jpeg",
            width=base.width,
            height=base.height,
            data=_jpeg(base, spec.jpeg_quality),
        )


def _displayable(image: Image.Image) -> Image.Image:
    """The image in a mode JPEG can hold: 8-bit greyscale or RGB, alpha flattened on white."""
    if image.mode in ("L", "RGB"):
        return image
    if image.mode.startswith("I;16"):
        return image.convert("I").point(lambda value: value * (1 / 256)).convert("L")
    if image.mode in ("I", "F"):
        return _stretched(image)
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        canvas = Image.new("RGB", rgba.size, "white")
        canvas.paste(rgba, mask=rgba.getchannel("A"))
        return canvas
    if image.mode == "1":
        return image.convert("L")
    return image.convert("RGB")


def _stretched(image: Image.Image) -> Image.Image:
    """32-bit integer or float samples, mapped linearly from their own range onto 0-255."""
    low, high = cast(tuple[float, float], image.getextrema())  # one band: (min, max)
    scale = 255 / (high - low) if high > low else 0
    return image.point(lambda value: (value - low) * scale).convert("L")


def _jpeg(image: Image.Image, quality: int) -> bytes:
    buffer = io.BytesIO()
    # No EXIF, no ICC profile, no comments: the output is plain sRGB.
    image.info.clear()
    image.save(buffer, "JPEG", quality=quality, progressive=True, optimize=True)
    return buffer.getvalue()


def _exif_datetime(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.strptime(value.strip().rstrip("\x00")[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None


def _exif_text(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    text = value.strip().strip("\x00").strip()
    return text or None
