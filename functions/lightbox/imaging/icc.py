"""ICC profiles Lightbox writes itself: a CMYK → Lab lookup table, and the typical press that
CMYK images without an embedded profile are converted through.

CMYK numbers describe ink, not colour: what 100 % cyan looks like depends on the press. The
naive formula (red = 1 − cyan − black, ...) turns it into an impossible (0, 255, 255) and every
print colour into a neon one. Without a profile from the file, Lightbox assumes a typical
press on coated paper (primaries close to ISO 12647-2, 14 % dot gain at 50 %) and predicts
its colours with the Yule–Nielsen modified Neugebauer model: each pixel is a mix of the 16
ink overprints, weighted by their area coverage (Demichel).
"""

from __future__ import annotations

import itertools
import struct
from functools import cache

import numpy as np
from numpy.typing import NDArray

_D50 = np.array([0.9642, 1.0, 0.8249])
# Lab of paper and the solid inks and overprints of a typical coated press.
_PRIMARIES = {
    "": (95.0, 0.0, -2.0),
    "C": (55.0, -37.0, -50.0),
    "M": (48.0, 74.0, -3.0),
    "Y": (89.0, -5.0, 93.0),
    "K": (16.0, 0.0, 0.0),
    "MY": (47.0, 68.0, 48.0),
    "CY": (50.0, -65.0, 27.0),
    "CM": (24.0, 22.0, -46.0),
    "CMY": (23.0, 0.0, 0.0),
}
_DOT_GAIN = 0.14  # tone value increase at 50 % coverage
_YULE_NIELSEN = 2.0
_GRID = 9  # points per ink in the lookup table


@cache
def press_profile() -> bytes:
    """The stand-in press profile, computed once per process."""
    levels = np.linspace(0.0, 1.0, _GRID)
    inks = np.stack(np.meshgrid(levels, levels, levels, levels, indexing="ij"), axis=-1)
    return cmyk_profile(_press_lab(inks.reshape(-1, 4)), _GRID, "Lightbox typical coated press")


def _press_lab(coverage: NDArray[np.float64]) -> NDArray[np.float64]:
    """Lab printed by each row of CMYK coverage (0-1)."""
    effective = coverage + 4 * _DOT_GAIN * coverage * (1 - coverage)
    mixed = np.zeros((coverage.shape[0], 3))
    for inks in itertools.product((0, 1), repeat=4):
        area = np.prod(np.where(np.array(inks, bool), effective, 1 - effective), axis=1)
        xyz = _overprint_xyz("".join(name for name, on in zip("CMYK", inks, strict=True) if on))
        mixed += area[:, None] * xyz ** (1 / _YULE_NIELSEN)
    return _lab(mixed**_YULE_NIELSEN)


def _overprint_xyz(inks: str) -> NDArray[np.float64]:
    """XYZ of an overprint; black over colour filters it, as a transparent ink does."""
    colour = inks.replace("K", "")
    xyz = _xyz(_PRIMARIES[colour])
    if "K" in inks:
        xyz = xyz * _xyz(_PRIMARIES["K"]) / _xyz(_PRIMARIES[""])
    return xyz


def _xyz(lab: tuple[float, float, float]) -> NDArray[np.float64]:
    lightness, a, b = lab
    fy = (lightness + 16) / 116
    f = np.array([fy + a / 500, fy, fy - b / 200])
    linear = np.where(f**3 > 216 / 24389, f**3, (116 * f - 16) / (24389 / 27))
    xyz: NDArray[np.float64] = linear * _D50
    return xyz


def _lab(xyz: NDArray[np.float64]) -> NDArray[np.float64]:
    ratio = xyz / _D50
    f = np.where(ratio > 216 / 24389, np.cbrt(ratio), (24389 / 27 * ratio + 16) / 116)
    return np.stack([116 * f[:, 1] - 16, 500 * (f[:, 0] - f[:, 1]), 200 * (f[:, 1] - f[:, 2])],
                    axis=-1)


