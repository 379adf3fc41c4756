"""Camera RAW files (DNG, CR2, CR3, NEF, ARW, RAF, ORF, RW2) through rawpy, which is LibRaw.

A RAW file holds the sensor's samples before demosaicing, and nearly always the camera's own
rendering of them as well: a JPEG preview, often of the full size, with the white balance, tone
curve and colour the camera chose. That preview is the photo as the camera showed it, and
decoding it (at 1/2 to 1/8 scale) costs a fraction of demosaicing, so it is used whenever it has
the pixels the largest thumbnail needs. Otherwise the sensor data is demosaiced at half size
(each 2×2 block of the colour filter becomes one pixel: no interpolation, and a quarter of the
work) with the white balance the camera recorded, into sRGB.

LibRaw reports the camera's orientation as its own flip code. Previews are stored as the sensor
is, unturned, and are turned by the same orientation; demosaiced pixels are left unturned too,
and the pipeline turns both at thumbnail size. Make, model and the time taken come from the
file's own TIFF fields (IFD0 and the EXIF IFD), which rawpy does not expose.
"""

from __future__ import annotations

import io
import mmap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import rawpy
from PIL import Image

from lightbox import filetypes
from lightbox.domain import ImageInfo, RenderSpec
from lightbox.errors import ImageError
from lightbox.imaging import metadata
from lightbox.imaging.pillow_source import no_pillow_size_check, reduce_before_decoding
from lightbox.imaging.source import DecodedPage, check_pixels, decoding

# LibRaw's flip code (dcraw's: bit 1 mirrors columns, bit 2 rows, bit 4 swaps the axes) as the
# EXIF orientation it was read from.
_FLIP_TO_ORIENTATION = {0: 1, 1: 2, 2: 4, 3: 3, 4: 5, 5: 8, 6: 6, 7: 7}
# Every RAW is unpacked to 16-bit samples; the sensor's own depth (12 or 14 bits) LibRaw reports
# only once it has unpacked the whole image, which the preview path never does.
_UNPACKED_BITS = 16
# A RAF header gives the offset of its JPEG preview here, and the JPEG carries the EXIF.
_RAF_JPEG_OFFSET = 84
_EXIF_APP1 = b"Exif\x00\x00"

Fields = dict[int, int | bytes]
Preview = tuple[Image.Image, bytes | None, tuple[float, float, float, float] | None]


class RawSource:
    def __init__(self, path: Path, spec: RenderSpec, kind: str) -> None:
        self._spec = spec
        self._raw = rawpy.RawPy()
        try:
            with _libraw("the RAW file"):
                self._raw.open_file(str(path))
                sizes = self._raw.sizes
                colours = self._raw.num_colors
            if not sizes.width or not sizes.height:
                raise ImageError(f"the RAW file's image is {sizes.width}×{sizes.height} pixels: "
                                 "it has none")
            self._orientation = _FLIP_TO_ORIENTATION.get(sizes.flip, 1)
            first, exif, gps = _camera_fields(path, kind)
        except BaseException:
            self._raw.close()
            raise
        width, height = metadata.displayed_size(sizes.width, sizes.height, self._orientation)
        self.info = ImageInfo(
            width=width,
            height=height,
            pages=1,
            bit_depth=_UNPACKED_BITS,
            color_mode="L" if colours == 1 else "RGB",
            taken_at=metadata.timestamp(exif.get(metadata.DATETIME_ORIGINAL)
                                        or first.get(metadata.DATETIME)),
            camera_make=metadata.text(first.get(metadata.MAKE)),
            camera_model=metadata.text(first.get(metadata.MODEL)),
            orientation=self._orientation,
            has_location=metadata.has_location(gps),
        )

    def decode(self, index: int, target: int) -> DecodedPage:
        return self._preview(target) or self._demosaiced()

    def close(self) -> None:
        self._raw.close()

    def _preview(self, target: int) -> DecodedPage | None:
        """The camera's preview, if it has ``target`` pixels on its longest side and decodes."""
        try:
            thumb = self._raw.extract_thumb()
        except rawpy.LibRawError:
            return None  # none, or none LibRaw reads: the sensor data stands in
        try:
            with decoding("the RAW file's preview"), no_pillow_size_check():
                if thumb.format == rawpy.ThumbFormat.JPEG:
                    decoded = self._jpeg(bytes(thumb.data), target)
                else:  # a bitmap: an uncompressed or 16-bit preview LibRaw has decoded itself
                    decoded = _bitmap(thumb.data, target)
        except ImageError:
            return None  # a broken or oversized preview: the sensor data may still be whole
        if decoded is None:
            return None
        image, profile, box = decoded
        sizes = self._raw.sizes
        orientation = self._orientation
        # A camera that stored its preview already upright (portrait, of a landscape sensor)
        # must not have it turned again.
        if orientation >= 5 and (image.width > image.height) != (sizes.width > sizes.height):
            orientation = 1
        return DecodedPage(image, profile, orientation, box)

    def _jpeg(self, data: bytes, target: int) -> Preview | None:
        image = Image.open(io.BytesIO(data))
        if max(image.size) < target:
            return None
        box = reduce_before_decoding(image, target, self._spec.max_pixels)
        image.load()
        profile = image.info.get("icc_profile")
        return (image if image.mode == "RGB" else image.convert("RGB")), profile, box

    def _demosaiced(self) -> DecodedPage:
        sizes = self._raw.sizes
        # LibRaw unpacks every sample of the sensor at once, margins included, before anything
        # is reduced: that is what the limit must hold.
        unpacked = (sizes.raw_width, sizes.raw_height)
        check_pixels(unpacked, self._spec.max_pixels, unpacked)
        with _libraw("the RAW file"):
            rgb = self._raw.postprocess(half_size=True, use_camera_wb=True, output_bps=8,
                                        user_flip=0)
        if rgb.ndim == 3 and rgb.shape[2] == 1:
            rgb = rgb[..., 0]
        return DecodedPage(Image.fromarray(np.ascontiguousarray(rgb)), None, self._orientation)


