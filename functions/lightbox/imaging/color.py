"""Colour: embedded ICC profiles converted to sRGB, CMYK to RGB, alpha flattened for JPEG."""

from __future__ import annotations

import io
import logging
from functools import lru_cache

from PIL import Image, ImageCms

from lightbox.imaging.icc import press_profile

log = logging.getLogger(__name__)


def to_srgb(image: Image.Image, icc_profile: bytes | None) -> Image.Image:
    """The image in sRGB, in mode L, LA, RGB or RGBA.

    With an embedded profile, LittleCMS converts the colours (perceptual intent). Without
    one, RGB is taken to be sRGB already, and CMYK is converted as a typical press prints it
    (``icc.press_profile``).
    """
    if icc_profile:
        converted = _convert(image, icc_profile)
        if converted is not None:
            return converted
    if image.mode == "CMYK":
        converted = _convert(image, press_profile())
        assert converted is not None, "Lightbox's own press profile always converts"
        return converted
    return image


def flatten(image: Image.Image) -> Image.Image:
    """The image on a white background, for formats without alpha."""
    if image.mode not in ("LA", "RGBA"):
        return image
    opaque = image.mode[:-1]
    canvas = Image.new(opaque, image.size, "white")
    canvas.paste(image.convert(opaque), mask=image.getchannel("A"))
    return canvas


def _convert(image: Image.Image, icc_profile: bytes) -> Image.Image | None:
    alpha = image.getchannel("A") if image.mode in ("LA", "RGBA") else None
    colour = image.convert(image.mode[:-1]) if alpha is not None else image
    transform = _transform(icc_profile, colour.mode)
    if transform is None:
        return None
    converted = ImageCms.applyTransform(colour, transform)
    assert converted is not None
    if alpha is not None:
        converted.putalpha(alpha)
    return converted


@lru_cache(maxsize=4)
def _transform(icc_profile: bytes, mode: str) -> ImageCms.ImageCmsTransform | None:
    """A transform from the embedded profile to sRGB; None when none is needed or possible."""
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
        if mode != "CMYK" and "sRGB" in (ImageCms.getProfileDescription(source) or ""):
            return None
        return ImageCms.buildTransform(source, _srgb(), mode, "RGB",
                                       renderingIntent=ImageCms.Intent.PERCEPTUAL)
    except (OSError, ImageCms.PyCMSError) as exc:
        # A broken profile is the file's fault; its colours are most likely sRGB anyway.
        log.warning("ignoring an unusable ICC profile: %s", exc)
        return None


@lru_cache(maxsize=1)
def _srgb() -> ImageCms.ImageCmsProfile:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
