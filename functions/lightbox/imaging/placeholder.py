"""ThumbHash placeholders: a blurred preview of an image, with its aspect ratio and alpha, in
about 25 bytes, that a gallery decodes in the browser before any thumbnail arrives.

This encodes the ThumbHash format (by Evan Wallace) with numpy: the image, composited over its
own average colour, becomes luminance and two colour-difference channels (plus alpha), each
summarised by its lowest DCT coefficients, quantised to four bits.
"""

from __future__ import annotations

import base64
import math

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from lightbox.imaging.geometry import fit

# ThumbHash encodes images of at most 100×100 pixels.
MAX_SIDE = 100


def placeholder(image: Image.Image) -> str:
    """The ThumbHash of an image, base64-encoded."""
    small = fit(image, MAX_SIDE).convert("RGBA")
    rgba = np.asarray(small, np.float64).reshape(small.height, small.width, 4) / 255
    return base64.b64encode(encode(rgba)).decode("ascii")


def encode(rgba: NDArray[np.float64]) -> bytes:
    """ThumbHash bytes of an RGBA image (height × width × 4, samples in 0-1)."""
    height, width = rgba.shape[:2]
    alpha = rgba[..., 3]
    total_alpha = alpha.sum()
    average = (rgba[..., :3] * alpha[..., None]).sum(axis=(0, 1)) / total_alpha if (
        total_alpha > 0) else np.zeros(3)
    has_alpha = total_alpha < width * height
    limit = 5 if has_alpha else 7  # fewer luminance terms when alpha needs room
    lx = max(1, _round(limit * width / max(width, height)))
    ly = max(1, _round(limit * height / max(width, height)))

    # Composite over the average colour, then luminance and two colour differences.
    rgb = average * (1 - alpha[..., None]) + rgba[..., :3] * alpha[..., None]
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    l_dc, l_ac, l_scale = _channel((r + g + b) / 3, max(3, lx), max(3, ly))
    p_dc, p_ac, p_scale = _channel((r + g) / 2 - b, 3, 3)
    q_dc, q_ac, q_scale = _channel(r - g, 3, 3)

    landscape = width > height
    header24 = (_round(63 * l_dc) | _round(31.5 + 31.5 * p_dc) << 6
                | _round(31.5 + 31.5 * q_dc) << 12 | _round(31 * l_scale) << 18
                | int(has_alpha) << 23)
    header16 = ((ly if landscape else lx) | _round(63 * p_scale) << 3
                | _round(63 * q_scale) << 9 | int(landscape) << 15)
    result = [header24 & 255, (header24 >> 8) & 255, header24 >> 16,
              header16 & 255, header16 >> 8]
    terms = [l_ac, p_ac, q_ac]
    if has_alpha:
        a_dc, a_ac, a_scale = _channel(alpha, 5, 5)
        result.append(_round(15 * a_dc) | _round(15 * a_scale) << 4)
        terms.append(a_ac)
    nibbles = [_round(15 * value) for values in terms for value in values]
    if len(nibbles) % 2:
        nibbles.append(0)
    result.extend(low | high << 4 for low, high in zip(nibbles[::2], nibbles[1::2], strict=True))
    return bytes(result)


def _channel(channel: NDArray[np.float64], nx: int, ny: int) -> tuple[float, list[float], float]:
    """The DC term, the AC terms normalised to 0-1, and their scale."""
    height, width = channel.shape
    basis_x = np.cos(np.pi / width * np.outer(np.arange(nx), np.arange(width) + 0.5))
    basis_y = np.cos(np.pi / height * np.outer(np.arange(ny), np.arange(height) + 0.5))
    coefficients = basis_y @ channel @ basis_x.T / (width * height)  # ny × nx
    # The triangle of low frequencies, row by row, as the format orders them.
    terms = [float(coefficients[cy, cx])
             for cy in range(ny) for cx in range(nx) if cx * ny < nx * (ny - cy)]
    dc, ac = terms[0], terms[1:]
    scale = max((abs(value) for value in ac), default=0.0)
    if scale > 0:
        ac = [0.5 + 0.5 / scale * value for value in ac]
    return dc, ac, scale


def _round(value: float) -> int:
    """Round half up, as the format's reference does."""
    return math.floor(value + 0.5)
