"""Hostile and broken files, built in code: each function returns one file's bytes.

Each docstring's first line says what the file attacks. Nothing here is checked in as a binary,
and no file is larger than a few megabytes; the bombs are small on disk and huge in memory.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Callable
from functools import cache
from typing import Any

import imagecodecs
import numpy as np
import tifffile
from PIL import Image

from tests.images import (
    dng,
    heic,
    heic_grid,
    iso_box,
    one_page_pdf,
    pdf,
    pdf_stream,
    pidng_dng,
    raw_pdf,
)
from tests.videos import box, clip, without_video

# --- helpers ------------------------------------------------------------------------------

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# TIFF field types
_SHORT, _LONG, _LONG8 = 3, 4, 16
# TIFF tags
_WIDTH, _LENGTH, _BITS, _COMPRESSION, _PHOTOMETRIC = 256, 257, 258, 259, 262
_STRIP_OFFSETS, _SAMPLES, _ROWS_PER_STRIP, _STRIP_BYTES = 273, 277, 278, 279
_TILE_WIDTH, _TILE_LENGTH, _TILE_OFFSETS, _TILE_BYTES = 322, 323, 324, 325
_SUB_IFDS, _SAMPLE_FORMAT = 330, 339
_DEFLATE, _LZW = 8, 5
_MINISBLACK = 1

Entry = tuple[int, int, int, int]  # tag, type, count, value (or offset of the values)


def _photo(width: int = 640, height: int = 480) -> Image.Image:
    """Smooth gradients with noise: compresses like a photograph, not like a flat colour."""
    rng = np.random.default_rng(7)
    y, x = np.mgrid[0:height, 0:width]
    pixels = np.stack([x * 255 // width, y * 255 // height, (x + y) * 255 // (width + height)],
                      axis=-1)
    noise = rng.integers(-12, 12, pixels.shape)
    return Image.fromarray(np.clip(pixels + noise, 0, 255).astype(np.uint8))


def _jpeg(image: Image.Image | None = None, **save: object) -> bytes:
    buffer = io.BytesIO()
    (image or _photo()).save(buffer, "JPEG", quality=90, **save)
    return buffer.getvalue()


def _png(image: Image.Image | None = None) -> bytes:
    buffer = io.BytesIO()
    (image or _photo()).save(buffer, "PNG")
    return buffer.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data)
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def _ihdr(width: int, height: int, bit_depth: int = 8, colour_type: int = 0) -> bytes:
    return _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0))


@cache
def _zeros_deflated(size: int) -> bytes:
    """``size`` zero bytes as a zlib stream: about a thousandth of that on disk."""
    compressor = zlib.compressobj(9)
    block = bytes(16 * 1024 * 1024)
    parts = [compressor.compress(block) for _ in range(size // len(block))]
    parts.append(compressor.compress(bytes(size % len(block))))
    return b"".join(parts) + compressor.flush()


def _tiff(pixels: np.ndarray, **options: object) -> bytes:
    buffer = io.BytesIO()
    tifffile.imwrite(buffer, pixels, metadata=None, **options)
    return buffer.getvalue()


def _entry(tag: int, kind: int, count: int, value: int) -> bytes:
    if kind == _SHORT and count == 1:
        return struct.pack("<HHIHH", tag, kind, count, value, 0)
    return struct.pack("<HHII", tag, kind, count, value)


def _ifd(entries: list[Entry], next_offset: int = 0) -> bytes:
    """A classic little-endian IFD: 2 + 12 × entries + 4 bytes."""
    return (struct.pack("<H", len(entries)) + b"".join(_entry(*e) for e in sorted(entries))
            + struct.pack("<I", next_offset))


def _ifd_size(entries: list[Entry]) -> int:
    return 2 + 12 * len(entries) + 4


def _grey(width: int, height: int, data_offset: int, data_bytes: int, *,
          compression: int = 1, bits: int = 8, extra: tuple[Entry, ...] = ()) -> list[Entry]:
    """The tags of a greyscale page held in one strip."""
    return [(_WIDTH, _LONG, 1, width), (_LENGTH, _LONG, 1, height), (_BITS, _SHORT, 1, bits),
            (_COMPRESSION, _SHORT, 1, compression), (_PHOTOMETRIC, _SHORT, 1, _MINISBLACK),
            (_STRIP_OFFSETS, _LONG, 1, data_offset), (_ROWS_PER_STRIP, _LONG, 1, height),
            (_STRIP_BYTES, _LONG, 1, data_bytes), *extra]


def _one_page_tiff(tags: Callable[[int], list[Entry]], data: bytes) -> bytes:
    """A classic TIFF: header, one IFD built by ``tags(offset of data)``, then ``data``."""
    data_offset = 8 + _ifd_size(tags(0))
    return b"II*\x00" + struct.pack("<I", 8) + _ifd(tags(data_offset)) + data


def _flip(data: bytes, start: int, stop: int) -> bytes:
    """``data`` with every bit of ``data[start:stop]`` inverted."""
    flipped = bytearray(data)
    flipped[start:stop] = bytes(b ^ 0xFF for b in flipped[start:stop])
    return bytes(flipped)


def _segment(data: bytes, marker: bytes) -> tuple[int, int]:
    """Where a JPEG marker segment's payload starts and ends."""
    start = data.index(marker) + 4
    return start, start - 2 + struct.unpack(">H", data[start - 2:start])[0]


# --- not images at all --------------------------------------------------------------------

