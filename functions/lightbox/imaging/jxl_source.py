"""JPEG XL through libjxl (imagecodecs' decoder, BSD): bare codestreams and containers,
including JPEGs recompressed losslessly.

libjxl decodes the whole image at once, turned upright as the codestream's orientation says,
into the colour space the header describes; so the header is read first (``jxl_header``): its
size is checked against the pixel limit before decoding, and its colour encoding becomes an
ICC profile that the pipeline converts to sRGB after the image has been reduced. The taken
time and camera come from the container's Exif box, where there is one.
"""

from __future__ import annotations

import struct
from pathlib import Path

import imagecodecs
import numpy as np
from PIL import Image

from lightbox.domain import ImageInfo, RenderSpec
from lightbox.errors import ImageError
from lightbox.imaging import cicp, jxl_header, metadata
from lightbox.imaging.source import DecodedPage, check_pixels, decoding

# Enough for any header Lightbox can read: past it, a file's extra channels are an attack.
_HEADER_BYTES = 16 * 1024
# More than any EXIF holds (JPEG's segments stop at 64 KB).
_MAX_BOX_BYTES = 1024 * 1024
# Four channels of 32-bit floats, stored without compression: more than any file needs.
_MOST_BYTES_PER_PIXEL = 16


class JxlSource:
    def __init__(self, path: Path, spec: RenderSpec, head: bytes) -> None:
        try:
            header = jxl_header.parse(
                jxl_header.codestream_start(head[:_HEADER_BYTES])[:_HEADER_BYTES])
        except jxl_header.HeaderError as exc:
            raise ImageError(f"the JPEG XL file is corrupt: {exc}") from exc
        pixels = header.width * header.height
        check_pixels((header.width, header.height), spec.max_pixels,
                     (header.width, header.height))
        size = path.stat().st_size
        if size > pixels * _MOST_BYTES_PER_PIXEL + _HEADER_BYTES + _MAX_BOX_BYTES:
            # libjxl takes the whole file at once: bytes its pixels cannot need are an attack.
            raise ImageError(f"the JPEG XL file is {size:,} bytes, more than its "
                             f"{header.width}×{header.height} pixels can hold")
        self._data = path.read_bytes()
        self._header = header
        exif = _exif(self._data)
        width, height = metadata.displayed_size(header.width, header.height, header.orientation)
        self.info = ImageInfo(
            width=width,
            height=height,
            pages=1,  # of an animation, the first frame stands
            bit_depth=header.bit_depth,
            color_mode=("L" if header.colour.space == jxl_header.SPACE_GREY else "RGB")
            + ("A" if header.alpha else ""),
            taken_at=metadata.timestamp(
                exif.get_ifd(metadata.EXIF_IFD).get(metadata.DATETIME_ORIGINAL)
                or exif.get(metadata.DATETIME)),
            camera_make=metadata.text(exif.get(metadata.MAKE)),
            camera_model=metadata.text(exif.get(metadata.MODEL)),
            orientation=header.orientation,
            frames=None if header.animated else 1,  # an animation's frames are not counted
            has_location=metadata.has_location(exif.get_ifd(metadata.GPS_IFD)),
        )

    def decode(self, index: int, target: int) -> DecodedPage:
        header = self._header
        with decoding("the JPEG XL image data"):
            # The first frame only, of an animation; libjxl turns it upright as it decodes.
            samples = imagecodecs.jpegxl_decode(self._data, index=0, numthreads=1)
        return DecodedPage(_eight_bit(samples), _profile(header.colour), 1)

    def close(self) -> None:
        self._data = b""


_WHITES = {jxl_header.WHITE_D65: cicp.D65, jxl_header.WHITE_DCI: cicp.DCI_WHITE,
           jxl_header.WHITE_E: cicp.EQUAL_ENERGY}


def _profile(colour: jxl_header.ColourEncoding) -> bytes | None:
    """The profile of the decoded samples; None for sRGB (and for what is taken to be sRGB)."""
    if colour.is_srgb or colour.space not in (jxl_header.SPACE_RGB, jxl_header.SPACE_GREY):
        return None
    white = _WHITES.get(colour.white) if isinstance(colour.white, int) else colour.white
    if white is None:
        return None
    # JPEG XL numbers its primaries and transfer functions as H.273 does.
    primaries = None if colour.space == jxl_header.SPACE_GREY else colour.primaries
    return cicp.profile(primaries, white, colour.transfer)


def _eight_bit(samples: np.ndarray) -> Image.Image:
    """8 bits per sample, computed in place: a 12 MP image in floats is already 144 MB."""
    if samples.dtype.kind == "f":
        np.multiply(samples, 255, out=samples)
        np.clip(samples, 0, 255, out=samples)
        pixels = samples.astype(np.uint8)
    elif samples.dtype == np.uint16:
        pixels = (samples >> 8).astype(np.uint8)
    else:
        pixels = samples.astype(np.uint8, copy=False)
    if pixels.ndim == 3 and pixels.shape[2] == 1:
        pixels = pixels[:, :, 0]
    if pixels.ndim == 3 and pixels.shape[2] not in (2, 3, 4):
        raise ImageError(f"the JPEG XL image has {pixels.shape[2]} channels, not 1 to 4")
    return Image.fromarray(pixels)


def _exif(data: bytes) -> Image.Exif:
    """The container's Exif box (or a Brotli-compressed one): the offset of the TIFF header,
    then EXIF's own bytes. EXIF is user data: when unreadable, it is left out."""
    exif = Image.Exif()
    body = _box(data, b"Exif")
    if body is None:
        return exif
    try:
        skip = int.from_bytes(body[:4], "big")
        exif.load(body[4 + skip:])
        # The IFDs read later are parsed now, where their errors are caught.
        exif.get_ifd(metadata.EXIF_IFD)
        exif.get_ifd(metadata.GPS_IFD)
    except (ValueError, OSError, SyntaxError, IndexError, KeyError, struct.error, TypeError):
        return Image.Exif()
    return exif


def _box(data: bytes, kind: bytes) -> bytes | None:
    """The content of a container's first box of this type, decompressed from a 'brob' box."""
    if not data.startswith(jxl_header.CONTAINER):
        return None
    at = 0
    while at + 8 <= len(data):
        size = int.from_bytes(data[at:at + 4], "big")
        if size < 8:
            return None  # the last box, or a 64-bit size: none of these boxes before it
        content = data[at + 8:at + size]
        if data[at + 4:at + 8] == kind:
            return content
        if data[at + 4:at + 8] == b"brob" and content[:4] == kind:
            try:
                return bytes(imagecodecs.brotli_decode(content[4:], out=_MAX_BOX_BYTES))
            except imagecodecs.BrotliError:
                return None  # corrupt, or larger than any EXIF: a bomb
        at += size
    return None
