"""What every decoder hands to the pipeline, and how decoding failures are reported."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol

from PIL import Image

from lightbox.domain import ImageInfo
from lightbox.errors import ImageError

# What decoders raise for data they cannot decode: corrupt, truncated, or of a variant no
# codec here handles. tifffile's and imagecodecs' errors derive from ValueError and
# RuntimeError; tifffile's arithmetic on a field of an unexpected shape (a tuple where a
# number belongs) raises TypeError.
_DECODE_ERRORS = (
    OSError, ValueError, SyntaxError, EOFError, struct.error, IndexError, KeyError,
    RuntimeError, TypeError, zlib.error,
)
# Decode or shrink to no less than twice the target, then resample: what libvips and
# Pillow's thumbnail() do, for the same quality.
REDUCING_GAP = 2.0


@dataclass(frozen=True)
class DecodedPage:
    """One page, decoded at the smallest scale the largest thumbnail size allows.

    ``image`` holds 8 bits per sample in mode L, LA, RGB, RGBA or CMYK, in the colour space
    its ``icc_profile`` describes (sRGB when there is none), not yet turned upright.
    """

    image: Image.Image
    icc_profile: bytes | None
    orientation: int
    # The part of ``image`` that covers the original exactly, when decoding at reduced scale
    # left a partial block at the right or bottom edge: (left, top, right, bottom).
    box: tuple[float, float, float, float] | None = None


class Source(Protocol):
    """An opened original: what it is, and each of its pages on demand."""

    info: ImageInfo

    def decode(self, index: int, target: int) -> DecodedPage:
        """Page ``index`` at no less than ``target`` pixels on its longest side (if it has them)."""
        ...

    def close(self) -> None: ...


@contextmanager
def decoding(subject: str) -> Iterator[None]:
    """Turn a decoder's failure into an ImageError saying what of ``subject`` went wrong."""
    try:
        yield
    except ImageError:
        raise
    except MemoryError as exc:
        raise ImageError(f"{subject} needs more memory than this function has") from exc
    except _DECODE_ERRORS as exc:
        detail = str(exc).strip() or type(exc).__name__
        state = "truncated" if "truncated" in detail.lower() else "corrupt"
        raise ImageError(f"{subject} is {state} ({detail})") from exc


def check_pixels(decoded: tuple[int, int], limit: int, original: tuple[int, int]) -> None:
    """Refuse to decode more pixels at once than ``limit``: a decompression bomb fails here."""
    width, height = decoded
    if width * height <= limit:
        return
    reduced = f", {width}×{height} even at reduced scale," if decoded != original else ""
    raise ImageError(
        f"the image is {original[0]}×{original[1]} pixels{reduced} over the limit of "
        f"{limit:,} pixels decoded at once"
    )
