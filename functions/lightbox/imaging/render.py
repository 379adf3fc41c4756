"""The pipeline: open, then for each page decode once, convert, and derive every size.

Per page: decode at the smallest scale that leaves twice the largest size (JPEG's DCT scaling,
a TIFF's pyramid level or block averaging); fit to the largest size; convert to sRGB and turn
upright at that size, where it is cheap; then derive each smaller size from the one before.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

from PIL import Image

from lightbox import filetypes
from lightbox.domain import RenderedImage, RenderSpec, Rendition
from lightbox.errors import ImageError
from lightbox.imaging.color import to_srgb
from lightbox.imaging.encode import encode
from lightbox.imaging.geometry import fit, upright
from lightbox.imaging.jxl_source import JxlSource
from lightbox.imaging.pdf_source import PdfSource
from lightbox.imaging.pillow_source import PillowSource
from lightbox.imaging.placeholder import placeholder
from lightbox.imaging.source import Source
from lightbox.imaging.tiff_source import TiffSource


def render(path: Path, spec: RenderSpec) -> Rendition:
    largest = max(spec.sizes)
    images: list[RenderedImage] = []
    hashed: str | None = None
    with closing(open_source(path, spec)) as source:
        for index in range(min(source.info.pages, spec.max_pages)):
            page = source.decode(index, largest)
            display = upright(to_srgb(fit(page.image, largest, page.box), page.icc_profile),
                              page.orientation)
            images.extend(_derivatives(display, spec, page=index + 1))
            if index == 0:
                hashed = placeholder(display)
        info = source.info
    return Rendition(info=info, images=tuple(images), placeholder=hashed)


def open_source(path: Path, spec: RenderSpec) -> Source:
    with path.open("rb") as file:
        head = file.read(filetypes.HEADER_BYTES)  # a RAW's IFD0 may lie well past its start
    kind = filetypes.sniff(head)
    if kind is None:
        raise ImageError(
            f"not an image Lightbox can read: this is {filetypes.describe(head)}, "
            f"not {filetypes.SUPPORTED_NAMES}"
        )
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


def _derivatives(display: Image.Image, spec: RenderSpec, page: int) -> Iterator[RenderedImage]:
    image = display
    for size in sorted(spec.sizes, reverse=True):
        image = fit(image, size)  # from the size before: one decode serves every size
        for fmt in spec.formats:
            yield RenderedImage(size=size, page=page, format=fmt, width=image.width,
                                height=image.height, data=encode(image, fmt, spec))
