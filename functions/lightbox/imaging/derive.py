"""From one decoded picture to every derivative: fit to the largest size, convert to sRGB and
turn upright at that size, where it is cheap; then derive each smaller size from the one
before, so that one decode serves every size."""

from __future__ import annotations

from collections.abc import Iterator

from PIL import Image

from lightbox.domain import RenderedImage, RenderSpec
from lightbox.imaging.color import to_srgb
from lightbox.imaging.encode import encode
from lightbox.imaging.geometry import fit, upright
from lightbox.imaging.source import DecodedPage


def display(page: DecodedPage, largest: int) -> Image.Image:
    """The page as it is shown, in sRGB, no larger than ``largest`` on its longest side."""
    return upright(to_srgb(fit(page.image, largest, page.box), page.icc_profile),
                   page.orientation)


def derivatives(image: Image.Image, spec: RenderSpec, page: int) -> Iterator[RenderedImage]:
    for size in sorted(spec.sizes, reverse=True):
        image = fit(image, size)
        for fmt in spec.formats:
            yield RenderedImage(size=size, page=page, format=fmt, width=image.width,
                                height=image.height, data=encode(image, fmt, spec))
