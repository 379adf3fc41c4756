"""The pipeline: open, then for each page decode once, convert, and derive every size.

Per page: decode at the smallest scale that leaves twice the largest size (JPEG's DCT scaling,
a TIFF's pyramid level or block averaging), then ``derive`` the rest.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

from lightbox import filetypes
from lightbox.domain import (
    ImageInfo,
    Pyramid,
    RenderedImage,
    RenderedTiles,
    RenderSpec,
    Rendition,
    Tile,
)
from lightbox.errors import ImageError
from lightbox.imaging.derive import derivatives, display
from lightbox.imaging.jxl_source import JxlSource
from lightbox.imaging.pdf_source import PdfSource
from lightbox.imaging.perceptual import perceptual_hash
from lightbox.imaging.pillow_source import PillowSource
from lightbox.imaging.placeholder import placeholder
from lightbox.imaging.source import Source
from lightbox.imaging.tiff_source import TiffSource
from lightbox.imaging.tiles import tile_images


def render(path: Path, spec: RenderSpec) -> Rendition:
    largest = max(spec.sizes)
    images: list[RenderedImage] = []
    hashed: str | None = None
    fingerprint: int | None = None
    with closing(open_source(path, spec)) as source:
        for index in range(min(source.info.pages, spec.max_pages)):
            shown = display(source.decode(index, largest), largest)
            images.extend(derivatives(shown, spec, page=index + 1))
            if index == 0:
                hashed = placeholder(shown)
                fingerprint = perceptual_hash(shown)
        info = source.info
    pyramid = _pyramid(info, spec)
    tiles = RenderedTiles(pyramid, _tiles(path, spec, pyramid)) if pyramid else None
    return Rendition(info=info, images=tuple(images), placeholder=hashed,
                     perceptual_hash=fingerprint, tiles=tiles)


def _pyramid(info: ImageInfo, spec: RenderSpec) -> Pyramid | None:
    """The tiles of the first page, if it is large enough for them and small enough to be
    decoded whole: tiles are cut from the full-size page, which the pixel limit applies to
    as to any image decoded at once."""
    if info.width * info.height > spec.max_pixels:
        return None
    return spec.pyramid(info.width, info.height)


def _tiles(path: Path, spec: RenderSpec, pyramid: Pyramid) -> Iterator[tuple[Tile, bytes]]:
    # Opened afresh: a JPEG was decoded at reduced scale for the thumbnails, and Pillow decodes
    # an image once.
    with closing(open_source(path, spec)) as source:
        page = source.decode(0, max(pyramid.width, pyramid.height))
        yield from tile_images(page, pyramid, spec)


def open_source(path: Path, spec: RenderSpec) -> Source:
    with path.open("rb") as file:
        head = file.read(filetypes.HEADER_BYTES)  # a RAW's IFD0 may lie well past its start
    kind = filetypes.sniff(head)
    if kind is None:
        raise ImageError(
            f"not an image Lightbox can read: this is {filetypes.describe(head)}, "
            f"not {filetypes.SUPPORTED_NAMES}"
        )
    if kind in filetypes.VIDEO:
        raise ImageError("a video clip is rendered by the video function, not this one")
    if kind == filetypes.TIFF:
        return TiffSource(path, spec)
    if kind == filetypes.JXL:
        return JxlSource(path, spec, head)
    if kind == filetypes.PDF:
        return PdfSource(path, spec)
    if kind in filetypes.RAW:
        # Imported only for a RAW: rawpy loads LibRaw and its OpenMP runtime.
        from lightbox.imaging.raw_source import RawSource

        return RawSource(path, spec, kind)
    return PillowSource(path, spec, head)