def empty() -> bytes:
    """A zero-byte file: nothing to sniff, nothing to decode."""
    return b""


def html_page() -> bytes:
    """An HTML page uploaded as an image: must never be served back as one."""
    return b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"


def svg_with_script() -> bytes:
    """An SVG with a script: an XSS vector wherever SVG is rendered as an image."""
    return (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" '
            b'height="10"><script>alert(1)</script><rect width="10" height="10"/></svg>')


def html_with_a_jpeg_inside() -> bytes:
    """HTML first, a whole JPEG later: a content sniffer reading past the start would take it."""
    return b"<html><body>" + _jpeg() + b"</body></html>"


# --- polyglots that are still images ------------------------------------------------------

def jpeg_with_a_zip_appended() -> bytes:
    """A JPEG followed by a ZIP archive: a valid JPEG, whatever trails its end marker."""
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("payload.html", "<script>alert(1)</script>")
    return _jpeg() + archive.getvalue()


def jpeg_with_html_appended() -> bytes:
    """A JPEG followed by an HTML page: a valid JPEG, whatever trails its end marker."""
    return _jpeg() + b"<html><script>alert(document.cookie)</script></html>"


# --- JPEG ---------------------------------------------------------------------------------

def jpeg_cut_in_its_tables() -> bytes:
    """A JPEG that ends inside its quantisation tables, before any frame header."""
    data = _jpeg()
    return data[: _segment(data, b"\xff\xdb")[0] + 10]


def jpeg_cut_after_its_scan_header() -> bytes:
    """A JPEG that ends right after its scan header: a frame and no entropy-coded data."""
    data = _jpeg()
    return data[: _segment(data, b"\xff\xda")[1]]


