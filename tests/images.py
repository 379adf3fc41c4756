"""Writers for test images that Pillow cannot produce: PNGs of any bit depth, interlaced ones,
HEIC, JPEG XL, PDFs (with what Pillow cannot set, and raw ones for pages no writer makes),
camera RAW (DNG), and ICC profiles (an RGB matrix profile with chosen primaries, a small
CMYK table)."""

from __future__ import annotations

import io
import itertools
import struct
import zlib
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from lightbox.imaging import icc

# PNG colour types
GREY, RGB, PALETTE, GREY_ALPHA, RGBA = 0, 2, 3, 4, 6
_SAMPLES = {GREY: 1, RGB: 3, PALETTE: 1, GREY_ALPHA: 2, RGBA: 4}
# Adam7: (first row, first column, row step, column step) of each pass
_ADAM7 = ((0, 0, 8, 8), (0, 4, 8, 8), (4, 0, 8, 4), (0, 2, 4, 4), (2, 0, 4, 2), (0, 1, 2, 2),
          (1, 0, 2, 1))


def png(samples: NDArray[np.integer], colour_type: int, bit_depth: int, *,
        interlaced: bool = False, palette: list[tuple[int, int, int]] | None = None,
        transparency: bytes | None = None) -> bytes:
    """A PNG of ``samples`` (rows × columns × samples-per-pixel, already in 0..2**depth-1)."""
    height, width = samples.shape[:2]
    samples = samples.reshape(height, width, _SAMPLES[colour_type])
    passes = _ADAM7 if interlaced else ((0, 0, 1, 1),)
    raw = b"".join(
        _scanlines(samples[row::row_step, column::column_step], bit_depth)
        for row, column, row_step, column_step in passes
        if row < height and column < width
    )
    chunks = [_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, bit_depth, colour_type,
                                          0, 0, int(interlaced)))]
    if palette is not None:
        chunks.append(_chunk(b"PLTE", bytes(v for colour in palette for v in colour)))
    if transparency is not None:
        chunks.append(_chunk(b"tRNS", transparency))
    chunks += [_chunk(b"IDAT", zlib.compress(raw)), _chunk(b"IEND", b"")]
    return b"\x89PNG\r\n\x1a\n" + b"".join(chunks)


