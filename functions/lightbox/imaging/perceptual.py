"""A perceptual hash: 64 bits that stay nearly the same when a picture is re-encoded, resized,
brightened or cropped a little, so that near-duplicates lie within a few bits of each other.

This is the DCT hash (pHash): the picture as shown, in grey at 32×32, transformed by a 2-D DCT;
its 64 lowest-frequency terms after the DC term (in order of frequency), each compared with
their median, give the bits. Brightening moves only the DC term, which is left out; re-encoding
and resizing change the high frequencies, which are left out too; and thresholding at the median
sets half the bits, so that every bit tells pictures apart.

It is written with numpy, which the imaging and video packages carry already: the ``imagehash``
library would bring SciPy and PyWavelets into packages already near Lambda's 250 MB limit.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from PIL import Image

# The grey thumbnail transformed: large enough that its low frequencies are the picture's,
# small enough to cost well under a millisecond.
SIDE = 32
BITS = 64


def _dct_matrix(size: int) -> NDArray[np.float64]:
    """The orthonormal DCT-II: row k holds the k-th cosine sampled at the pixel centres."""
    k = np.arange(size)[:, None]
    n = np.arange(size)[None, :]
    matrix: NDArray[np.float64] = np.cos(np.pi * k * (2 * n + 1) / (2 * size)) * np.sqrt(2 / size)
    matrix[0] /= np.sqrt(2)
    return matrix


_DCT = _dct_matrix(SIDE)
# The 64 terms after DC, lowest frequencies first (by u + v, then by row): a fixed order, so
# that a bit means the same frequency in every hash.
_TERMS = sorted(((u, v) for u in range(SIDE) for v in range(SIDE) if 0 < u + v <= 11),
                key=lambda uv: (uv[0] + uv[1], uv[0]))[:BITS]
_ROWS = np.array([u for u, _ in _TERMS])
_COLUMNS = np.array([v for _, v in _TERMS])


def perceptual_hash(image: Image.Image) -> int:
    """The 64-bit DCT hash of an image as shown (upright, sRGB), as an unsigned integer."""
    # Box-averaged straight to 32×32 from the shown picture (at most a thumbnail's size): a
    # box filter is the cheapest that lets no detail alias into the low frequencies.
    grey = image.convert("L").resize((SIDE, SIDE), Image.Resampling.BOX)
    pixels = np.asarray(grey, dtype=np.float64)
    terms = (_DCT @ pixels @ _DCT.T)[_ROWS, _COLUMNS]
    bits = terms > np.median(terms)
    return int.from_bytes(np.packbits(bits).tobytes(), "big")


def distance(first: int, second: int) -> int:
    """The number of bits in which two hashes differ (Hamming distance)."""
    return (first ^ second).bit_count()
