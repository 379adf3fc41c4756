"""TIFF through tifffile: every page, pyramid levels, 1- to 64-bit and float samples, strips and
tiles of any compression, each reduced piece by piece in bounded memory.

A page is decoded from the smallest pyramid level that still has the pixels the largest
thumbnail needs; without a pyramid, its strips or tiles are averaged into blocks as they are
read (``reduce.BoxReducer``), so a scan of billions of pixels costs the memory of its
thumbnail. Uncompressed strips, which tifffile and Pillow both write as one strip of the whole
image, are read from the file in bands of rows.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import tifffile
from numpy.typing import NDArray
from PIL import Image
from tifffile import (
    EXTRASAMPLE,
    FILETYPE,
    PHOTOMETRIC,
    PLANARCONFIG,
    SAMPLEFORMAT,
    TiffFrame,
    TiffPage,
)

from lightbox.domain import ImageInfo, RenderSpec
from lightbox.errors import ImageError
from lightbox.imaging import metadata, parallel
from lightbox.imaging.reduce import BoxReducer, Scale
from lightbox.imaging.source import REDUCING_GAP, DecodedPage, decoding

# More images than any scanned document has: past this, a file is an attack, not a book.
MAX_IFDS = 10_000
# Raw bytes read per pass, and the largest single strip or tile decoded at once.
_READ_BYTES = 16 * 1024 * 1024
_MAX_PIECE_BYTES = 256 * 1024 * 1024
# Strips smaller than this are joined into bands of this size before they are averaged.
_BAND_BYTES = 4 * 1024 * 1024
# Decoded strips or tiles held at once when they are decoded on several cores.
_DECODED_AT_ONCE = 64 * 1024 * 1024
_INTER_COLOR_PROFILE = 34675
_CMYK_INKSET = 1
_UNPREMULTIPLIED = {"RGBa": "RGBA", "La": "LA"}

Piece = tuple[NDArray[Any], int, int, int]  # samples (rows × columns × n), top, left, plane
Box = tuple[float, float, float, float]


class TiffSource:
    def __init__(self, path: Path, spec: RenderSpec) -> None:
        self._spec = spec
        with decoding("the TIFF file"):
            self._file = tifffile.TiffFile(path)
        try:
            with decoding("the TIFF file"):
                self._main, self._reduced = self._index()
                self.info = self._describe(self._page(self._main[0]))
        except BaseException:
            self._file.close()
            raise

    def _describe(self, first: TiffPage) -> ImageInfo:
        tags = first.tags
        exif = tags.valueof("ExifTag")
        if not isinstance(exif, dict):
            exif = {}
        orientation = metadata.orientation(tags.valueof("Orientation"))
        width, height = metadata.displayed_size(first.imagewidth, first.imagelength, orientation)
        return ImageInfo(
            width=width,
            height=height,
            pages=len(self._main),
            bit_depth=int(first.bitspersample),
            color_mode=_Layout.of(first).source_mode,
            taken_at=metadata.timestamp(exif.get("DateTimeOriginal") or tags.valueof("DateTime")),
            camera_make=metadata.text(tags.valueof("Make")),
            camera_model=metadata.text(tags.valueof("Model")),
            orientation=orientation,
        )

    def decode(self, index: int, target: int) -> DecodedPage:
        with decoding(f"page {index + 1} of the TIFF"):
            main = self._page(self._main[index])
            level = self._level(index, main, target)
            image, box = self._reduced_image(level, target)
            profile = level.tags.valueof(_INTER_COLOR_PROFILE) or main.tags.valueof(
                _INTER_COLOR_PROFILE
            )
            orientation = metadata.orientation(main.tags.valueof("Orientation")) or 1
        return DecodedPage(image, bytes(profile) if profile is not None else None, orientation,
                           box)

    def close(self) -> None:
        self._file.close()

    def _index(self) -> tuple[list[int], dict[int, list[int]]]:
        """The main pages, and the reduced-resolution pages that follow each of them."""
        main: list[int] = []
        reduced: dict[int, list[int]] = {}
        for position, page in enumerate(_chain(self._file.pages, "images")):
            kind = int(page.subfiletype) if isinstance(page, TiffPage) else 0
            if kind & FILETYPE.MASK:
                continue
            if kind & FILETYPE.REDUCEDIMAGE and main:
                reduced.setdefault(len(main) - 1, []).append(position)
            else:
                main.append(position)
        if not main:
            raise ImageError("the TIFF holds no image")
        return main, reduced

    def _page(self, position: int) -> TiffPage:
        page = self._file.pages[position]
        if not isinstance(page, TiffPage):
            raise ImageError("unexpected TIFF page structure")
        # Typed as a number, but tifffile leaves BitsPerSample as it is when the samples
        # differ: (8, 8, 16).
        depths: object = page.bitspersample
        if isinstance(depths, tuple):
            listed = ", ".join(str(bits) for bits in depths)
            raise ImageError(f"TIFF samples of differing depths ({listed} bits) are not supported")
        return page

    def _level(self, index: int, main: TiffPage, target: int) -> TiffPage:
        """The smallest pyramid level that still has ``target`` pixels on its longest side."""
        levels = [main]
        if main.subifds:
            levels.extend(p for p in _chain(tifffile.TiffPages(main), "reduced-resolution levels")
                          if isinstance(p, TiffPage))
        levels.extend(self._page(position) for position in self._reduced.get(index, ()))
        alike = [p for p in levels if p.photometric == main.photometric
                 and p.samplesperpixel == main.samplesperpixel]
        big_enough = [p for p in alike if max(p.imagewidth, p.imagelength) >= target]
        return min(big_enough, key=_area) if big_enough else main

    def _reduced_image(self, page: TiffPage, target: int) -> tuple[Image.Image, Box | None]:
        width, height = page.imagewidth, page.imagelength
        if not width or not height:
            raise ImageError(f"the TIFF page is {width}×{height} pixels: it has no image")
        if width * height > self._spec.max_streamed_pixels:
            raise ImageError(
                f"the TIFF page is {width}×{height} = {width * height:,} pixels, over the "
                f"limit of {self._spec.max_streamed_pixels:,}"
            )
        layout = _Layout.of(page)
        bounds = None
        if layout.scale is None:  # floats and wide integers: their range sets the scale
            bounds = _bounds(layout.prepare(piece, plane, None)
                             for piece, _, _, plane in _pieces(self._file, page))
        scale = layout.scale or _stretch(bounds, layout)
        factor = _block_factor(max(width, height), target)
        reducer = BoxReducer(height, width, layout.channels, factor, scale,
                             max_value=layout.max_value)
        for piece, top, left, plane in _bands(_pieces(self._file, page), width):
            prepared = layout.prepare(piece, plane, bounds)
            if prepared is not None:
                reducer.add(prepared, top, left, layout.channel_of(plane))
        if not reducer.complete:
            raise ImageError("the TIFF's strips or tiles do not cover its image")
        out_height, out_width = reducer.output.shape[:2]
        image = Image.frombuffer(layout.mode, (out_width, out_height), reducer.output, "raw",
                                 layout.mode, 0, 1)
        # Averaged premultiplied, as alpha must be; the pipeline takes it unpremultiplied.
        unpremultiplied = _UNPREMULTIPLIED.get(layout.mode)
        if unpremultiplied:
            image = image.convert(unpremultiplied)
        # A partial last block stands for fewer pixels than a whole one.
        box = (0.0, 0.0, width / factor, height / factor)
        return image, box if box[2:] != (out_width, out_height) else None


@dataclass(frozen=True)
class _Layout:
    """How a page's samples become the reducer's channels."""

    source_mode: str  # as recorded: L, LA, P, RGB, RGBA, CMYK
    mode: str  # of the reduced image: L, La, LA, RGB, RGBa, RGBA, CMYK
    colour: int  # samples that carry colour
    alpha: int | None  # index of the alpha sample
    premultiply: bool  # alpha is unassociated and must be multiplied in before averaging
    planar: bool
    palette: NDArray[np.uint16] | None
    scale: Scale | None  # None: set from the data's range
    max_value: float
    inverted: bool

    @property
    def channels(self) -> int:
        return self.colour + (self.alpha is not None)

    @classmethod
    def of(cls, page: TiffPage) -> _Layout:
        photometric = PHOTOMETRIC(page.photometric)
        samples = page.samplesperpixel
        extras = tuple(page.extrasamples or ())
        colour = {PHOTOMETRIC.MINISBLACK: 1, PHOTOMETRIC.MINISWHITE: 1, PHOTOMETRIC.PALETTE: 1,
                  PHOTOMETRIC.RGB: 3, PHOTOMETRIC.YCBCR: 3, PHOTOMETRIC.SEPARATED: 4}.get(
                      photometric)
        if colour is None:
            raise ImageError(f"TIFF colour space {photometric.name} is not supported")
        if photometric == PHOTOMETRIC.YCBCR and page.compression != 7:  # JPEG decodes to RGB
            raise ImageError("YCbCr TIFF without JPEG compression is not supported")
        if photometric == PHOTOMETRIC.SEPARATED and (
            samples < 4 or page.tags.valueof("InkSet", _CMYK_INKSET) != _CMYK_INKSET
        ):
            raise ImageError("only CMYK separated TIFFs are supported")
        if samples < colour:
            raise ImageError(f"the TIFF has {samples} samples per pixel, too few for its colour")
        palette = None
        if photometric == PHOTOMETRIC.PALETTE:
            if page.colormap is None:
                raise ImageError("the palette TIFF has no colour map")
            palette = np.asarray(page.colormap, np.uint16)
        alpha = None
        associated = False
        for position, kind in enumerate(extras):
            # CMYK and palette images keep no alpha: JPEG output would flatten it anyway.
            if kind in (EXTRASAMPLE.ASSOCALPHA, EXTRASAMPLE.UNASSALPHA) and colour < 4 and (
                    palette is None):
                alpha, associated = colour + position, kind == EXTRASAMPLE.ASSOCALPHA
                break
        planar = page.planarconfig == PLANARCONFIG.SEPARATE and samples > 1
        # Planar samples arrive one plane at a time: alpha cannot be multiplied in piecewise.
        premultiply = alpha is not None and not associated and not planar
        base = {1: "L", 3: "RGB", 4: "CMYK"}[3 if palette is not None else colour]
        source_mode = "P" if palette is not None else base + ("A" if alpha is not None else "")
        mode = base
        if alpha is not None:
            mode += "a" if associated or premultiply else "A"
        inverted = photometric == PHOTOMETRIC.MINISWHITE
        scale, max_value = _fixed_scale(page, palette, inverted)
        return cls(source_mode, mode, 3 if palette is not None else colour, alpha, premultiply,
                   planar, palette, scale, max_value, inverted)

    def channel_of(self, plane: int) -> int:
        if not self.planar:
            return 0
        return plane if plane < self.colour else self.colour

    def prepare(self, piece: NDArray[Any], plane: int,
                bounds: tuple[float, float] | None) -> NDArray[Any] | None:
        """The piece's samples as the reducer's channels, or None for a plane not used."""
        if self.planar:
            if plane >= self.colour and plane != self.alpha:
                return None
            samples = piece
        elif self.palette is not None:
            samples = np.moveaxis(self.palette[:, piece[..., 0]], 0, -1)
        else:
            kept = list(range(self.colour)) + ([self.alpha] if self.alpha is not None else [])
            samples = piece[..., kept] if piece.shape[-1] != len(kept) else piece
        if bounds is not None and samples.dtype.kind == "f":
            low, high = bounds
            samples = np.nan_to_num(samples, nan=low, posinf=high, neginf=low)
        if self.premultiply:
            alpha = samples[..., -1:].astype(np.float32) / self.max_value
            colour = samples[..., :-1] * alpha
            if samples.dtype.kind != "f":
                colour = np.rint(colour)
            samples = np.concatenate([colour.astype(samples.dtype), samples[..., -1:]], axis=-1)
        return samples


def _chain(pages: tifffile.TiffPages, what: str) -> Iterator[TiffPage | TiffFrame]:
    """The IFDs of a chain (a file's pages, a page's SubIFDs), read one at a time.

    tifffile looks for a loop only once, at the 100th IFD, and SubIFDs may list one IFD any
    number of times: without these checks, such a chain is read until memory runs out.
    """
    pages.cache = False  # a file of thousands of pages must not hold them all
    seen: set[int] = set()
    for position, page in enumerate(pages):
        if position >= MAX_IFDS:
            raise ImageError(f"the TIFF holds more than {MAX_IFDS:,} {what}")
        if page.offset in seen:
            raise ImageError(f"the TIFF's chain of {what} loops: it comes back to the IFD at "
                             f"byte {page.offset:,}")
        seen.add(page.offset)
        yield page


def _sample_format(value: int) -> str:
    try:
        return SAMPLEFORMAT(value).name
    except ValueError:  # a number the TIFF specification does not define
        return str(value)


def _block_factor(longest: int, target: int) -> int:
    """How many pixels square to average into one before the final resampling.

    Averaging leaves at least twice the target, for Lanczos to finish at libvips' quality;
    but a page within four times the target is averaged by 2 or 3 all the same: nearly free,
    and it spares Lanczos most of its work for a fraction of a dB (docs/BENCHMARKS.md).
    """
    factor = int(longest / (target * REDUCING_GAP))
    return factor if factor > 1 else max(1, longest // target)


def _fixed_scale(page: TiffPage, palette: NDArray[np.uint16] | None,
                 inverted: bool) -> tuple[Scale | None, float]:
    """The scale for integer samples of known range; None when the data sets the range."""
    if page.dtype is None:  # no numpy type holds them: 0 bits, floats of 7 bits, ...
        raise ImageError(
            f"TIFF samples of {page.bitspersample} bits in sample format "
            f"{_sample_format(page.sampleformat)} are not supported"
        )
    if palette is not None:
        top = 65535.0 if palette.max() > 255 else 255.0  # 8-bit maps exist, against the spec
    elif page.dtype.kind in "ub" and int(page.bitspersample) <= 16:
        top = float(2 ** int(page.bitspersample) - 1)
    else:
        return None, float(np.finfo(np.float64).max)
    if inverted:
        return Scale(offset=top, factor=-255 / top), top
    return Scale(offset=0, factor=255 / top), top


def _stretch(bounds: tuple[float, float] | None, layout: _Layout) -> Scale:
    low, high = bounds or (0.0, 1.0)
    if low >= 0 and high <= 1:
        low, high = 0.0, 1.0  # floats in 0-1 are already normalised
    span = high - low
    factor = 255 / span if span > 0 else 0.0
    return Scale(offset=high, factor=-factor) if layout.inverted else Scale(low, factor)


def _bounds(pieces: Iterator[NDArray[Any] | None]) -> tuple[float, float] | None:
    low, high = math.inf, -math.inf
    for piece in pieces:
        if piece is None:
            continue
        finite = piece[np.isfinite(piece)] if piece.dtype.kind == "f" else piece
        if finite.size:
            low, high = min(low, float(finite.min())), max(high, float(finite.max()))
    return (low, high) if low <= high else None


def _pieces(file: tifffile.TiffFile, page: TiffPage) -> Iterator[Piece]:
    if (page.compression == 1 and page.predictor == 1 and page.fillorder == 1
            and not page.is_tiled and int(page.bitspersample) in (8, 16, 32, 64)):
        yield from _raw_strips(file, page)
    else:
        yield from _decoded_segments(page)


def _bands(pieces: Iterator[Piece], width: int) -> Iterator[Piece]:
    """Strips of a few rows that follow one another, joined into bands of ``_BAND_BYTES``:
    such a strip costs the reducer more in Python than in arithmetic, and a band is averaged
    in batches on every core. Tiles and large strips pass as they are."""
    held: list[Piece] = []
    held_bytes = 0
    for piece in pieces:
        samples, top, left, _ = piece
        joinable = left == 0 and samples.shape[1] == width and samples.nbytes < _BAND_BYTES
        # A band is rows in order: each plane's strips start again at the top.
        if held and not (joinable and top == held[-1][1] + held[-1][0].shape[0]):
            yield _joined(held)
            held, held_bytes = [], 0
        if not joinable:
            yield piece
            continue
        held.append(piece)
        held_bytes += samples.nbytes
        if held_bytes >= _BAND_BYTES:
            yield _joined(held)
            held, held_bytes = [], 0
    if held:
        yield _joined(held)


def _joined(strips: list[Piece]) -> Piece:
    if len(strips) == 1:
        return strips[0]
    _, top, left, plane = strips[0]
    return np.concatenate([samples for samples, _, _, _ in strips]), top, left, plane


def _raw_strips(file: tifffile.TiffFile, page: TiffPage) -> Iterator[Piece]:
    """Uncompressed strips, read in bands of rows however large or small each strip is."""
    assert page.dtype is not None
    dtype = page.dtype.newbyteorder(file.byteorder)
    width, height = page.imagewidth, page.imagelength
    contiguous = page.planarconfig == PLANARCONFIG.CONTIG
    samples = page.samplesperpixel if contiguous else 1
    planes = 1 if contiguous else page.samplesperpixel
    row_bytes = width * samples * dtype.itemsize
    if page.is_contiguous:
        # One region, whatever its strips: read it in bands rather than strip by strip.
        strips = [(page.dataoffsets[0] + plane * height * row_bytes, plane, 0, height)
                  for plane in range(planes)]
    else:
        rows_per_strip = min(page.rowsperstrip or height, height)
        per_plane = math.ceil(height / rows_per_strip)
        strips = [(offset, index // per_plane, (index % per_plane) * rows_per_strip,
                   min(rows_per_strip, height - (index % per_plane) * rows_per_strip))
                  for index, offset in enumerate(page.dataoffsets)]
    band = max(1, _READ_BYTES // row_bytes)
    handle = file.filehandle
    for offset, plane, top, rows in strips:
        for first in range(0, rows, band):
            count = min(band, rows - first)
            handle.seek(offset + first * row_bytes)
            data = handle.read(count * row_bytes)
            if len(data) != count * row_bytes:
                raise ImageError("the TIFF is truncated: its pixel data ends early")
            yield np.frombuffer(data, dtype).reshape(count, width, samples), top + first, 0, plane


def _decoded_segments(page: TiffPage) -> Iterator[Piece]:
    """Compressed strips or tiles, each decoded on its own by tifffile (and imagecodecs)."""
    assert page.dtype is not None
    rows, columns = ((page.tilelength, page.tilewidth) if page.is_tiled
                     else (min(page.rowsperstrip or page.imagelength, page.imagelength),
                           page.imagewidth))
    piece_bytes = rows * columns * page.samplesperpixel * page.dtype.itemsize
    if piece_bytes > _MAX_PIECE_BYTES:
        raise ImageError(
            f"a single strip or tile of this TIFF decodes to {piece_bytes / 2**20:,.0f} MB, "
            "too large to decode in bounded memory"
        )
    # tifffile decodes each buffer it reads on its threads at once, and a buffer of
    # well-compressed data can decode to gigabytes: the buffer holds as many segments as
    # may be decoded at once, the smallest of them in its bytes setting the count.
    workers = parallel.workers()
    at_once = min(_DECODED_AT_ONCE // piece_bytes, 4 * workers)
    smallest = min((int(count) for count in page.databytecounts if count), default=0)
    buffersize = (at_once - 1) * smallest if workers > 1 and at_once > 1 else _READ_BYTES
    for data, index, shape in page.segments(buffersize=buffersize,
                                            maxworkers=workers if at_once > 1 else 1):
        plane, _, top, left, _ = index
        samples = data[0] if data is not None else np.zeros(shape[1:], page.dtype)
        yield samples, top, left, plane


def _area(page: TiffPage) -> int:
    return int(page.imagewidth) * int(page.imagelength)
