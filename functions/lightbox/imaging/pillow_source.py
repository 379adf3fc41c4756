"""JPEG, PNG, WebP, GIF, HEIC/HEIF and AVIF through Pillow; JPEG decoded at 1/2, 1/4 or 1/8
scale when it can.

These formats are decoded whole (at the reduced scale, for JPEG), so their pixel count is
checked against the limit before decoding. HEIC and HEIF are read by pi-heif (libheif with
libde265, both LGPL, decoders only), which Pillow opens them with; AVIF by Pillow's own plugin.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pi_heif
from PIL import Image, UnidentifiedImageError

from lightbox import filetypes
from lightbox.domain import ImageInfo, RenderSpec
from lightbox.errors import ImageError
from lightbox.imaging import animation, cicp, metadata
from lightbox.imaging.source import DecodedPage, check_pixels, decoding

# The primary image only: thumbnails, depth maps and auxiliary images are never decoded; more
# than 8 bits per sample come down to 8 (the derivatives hold no more).
pi_heif.register_heif_opener(thumbnails=False, depth_images=False, aux_images=False)

_PNG_COLOUR_TYPES = {0: "L", 2: "RGB", 3: "P", 4: "LA", 6: "RGBA"}
_EIGHT_BIT = ("L", "LA", "RGB", "RGBA", "CMYK")


class PillowSource:
    def __init__(self, path: Path, spec: RenderSpec, head: bytes) -> None:
        self._spec = spec
        with decoding("the file"), no_pillow_size_check():
            try:
                self._image = Image.open(path)
            except UnidentifiedImageError as exc:
                # Pillow's own message names the file's path on this machine, and no more.
                kind = (filetypes.sniff(head) or "image").removeprefix("image/").upper()
                raise ImageError(f"the file is corrupt: its {kind} header cannot be read") from exc
        try:
            with decoding("the file"):
                exif = _exif(self._image)
                taken = exif.get_ifd(metadata.EXIF_IFD).get(metadata.DATETIME_ORIGINAL)
                located = metadata.has_location(exif.get_ifd(metadata.GPS_IFD))
        except BaseException:
            self._image.close()
            raise
        orientation = metadata.orientation(exif.get(metadata.ORIENTATION))
        if self._image.format == "HEIF":
            # libheif turns the picture as its irot and imir say (which HEIF puts before EXIF)
            # while decoding, and reports the turned size; EXIF's orientation is only recorded,
            # or the picture would be turned twice.
            orientation = metadata.orientation(
                self._image.info.get("original_orientation", orientation))
            self._orientation = 1
            width, height = self._image.size
        else:
            self._orientation = orientation or 1
            width, height = metadata.displayed_size(*self._image.size, orientation)
        bit_depth, mode = _depth_and_mode(self._image, head)
        motion = animation.read(path, self._image.format or "")
        self.info = ImageInfo(
            width=width,
            height=height,
            pages=1,  # of an animation or a HEIF sequence, the first frame stands
            bit_depth=bit_depth,
            color_mode=mode,
            taken_at=metadata.timestamp(taken or exif.get(metadata.DATETIME)),
            camera_make=metadata.text(exif.get(metadata.MAKE)),
            camera_model=metadata.text(exif.get(metadata.MODEL)),
            orientation=orientation,
            # A sequence's tracks are not read: its frames are not counted.
            frames=None if filetypes.sniff(head) == filetypes.HEIC_SEQUENCE
            else motion.frames if motion else 1,
            duration=motion.seconds if motion else None,
            has_location=located,
        )

    def decode(self, index: int, target: int) -> DecodedPage:
        image = self._image
        box = reduce_before_decoding(image, target, self._spec.max_pixels)
        with decoding("the image data"), no_pillow_size_check():
            image.load()
            eight_bit = _eight_bit(image)
        profile = image.info.get("icc_profile") or _nclx_profile(image)
        return DecodedPage(eight_bit, profile, self._orientation, box)

    def close(self) -> None:
        self._image.close()


def reduce_before_decoding(image: Image.Image, target: int,
                           max_pixels: int) -> tuple[float, float, float, float] | None:
    """Set a JPEG to decode at the smallest scale that keeps ``target`` pixels, and refuse an
    image of more than ``max_pixels`` at the scale it will decode at; the box of the decoded
    image that covers the original, when a partial block was left at an edge."""
    original = image.size
    box = None
    if image.info.get("progressive"):
        # libjpeg holds every DCT coefficient of a progressive JPEG in memory, whatever the
        # scale it decodes at: its full size counts, or a 65 KB file claiming 30000×30000
        # pixels takes 2.7 GB.
        check_pixels(image.size, max_pixels, original)
    if image.format == "JPEG":
        # libjpeg scales by 1/2, 1/4 or 1/8 while decoding, as a low-pass filter in the DCT
        # domain: asking for just the target size costs a fraction of the work, at the
        # quality of decoding whole and resampling (docs/BENCHMARKS.md).
        fit = target / max(image.size)
        drafted = image.draft(None, (math.ceil(image.width * fit), math.ceil(image.height * fit)))
        box = drafted[1] if drafted is not None else None
    check_pixels(image.size, max_pixels, original)
    return box


@contextmanager
def no_pillow_size_check() -> Iterator[None]:
    # Lightbox checks the size itself, after JPEG's reduced-scale decode is known.
    previous = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = None
    try:
        yield
    finally:
        Image.MAX_IMAGE_PIXELS = previous


def _exif(image: Image.Image) -> Image.Exif:
    # A PNG's EXIF may follow its pixels; reading it there would decode the image before its
    # size is checked. The PNG specification puts eXIf first, where Pillow has already read it.
    if image.format == "PNG" and "exif" not in image.info:
        return Image.Exif()
    return image.getexif()


def _nclx_profile(image: Image.Image) -> bytes | None:
    """A HEIF's colours given by code points (its nclx box) rather than an ICC profile, as
    Android phones write Display P3 and HDR: the profile those code points mean."""
    nclx = image.info.get("nclx_profile")
    if not isinstance(nclx, dict):
        return None
    primaries, transfer = nclx.get("color_primaries"), nclx.get("transfer_characteristics")
    if not isinstance(primaries, int) or not isinstance(transfer, int):
        return None
    return cicp.coded_profile(primaries, transfer)


def _depth_and_mode(image: Image.Image, head: bytes) -> tuple[int, str]:
    if image.format == "HEIF":
        # Decoded to 8 bits; the file's own depth (10 for a phone's HDR photo) is recorded.
        depth = image.info.get("bit_depth")
        return (depth if isinstance(depth, int) else 8), image.mode
    if image.format == "PNG" and len(head) >= 26:
        # Pillow reads 16-bit colour PNGs as 8-bit; the header says what the file holds.
        return head[24], _PNG_COLOUR_TYPES.get(head[25], image.mode)
    if image.mode == "1":
        return 1, "L"
    if image.mode.startswith("I;16"):
        return 16, "L"
    if image.mode in ("I", "F"):
        return 32, "L"
    return 8, image.mode


def _eight_bit(image: Image.Image) -> Image.Image:
    """The image in one of the 8-bit modes the pipeline takes."""
    mode = image.mode
    if mode in _EIGHT_BIT:
        return image
    if mode.startswith("I;16"):
        return image.convert("I").point(lambda value: value * (1 / 257)).convert("L")
    if mode in ("I", "F"):
        low, high = image.getextrema()
        if not isinstance(low, (int, float)) or not isinstance(high, (int, float)):
            raise ImageError(f"unexpected samples in a {mode} image")
        scale = 255 / (high - low) if high > low else 0
        return image.point(lambda value: (value - low) * scale).convert("L")
    if mode == "P" and "transparency" not in image.info:
        return image.convert("RGB")
    if mode in ("P", "PA", "RGBa"):
        return image.convert("RGBA")
    if mode in ("La",):
        return image.convert("LA")
    if mode == "1":
        return image.convert("L")
    return image.convert("RGB")
