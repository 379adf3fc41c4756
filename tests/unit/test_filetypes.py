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
    ],
)
def test_sniff_recognises_the_supported_types(data: bytes, expected: str) -> None:
    assert filetypes.sniff(data[:16]) == expected  # a prefix is enough


@pytest.mark.parametrize(
    ("data", "description"),
    [
        (b"", "an empty file"),
        (b"%PDF-1.7\n", "a PDF document"),
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
    ],
)
def test_declared_types_are_normalised(declared: str, canonical: str) -> None:
    assert filetypes.normalise_content_type(declared) == canonical


@pytest.mark.parametrize("declared", ["image/bmp", "image/heic", "application/pdf", "text/html", ""])
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
