"""Sizes and orientation."""

from __future__ import annotations

import itertools

from PIL import Image

from lightbox.imaging import parallel
from lightbox.imaging.source import REDUCING_GAP

_PREMULTIPLIED = {"RGBA": "RGBa", "LA": "La"}
# Below this many output pixels, one thread resamples faster than several start and join.
_BANDED_PIXELS = 256 * 1024

_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def fitted(width: float, height: float, size: int) -> tuple[int, int]:
    """Dimensions whose longest side is ``size``, never larger than the original."""
    scale = min(1.0, size / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def fit(image: Image.Image, size: int,
        box: tuple[float, float, float, float] | None = None) -> Image.Image:
    """The image (or its ``box``) with its longest side reduced to ``size``, by Lanczos."""
    left, top, right, bottom = box or (0, 0, image.width, image.height)
    target = fitted(right - left, bottom - top, size)
    if box is None and target == image.size:
        return image
    width, height = target
    # Pillow resamples palette and bilevel images by their nearest pixel, whole.
    banded = width * height >= _BANDED_PIXELS and image.mode not in ("1", "P")
    bands = parallel.workers() if banded else 1
    if bands == 1:
        return image.resize(target, Image.Resampling.LANCZOS, box=(left, top, right, bottom),
                            reducing_gap=REDUCING_GAP)
    # Horizontal bands of the output, each resampled from its own box of the input: Lanczos
    # reads past a box's edges into the image, so the bands join without a seam.
    rows = (bottom - top) / height
    cuts = [round(height * band / bands) for band in range(bands + 1)]
    # Pillow resamples alpha premultiplied, converting the whole image for each call: once
    # here, or each band would hold a copy of the whole.
    premultiplied = _PREMULTIPLIED.get(image.mode)
    source = image.convert(premultiplied) if premultiplied else image

    def band(edges: tuple[int, int]) -> Image.Image:
        first, last = edges
        return source.resize((width, last - first), Image.Resampling.LANCZOS,
                             box=(left, top + first * rows, right, top + last * rows),
                             reducing_gap=REDUCING_GAP)

    whole = Image.new(source.mode, target)
    for first, part in zip(cuts[:-1], parallel.each(band, itertools.pairwise(cuts)), strict=True):
        whole.paste(part, (0, first))
    return whole.convert(image.mode) if premultiplied else whole


def upright(image: Image.Image, orientation: int) -> Image.Image:
    """The image turned as its EXIF orientation says it is displayed."""
    transpose = _TRANSPOSE.get(orientation)
    return image.transpose(transpose) if transpose is not None else image


def unturned_box(box: tuple[int, int, int, int], size: tuple[int, int],
                 orientation: int) -> tuple[int, int, int, int]:
    """The box of an image of ``size`` (as stored) that shows ``box`` (left, top, right,
    bottom) of it turned upright as its EXIF ``orientation`` says: cropping that box and then
    turning the crop upright gives what cropping the upright image would."""
    left, top, right, bottom = box
    width, height = size
    return {
        2: (width - right, top, width - left, bottom),
        3: (width - right, height - bottom, width - left, height - top),
        4: (left, height - bottom, right, height - top),
        5: (top, left, bottom, right),
        6: (top, height - right, bottom, height - left),
        7: (width - bottom, height - right, width - top, height - left),
        8: (width - bottom, left, width - top, right),
    }.get(orientation, box)
