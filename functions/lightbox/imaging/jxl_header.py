"""What a JPEG XL file says about itself before a pixel is decoded: size, orientation, depth,
alpha, animation and colour encoding (ISO/IEC 18181-1, the SizeHeader and ImageMetadata).

The decoder Lightbox uses (libjxl through imagecodecs) has no call that reads the header
alone, and decodes into the file's own colour space without saying which; both facts are
read here, from the first bytes of the codestream, so that a decompression bomb is refused
before it is decoded and colours are converted to sRGB afterwards.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

CODESTREAM = b"\xff\x0a"
CONTAINER = b"\x00\x00\x00\x0cJXL \r\n\x87\n"

# Enumerations of the colour encoding, by their numbers in the specification.
SPACE_RGB, SPACE_GREY, SPACE_XYB = 0, 1, 2
WHITE_D65, WHITE_CUSTOM, WHITE_E, WHITE_DCI = 1, 2, 10, 11
PRIMARIES_SRGB, PRIMARIES_CUSTOM, PRIMARIES_2100, PRIMARIES_P3 = 1, 2, 9, 11
TRANSFER_709, TRANSFER_UNKNOWN, TRANSFER_LINEAR, TRANSFER_SRGB = 1, 2, 8, 13
TRANSFER_PQ, TRANSFER_DCI, TRANSFER_HLG = 16, 17, 18
_ALPHA, _SPOT, _CFA = 0, 2, 5
_RATIOS = ((1, 1), (12, 10), (4, 3), (3, 2), (16, 9), (5, 4), (2, 1))

XY = tuple[float, float]


@dataclass(frozen=True)
class ColourEncoding:
    """How the decoded samples are to be read; the default is sRGB."""

    space: int = SPACE_RGB
    white: XY | int = WHITE_D65
    primaries: tuple[XY, XY, XY] | int = PRIMARIES_SRGB
    # A transfer function's number, or the gamma of a pure power law (encoded = linear^gamma).
    transfer: int | float = TRANSFER_SRGB
    # The colours are described by an ICC profile compressed in the codestream, which
    # Lightbox does not read; they are taken to be sRGB.
    icc: bool = False

    @property
    def is_srgb(self) -> bool:
        return self.icc or (self.white == WHITE_D65 and self.primaries == PRIMARIES_SRGB
                            and self.transfer == TRANSFER_SRGB)


@dataclass(frozen=True)
class JxlHeader:
    width: int  # as stored; orientations 5-8 turn the displayed image a quarter
    height: int
    orientation: int
    bit_depth: int
    alpha: bool
    animated: bool
    colour: ColourEncoding


class HeaderError(ValueError):
    """The header is cut short or says something impossible."""


def codestream_start(head: bytes) -> bytes:
    """The first bytes of the codestream: the file itself, or the first jxlc/jxlp box's."""
    if head.startswith(CODESTREAM):
        return head
    if not head.startswith(CONTAINER):
        raise HeaderError("not a JPEG XL file")
    at = 0
    while at + 8 <= len(head):
        size = int.from_bytes(head[at:at + 4], "big")
        kind = head[at + 4:at + 8]
        body = at + 8
        if size == 1:  # a 64-bit size follows the type
            size = int.from_bytes(head[body:body + 8], "big")
            body += 8
        if kind == b"jxlc":
            return head[body:]
        if kind == b"jxlp":
            return head[body + 4:]  # after the part's index
        if size == 0 or size < body - at:
            break  # the last box, or an impossible size: no codestream in the head
        at += size
    raise HeaderError("its codestream does not begin in the first bytes")


def parse(codestream: bytes) -> JxlHeader:
    """The header of a codestream (which starts with 0xFF 0x0A)."""
    if not codestream.startswith(CODESTREAM):
        raise HeaderError("the codestream has no signature")
    bits = _Bits(codestream[2:])
    width, height = _size(bits)
    orientation, alpha, animated, bit_depth = 1, False, False, 8
    colour = ColourEncoding()
    if not bits.flag():  # not all default
        if bits.flag():  # extra fields
            orientation = 1 + bits.read(3)
            if bits.flag():
                _size(bits)  # the intrinsic size, which Lightbox does not use
            if bits.flag():
                _preview_size(bits)
            if bits.flag():
                animated = True
                _animation(bits)
        bit_depth = _bit_depth(bits)
        bits.flag()  # whether 16-bit buffers suffice
        for _ in range(bits.u32(0, 1, (2, 4), (1, 12))):
            alpha = _extra_channel(bits) or alpha
        bits.flag()  # XYB-encoded: how it is stored, not what it shows
        colour = _colour_encoding(bits)
    return JxlHeader(width, height, orientation, bit_depth, alpha, animated, colour)


