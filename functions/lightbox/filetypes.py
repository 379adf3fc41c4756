"""Which files Lightbox takes (images, PDF documents and video clips), and what a file really
is, judged by its first bytes.

Deliberately free of Pillow: presign and upload-complete use it and must start fast.
"""

from __future__ import annotations

import io
import mmap
from typing import Literal

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
DNG = "image/x-adobe-dng"
CR2 = "image/x-canon-cr2"
CR3 = "image/x-canon-cr3"
NEF = "image/x-nikon-nef"
ARW = "image/x-sony-arw"
RAF = "image/x-fuji-raf"
ORF = "image/x-olympus-orf"
RW2 = "image/x-panasonic-rw2"
RAW = (DNG, CR2, CR3, NEF, ARW, RAF, ORF, RW2)
MP4 = "video/mp4"
MOV = "video/quicktime"
M4V = "video/x-m4v"
WEBM = "video/webm"
THREE_GPP = "video/3gpp"
VIDEO = (MP4, MOV, M4V, WEBM, THREE_GPP)
SUPPORTED = (JPEG, PNG, TIFF, WEBP, GIF, HEIC, HEIF, HEIC_SEQUENCE, AVIF, JXL, PDF, *RAW,
             *VIDEO)
# What a person looks for by kind (GET /v1/assets?kind=): every still picture, the camera RAWs
# among them, clips, and documents.
KINDS = {
    "photo": tuple(t for t in SUPPORTED if t.startswith("image/")),
    "raw": RAW,
    "video": VIDEO,
    "document": (PDF,),
}


def kind_of(content_type: str) -> str:
    """The one kind a file is counted under: a camera RAW as ``raw``, not also as a photo."""
    return next((kind for kind in ("raw", "video", "document", "photo")
                 if content_type in KINDS[kind]), "other")


SUPPORTED_NAMES = ("a JPEG, PNG, TIFF, WebP, GIF, HEIC/HEIF, AVIF, JPEG XL or camera RAW "
                   "image, a PDF document, or an MP4, QuickTime, WebM or 3GP video")

# What a client sends that does not know the type (a file of no known extension, a browser
# that left File.type empty): accepted, as every declared type is only a claim; the bytes
# decide once they have arrived.
UNDECLARED = "application/octet-stream"

# Names clients send for the same types.
_ALIASES = {
    "image/jpg": JPEG,
    "image/pjpeg": JPEG,
    "image/x-png": PNG,
    "image/tif": TIFF,
    "image/x-tiff": TIFF,
    "video/x-quicktime": MOV,
    "video/3gp": THREE_GPP,
}

# Leading bytes read of each upload: enough to tell its type, and its dimensions from the
# header of nearly every file (a JPEG's can follow 64 KB of EXIF at most).
HEADER_BYTES = 64 * 1024

_SUPPORTED_MAGIC = (
    (b"\xff\xd8\xff", JPEG),
    (b"\x89PNG\r\n\x1a\n", PNG),
    (b"II+\x00", TIFF),  # BigTIFF
    (b"MM\x00+", TIFF),
    (b"GIF87a", GIF),
    (b"GIF89a", GIF),
    (b"\xff\x0a", JXL),  # a bare codestream
    (b"\x00\x00\x00\x0cJXL \r\n\x87\n", JXL),  # in ISO media boxes
    (b"%PDF-", PDF),
    # RAW formats built like TIFF but with a magic number of their own.
    (b"IIRO", ORF),
    (b"IIRS", ORF),
    (b"MMOR", ORF),
    (b"IIU\x00", RW2),
    (b"FUJIFILMCCD-RAW", RAF),
)

# Recognised only to say what a rejected file was.
_OTHER_MAGIC = (
    (b"BM", "a BMP image"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"8BPS", "a Photoshop document"),
    (b"RIFF", "a RIFF file (an AVI video or a WAV sound)"),
)


