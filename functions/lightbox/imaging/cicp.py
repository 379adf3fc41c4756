"""Colour encodings named by code points (ITU-T H.273, as JPEG XL headers, HEIF's nclx boxes
and video streams carry them) turned into ICC profiles, for the pipeline's conversion to sRGB.

Where a file says its colours by numbers rather than with an ICC profile, Lightbox writes the
profile those numbers mean: the primaries and white point as a matrix, the transfer function
as a curve. High dynamic range (PQ, HLG) is brought into the sRGB range by the curve itself:
light up to 80 % of BT.2408's reference white (203 cd/m²) is kept as it is, and brighter light
rolls off smoothly to white at 1000 cd/m², where a phone's HDR photo peaks; reference white
itself lands at 90 %.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import numpy as np
from numpy.typing import NDArray

from lightbox.imaging import icc

XY = tuple[float, float]
Curve = Callable[[NDArray[np.float64]], NDArray[np.float64]]

D65: XY = (0.3127, 0.3290)
DCI_WHITE: XY = (0.314, 0.351)
EQUAL_ENERGY: XY = (1 / 3, 1 / 3)

# Primaries (red, green, blue) by their H.273 code point.
PRIMARIES: dict[int, tuple[XY, XY, XY]] = {
    1: ((0.640, 0.330), (0.300, 0.600), (0.150, 0.060)),  # BT.709, sRGB
    9: ((0.708, 0.292), (0.170, 0.797), (0.131, 0.046)),  # BT.2020, BT.2100
    11: ((0.680, 0.320), (0.265, 0.690), (0.150, 0.060)),  # P3 (DCI white)
    12: ((0.680, 0.320), (0.265, 0.690), (0.150, 0.060)),  # P3 (D65 white): Display P3
}
SRGB_PRIMARIES = 1
SRGB_TRANSFER = 13
BT709_TRANSFERS = (1, 6, 14, 15)
LINEAR_TRANSFER = 8
PQ_TRANSFER = 16
DCI_TRANSFER = 17
HLG_TRANSFER = 18

_REFERENCE_WHITE = 203.0  # cd/m², BT.2408's diffuse white for HDR
_PEAK = 1000.0
_KNEE = 0.8


def profile(primaries: int | tuple[XY, XY, XY] | None, white: XY,
            transfer: int | float) -> bytes | None:
    """An ICC profile for these code points (a gamma, when ``transfer`` is a float); None
    when they mean sRGB or a transfer function Lightbox does not know.

    ``primaries`` None means grey.
    """
    named = PRIMARIES.get(primaries) if isinstance(primaries, int) else primaries
    if primaries is not None and named is None:
        return None
    if any(y <= 0 for _, y in (*(named or ()), white)) or _curve(transfer) is None:
        return None  # a chromaticity no colour has, or an unknown function
    if transfer == SRGB_TRANSFER and white == D65 and primaries in (SRGB_PRIMARIES, None):
        return None
    return _profile(named, white, transfer)


def coded_profile(primaries: int, transfer: int) -> bytes | None:
    """``profile`` for primaries given by their code point alone, with the white point that
    code implies (DCI's for 11, D65 for the rest)."""
    return profile(primaries, DCI_WHITE if primaries == 11 else D65, transfer)


@cache
def _profile(primaries: tuple[XY, XY, XY] | None, white: XY, transfer: int | float) -> bytes:
    curve = _curve(transfer)
    assert curve is not None
    samples = curve(np.linspace(0.0, 1.0, 4096))
    name = f"Lightbox H.273 primaries {primaries or 'grey'} transfer {transfer}"
    if primaries is None:
        return icc.grey_profile(samples, name)
    return icc.rgb_profile(_to_xyz_d50(primaries, white), samples, name)


def _curve(transfer: int | float) -> Curve | None:
    """Encoded value (0-1) to relative display light (0-1)."""
    if isinstance(transfer, float):
        return lambda v: v ** (1 / transfer)
    if transfer == SRGB_TRANSFER:
        return lambda v: np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)
    if transfer in BT709_TRANSFERS:
        return lambda v: np.where(v < 0.081, v / 4.5, ((v + 0.099) / 1.099) ** (1 / 0.45))
    if transfer == LINEAR_TRANSFER:
        return lambda v: v
    if transfer == DCI_TRANSFER:
        return lambda v: v ** 2.6
    if transfer == PQ_TRANSFER:
        return lambda v: _roll_off(_pq_luminance(v))
    if transfer == HLG_TRANSFER:
        return lambda v: _roll_off(_hlg_luminance(v))
    return None


def _pq_luminance(v: NDArray[np.float64]) -> NDArray[np.float64]:
    """SMPTE ST 2084: the display light, in cd/m², of a PQ value."""
    m1, m2, c1, c2, c3 = 0.1593017578125, 78.84375, 0.8359375, 18.8515625, 18.6875
    power = v ** (1 / m2)
    return 10_000 * (np.maximum(power - c1, 0) / (c2 - c3 * power)) ** (1 / m1)


def _hlg_luminance(v: NDArray[np.float64]) -> NDArray[np.float64]:
    """BT.2100 HLG: scene light from the value, then the display's system gamma at 1000 cd/m²."""
    a, b, c = 0.17883277, 0.28466892, 0.55991073
    scene = np.where(v <= 0.5, v * v / 3, (np.exp((v - c) / a) + b) / 12)
    return _PEAK * scene ** 1.2


def _roll_off(luminance: NDArray[np.float64]) -> NDArray[np.float64]:
    """Relative to reference white, kept below the knee; above it, an extended Reinhard curve
    whose slope starts at 1 and which reaches white at the peak."""
    x = luminance / _REFERENCE_WHITE
    excess = np.maximum(x - _KNEE, 0) / (1 - _KNEE)
    peak = (_PEAK / _REFERENCE_WHITE - _KNEE) / (1 - _KNEE)
    shoulder = _KNEE + (1 - _KNEE) * excess * (1 + excess / peak**2) / (1 + excess)
    return np.clip(np.where(x <= _KNEE, x, shoulder), 0.0, 1.0)


_BRADFORD = np.array([[0.8951, 0.2664, -0.1614],
                      [-0.7502, 1.7135, 0.0367],
                      [0.0389, -0.0685, 1.0296]])
_D50_XYZ = np.array([0.9642, 1.0, 0.8249])


def _to_xyz_d50(primaries: tuple[XY, XY, XY], white: XY) -> NDArray[np.float64]:
    """The matrix from linear RGB of these primaries to XYZ, adapted to D50 as ICC requires."""
    columns = np.array([[x / y, 1.0, (1 - x - y) / y] for x, y in primaries]).T
    white_xyz = np.array([white[0] / white[1], 1.0, (1 - white[0] - white[1]) / white[1]])
    scale = np.linalg.solve(columns, white_xyz)
    to_xyz = columns * scale
    cone_ratio = (_BRADFORD @ _D50_XYZ) / (_BRADFORD @ white_xyz)
    adapt = np.linalg.inv(_BRADFORD) @ np.diag(cone_ratio) @ _BRADFORD
    result: NDArray[np.float64] = adapt @ to_xyz
    return result