class _Bits:
    """Fields of the codestream, least significant bit first."""

    def __init__(self, data: bytes) -> None:
        self._value = int.from_bytes(data, "little")
        self._left = len(data) * 8

    def read(self, count: int) -> int:
        if count > self._left:
            raise HeaderError("the header is cut short")
        value = self._value & ((1 << count) - 1)
        self._value >>= count
        self._left -= count
        return value

    def flag(self) -> bool:
        return self.read(1) == 1

    def u32(self, *choices: int | tuple[int, int]) -> int:
        """U32: two bits choose a constant, or an offset plus that many bits."""
        choice = choices[self.read(2)]
        if isinstance(choice, int):
            return choice
        offset, count = choice
        return offset + self.read(count)

    def enum(self) -> int:
        return self.u32(0, 1, (2, 4), (18, 6))


def _size(bits: _Bits) -> tuple[int, int]:
    small = bits.flag()
    height = 8 * (1 + bits.read(5)) if small else bits.u32((1, 9), (1, 13), (1, 18), (1, 30))
    ratio = bits.read(3)
    if ratio:
        numerator, denominator = _RATIOS[ratio - 1]
        return height * numerator // denominator, height
    width = 8 * (1 + bits.read(5)) if small else bits.u32((1, 9), (1, 13), (1, 18), (1, 30))
    return width, height


def _preview_size(bits: _Bits) -> None:
    eighths = bits.flag()
    read: Callable[[], int] = (
        (lambda: bits.u32(16, 32, (1, 5), (33, 9))) if eighths
        else (lambda: bits.u32((1, 6), (65, 8), (321, 10), (1345, 12))))
    read()
    if not bits.read(3):
        read()


def _animation(bits: _Bits) -> None:
    bits.u32(100, 1000, (1, 10), (1, 30))  # ticks per second: numerator
    bits.u32(1, 1001, (1, 8), (1, 10))  # and denominator
    bits.u32(0, (0, 3), (0, 16), (0, 32))  # loops
    bits.flag()  # time codes


def _bit_depth(bits: _Bits) -> int:
    if bits.flag():  # floating-point samples
        depth = bits.u32(32, 16, 24, (1, 6))
        bits.read(4)  # exponent bits
        return depth
    return bits.u32(8, 10, 12, (1, 6))


def _extra_channel(bits: _Bits) -> bool:
    """Reads one extra channel's description; whether it is alpha."""
    if bits.flag():  # all default: 8-bit alpha
        return True
    kind = bits.enum()
    _bit_depth(bits)
    bits.u32(0, 3, 4, (1, 3))  # dimension shift
    bits.read(8 * bits.u32(0, (0, 4), (16, 5), (48, 10)))  # the name, in UTF-8
    if kind == _ALPHA:
        bits.flag()  # premultiplied
    elif kind == _SPOT:
        bits.read(4 * 16)  # the spot colour, four half floats
    elif kind == _CFA:
        bits.u32(1, (0, 2), (3, 4), (19, 8))
    return kind == _ALPHA


def _colour_encoding(bits: _Bits) -> ColourEncoding:
    if bits.flag():  # all default
        return ColourEncoding()
    icc = bits.flag()
    space = bits.enum()
    if icc:
        return ColourEncoding(space=space, icc=True)
    white: XY | int = WHITE_D65
    primaries: tuple[XY, XY, XY] | int = PRIMARIES_SRGB
    if space != SPACE_XYB:
        white = bits.enum()
        if white == WHITE_CUSTOM:
            white = _xy(bits)
    if space not in (SPACE_GREY, SPACE_XYB):
        primaries = bits.enum()
        if primaries == PRIMARIES_CUSTOM:
            primaries = (_xy(bits), _xy(bits), _xy(bits))
    transfer: int | float
    if bits.flag():  # a pure power law
        transfer = bits.read(24) / 10_000_000
        if transfer <= 0:
            raise HeaderError("its gamma is zero")
    else:
        transfer = bits.enum()
    bits.enum()  # rendering intent
    return ColourEncoding(space, white, primaries, transfer)


def _xy(bits: _Bits) -> XY:
    def coordinate() -> float:
        packed = bits.u32((0, 19), (524288, 19), (1048576, 20), (2097152, 21))
        signed = -((packed + 1) >> 1) if packed & 1 else packed >> 1
        return signed / 1_000_000

    return coordinate(), coordinate()
