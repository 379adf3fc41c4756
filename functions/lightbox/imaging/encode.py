"""Derivatives as files: progressive JPEG and WebP, with no metadata."""

from __future__ import annotations

import io

from PIL import Image

from lightbox.domain import RenderSpec
from lightbox.imaging.color import flatten


def encode(image: Image.Image, fmt: str, spec: RenderSpec) -> bytes:
    buffer = io.BytesIO()
    # Nothing is passed on: no EXIF, no ICC profile (the pixels are sRGB), no comment (which
    # Pillow would otherwise copy from the original).
    if fmt == "jpeg":
        flatten(image).save(buffer, "JPEG", quality=spec.jpeg_quality, progressive=True,
                            comment=b"")
    elif fmt == "webp":
        colour = {"L": "RGB", "LA": "RGBA"}.get(image.mode, image.mode)
        image.convert(colour).save(buffer, "WEBP", quality=spec.webp_quality)
    else:
        raise ValueError(f"unknown derivative format {fmt!r}")
    return buffer.getvalue()