def cmyk_profile(lab: NDArray[np.float64], grid: int, description: str) -> bytes:
    """An ICC v2 output profile whose CMYK → Lab table holds ``lab``.

    ``lab`` has one row per grid point, cyan varying slowest and black fastest.
    """
    encoded = np.empty((lab.shape[0], 3), np.float64)  # ICC v2's 16-bit Lab encoding
    encoded[:, 0] = lab[:, 0] * 0xFF00 / 100
    encoded[:, 1:] = (lab[:, 1:] + 128) * 256
    table = np.clip(np.rint(encoded), 0, 0xFFFF).astype(">u2").tobytes()
    linear = struct.pack(">2H", 0, 0xFFFF)  # a two-entry identity curve
    identity_matrix = b"".join(struct.pack(">i", 65536 if i in (0, 4, 8) else 0) for i in range(9))
    lut = (b"mft2" + bytes(4) + struct.pack(">BBBB", 4, 3, grid, 0) + identity_matrix
           + struct.pack(">HH", 2, 2) + linear * 4 + table + linear * 3)
    return profile(b"prtr", b"CMYK", b"Lab ", [
        (b"desc", _description(description)),
        (b"wtpt", xyz_tag((0.9642, 1.0, 0.8249))),
        (b"A2B0", lut),
    ])


def rgb_profile(to_xyz: NDArray[np.float64], curve: NDArray[np.float64],
                description: str) -> bytes:
    """An ICC v2 display profile of linear RGB to XYZ (D50) by ``to_xyz``, after ``curve``.

    ``curve`` holds the linear light (0-1) of evenly spaced encoded values, the same for each
    channel.
    """
    trc = _curve_tag(curve)
    red, green, blue = ((float(x), float(y), float(z)) for x, y, z in to_xyz.T)
    return profile(b"mntr", b"RGB ", b"XYZ ", [
        (b"desc", _description(description)),
        (b"wtpt", xyz_tag((0.9642, 1.0, 0.8249))),
        (b"rXYZ", xyz_tag(red)),
        (b"gXYZ", xyz_tag(green)),
        (b"bXYZ", xyz_tag(blue)),
        (b"rTRC", trc), (b"gTRC", trc), (b"bTRC", trc),
    ])


def grey_profile(curve: NDArray[np.float64], description: str) -> bytes:
    """An ICC v2 display profile of grey, whose light is ``curve`` (as in ``rgb_profile``)."""
    return profile(b"mntr", b"GRAY", b"XYZ ", [
        (b"desc", _description(description)),
        (b"wtpt", xyz_tag((0.9642, 1.0, 0.8249))),
        (b"kTRC", _curve_tag(curve)),
    ])


def _curve_tag(curve: NDArray[np.float64]) -> bytes:
    table = np.clip(np.rint(curve * 0xFFFF), 0, 0xFFFF).astype(">u2").tobytes()
    return b"curv" + bytes(4) + struct.pack(">I", len(curve)) + table


def profile(device: bytes, colour_space: bytes, pcs: bytes,
            tags: list[tuple[bytes, bytes]]) -> bytes:
    """An ICC v2 profile: a 128-byte header, the tag table, then the tags."""
    table = struct.pack(">I", len(tags))
    data = b""
    offset = 128 + 4 + 12 * len(tags)
    for signature, body in tags:
        padded = body + bytes(-len(body) % 4)
        table += signature + struct.pack(">II", offset + len(data), len(padded))
        data += padded
    illuminant = b"".join(struct.pack(">i", round(v * 65536)) for v in _D50)
    header = (struct.pack(">I", 128 + len(table) + len(data)) + bytes(4)
              + struct.pack(">I", 0x02100000) + device + colour_space + pcs + bytes(12)
              + b"acsp" + bytes(28) + illuminant + bytes(48))
    return header + table + data


def xyz_tag(values: tuple[float, float, float]) -> bytes:
    return b"XYZ " + bytes(4) + b"".join(struct.pack(">i", round(v * 65536)) for v in values)


def _description(text: str) -> bytes:
    ascii_text = text.encode("ascii") + b"\x00"
    return (b"desc" + bytes(4) + struct.pack(">I", len(ascii_text)) + ascii_text
            + bytes(8) + bytes(70))