def normalise_content_type(value: str) -> str:
    """The canonical name of a supported type, from what a client declared; or UNDECLARED,
    which leaves the type to the bytes."""
    essence = value.split(";", 1)[0].strip().lower()
    essence = _ALIASES.get(essence, essence)
    if essence not in SUPPORTED and essence != UNDECLARED:
        raise UnsupportedMediaType(
            f"content_type {value!r} is not supported; use one of {', '.join(SUPPORTED)}, "
            f"or {UNDECLARED} to let the file's bytes say"
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
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return _tiff_kind(head)
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return WEBP
    if head[4:8] == b"ftyp":
        return _iso_image(head) or _iso_video(head)
    if head[4:8] in _QUICKTIME_ATOMS:
        return MOV
    if head.startswith(_EBML) and _ebml_doc_type(head) == b"webm":
        return WEBM
    return None


def _iso_image(head: bytes) -> str | None:
    """Which HEIF image an ISO media file is, by its brands; None for video and the rest."""
    size = int.from_bytes(head[:4], "big")
    if not 16 <= size <= len(head):
        return None
    major = head[8:12]
    if major == b"crx ":  # Canon's RAW, since 2018
        return CR3
    brands = [major] + [head[at:at + 4] for at in range(16, size - 3, 4)]
    if major in _AVIF_BRANDS or (major in _HEIF_BRANDS and any(b in _AVIF_BRANDS for b in brands)):
        return AVIF
    if major in _HEIC_BRANDS:
        return _HEIC_BRANDS[major]
    if major not in _HEIF_BRANDS:
        return None  # an MP4 may list a HEIF brand among many: its major brand says what it is
    for brand in brands:
        if brand in _HEIC_BRANDS:
            return _HEIC_BRANDS[brand]
    return HEIF


# Video in ISO media files (MP4 and its relatives): the major brand names the family. A file
# that names none of these but is compatible with the ISO base brands is an MP4.
_VIDEO_BRANDS = {b"qt  ": MOV, b"M4V ": M4V, b"M4VH": M4V, b"M4VP": M4V}
# Sound alone (iTunes' audio, audiobooks, Flash audio) and Motion JPEG 2000: not clips.
_NOT_VIDEO_BRANDS = (b"M4A ", b"M4B ", b"M4P ", b"F4A ", b"F4B ", b"mjp2")
_MP4_BRANDS = (b"isom", b"iso2", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"dash",
               b"mmp4", b"MSNV", b"XAVC", b"iso8", b"iso9")
# QuickTime files older than `ftyp` begin with one of these atoms.
_QUICKTIME_ATOMS = (b"moov", b"mdat", b"wide", b"pnot", b"free", b"skip")
# Matroska's container, of which WebM is the profile browsers play.
_EBML = b"\x1a\x45\xdf\xa3"
_EBML_DOC_TYPE = b"\x42\x82"


def _iso_video(head: bytes) -> str | None:
    major = head[8:12]
    if major in _VIDEO_BRANDS:
        return _VIDEO_BRANDS[major]
    if major in _NOT_VIDEO_BRANDS:
        return None
    if major.startswith(b"3g"):  # 3gp4…3gp6, 3gg6, 3g2a: phones of the 3GPP era
        return THREE_GPP
    size = int.from_bytes(head[:4], "big")
    brands = [major] + [head[at:at + 4] for at in range(16, min(size, len(head)) - 3, 4)]
    return MP4 if any(brand in _MP4_BRANDS for brand in brands) else None


def _ebml_doc_type(head: bytes) -> bytes | None:
    """The DocType of an EBML header (webm, matroska): an element near its start."""
    at = head.find(_EBML_DOC_TYPE, 4, 64)
    if at < 0 or at + 3 > len(head) or not head[at + 2] & 0x80:
        return None
    length = head[at + 2] & 0x7F  # a one-byte size, as every muxer writes it
    return head[at + 3:at + 3 + length]


# Cameras' RAW files that are TIFF files: a DNG says so in its first IFD, a CR2 after the
# TIFF header; a NEF or an ARW only by the make of the camera that wrote it.
_DNG_VERSION = 0xC612
_MAKE = 0x010F
_RAW_MAKES = ((b"NIKON", NEF), (b"SONY", ARW))


def _tiff_kind(head: bytes) -> str:
    if head[8:11] == b"CR\x02":
        return CR2
    tags = tiff_tags(head)
    if _DNG_VERSION in tags:
        return DNG
    make = tags.get(_MAKE)
    if isinstance(make, bytes):
        for prefix, kind in _RAW_MAKES:
            if make.startswith(prefix):
                return kind
    return TIFF


# TIFF field types read, by the bytes of one value: BYTE, ASCII, SHORT, LONG, RATIONAL,
# UNDEFINED, IFD.
_FIELD_BYTES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 7: 1, 13: 4}
# More entries than any IFD0 or EXIF IFD holds, and longer values than any field read here.
_MAX_ENTRIES = 1024
_MAX_VALUE_BYTES = 4096


def tiff_tags(data: bytes | mmap.mmap, start: int = 0,
              ifd: int | None = None) -> dict[int, int | bytes]:
    """The fields of one IFD of the TIFF structure at ``start`` in ``data``: its first IFD, or
    the one at offset ``ifd`` (from ``start``, as TIFF offsets are).

    Numbers are the field's first value; text, bytes and rationals (a GPS position) its raw
    bytes. The data is untrusted and may be cut short: a field whose value lies outside it is
    left out, and a header that is not TIFF's gives no fields. The magic number is not checked:
    ORF and RW2 have their own.
    """
    order = data[start:start + 2]
    if order not in (b"II", b"MM"):
        return {}
    endian: Literal["little", "big"] = "little" if order == b"II" else "big"
    offset = _number(data, start + 4, 4, endian) if ifd is None else ifd
    count = _number(data, start + offset, 2, endian) if offset is not None else None
    if offset is None or count is None:
        return {}
    fields: dict[int, int | bytes] = {}
    for index in range(min(count, _MAX_ENTRIES)):
        entry = start + offset + 2 + 12 * index
        tag = _number(data, entry, 2, endian)
        value = _field_value(data, start, entry, endian)
        if tag is not None and value is not None:
            fields[tag] = value
    return fields


def _field_value(data: bytes | mmap.mmap, start: int, entry: int,
                 endian: Literal["little", "big"]) -> int | bytes | None:
    kind, values = _number(data, entry + 2, 2, endian), _number(data, entry + 4, 4, endian)
    if kind not in _FIELD_BYTES or not values:
        return None
    size = _FIELD_BYTES[kind] * values
    if size > _MAX_VALUE_BYTES:
        return None
    at = entry + 8 if size <= 4 else start + (_number(data, entry + 8, 4, endian) or 0)
    if at + size > len(data):
        return None
    if kind in (1, 2, 5, 7):
        return bytes(data[at:at + size])
    return _number(data, at, _FIELD_BYTES[kind], endian)


def _number(data: bytes | mmap.mmap, at: int, size: int,
            endian: Literal["little", "big"]) -> int | None:
    if at < 0 or at + size > len(data):
        return None
    return int.from_bytes(data[at:at + size], endian)


def describe(head: bytes) -> str:
    """A human description of an unsupported file, for the reason it was refused."""
    if not head:
        return "an empty file"
    for magic, name in _OTHER_MAGIC:
        if head.startswith(magic):
            return name
    if head[4:8] == b"ftyp":
        return f"an ISO media file of brand {head[8:12]!r}, which Lightbox does not read"
    if head.startswith(_EBML):
        return "a Matroska video (Lightbox takes WebM, Matroska's profile browsers play)"
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
