"""The pipeline: open, then for each page decode once, convert, and derive every size.

Per page: decode at the smallest scale that leaves twice the largest size (JPEG's DCT scaling,
a TIFF's pyramid level or block averaging), then ``derive`` the rest.
"""

from __future__ import annotations

import functools
from collections.abc import Generator
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
from lightbox.imaging.source import DecodedPage, Source
from lightbox.imaging.tiff_source import TiffSource
from lightbox.imaging.tiles import tile_images


def render(path: Path, spec: RenderSpec) -> Rendition:
    largest = max(spec.sizes)
    images: list[RenderedImage] = []
    hashed: str | None = None
    fingerprint: int | None = None
    source = open_source(path, spec)
    whole: DecodedPage | None = None  # the first page, when it was decoded at full size
    try:
        info = source.info
        tiled = _tiled(info, spec)
        for index in range(min(info.pages, spec.max_pages)):
            page = source.decode(index, largest)
            shown = display(page, largest)
            images.extend(derivatives(shown, spec, page=index + 1))
            if index == 0:
                hashed = placeholder(shown)
                fingerprint = perceptual_hash(shown)
                if tiled and info.pages == 1 and _decoded_whole(page, info):
                    whole = page
    except BaseException:
        source.close()
        raise
    if whole is None:
        source.close()
    # A format without reduced-scale decoding (HEIC, AVIF, PNG, JPEG XL) was just decoded at
    # full size for the thumbnails: its tiles are cut from that page, which stays open until
    # they are, rather than from a second decode (for a 24 MP HEIC, 3 of its 4.6 CPU-seconds).
    tiles = (RenderedTiles(functools.partial(_tiles, path, spec, (source, whole) if whole
                                             else None)) if tiled else None)
    return Rendition(info=info, images=tuple(images), placeholder=hashed,
                     perceptual_hash=fingerprint, tiles=tiles)


def _decoded_whole(page: DecodedPage, info: ImageInfo) -> bool:
    width, height = page.image.size
    if page.orientation in (5, 6, 7, 8):
        width, height = height, width
    return page.box is None and (width, height) == (info.width, info.height)


def _tiled(info: ImageInfo, spec: RenderSpec) -> bool:
    """Whether the first page may get tiles: large enough for them, and small enough to be
    decoded whole (tiles are cut from the full-size page, which the pixel limit applies to as
    to any image decoded at once)."""
    return (info.width * info.height <= spec.max_pixels
            and spec.pyramid(info.width, info.height) is not None)


def _tiles(path: Path, spec: RenderSpec, decoded: tuple[Source, DecodedPage] | None
           ) -> tuple[Pyramid, Generator[tuple[Tile, bytes]]] | None:
    # Opened afresh unless the thumbnails' decode was of the whole page: a JPEG was decoded at
    # reduced scale, and Pillow decodes an image once. The source stays open while its page is
    # cut: closing it frees the page.
    source, page = decoded if decoded else (open_source(path, spec), None)
    try:
        if page is None:
            page = source.decode(0, max(source.info.width, source.info.height))
        width, height = page.image.size
        turned = page.orientation in (5, 6, 7, 8)
        # A page decoded at reduced scale after all (its box leaves a partial block out) is not
        # tiled: its pixels are not the full image's.
        pyramid = spec.pyramid(*((height, width) if turned else (width, height)))
        if pyramid is None or page.box not in (None, (0, 0, width, height)):
            source.close()
            return None
    except BaseException:
        source.close()
        raise
    return pyramid, _cut(source, page, pyramid, spec)


def _cut(source: Source, page: DecodedPage, pyramid: Pyramid,
         spec: RenderSpec) -> Generator[tuple[Tile, bytes]]:
    with closing(source):
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

