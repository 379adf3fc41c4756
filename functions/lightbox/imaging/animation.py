"""How many frames an animated GIF, WebP or PNG holds and how long one loop plays, read from
the file's structure without decoding a frame.

Pillow counts frames by seeking through them, which for WebP decodes every one: a 10,000-frame
file would cost 10,000 decodes for two numbers. The three formats say both in their blocks
and chunks; the whole file is walked, at the cost of reading it, never of decoding it.
"""

from __future__ import annotations

import mmap
import struct
from dataclasses import dataclass
from pathlib import Path

# Browsers play a GIF frame delayed less than 2/100 s for 1/10 s: the files' authors rely on it.
_GIF_FASTEST = 2
_GIF_PLAYED_AS = 10
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class Animation:
    frames: int
    seconds: float


def read(path: Path, kind: str) -> Animation | None:
    """The animation of a ``GIF``, ``WEBP`` or ``PNG`` (Pillow's format names); None for a still
    image or another format. A file cut short counts the frames it holds."""
    if kind not in ("GIF", "WEBP", "PNG") or not path.stat().st_size:
        return None
    with path.open("rb") as file, mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as data:
        walk = {"GIF": _gif, "WEBP": _webp, "PNG": _apng}[kind]
        frames, seconds = walk(data)
    return Animation(frames, round(seconds, 3)) if frames > 1 else None


def _gif(data: mmap.mmap) -> tuple[int, float]:
    """Image descriptors counted, Graphic Control Extensions' delays (in 1/100 s) summed."""
    at = 13 + _colour_table(data[10] if len(data) > 10 else 0)
    frames, total, delay = 0, 0, 0
    while at < len(data):
        block = data[at]
        if block == 0x21 and at + 1 < len(data):  # an extension: label, then sub-blocks
            if data[at + 1] == 0xF9 and at + 7 < len(data):  # graphic control
                delay = int.from_bytes(data[at + 4:at + 6], "little")
            at = _sub_blocks(data, at + 2)
        elif block == 0x2C:  # an image: descriptor, local colour table, LZW size, sub-blocks
            frames += 1
            total += _GIF_PLAYED_AS if delay < _GIF_FASTEST else delay
            delay = 0
            packed = data[at + 9] if at + 9 < len(data) else 0
            at = _sub_blocks(data, at + 10 + _colour_table(packed) + 1)
        else:  # the trailer, or bytes that are no block
            break
    return frames, total / 100


def _colour_table(packed: int) -> int:
    return 3 << ((packed & 0x07) + 1) if packed & 0x80 else 0


def _sub_blocks(data: mmap.mmap, at: int) -> int:
    """The position after a chain of sub-blocks (each a length byte, then that many bytes)."""
    while at < len(data) and data[at]:
        at += data[at] + 1
    return at + 1


def _webp(data: mmap.mmap) -> tuple[int, float]:
    """ANMF chunks counted, their 24-bit durations (in ms) summed."""
    frames, milliseconds = 0, 0
    at = 12
    while at + 8 <= len(data):
        kind, size = data[at:at + 4], int.from_bytes(data[at + 4:at + 8], "little")
        if kind == b"ANMF" and at + 23 <= len(data):
            frames += 1
            milliseconds += int.from_bytes(data[at + 20:at + 23], "little")
        at += 8 + size + (size & 1)
    return frames, milliseconds / 1000


def _apng(data: mmap.mmap) -> tuple[int, float]:
    """fcTL chunks counted, their delays (a fraction of a second each) summed."""
    if data[:8] != _PNG_SIGNATURE:
        return 0, 0.0
    frames, seconds = 0, 0.0
    at = 8
    while at + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[at:at + 8])
        if kind == b"fcTL" and at + 8 + 26 <= len(data):
            numerator, denominator = struct.unpack(">HH", data[at + 28:at + 32])
            frames += 1
            seconds += numerator / (denominator or 100)  # 0 means hundredths
        elif kind == b"IEND":
            break
        at += 12 + size
    return frames, seconds
