"""Deep-zoom tiles: a pyramid of JPEG tiles made from the full-resolution first page.

The page is decoded once, at full size, as it is stored (not yet turned upright, in its own
colour space). Each level is the one before it halved by 2×2 averaging (``Image.reduce``,
which rounds up: a level at scale factor s is ceil(width / s) pixels wide, as IIIF counts),
so that the full image and one level at half its size are all that is ever held. Each tile is
cropped from its level where the stored image has it, converted to sRGB and turned upright on
its own: a full-size copy of the page is never made for either.
"""

from __future__ import annotations

from collections.abc import Iterator

from lightbox.domain import Pyramid, RenderSpec, Tile
from lightbox.errors import ImageError
from lightbox.imaging.color import to_srgb
from lightbox.imaging.encode import encode
from lightbox.imaging.geometry import unturned_box, upright
from lightbox.imaging.source import DecodedPage


def tile_images(page: DecodedPage, pyramid: Pyramid,
                spec: RenderSpec) -> Iterator[tuple[Tile, bytes]]:
    """Every tile of ``pyramid`` as a JPEG, level by level from the full-size ``page``."""
    level = page.image
    turned = page.orientation in (5, 6, 7, 8)
    stored = (pyramid.height, pyramid.width) if turned else (pyramid.width, pyramid.height)
    if level.size != stored:
        raise ImageError(f"the page decoded at {level.width}×{level.height} pixels, not the "
                         f"{stored[0]}×{stored[1]} it declares")
    for scale in pyramid.scale_factors:
        if scale > 1:
            level = level.reduce(2)
        for tile in pyramid.level(scale):
            x, y = tile.region[0] // scale, tile.region[1] // scale
            box = unturned_box((x, y, x + tile.size[0], y + tile.size[1]), level.size,
                               page.orientation)
            piece = upright(to_srgb(level.crop(box), page.icc_profile), page.orientation)
            yield tile, encode(piece, "jpeg", spec)

