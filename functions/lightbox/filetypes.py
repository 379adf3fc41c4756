"""Which files Lightbox takes (images, and PDF documents), and what a file really is, judged
by its first bytes.

Deliberately free of Pillow: presign and upload-complete use it and must start fast.
"""

from __future__ import annotations

import io

from lightbox.errors import UnsupportedMediaType

JPEG = "image/jpeg"
PNG = "image/png"
TIFF = "image/tiff"
WEBP = "image/webp"
GIF = "image/gif"
HEIC = "image/heic"
HEIF = "image/heif"
HEIC_SEQUENCE = "image/heic-sequence"
AVIF = "image/avif"
JXL = "image/jxl"
PDF = "application/pdf"
SUPPORTED = (JPEG, PNG, TIFF, WEBP, GIF, HEIC, HEIF, HEIC_SEQUENCE, AVIF, JXL, PDF)
SUPPORTED_NAMES = ("a JPEG, PNG, TIFF, WebP, GIF, HEIC/HEIF, AVIF or JPEG XL image, "
                   "or a PDF document")

# Names clients send for the same types.
_ALIASES = {
    "image/jpg": JPEG,
    "image/pjpeg": JPEG,
    "image/x-png": PNG,
    "image/tif": TIFF,
    "image/x-tiff": TIFF,
}

# Leading bytes read of each upload: enough to tell its type, and its dimensions from the
# header of nearly every file (a JPEG's can follow 64 KB of EXIF at most).
HEADER_BYTES = 64 * 1024

_SUPPORTED_MAGIC = (
    (b"\xff\xd8\xff", JPEG),
    (b"\x89PNG\r\n\x1a\n", PNG),
    (b"II*\x00", TIFF),
    (b"MM\x00*", TIFF),
    (b"II+\x00", TIFF),  # BigTIFF
    (b"MM\x00+", TIFF),
    (b"GIF87a", GIF),
    (b"GIF89a", GIF),
    (b"\xff\x0a", JXL),  # a bare codestream
    (b"\x00\x00\x00\x0cJXL \r\n\x87\n", JXL),  # in ISO media boxes
    (b"%PDF-", PDF),
)

# Recognised only to say what a rejected file was.
_OTHER_MAGIC = (
    (b"BM", "a BMP image"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"8BPS", "a Photoshop document"),
)


def normalise_content_type(value: str) -> str:
    """The canonical name of a supported type, from what a client declared."""
    essence = value.split(";", 1)[0].strip().lower()
    essence = _ALIASES.get(essence, essence)
    if essence not in SUPPORTED:
        raise UnsupportedMediaType(
            f"content_type {value!r} is not supported; use one of {', '.join(SUPPORTED)}"
        )
    return essence


# HEIF files (ISO/IEC 23008-12) are ISO media files: their `ftyp` box names the major brand
# and the compatible ones. A still image's structural brand is mif1, a sequence's msf1; the
# codec's brand says which.
_HEIC_BRANDS = {b"heic": HEIC, b"heix": HEIC, b"heim": HEIC, b"heis": HEIC,
                b"hevc": HEIC_SEQUENCE, b"hevx": HEIC_SEQUENCE, b"hevm": HEIC_SEQUENCE,
                b"hevs": HEIC_SEQUENCE}
_AVIF_BRANDS = (b"avif", b"avis")
_HEIF_BRANDS = (b"mif1", b"msf1", b"miaf")


def sniff(head: bytes) -> str | None:
    """The supported type that these leading bytes begin, or None."""
    for magic, content_type in _SUPPORTED_MAGIC:
        if head.startswith(magic):
            return content_type
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return WEBP
    if head[4:8] == b"ftyp":
        return _iso_image(head)
    return None


def _iso_image(head: bytes) -> str | None:
    """Which HEIF image an ISO media file is, by its brands; None for video and the rest."""
    size = int.from_bytes(head[:4], "big")
    if not 16 <= size <= len(head):
        return None
    major = head[8:12]
    brands = [major] + [head[at:at + 4] for at in range(16, size - 3, 4)]
    if major in _AVIF_BRANDS or (major in _HEIF_BRANDS and any(b in _AVIF_BRANDS for b in brands)):
        return AVIF
    for brand in brands:
        if brand in _HEIC_BRANDS:
            return _HEIC_BRANDS[brand]
    return HEIF if major in _HEIF_BRANDS else None


def describe(head: bytes) -> str:
    """A human description of an unsupported file, for the reason it was refused."""
    if not head:
        return "an empty file"
    for magic, name in _OTHER_MAGIC:
        if head.startswith(magic):
            return name
    if head[4:8] == b"ftyp":
        return "an ISO media file (a video, or an image of a codec Lightbox does not read)"
    text = head.lstrip().lower()
    if text.startswith((b"<!doctype html", b"<html")):
        return "an HTML document"
    if text.startswith((b"<?xml", b"<svg")):
        return "an XML or SVG document"
    return "a file of unknown type"


def dimensions(head: bytes) -> tuple[int, int] | None:
    """Width and height from a file's leading bytes, when its header lies within them."""
    # Imported here: imagesize pulls in urllib.request, which presign never needs.
    import imagesize

    try:
        width, height = imagesize.get(io.BytesIO(head), exif_rotation=False)
    except (ValueError, OSError, IndexError):
        return None
    return (width, height) if width > 0 and height > 0 else None
