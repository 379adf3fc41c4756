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
        (ftyp(b"qt  ", b"qt  "), "video/quicktime"),  # an iPhone's clip
        (ftyp(b"isom", b"isom", b"iso2", b"avc1", b"mp41"), "video/mp4"),
        (ftyp(b"mp42", b"isom", b"mp42"), "video/mp4"),  # an Android phone's
        (ftyp(b"XYZW", b"XYZW", b"isom"), "video/mp4"),  # an unknown brand, compatible
        (ftyp(b"M4V ", b"M4V ", b"M4A ", b"mp42", b"isom"), "video/x-m4v"),
        (ftyp(b"3gp5", b"3gp5", b"isom"), "video/3gpp"),
        (ftyp(b"XYZW", b"XYZW"), None),  # neither image nor video
        (ftyp(b"M4A ", b"M4A "), None),  # sound alone
        (ftyp(b"M4A ", b"M4A ", b"mp42", b"isom"), None),  # however compatible
        (ftyp(b"M4B ", b"M4B ", b"mp42", b"isom"), None),  # an audiobook
        (ftyp(b"mjp2", b"mjp2", b"isom"), None),  # Motion JPEG 2000
        (ftyp(b"isom", b"isom", b"heic", b"mp42"), "video/mp4"),  # a HEIF brand among many
        (ftyp(b"mif1", b"mif1", b"heic"), "image/heic"),  # HEIF's own structural brand
        (b"\x00\x00\x01\x00ftypheic", None),  # a box longer than what was read
    ],
)
def test_iso_media_files_are_told_apart_by_their_brands(data: bytes, expected: str | None) -> None:
    assert filetypes.sniff(data) == expected
    if expected is None:
        assert filetypes.describe(data).startswith("an ISO media file")


def tiff(*fields: tuple[int, int, bytes], order: bytes = b"II", at: int = 8) -> bytes:
    """A TIFF header and an IFD0 at ``at`` of these (tag, type, value) fields."""
    endian = "little" if order == b"II" else "big"
    magic = b"*\x00" if order == b"II" else b"\x00*"
    values_at = at + 2 + 12 * len(fields) + 4
    entries, values = b"", b""
    for tag, kind, value in fields:
        count = len(value) // {1: 1, 2: 1, 3: 2, 4: 4}[kind]
        inline = len(value) <= 4
        where = value.ljust(4, b"\x00") if inline else (values_at + len(values)).to_bytes(4, endian)
        entries += (tag.to_bytes(2, endian) + kind.to_bytes(2, endian)
                    + count.to_bytes(4, endian) + where)
        values += b"" if inline else value
    header = order + magic + at.to_bytes(4, endian)
    return (header.ljust(at, b"\x00") + len(fields).to_bytes(2, endian) + entries + bytes(4)
            + values)


MAKE, DNG_VERSION = 0x010F, 0xC612


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (tiff((DNG_VERSION, 1, b"\x01\x04\x00\x00")), "image/x-adobe-dng"),
        (tiff((MAKE, 2, b"Canon\x00"), (DNG_VERSION, 1, b"\x01\x06\x00\x00"), order=b"MM"),
         "image/x-adobe-dng"),  # a DNG is a DNG whoever made it
        (b"II*\x00\x10\x00\x00\x00CR\x02\x00" + bytes(64), "image/x-canon-cr2"),
        (tiff((MAKE, 2, b"NIKON CORPORATION\x00")), "image/x-nikon-nef"),
        (tiff((MAKE, 2, b"SONY\x00"), at=40_000), "image/x-sony-arw"),  # IFD0 well past the start
        (b"IIRO\x08\x00\x00\x00", "image/x-olympus-orf"),
        (b"IIRS\x08\x00\x00\x00", "image/x-olympus-orf"),
        (b"MMOR\x00\x00\x00\x08", "image/x-olympus-orf"),
        (b"IIU\x00\x18\x00\x00\x00", "image/x-panasonic-rw2"),
        (b"FUJIFILMCCD-RAW 0201FF383501", "image/x-fuji-raf"),
        (ftyp(b"crx ", b"crx ", b"isom"), "image/x-canon-cr3"),
        # TIFFs, not RAW: another make, an IFD0 past what was read, or one that is nonsense.
        (tiff((MAKE, 2, b"Canon\x00")), "image/tiff"),
        (tiff((MAKE, 2, b"NIKON CORPORATION\x00"))[:20], "image/tiff"),
        (b"II*\x00\xff\xff\xff\xff" + bytes(64), "image/tiff"),
        (b"MM\x00*\x00\x00\x00\x08\xff\xff" + bytes(12), "image/tiff"),
    ],
)
def test_camera_raw_files_are_told_apart_from_tiffs_and_each_other(
    data: bytes, expected: str
) -> None:
    assert filetypes.sniff(data[: filetypes.HEADER_BYTES]) == expected


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        # An EBML header: its size, then elements (id, one-byte size, value) up to DocType.
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01\x42\x82\x84webm", "video/webm"),
        (b"\x1a\x45\xdf\xa3\xa3\x42\x86\x81\x01\x42\x82\x88matroska", None),
        (b"\x1a\x45\xdf\xa3\x9f\x42\x82\x84we", None),  # cut short
        (b"\x00\x00\x00\x08wide\x00\x00\x10\x00mdat", "video/quicktime"),  # before ftyp
        (b"\x00\x00\x10\x00moov\x00\x00\x00\x6cmvhd", "video/quicktime"),
        (b"\x00\x00\x00\x08free\x00\x00\x10\x00mdat", "video/quicktime"),
    ],
)
def test_webm_and_old_quicktime_files_are_recognised(data: bytes, expected: str | None) -> None:
    assert filetypes.sniff(data) == expected


def test_a_plain_tiff_is_still_a_tiff() -> None:
    assert filetypes.sniff(image_bytes("TIFF")[: filetypes.HEADER_BYTES]) == "image/tiff"


@pytest.mark.parametrize(
    ("data", "description"),
    [
        (b"", "an empty file"),
        (b"\r\n%PDF-1.7\n", "a file of unknown type"),  # read only from its first byte
        (image_bytes("BMP"), "a BMP image"),
        (b"RIFF\x10\x00\x00\x00WAVEfmt ", "a RIFF file (an AVI video or a WAV sound)"),
        (b"\x1a\x45\xdf\xa3\xa3\x42\x86\x81\x01\x42\x82\x88matroska", "a Matroska video"),
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


@pytest.mark.parametrize("declared", ["image/bmp", "image/x-sigma-x3f", "application/postscript",
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