def _bitmap(data: object, target: int) -> Preview | None:
    samples = np.asarray(data, np.uint8)
    if samples.ndim != 3 or samples.shape[2] != 3 or max(samples.shape[:2]) < target:
        return None
    return Image.fromarray(np.ascontiguousarray(samples)), None, None


@contextmanager
def _libraw(subject: str) -> Iterator[None]:
    """LibRaw's failures as ImageErrors that say what of ``subject`` went wrong."""
    try:
        with decoding(subject):
            yield
    except rawpy.LibRawError as exc:
        detail = _detail(exc)
        if isinstance(exc, rawpy.LibRawFileUnsupportedError):
            reason = f"{subject} cannot be read: an unsupported camera or format ({detail})"
        elif isinstance(exc, (rawpy.LibRawUnsufficientMemoryError, rawpy.LibRawTooBigError,
                              rawpy.LibRawMemPoolOverflowError)):
            reason = f"{subject} needs more memory than LibRaw allows ({detail})"
        elif isinstance(exc, rawpy.LibRawIOError):
            reason = f"{subject} is truncated ({detail})"
        else:
            reason = f"{subject} is corrupt ({detail})"
        raise ImageError(reason) from exc


def _detail(exc: Exception) -> str:
    # rawpy passes LibRaw's message as bytes: b'Unsupported file format or not RAW file'.
    message = exc.args[0] if exc.args else ""
    if isinstance(message, bytes):
        message = message.decode("utf-8", "replace")
    return str(message).strip() or type(exc).__name__


def _camera_fields(path: Path, kind: str) -> tuple[Fields, Fields, Fields]:
    """IFD0's fields, the EXIF IFD's and the GPS IFD's, wherever this kind of RAW keeps them.

    The file is mapped, not read: the reader touches only the pages its fields lie in.
    """
    try:
        with path.open("rb") as file, mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as data:
            return _fields(data, kind)
    except (OSError, ValueError):
        return {}, {}, {}


def _fields(data: mmap.mmap, kind: str) -> tuple[Fields, Fields, Fields]:
    if kind == filetypes.CR3:
        # Canon keeps IFD0, the EXIF IFD and the GPS IFD as small TIFF files, the CMT1, CMT2
        # and CMT4 boxes of the metadata near the start of the file.
        return _box_tiff(data, b"CMT1"), _box_tiff(data, b"CMT2"), _box_tiff(data, b"CMT4")
    start = 0
    if kind == filetypes.RAF:
        jpeg = int.from_bytes(data[_RAF_JPEG_OFFSET:_RAF_JPEG_OFFSET + 4], "big")
        # SOI, then APP1's marker and length, then the EXIF identifier and a TIFF structure.
        if data[jpeg + 6:jpeg + 12] != _EXIF_APP1:
            return {}, {}, {}
        start = jpeg + 12
    first = filetypes.tiff_tags(data, start)
    exif_ifd, gps_ifd = first.get(metadata.EXIF_IFD), first.get(metadata.GPS_IFD)
    exif = filetypes.tiff_tags(data, start, exif_ifd) if isinstance(exif_ifd, int) else {}
    gps = filetypes.tiff_tags(data, start, gps_ifd) if isinstance(gps_ifd, int) else {}
    return first, exif, gps


def _box_tiff(data: mmap.mmap, box: bytes) -> Fields:
    at = data.find(box, 0, filetypes.HEADER_BYTES)
    return filetypes.tiff_tags(data, at + len(box)) if at >= 4 else {}
