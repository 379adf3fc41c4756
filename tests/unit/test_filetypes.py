import pytest

from lightbox import filetypes
from lightbox.errors import UnsupportedMediaType
from tests.support import image_bytes


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (image_bytes("JPEG"), "image/jpeg"),
        (image_bytes("PNG"), "image/png"),
        (image_bytes("TIFF"), "image/tiff"),
        (b"MM\x00*" + bytes(12), "image/tiff"),
        (b"II+\x00\x08\x00\x00\x00", "image/tiff"),
        (image_bytes("GIF"), "image/gif"),
        (image_bytes("WEBP"), "image/webp"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "application/pdf"),
        (b"%PDF-2.0\r", "application/pdf"),
    ],
)
def test_sniff_recognises_the_supported_types(data: bytes, expected: str) -> None:
    assert filetypes.sniff(data[:16]) == expected  # a prefix is enough


def ftyp(major: bytes, *compatible: bytes) -> bytes:
    """An ISO media file's first box: its major brand, a version, the compatible brands."""
    body = major + bytes(4) + b"".join(compatible)
    return (8 + len(body)).to_bytes(4, "big") + b"ftyp" + body + b"\x00\x00\x00\x08meta"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (ftyp(b"heic", b"mif1", b"heic"), "image/heic"),  # an iPhone's
        (ftyp(b"mif1", b"mif1", b"heic"), "image/heic"),
        (ftyp(b"heix", b"mif1", b"heix"), "image/heic"),  # 10-bit
        (ftyp(b"mif1", b"mif1", b"miaf"), "image/heif"),
        (ftyp(b"hevc", b"msf1", b"hevc"), "image/heic-sequence"),
        (ftyp(b"avif", b"mif1", b"avif", b"miaf"), "image/avif"),
        (ftyp(b"mif1", b"mif1", b"avif"), "image/avif"),
        (ftyp(b"avis", b"msf1", b"avis"), "image/avif"),
        (ftyp(b"qt  ", b"qt  "), None),  # a QuickTime movie
        (ftyp(b"isom", b"isom", b"mp41"), None),  # an MP4 video
        (b"\x00\x00\x01\x00ftypheic", None),  # a box longer than what was read
    ],
)
def test_iso_media_files_are_told_apart_by_their_brands(data: bytes, expected: str | None) -> None:
    assert filetypes.sniff(data) == expected
    if expected is None:
        assert filetypes.describe(data).startswith("an ISO media file")


@pytest.mark.parametrize(
    ("data", "description"),
    [
        (b"", "an empty file"),
        (b"\r\n%PDF-1.7\n", "a file of unknown type"),  # read only from its first byte
        (image_bytes("BMP"), "a BMP image"),
        (b"RIFF\x10\x00\x00\x00WAVEfmt ", "a file of unknown type"),
        (b"  <!DOCTYPE html><html>", "an HTML document"),
        (b'<svg xmlns="http://www.w3.org/2000/svg">', "an XML or SVG document"),
        (b"\x00\x00\x00\x18ftypheic", "an ISO media file"),
        (b"hello world", "a file of unknown type"),
    ],
)
def test_unsupported_files_are_described(data: bytes, description: str) -> None:
    head = data[: filetypes.HEADER_BYTES]
    assert filetypes.sniff(head) is None
    assert filetypes.describe(head).startswith(description)


@pytest.mark.parametrize(
    ("declared", "canonical"),
    [
        ("image/jpeg", "image/jpeg"),
        ("IMAGE/JPG", "image/jpeg"),
        ("image/pjpeg", "image/jpeg"),
        ("image/png; charset=binary", "image/png"),
        ("image/tif", "image/tiff"),
        ("application/PDF", "application/pdf"),
    ],
)
def test_declared_types_are_normalised(declared: str, canonical: str) -> None:
    assert filetypes.normalise_content_type(declared) == canonical


@pytest.mark.parametrize("declared", ["image/bmp", "image/x-canon-cr2", "application/postscript",
                                      "text/html", ""])
def test_other_declared_types_are_refused(declared: str) -> None:
    with pytest.raises(UnsupportedMediaType, match="not supported"):
        filetypes.normalise_content_type(declared)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "TIFF", "GIF", "WEBP"])
def test_dimensions_come_from_the_header(fmt: str) -> None:
    data = image_bytes(fmt, (1234, 567))
    assert filetypes.dimensions(data[: filetypes.HEADER_BYTES]) == (1234, 567)


def test_dimensions_of_a_jpeg_behind_large_metadata_are_still_found() -> None:
    exif = b"Exif\x00\x00" + bytes(60_000)
    data = image_bytes("JPEG", (300, 200), exif=exif)
    assert filetypes.dimensions(data[: filetypes.HEADER_BYTES]) == (300, 200)


@pytest.mark.parametrize("head", [b"", b"\xff\xd8\xff\xe0" + bytes(20), b"%PDF-1.7", bytes(100)])
def test_dimensions_that_are_not_in_the_header_are_unknown(head: bytes) -> None:
    assert filetypes.dimensions(head) is None