def _scanlines(samples: NDArray[np.integer], bit_depth: int) -> bytes:
    lines = []
    for row in samples:
        values = row.reshape(-1)
        if bit_depth == 16:
            packed = values.astype(">u2").tobytes()
        elif bit_depth == 8:
            packed = values.astype(np.uint8).tobytes()
        else:
            per_byte = 8 // bit_depth
            padded = np.zeros(-(-values.size // per_byte) * per_byte, np.uint8)
            padded[: values.size] = values
            groups = padded.reshape(-1, per_byte)
            shifts = bit_depth * np.arange(per_byte - 1, -1, -1)
            packed = (groups << shifts).sum(axis=1).astype(np.uint8).tobytes()
        lines.append(b"\x00" + packed)  # filter type 0: none
    return b"".join(lines)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(
        ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def heic(image: Image.Image, *, exif: Image.Exif | None = None, quality: int = 90,
         **save: Any) -> bytes:
    """``image`` as a HEIC, written by pillow-heif's encoder (x265, GPL): a test requirement,
    never in a deploy package. libheif turns EXIF's orientation into the file's irot/imir and
    keeps it in EXIF too, as phones do."""
    import pillow_heif

    if exif is not None:
        save["exif"] = exif.tobytes()
    buffer = io.BytesIO()
    pillow_heif.from_pillow(image).save(buffer, format="HEIF", quality=quality, **save)
    return buffer.getvalue()


def heic_grid(tiles: Sequence[Image.Image], columns: int, width: int, height: int, *,
              quality: int = 80) -> bytes:
    """A HEIC whose primary image is a grid (ISO/IEC 23008-12) of ``tiles``, row by row,
    ``columns`` to a row, declaring ``width`` × ``height`` pixels, box by box, as phones write
    their photos.

    libheif writes a grid only through an API pillow-heif does not offer, so the boxes are
    written here around tiles coded by pillow-heif's encoder: each distinct tile (all of one
    size) once, so that a grid may repeat one.
    """
    coded: dict[int, bytes] = {}
    for tile in tiles:
        if id(tile) not in coded:
            coded[id(tile)] = heic(tile, quality=quality)
    first = next(iter(coded.values()))
    data = {key: iso_box_in(file, b"mdat")[8:] for key, file in coded.items()}
    order = list(data)
    rows = -(-len(tiles) // columns)
    grid_id = len(tiles) + 1
    grid = bytes([0, 1, rows - 1, columns - 1]) + struct.pack(">II", width, height)
    tile_width, tile_height = tiles[0].size

    def meta(data_at: int) -> bytes:
        starts, at = {}, data_at
        for key in order:
            starts[key] = at
            at += len(data[key])
        locations = b"".join(
            struct.pack(">HHHII", item, 0, 1, starts[id(tile)], len(data[id(tile)]))
            for item, tile in enumerate(tiles, 1))
        locations += struct.pack(">HHHII", grid_id, 0, 1, at, len(grid))
        items = b"".join(iso_box(b"infe", struct.pack(">HH", item, 0) + b"hvc1\0", 2)
                         for item in range(1, grid_id))
        items += iso_box(b"infe", struct.pack(">HH", grid_id, 0) + b"grid\0", 2)
        references = struct.pack(">HH", grid_id, len(tiles)) + b"".join(
            struct.pack(">H", item) for item in range(1, grid_id))
        properties = iso_box(b"ipco", iso_box_in(first, b"hvcC")
                          + iso_box(b"ispe", struct.pack(">II", tile_width, tile_height), 0)
                          + iso_box(b"ispe", struct.pack(">II", width, height), 0))
        # each tile: its decoder configuration (essential) and size; the grid: its size
        associations = struct.pack(">I", grid_id) + b"".join(
            struct.pack(">HBBB", item, 2, 0x81, 2) for item in range(1, grid_id))
        associations += struct.pack(">HBB", grid_id, 1, 3)
        return iso_box(b"meta", iso_box(b"hdlr", bytes(4) + b"pict" + bytes(12) + b"\0", 0)
                    + iso_box(b"pitm", struct.pack(">H", grid_id), 0)
                    + iso_box(b"iloc", bytes([0x44, 0x00]) + struct.pack(">H", grid_id) + locations, 0)
                    + iso_box(b"iinf", struct.pack(">H", grid_id) + items, 0)
                    + iso_box(b"iref", iso_box(b"dimg", references), 0)
                    + iso_box(b"iprp", properties + iso_box(b"ipma", associations, 0)), 0)

    kinds = iso_box(b"ftyp", b"heic" + bytes(4) + b"mif1heic")
    data_at = len(kinds) + len(meta(0)) + 8
    return kinds + meta(data_at) + iso_box(b"mdat", b"".join(data[key] for key in order) + grid)


def iso_box(kind: bytes, body: bytes, version: int | None = None) -> bytes:
    """An ISO media box; with a version, a full box (version, then 24 bits of flags of 0)."""
    head = b"" if version is None else bytes([version, 0, 0, 0])
    return struct.pack(">I", 8 + len(head) + len(body)) + kind + head + body


def iso_box_in(data: bytes, kind: bytes) -> bytes:
    """The first box of this kind, whole, found by its type."""
    at = data.find(kind) - 4
    return data[at:at + int.from_bytes(data[at:at + 4], "big")]


def jxl_recompressed(image: Image.Image, *, exif: Image.Exif | None = None) -> bytes:
    """``image`` as a JPEG recompressed losslessly into JPEG XL by libjxl, as cjxl does with
    JPEGs by default: EXIF goes into a (Brotli-compressed) Exif box, its orientation into the
    codestream."""
    import imagecodecs

    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=92, exif=exif.tobytes() if exif is not None else b"")
    return bytes(imagecodecs.jpegxl_encode_jpeg(buffer.getvalue()))


# --- camera RAW ---------------------------------------------------------------------------

# The camera of these DNGs sees linear sRGB through a colour filter (red, green / green, blue),
# its red and blue weaker than its green, as a real sensor's are: grey comes out green unless
# the white balance it records (AsShotNeutral, its response to grey) is applied.
CAMERA_NEUTRAL = (0.5, 1.0, 0.7)
WHITE_LEVEL = 16383  # 14 bits, in 16-bit samples
_XYZ_TO_LINEAR_SRGB = np.array([[3.2406, -1.5372, -0.4986], [-0.9689, 1.8758, 0.0415],
                                [0.0557, -0.2040, 1.0570]])
_RGGB = (0, 1, 1, 2)
_BYTE, _ASCII, _SHORT, _LONG, _RATIONAL, _SRATIONAL = 1, 2, 3, 4, 5, 10
_D65 = 21
_EXIF_IFD, _GPS_IFD, _DATETIME_ORIGINAL = 0x8769, 0x8825, 0x9003


def bayer(image: Image.Image) -> NDArray[np.uint16]:
    """What the camera records of ``image`` (sRGB): one filtered sample per pixel, 90 % of white
    at most."""
    encoded = np.arange(256) / 255
    linear = np.where(encoded <= 0.04045, encoded / 12.92, ((encoded + 0.055) / 1.055) ** 2.4)
    # Per colour, each 8-bit value's sample: a table, so that 24 megapixels cost no floats.
    tables = [np.round(linear * gain * 0.9 * WHITE_LEVEL).astype(np.uint16)
              for gain in CAMERA_NEUTRAL]
    pixels = np.asarray(image.convert("RGB"))
    samples = np.empty(pixels.shape[:2], np.uint16)
    for index, colour in enumerate(_RGGB):
        row, column = divmod(index, 2)
        samples[row::2, column::2] = tables[colour][pixels[row::2, column::2, colour]]
    return samples


def _colour_matrix() -> list[list[int]]:
    """ColorMatrix1, XYZ to the camera's colours: sRGB's, scaled by the camera's response."""
    matrix = _XYZ_TO_LINEAR_SRGB * np.array(CAMERA_NEUTRAL)[:, None]
    return [[round(value * 10000), 10000] for value in matrix.flatten()]


def pidng_dng(image: Image.Image, *, orientation: int = 1, make: str = "Lightbox",
              model: str = "Test Camera") -> bytes:
    """``image`` as the sensor data of a DNG with no preview, written by PiDNG."""
    from pidng.core import RAW2DNG
    from pidng.dng import DNGTags, Tag

    samples = bayer(image)
    height, width = samples.shape
    tags = DNGTags()
    for tag, value in ((Tag.ImageWidth, width), (Tag.ImageLength, height),
                       (Tag.TileWidth, width), (Tag.TileLength, height),
                       (Tag.Orientation, orientation), (Tag.PhotometricInterpretation, 32803),
                       (Tag.SamplesPerPixel, 1), (Tag.BitsPerSample, 16),
                       (Tag.CFARepeatPatternDim, [2, 2]), (Tag.CFAPattern, list(_RGGB)),
                       (Tag.BlackLevel, 0), (Tag.WhiteLevel, WHITE_LEVEL),
                       (Tag.ColorMatrix1, _colour_matrix()),
                       (Tag.CalibrationIlluminant1, _D65),
                       (Tag.AsShotNeutral, [[round(v * 100), 100] for v in CAMERA_NEUTRAL]),
                       (Tag.Make, make), (Tag.Model, model),
                       (Tag.UniqueCameraModel, f"{make} {model}"),
                       (Tag.DNGVersion, [1, 4, 0, 0]), (Tag.DNGBackwardVersion, [1, 2, 0, 0])):
        tags.set(tag, value)
    writer = RAW2DNG()
    writer.options(tags, path="", compress=False)
    return bytes(writer.convert(samples))


def dng(image: Image.Image, *, orientation: int = 1, preview: Image.Image | None = None,
        make: str = "Lightbox", model: str = "Test Camera", taken: str | None = None,
        located: bool = False) -> bytes:
    """``image`` as a DNG laid out as cameras and Adobe's converter write them, by tifffile.

    IFD0 is a 256-pixel thumbnail and holds the DNG and camera fields; its SubIFDs are the
    sensor data and, when ``preview`` is given, the camera's rendering: a JPEG, stored unturned
    like the sensor data. ``taken`` goes in an EXIF IFD as DateTimeOriginal; ``located`` adds
    a GPS IFD with a latitude and a longitude.
    """
    import tifffile

    samples = bayer(image)
    thumbnail = image.convert("RGB")
    thumbnail.thumbnail((256, 256))
    camera = [
        (0xC612, _BYTE, 4, (1, 4, 0, 0), True),  # DNGVersion
        (0xC613, _BYTE, 4, (1, 2, 0, 0), True),  # DNGBackwardVersion
        (0xC614, _ASCII, 0, f"{make} {model}", True),  # UniqueCameraModel
        (0xC621, _SRATIONAL, 9, [v for pair in _colour_matrix() for v in pair], True),
        (0xC65A, _SHORT, 1, _D65, True),  # CalibrationIlluminant1
        (0xC628, _RATIONAL, 3, [v for n in CAMERA_NEUTRAL for v in (round(n * 100), 100)],
         True),  # AsShotNeutral
        (0x010F, _ASCII, 0, make, True), (0x0110, _ASCII, 0, model, True),
        (0x0112, _SHORT, 1, orientation, True),
    ]
    # tifffile writes no pointers to EXIF or GPS IFDs: a field of the number before stands in
    # for each, and becomes the pointer to the IFD appended below.
    if taken is not None:
        camera.append((_EXIF_IFD - 1, _LONG, 1, 0, True))
    if located:
        camera.append((_GPS_IFD - 1, _LONG, 1, 0, True))
    buffer = io.BytesIO()
    with tifffile.TiffWriter(buffer, byteorder="<") as tiff:
        tiff.write(np.asarray(thumbnail), photometric="rgb", subfiletype=1,
                   subifds=2 if preview is not None else 1, extratags=camera, metadata=None)
        tiff.write(samples, photometric=32803, subfiletype=0, metadata=None, extratags=[
            (0x828D, _SHORT, 2, (2, 2), True),  # CFARepeatPatternDim
            (0x828E, _BYTE, 4, _RGGB, True),  # CFAPattern
            (0xC61D, _LONG, 1, WHITE_LEVEL, True),  # WhiteLevel
        ])
        if preview is not None:
            encoded = io.BytesIO()
            preview.convert("RGB").save(encoded, "JPEG", quality=90)
            tiff.write(iter([encoded.getvalue()]), shape=(preview.height, preview.width, 3),
                       dtype=np.uint8, photometric="ycbcr", subsampling=(2, 2),
                       compression="jpeg", subfiletype=1, rowsperstrip=preview.height,
                       metadata=None)
    data = bytearray(buffer.getvalue())
    if taken is not None:
        text = taken.encode("ascii") + b"\x00"
        _append_ifd(data, _EXIF_IFD, [(_DATETIME_ORIGINAL, _ASCII, len(text), text)])
    if located:
        degrees = [struct.pack("<6I", 52, 1, 22, 1, 15, 10), struct.pack("<6I", 4, 1, 53, 1, 2, 1)]
        _append_ifd(data, _GPS_IFD, [(0x02, _RATIONAL, 3, degrees[0]),
                                     (0x04, _RATIONAL, 3, degrees[1])])
    return bytes(data)


def _append_ifd(data: bytearray, pointer: int, fields: list[tuple[int, int, int, bytes]]) -> None:
    """An IFD of ``fields`` (tag, type, count, values of more than 4 bytes), appended, and IFD0's
    stand-in field made the ``pointer`` to it."""
    import tifffile

    with tifffile.TiffFile(io.BytesIO(bytes(data))) as tiff:
        value_at = tiff.pages.first.tags[pointer - 1].valueoffset
    data.extend(bytes(len(data) % 2))
    offset = len(data)
    values_at = offset + 2 + 12 * len(fields) + 4
    entries, values = b"", b""
    for tag, kind, count, value in fields:
        entries += struct.pack("<HHII", tag, kind, count, values_at + len(values))
        values += value + bytes(len(value) % 2)
    data.extend(struct.pack("<H", len(fields)) + entries + struct.pack("<I", 0) + values)
    struct.pack_into("<H", data, value_at - 8, pointer)  # the entry's tag, 8 bytes before
    struct.pack_into("<I", data, value_at, offset)


# --- ICC profiles -------------------------------------------------------------------------

# The sRGB primaries adapted to D50, as ICC profiles store them.
SRGB_RED = (0.4361, 0.2225, 0.0139)
SRGB_GREEN = (0.3851, 0.7169, 0.0971)
SRGB_BLUE = (0.1431, 0.0606, 0.7141)


def rgb_profile(red: tuple[float, float, float], green: tuple[float, float, float],
                blue: tuple[float, float, float], description: str) -> bytes:
    """An ICC v2 display profile: three primaries, gamma 2.2."""
    curve = b"curv" + bytes(4) + struct.pack(">IH", 1, int(2.2 * 256)) + bytes(2)
    text = description.encode("ascii") + b"\x00"
    desc = b"desc" + bytes(4) + struct.pack(">I", len(text)) + text + bytes(78)
    return icc.profile(b"mntr", b"RGB ", b"XYZ ", [
        (b"desc", desc),
        (b"wtpt", icc.xyz_tag((0.9642, 1.0, 0.8249))),
        (b"rXYZ", icc.xyz_tag(red)), (b"gXYZ", icc.xyz_tag(green)), (b"bXYZ", icc.xyz_tag(blue)),
        (b"rTRC", curve), (b"gTRC", curve), (b"bTRC", curve),
    ])


def two_point_cmyk_profile(corners: dict[tuple[int, int, int, int], tuple[float, float, float]],
                           description: str) -> bytes:
    """A CMYK profile whose table is a 2×2×2×2 grid: ``corners`` maps inks (0/1) to Lab."""
    lab = np.array([corners[inks] for inks in itertools.product((0, 1), repeat=4)], np.float64)
    return icc.cmyk_profile(lab, 2, description)


# --- PDF ----------------------------------------------------------------------------------

def pdf(*pages: Image.Image, rotate: int = 0, created: str | None = None,
        password: str | None = None, owner_password: str | None = None) -> bytes:
    """A PDF of one page per image, each its image at 72 dpi (so its size in points is its size
    in pixels), written by Pillow; pypdf sets what Pillow cannot (a test requirement only):
    the first page's /Rotate, the CreationDate, and encryption (AES-256) with a user password
    (which opening needs) or with an owner password alone (which it does not)."""
    from pypdf import PdfReader, PdfWriter

    buffer = io.BytesIO()
    pages[0].save(buffer, "PDF", resolution=72, save_all=True, append_images=list(pages[1:]))
    if not (rotate or created or password is not None or owner_password is not None):
        return buffer.getvalue()
    writer = PdfWriter(clone_from=PdfReader(buffer))
    if rotate:
        writer.pages[0].rotate(rotate)
    writer.add_metadata({"/CreationDate": created or "D:20240101000000Z"})
    if password is not None or owner_password is not None:
        writer.encrypt(password or "", owner_password, algorithm="AES-256")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def raw_pdf(objects: list[bytes]) -> bytes:
    """A PDF of these objects' bodies, numbered from 1 (the first is the catalog), with a
    correct cross-reference table: for pages no writer would make."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    return bytes(out)


def pdf_stream(dictionary: bytes, data: bytes) -> bytes:
    return b"<< %s /Length %d >>\nstream\n%s\nendstream" % (dictionary, len(data), data)


def one_page_pdf(content: bytes, *, media_box: bytes = b"[0 0 612 792]",
                 content_filter: bytes = b"", resources: bytes = b"<< >>",
                 more: tuple[bytes, ...] = ()) -> bytes:
    """A PDF of one page drawn by ``content``; ``more`` are objects 5, 6, ..."""
    return raw_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox %s /Contents 4 0 R /Resources %s >>"
        % (media_box, resources),
        pdf_stream(content_filter, content),
        *more,
    ])