def jpeg_cut_near_its_end() -> bytes:
    """A JPEG missing the last tenth of its entropy-coded data."""
    data = _jpeg()
    return data[: len(data) * 9 // 10]


def jpeg_with_flipped_huffman_tables() -> bytes:
    """A JPEG whose Huffman tables are inverted: bogus code counts that overflow the table."""
    data = _jpeg()
    start, stop = _segment(data, b"\xff\xc4")
    return _flip(data, start + 1, stop)


def jpeg_with_flipped_frame_header() -> bytes:
    """A JPEG whose frame header is inverted: 255 components, zero-sized sampling factors."""
    data = _jpeg()
    start, _ = _segment(data, b"\xff\xc0")
    return _flip(data, start + 5, start + 12)


def jpeg_with_flipped_scan_data() -> bytes:
    """A JPEG with a run of inverted bytes in its entropy-coded data, markers included."""
    data = _jpeg()
    _, scan = _segment(data, b"\xff\xda")
    middle = (scan + len(data)) // 2
    return _flip(data, middle, middle + 64)


def jpeg_declaring_65500_by_65500() -> bytes:
    """A baseline JPEG whose frame header claims 65500×65500 pixels (4.3 gigapixels)."""
    data = bytearray(_jpeg())
    start, _ = _segment(data, b"\xff\xc0")
    data[start + 1:start + 5] = struct.pack(">HH", 65500, 65500)
    return bytes(data)


def progressive_jpeg_declaring_65500_by_65500() -> bytes:
    """A progressive JPEG claiming 65500×65500: libjpeg keeps every DCT coefficient in memory."""
    data = bytearray(_jpeg(progressive=True))
    start, _ = _segment(data, b"\xff\xc2")
    data[start + 1:start + 5] = struct.pack(">HH", 65500, 65500)
    return bytes(data)


# --- PNG ----------------------------------------------------------------------------------

def png_cut_after_its_signature() -> bytes:
    """A PNG of nothing but its eight-byte signature."""
    return _png()[:8]


def png_cut_inside_its_header() -> bytes:
    """A PNG that ends in the middle of its IHDR chunk."""
    return _png()[:20]


def png_cut_before_its_data() -> bytes:
    """A PNG that ends after its IHDR chunk: dimensions and no pixels."""
    return _png()[:33]


def png_without_its_end_chunk() -> bytes:
    """A PNG whose last IDAT is cut short and whose IEND is missing."""
    data = _png()
    return data[:-40]


def png_with_a_bad_header_crc() -> bytes:
    """A PNG whose IHDR checksum does not match its contents."""
    data = bytearray(_png())
    data[29:33] = bytes(b ^ 0xFF for b in data[29:33])
    return bytes(data)


def png_with_an_impossible_header() -> bytes:
    """A PNG whose IHDR, checksum correct, says bit depth 7 and colour type 5."""
    data = _png()
    return data[:8] + _chunk(b"IHDR", struct.pack(">IIBBBBB", 640, 480, 7, 5, 0, 0, 0)) + data[33:]


def png_with_a_bad_data_crc() -> bytes:
    """A PNG with bytes flipped inside its first IDAT chunk (its checksum then fails)."""
    data = _png()
    start = data.index(b"IDAT") + 4
    return _flip(data, start + 100, start + 132)


def png_with_corrupt_deflate_data() -> bytes:
    """A PNG whose IDAT is flipped garbage with a correct checksum: the inflater must refuse it."""
    data = _png()
    start = data.index(b"IDAT") - 4
    (length,) = struct.unpack(">I", data[start:start + 4])
    payload = _flip(data[start + 8:start + 8 + length], 2, 200)
    return data[:start] + _chunk(b"IDAT", payload) + data[start + 12 + length:]


def png_declaring_100000_by_100000() -> bytes:
    """A PNG whose header claims 100000×100000 pixels (10 gigapixels) over one row of data."""
    row = zlib.compress(bytes(1 + 100_000))
    return (_PNG_SIGNATURE + _ihdr(100_000, 100_000) + _chunk(b"IDAT", row)
            + _chunk(b"IEND", b""))


def png_deflate_bomb() -> bytes:
    """A 1 MB PNG of 1000×1000 grey pixels whose IDAT inflates to 1 GiB of zeros."""
    return (_PNG_SIGNATURE + _ihdr(1000, 1000) + _chunk(b"IDAT", _zeros_deflated(2**30))
            + _chunk(b"IEND", b""))


def png_deflate_bomb_over_the_pixel_limit() -> bytes:
    """A 1 MB PNG claiming 50000×50000 pixels, with an IDAT that inflates to 1 GiB."""
    return (_PNG_SIGNATURE + _ihdr(50_000, 50_000) + _chunk(b"IDAT", _zeros_deflated(2**30))
            + _chunk(b"IEND", b""))


def png_with_a_ztxt_bomb() -> bytes:
    """A PNG with a compressed text chunk (zTXt) that inflates to 1 GiB, before its pixels."""
    data = _png()
    bomb = _chunk(b"zTXt", b"Comment\x00\x00" + _zeros_deflated(2**30))
    return data[:33] + bomb + data[33:]


def png_with_an_iccp_bomb() -> bytes:
    """A PNG whose colour profile chunk (iCCP) inflates to 1 GiB."""
    data = _png()
    bomb = _chunk(b"iCCP", b"profile\x00\x00" + _zeros_deflated(2**30))
    return data[:33] + bomb + data[33:]


def png_with_200_text_chunks_of_a_megabyte() -> bytes:
    """A PNG with 200 zTXt chunks of 1 MB each once inflated: 200 MB of text for one picture."""
    data = _png()
    text = b"".join(_chunk(b"zTXt", f"Comment{n}".encode() + b"\x00\x00"
                           + _zeros_deflated(1_000_000)) for n in range(200))
    return data[:33] + text + data[33:]


def png_with_a_ztxt_bomb_after_its_pixels() -> bytes:
    """A PNG with a zTXt chunk inflating to 1 GiB between its last IDAT and its end."""
    data = _png()
    bomb = _chunk(b"zTXt", b"Comment\x00\x00" + _zeros_deflated(2**30))
    return data[:-12] + bomb + data[-12:]


# --- TIFF: truncated and corrupt ------------------------------------------------------------

def _uncompressed_tiff() -> bytes:
    return _tiff(np.asarray(_photo()), photometric="rgb")


def tiff_cut_after_its_header() -> bytes:
    """A TIFF of its 8-byte header alone: the first IFD's offset points past the end."""
    return _uncompressed_tiff()[:8]


def tiff_cut_inside_its_first_ifd() -> bytes:
    """A TIFF that ends halfway through its first IFD."""
    data = _uncompressed_tiff()
    (ifd,) = struct.unpack("<I", data[4:8])
    return data[: ifd + 40]


def tiff_cut_inside_its_uncompressed_strip() -> bytes:
    """An uncompressed TIFF, its IFD first, cut halfway through its pixel data."""
    grey = bytes(range(256)) * 1200
    data = _one_page_tiff(lambda offset: _grey(640, 480, offset, len(grey)), grey)
    return data[: -len(grey) // 2]


def tiff_with_its_first_ifd_offset_flipped() -> bytes:
    """A TIFF whose header's pointer to the first IFD is inverted: far outside the file."""
    return _flip(_uncompressed_tiff(), 4, 8)


def tiff_with_its_tags_flipped() -> bytes:
    """A TIFF whose first IFD's entries are inverted: unknown tags of impossible types."""
    data = _uncompressed_tiff()
    (ifd,) = struct.unpack("<I", data[4:8])
    return _flip(data, ifd + 2, ifd + 2 + 12 * 4)


def tiff_with_corrupt_deflate_data() -> bytes:
    """A deflate-compressed TIFF with inverted bytes in the middle of every strip."""
    pixels = np.asarray(_photo())
    data = bytearray(_tiff(pixels, photometric="rgb", compression="zlib", rowsperstrip=480))
    with tifffile.TiffFile(io.BytesIO(bytes(data))) as tiff:
        offset, size = tiff.pages.first.dataoffsets[0], tiff.pages.first.databytecounts[0]
    return _flip(bytes(data), offset + size // 3, offset + size // 3 + 64)


def tiff_with_corrupt_lzw_data() -> bytes:
    """An LZW-compressed TIFF with inverted bytes in the middle of its strip."""
    pixels = np.asarray(_photo())
    data = _tiff(pixels, photometric="rgb", compression="lzw", rowsperstrip=480)
    with tifffile.TiffFile(io.BytesIO(data)) as tiff:
        offset, size = tiff.pages.first.dataoffsets[0], tiff.pages.first.databytecounts[0]
    return _flip(data, offset + size // 3, offset + size // 3 + 64)


# --- TIFF: sizes and bombs ----------------------------------------------------------------

def tiff_declaring_100000_by_100000() -> bytes:
    """A TIFF whose page claims 100000×100000 pixels (10 gigapixels) over 100 bytes of data."""
    return _one_page_tiff(lambda offset: _grey(100_000, 100_000, offset, 100), bytes(100))


def tiff_declaring_60000_by_60000_with_no_data() -> bytes:
    """A TIFF claiming 3.6 gigapixels, under the streaming limit, with one 100-byte strip."""
    return _one_page_tiff(lambda offset: _grey(60_000, 60_000, offset, 100), bytes(100))


def tiff_of_60000_by_60000_missing_tiles() -> bytes:
    """A TIFF claiming 3.6 gigapixels in 55 225 tiles, none of them stored: 440 KB."""
    tile = 256
    count = (-(-60_000 // tile)) ** 2

    def tags(offset: int) -> list[Entry]:
        return [(_WIDTH, _LONG, 1, 60_000), (_LENGTH, _LONG, 1, 60_000), (_BITS, _SHORT, 1, 8),
                (_COMPRESSION, _SHORT, 1, _DEFLATE), (_PHOTOMETRIC, _SHORT, 1, _MINISBLACK),
                (_TILE_WIDTH, _LONG, 1, tile), (_TILE_LENGTH, _LONG, 1, tile),
                (_TILE_OFFSETS, _LONG, count, offset),
                (_TILE_BYTES, _LONG, count, offset + 4 * count)]

    return _one_page_tiff(tags, bytes(8 * count))


def tiff_deflate_bomb_in_a_strip() -> bytes:
    """A 4000×4000 TIFF whose single 1 MB deflate strip inflates to 1 GiB, not its 16 MB."""
    bomb = _zeros_deflated(2**30)
    return _one_page_tiff(
        lambda offset: _grey(4000, 4000, offset, len(bomb), compression=_DEFLATE), bomb)


def tiff_lzw_bomb_in_a_tile() -> bytes:
    """A 4096×4096 TIFF of one tile whose 0.8 MB of LZW decodes to 1 GiB, not its 16 MB."""
    bomb = imagecodecs.lzw_encode(bytes(2**30))

    def tags(offset: int) -> list[Entry]:
        return [(_WIDTH, _LONG, 1, 4096), (_LENGTH, _LONG, 1, 4096), (_BITS, _SHORT, 1, 8),
                (_COMPRESSION, _SHORT, 1, _LZW), (_PHOTOMETRIC, _SHORT, 1, _MINISBLACK),
                (_TILE_WIDTH, _LONG, 1, 4096), (_TILE_LENGTH, _LONG, 1, 4096),
                (_TILE_OFFSETS, _LONG, 1, offset), (_TILE_BYTES, _LONG, 1, len(bomb))]

    return _one_page_tiff(tags, bomb)


def tiff_with_one_huge_tile() -> bytes:
    """A TIFF of one 65536×65536 tile (4 GiB decoded) holding 100 bytes of deflate data."""
    data = zlib.compress(bytes(10_000))

    def tags(offset: int) -> list[Entry]:
        return [(_WIDTH, _LONG, 1, 60_000), (_LENGTH, _LONG, 1, 60_000), (_BITS, _SHORT, 1, 8),
                (_COMPRESSION, _SHORT, 1, _DEFLATE), (_PHOTOMETRIC, _SHORT, 1, _MINISBLACK),
                (_TILE_WIDTH, _LONG, 1, 65536), (_TILE_LENGTH, _LONG, 1, 65536),
                (_TILE_OFFSETS, _LONG, 1, offset), (_TILE_BYTES, _LONG, 1, len(data))]

    return _one_page_tiff(tags, data)


# --- TIFF: the chain of IFDs ----------------------------------------------------------------

def tiff_with_100000_ifds() -> bytes:
    """A chain of 100 000 tiny pages (1×1 pixel each, sharing one byte of data): 5 MB."""
    tags = _grey(1, 1, 8, 1)[:2] + _grey(1, 1, 8, 1)[5:6] + _grey(1, 1, 8, 1)[7:]
    size = _ifd_size(tags)
    first = 12  # after the header and the pixel (padded to a word)
    ifds = [_ifd(tags, first + (n + 1) * size if n < 99_999 else 0) for n in range(100_000)]
    return b"II*\x00" + struct.pack("<I", first) + bytes(4) + b"".join(ifds)


def _looping_tiff(links: list[int]) -> bytes:
    """Pages of 8×8 grey pixels; page n's next-IFD pointer leads to page ``links[n]``."""
    pixels = bytes(range(64))
    tags = _grey(8, 8, 8, len(pixels))
    size = _ifd_size(tags)
    start = 8 + len(pixels)
    return (b"II*\x00" + struct.pack("<I", start) + pixels
            + b"".join(_ifd(tags, start + link * size) for link in links))


def tiff_with_an_ifd_pointing_to_itself() -> bytes:
    """A TIFF whose only IFD names itself as the next one: an endless chain of one page."""
    return _looping_tiff([0])


def tiff_with_two_ifds_pointing_to_each_other() -> bytes:
    """A TIFF whose IFDs A and B point to each other: A → B → A → …"""
    return _looping_tiff([1, 0])


def tiff_with_a_loop_after_150_ifds() -> bytes:
    """A chain of 150 pages whose last points back to the 120th: past tifffile's loop check."""
    return _looping_tiff([*range(1, 150), 119])


def tiff_with_one_sub_ifd_listed_200000_times() -> bytes:
    """A page whose SubIFDs tag (its pyramid levels) names one IFD 200 000 times: 800 KB."""
    pixels = bytes(range(64))
    level = _grey(8, 8, 8, len(pixels), extra=((254, _LONG, 1, 1),))
    count = 200_000

    def main(offsets: int) -> list[Entry]:
        return _grey(8, 8, 8, len(pixels), extra=((_SUB_IFDS, _LONG, count, offsets),))

    offsets = 8 + len(pixels) + _ifd_size(main(0))
    level_offset = offsets + 4 * count
    return (b"II*\x00" + struct.pack("<I", 8 + len(pixels)) + pixels + _ifd(main(offsets))
            + struct.pack(f"<{count}I", *[level_offset] * count) + _ifd(level))


def bigtiff_with_an_ifd_pointing_to_itself() -> bytes:
    """A BigTIFF (64-bit offsets) whose only IFD names itself as the next one."""
    pixels = bytes(range(64))
    start = 16 + len(pixels)
    tags = [(_WIDTH, _LONG, 8), (_LENGTH, _LONG, 8), (_BITS, _SHORT, 8),
            (_PHOTOMETRIC, _SHORT, _MINISBLACK), (_STRIP_OFFSETS, _LONG8, 16),
            (_ROWS_PER_STRIP, _LONG, 8), (_STRIP_BYTES, _LONG8, len(pixels))]
    ifd = struct.pack("<Q", len(tags)) + b"".join(
        struct.pack("<HHQQ", tag, kind, 1, value) for tag, kind, value in tags
    ) + struct.pack("<Q", start)
    return b"II+\x00" + struct.pack("<HHQ", 8, 0, start) + pixels + ifd


def tiff_with_its_strip_outside_the_file() -> bytes:
    """A TIFF whose strip offset points 4 GB past the end of the file."""
    return _one_page_tiff(lambda offset: _grey(64, 64, 0xFFFF0000, 4096), bytes(4096))


def tiff_with_its_deflate_strip_outside_the_file() -> bytes:
    """A deflate TIFF whose strip offset points 4 GB past the end of the file."""
    data = zlib.compress(bytes(4096))
    return _one_page_tiff(
        lambda offset: _grey(64, 64, 0xFFFF0000, len(data), compression=_DEFLATE), data)


def tiff_with_a_tag_value_outside_the_file() -> bytes:
    """A TIFF whose BitsPerSample (three values, stored elsewhere) lies 4 GB past its end."""
    data = bytes(64 * 64 * 3)

    def tags(offset: int) -> list[Entry]:
        return [(_WIDTH, _LONG, 1, 64), (_LENGTH, _LONG, 1, 64), (_BITS, _SHORT, 3, 0xFFFF0000),
                (_PHOTOMETRIC, _SHORT, 1, 2), (_STRIP_OFFSETS, _LONG, 1, offset),
                (_SAMPLES, _SHORT, 1, 3), (_ROWS_PER_STRIP, _LONG, 1, 64),
                (_STRIP_BYTES, _LONG, 1, len(data))]

    return _one_page_tiff(tags, data)


# --- TIFF: samples that lie -----------------------------------------------------------------

def tiff_16_bit_with_short_strips() -> bytes:
    """A TIFF saying 16 bits per sample whose uncompressed strip holds 8-bit data: half of it."""
    data = bytes(range(256)) * 64
    return _one_page_tiff(lambda offset: _grey(128, 256, offset, len(data), bits=16), data)


def tiff_16_bit_with_short_deflate_strips() -> bytes:
    """A deflate TIFF saying 16 bits per sample whose strip inflates to half what that needs."""
    data = zlib.compress(bytes(range(256)) * 128)
    return _one_page_tiff(
        lambda offset: _grey(256, 256, offset, len(data), bits=16, compression=_DEFLATE), data)


def tiff_12_bit_with_short_strips() -> bytes:
    """A TIFF of packed 12-bit samples whose deflate strip inflates to a third of the image."""
    data = zlib.compress(bytes(256 * 256 // 2))
    return _one_page_tiff(
        lambda offset: _grey(256, 256, offset, len(data), bits=12, compression=_DEFLATE), data)


def tiff_of_complex_samples() -> bytes:
    """A TIFF of complex floats (SampleFormat 6): numbers with no brightness to show."""
    pixels = (np.arange(64 * 64).reshape(64, 64) * (1 + 1j)).astype(np.complex64)
    return _tiff(pixels)


def tiff_with_24_bit_integer_samples() -> bytes:
    """A TIFF of 24-bit unsigned integers: a width no numpy type has."""
    data = bytes(range(256)) * 48
    return _one_page_tiff(lambda offset: _grey(64, 64, offset, len(data), bits=24), data)


def _differing_depths(byte_counts: bool) -> bytes:
    def tags(data_offset: int) -> list[Entry]:
        counts = [(_STRIP_BYTES, _LONG, 1, 64)] if byte_counts else []
        return [(_WIDTH, _LONG, 1, 4), (_LENGTH, _LONG, 1, 4), (_BITS, _SHORT, 3, data_offset),
                (_COMPRESSION, _SHORT, 1, 1), (_PHOTOMETRIC, _SHORT, 1, 2),
                (_STRIP_OFFSETS, _LONG, 1, data_offset + 6), (_SAMPLES, _SHORT, 1, 3),
                (_ROWS_PER_STRIP, _LONG, 1, 4), *counts]

    return _one_page_tiff(tags, struct.pack("<3H", 8, 8, 16) + bytes(64))


def tiff_with_bits_per_sample_differing_by_sample() -> bytes:
    """An RGB TIFF whose red and green are 8 bits deep and its blue 16: no reader's layout."""
    return _differing_depths(byte_counts=True)


def tiff_with_differing_depths_and_no_byte_counts() -> bytes:
    """The same without StripByteCounts: tifffile computes them from a depth that is three."""
    return _differing_depths(byte_counts=False)


def tiff_with_zero_bits_per_sample() -> bytes:
    """A TIFF saying its samples have 0 bits."""
    data = bytes(64)
    return _one_page_tiff(lambda offset: _grey(8, 8, offset, len(data), bits=0), data)


def tiff_with_65535_samples_per_pixel() -> bytes:
    """A 64×64 TIFF claiming 65535 samples per pixel, over 100 bytes of data."""
    return _one_page_tiff(
        lambda offset: _grey(64, 64, offset, 100, extra=((_SAMPLES, _SHORT, 1, 65535),)),
        bytes(100))


def tiff_with_float_samples_of_7_bits() -> bytes:
    """A TIFF of floating-point samples 7 bits wide: no such float exists."""
    data = bytes(64)
    return _one_page_tiff(
        lambda offset: _grey(8, 8, offset, len(data), bits=7,
                             extra=((_SAMPLE_FORMAT, _SHORT, 1, 3),)), data)


# --- HEIC and AVIF: ISO media files of boxes --------------------------------------------------

def _heic(image: Image.Image | None = None) -> bytes:
    return heic(image or _photo(), quality=80)


def _avif(image: Image.Image | None = None) -> bytes:
    buffer = io.BytesIO()
    (image or _photo()).save(buffer, "AVIF", quality=80)
    return buffer.getvalue()


def _declaring(data: bytes, width: int, height: int) -> bytes:
    """Every ``ispe`` box (an item's spatial extent) rewritten to claim this size."""
    patched = bytearray(data)
    at = patched.find(b"ispe")
    assert at > 0, "an image item without its size"
    while at > 0:
        # box size, "ispe", version and flags, then width and height
        patched[at + 8:at + 16] = struct.pack(">II", width, height)
        at = patched.find(b"ispe", at + 4)
    return bytes(patched)


def heic_grid_declaring_65535_by_65535() -> bytes:
    """A HEIC grid of 2×2 tiles declaring 65535×65535 pixels: 17 GB of RGB if believed."""
    return heic_grid([_photo(512, 512)] * 4, 2, 65535, 65535)


def heic_grid_of_16384_tiles() -> bytes:
    """A HEIC grid of 128×128 tiles, 65535×65535 pixels, from less than a megabyte of file."""
    return heic_grid([_photo(512, 512)] * 128 * 128, 128, 65535, 65535)


def heic_cut_in_half() -> bytes:
    """A HEIC whose coded image ends half-way."""
    data = _heic()
    return data[: len(data) // 2]


def avif_cut_in_half() -> bytes:
    """An AVIF whose coded image ends half-way."""
    data = _avif()
    return data[: len(data) // 2]


def heic_declaring_65535_by_65535() -> bytes:
    """A small HEIC whose item claims 65535×65535 pixels: 17 GB of RGB if believed."""
    return _declaring(_heic(), 65535, 65535)


def avif_declaring_65535_by_65535() -> bytes:
    """A small AVIF whose item claims 65535×65535 pixels."""
    return _declaring(_avif(), 65535, 65535)


def heic_with_its_boxes_flipped() -> bytes:
    """A HEIC whose box headers after the first are garbage."""
    data = _heic()
    return _flip(data, 32, 160)


def _jxl(image: Image.Image | None = None) -> bytes:
    return bytes(imagecodecs.jpegxl_encode(np.asarray(image or _photo()), distance=1.0))


def _jxl_header(width: int, height: int, *, extra_channels: int = 0) -> bytes:
    """A JPEG XL signature and header (ISO/IEC 18181-1) written field by field, least
    significant bit first: a SizeHeader, then image metadata that is default but for
    ``extra_channels`` named ones, each name 1,071 bytes long."""
    fields = [(0, 1), (3, 2), (height - 1, 30), (0, 3), (3, 2), (width - 1, 30)]
    if extra_channels:
        fields += [(0, 1), (0, 1), (0, 1), (0, 2), (0, 1), (3, 2), (extra_channels - 1, 12)]
        for _ in range(extra_channels):
            # not default; type 1 (depth); 8 bits; no shift; a name of 48 + 1023 bytes
            fields += [(0, 1), (1, 2), (0, 1), (0, 2), (0, 2), (3, 2), (1023, 10)]
            fields += [(0x41, 8)] * 1071
    else:
        fields.append((1, 1))  # all default
    bits = np.array([(field >> bit) & 1 for field, count in fields for bit in range(count)],
                    np.uint8)
    return b"\xff\x0a" + np.packbits(bits, bitorder="little").tobytes()


def jxl_cut_in_half() -> bytes:
    """A JPEG XL whose codestream ends half-way."""
    data = _jxl()
    return data[: len(data) // 2]


def jxl_declaring_65536_by_65536() -> bytes:
    """A JPEG XL header claiming 65536×65536 pixels, then a real image's coded data: 17 GB of
    RGB if believed."""
    return _jxl_header(65536, 65536) + _jxl()[16:]


def jxl_with_64_extra_channels() -> bytes:
    """A JPEG XL header describing 64 extra channels with long names: 68 KB of header, more
    than any real file's."""
    return _jxl_header(640, 480, extra_channels=64)


def jxl_of_8_by_8_pixels_in_2_megabytes() -> bytes:
    """A JPEG XL of 8×8 pixels padded to 2 MB, all of which its decoder would be handed."""
    return _jxl(_photo(8, 8)) + bytes(2 * 1024 * 1024)


def jxl_with_an_exif_gps_pointer_outside_it() -> bytes:
    """A JPEG XL container whose Exif box's IFD0 points its GPS IFD a megabyte past its end."""
    tiff = (b"II*\x00" + struct.pack("<I", 8) + struct.pack("<H", 1)
            + struct.pack("<HHII", 0x8825, 4, 1, 1 << 20) + struct.pack("<I", 0))
    return _jxl_container(_jxl(), b"Exif", bytes(4) + tiff)


def _jxl_container(codestream: bytes, kind: bytes, content: bytes) -> bytes:
    """A JPEG XL container: its signature and ftyp, one box of ``kind``, the codestream."""
    return (b"\x00\x00\x00\x0cJXL \r\n\x87\n"
            + iso_box(b"ftyp", b"jxl " + bytes(4) + b"jxl ")
            + iso_box(kind, content) + iso_box(b"jxlc", codestream))


def jxl_with_an_exif_bomb() -> bytes:
    """A JPEG XL container whose Brotli-compressed Exif box expands to 100 MB."""
    bomb = bytes(imagecodecs.brotli_encode(bytes(4) + bytes(100_000_000)))
    return _jxl_container(_jxl(), b"brob", b"Exif" + bomb)


# --- camera RAW: DNGs, TIFF structures that LibRaw reads -----------------------------------

def _dng_declaring(width: int, height: int) -> bytes:
    """A small DNG of sensor data whose IFD claims this size (its one tile, the most a SHORT
    holds)."""
    data = bytearray(pidng_dng(_photo()))
    with tifffile.TiffFile(io.BytesIO(bytes(data))) as tiff:
        tags = tiff.pages.first.tags
        for tag, value in ((_WIDTH, width), (_LENGTH, height), (_TILE_WIDTH, 65535),
                           (_TILE_LENGTH, 65535)):
            field = tags[tag]
            struct.pack_into("<I" if field.dtype == _LONG else "<H", data, field.valueoffset,
                             value)
    return bytes(data)


def dng_cut_in_half() -> bytes:
    """A DNG whose sensor data ends half-way."""
    data = pidng_dng(_photo())
    return data[: len(data) // 2]


def dng_with_its_ifd_flipped() -> bytes:
    """A DNG whose IFD0 is garbage after its first entry."""
    return _flip(pidng_dng(_photo()), 22, 200)


def dng_with_its_preview_cut_short() -> bytes:
    """A DNG whose JPEG preview, last in the file, ends early: the sensor data is whole."""
    data = dng(_photo(1500, 1000), preview=_photo(1500, 1000))
    return data[:-5000]


def dng_declaring_100000_by_100000() -> bytes:
    """A small DNG whose sensor data claims 100000×100000 pixels: 20 GB unpacked if believed."""
    return _dng_declaring(100_000, 100_000)


def dng_declaring_20000_by_20000() -> bytes:
    """A small DNG claiming 20000×20000 sensor pixels: within LibRaw's limits, not Lightbox's."""
    return _dng_declaring(20_000, 20_000)


def gif_with_10000_frames() -> bytes:
    """An animated GIF of 10,000 frames: its poster is the first, and counting the rest must
    not decode them."""
    frames = [Image.new("L", (64, 64), 40 if index % 2 else 200) for index in range(10_000)]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], duration=40)
    return buffer.getvalue()


# --- controls: files that must render under the same limits ---------------------------------

def large_jpeg() -> bytes:
    """Not hostile: a 24-megapixel photograph, as a phone or camera takes it."""
    return _jpeg(_photo(6000, 4000))


def large_heic() -> bytes:
    """Not hostile: a 12-megapixel HEIC, as a phone takes it."""
    return _heic(_photo(4032, 3024))


def large_jxl() -> bytes:
    """Not hostile: a 12-megapixel JPEG XL, decoded whole."""
    return _jxl(_photo(4032, 3024))


def large_dng_with_a_preview() -> bytes:
    """Not hostile: 24 megapixels of sensor data and the camera's full-size JPEG preview."""
    photo = _photo(6000, 4000)
    return dng(photo, preview=photo)


def large_dng() -> bytes:
    """Not hostile: 24 megapixels of sensor data and no preview, demosaiced."""
    return pidng_dng(_photo(6000, 4000))


def multi_page_16_bit_tiff() -> bytes:
    """Not hostile: three pages of 16-bit RGB, 3000×2000 each, deflate-compressed strips."""
    ramp = np.linspace(0, 65535, 3000).astype(np.uint16)
    page = np.broadcast_to(np.stack([ramp, ramp[::-1], np.full_like(ramp, 20000)], axis=-1),
                           (2000, 3000, 3))
    return _tiff(np.stack([page, page, page]), photometric="rgb", compression="zlib",
                 rowsperstrip=64)


# --- PDF ------------------------------------------------------------------------------------

def _pdf() -> bytes:
    return pdf(_photo(), _photo())


def pdf_with_no_pages() -> bytes:
    """A PDF whose page tree is empty, and which has no cross-reference table."""
    return (b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
            b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n"
            b"%%EOF\n")


def pdf_cut_in_half() -> bytes:
    """A PDF of two photographs that ends half-way, before its cross-reference table."""
    data = _pdf()
    return data[: len(data) // 2]


def pdf_encrypted() -> bytes:
    """A PDF that opens only with its password (AES-256)."""
    return pdf(_photo(), password="secret")


def pdf_with_a_deflate_bomb_as_its_content() -> bytes:
    """A page whose content stream inflates to 1 GiB (pdfium's own cap) from 1 MB."""
    return one_page_pdf(_zeros_deflated(1024**3), content_filter=b"/Filter /FlateDecode")


def pdf_with_a_deflate_bomb_as_its_image() -> bytes:
    """A page showing an image of 20000×20000 grey pixels: 400 MB inflated from 400 KB."""
    image = pdf_stream(b"/Type /XObject /Subtype /Image /Width 20000 /Height 20000 "
                       b"/ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /FlateDecode",
                       _zeros_deflated(20000 * 20000))
    return one_page_pdf(b"q 612 0 0 792 0 0 cm /Im0 Do Q",
                        resources=b"<< /XObject << /Im0 5 0 R >> >>", more=(image,))


def pdf_with_100000_pages() -> bytes:
    """A PDF of 100 000 pages: counted, and only the first hundred rendered."""
    count = 100_000
    kids = b" ".join(b"%d 0 R" % (number + 3) for number in range(count))
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>"
    return raw_pdf([b"<< /Type /Catalog /Pages 2 0 R >>",
                    b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, count),
                    *[page] * count])


def pdf_of_14400_inches_square() -> bytes:
    """A page of 1 036 800 points square (PDF's largest user space): 5 × 10¹² pixels at 72 dpi."""
    return one_page_pdf(b"0 0 1 rg 0 0 518400 1036800 re f", media_box=b"[0 0 1036800 1036800]")


def pdf_of_two_photographs() -> bytes:
    """Not hostile: two 640×480 photographs as pages, as a scanner writes them."""
    return _pdf()


# --- video ----------------------------------------------------------------------------------

@cache
def _clip(**options: Any) -> bytes:
    return clip(_photo(320, 240), **options)


def _put_u32(data: bytearray, at: int, value: int) -> None:
    data[at:at + 4] = value.to_bytes(4, "big")


def clip_cut_before_its_index() -> bytes:
    """An MP4 whose index (written last, as cameras do) never arrived: half the file."""
    data = _clip()
    return data[:len(data) // 2]


def clip_cut_after_its_index() -> bytes:
    """An MP4 with its index first and almost none of the frames it points at."""
    data = _clip(faststart=True)
    return data[:box(data, [b"moov"])[1] + 200]


def clip_with_a_corrupt_index() -> bytes:
    """An MP4 whose sample tables are overwritten with counting bytes."""
    data = bytearray(_clip())
    start = box(data, [b"moov", b"trak", b"mdia", b"minf", b"stbl"])[0]
    data[start + 16:start + 200] = bytes(range(184))
    return bytes(data)


def clip_without_a_video_stream() -> bytes:
    """An MP4 of sound alone (an .m4a by another name)."""
    return without_video(_clip(audio=True))


def clip_claiming_three_days() -> bytes:
    """A 3-second MP4 whose every duration (movie, track, media, edit, samples) says 72 hours."""
    data = bytearray(_clip())
    movie = box(data, [b"moov", b"mvhd"])[0] + 8
    movie_scale = int.from_bytes(data[movie + 12:movie + 16], "big")
    media = box(data, [b"moov", b"trak", b"mdia", b"mdhd"])[0] + 8
    media_scale = int.from_bytes(data[media + 12:media + 16], "big")
    hours = 72 * 3600
    _put_u32(data, movie + 16, movie_scale * hours)
    _put_u32(data, box(data, [b"moov", b"trak", b"tkhd"])[0] + 28, movie_scale * hours)
    _put_u32(data, media + 16, media_scale * hours)
    _put_u32(data, box(data, [b"moov", b"trak", b"edts", b"elst"])[0] + 16, movie_scale * hours)
    samples = box(data, [b"moov", b"trak", b"mdia", b"minf", b"stbl", b"stts"])[0] + 8
    count = int.from_bytes(data[samples + 8:samples + 12], "big")
    _put_u32(data, samples + 12, media_scale * hours // count)
    return bytes(data)


def clip_with_10000_streams() -> bytes:
    """An MP4 whose index holds its video track 10 000 times over (5 MB of tracks)."""
    data = _clip()
    movie_start, movie_end = box(data, [b"moov"])
    track_start, track_end = box(data, [b"moov", b"trak"])
    body = data[movie_start + 8:movie_end] + data[track_start:track_end] * 9_999
    return (data[:movie_start] + (8 + len(body)).to_bytes(4, "big") + b"moov" + body
            + data[movie_end:])


def clip_of_motion_jpeg_declaring_20000_by_20000() -> bytes:
    """A Motion JPEG clip whose every frame's header claims 400 megapixels."""
    data = bytearray(_clip(codec="mjpeg", container="mov", pix_fmt="yuvj420p"))
    at = data.find(b"\xff\xc0")
    while at >= 0:
        data[at + 5:at + 9] = (20000).to_bytes(2, "big") * 2
        at = data.find(b"\xff\xc0", at + 2)
    return bytes(data)


def clip_of_a_codec_no_camera_records() -> bytes:
    """An MPEG-2 clip in a QuickTime file: FFmpeg reads it, Lightbox does not open it."""
    return _clip(codec="mpeg2video", container="mov")
