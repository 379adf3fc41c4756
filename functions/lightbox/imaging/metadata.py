"""Reading the few EXIF and TIFF fields Lightbox records, defensively: they are user data."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

ORIENTATION = 0x0112
MAKE = 0x010F
MODEL = 0x0110
DATETIME = 0x0132
EXIF_IFD = 0x8769
GPS_IFD = 0x8825
DATETIME_ORIGINAL = 0x9003
_GPS_LATITUDE, _GPS_LONGITUDE = 2, 4


def orientation(value: object) -> int | None:
    """A valid EXIF orientation (1-8), or None."""
    return value if isinstance(value, int) and 1 <= value <= 8 else None


def displayed_size(width: int, height: int, orientation: int | None) -> tuple[int, int]:
    """Orientations 5-8 turn the image a quarter: displayed, width and height swap."""
    return (height, width) if orientation in (5, 6, 7, 8) else (width, height)


def timestamp(value: object) -> datetime | None:
    """An EXIF date ("2026:07:14 18:30:05"), which carries no time zone."""
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    if not isinstance(value, str):
        return None
    try:
        return datetime.strptime(value.strip().rstrip("\x00")[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None


def has_location(gps: Mapping[int, object]) -> bool:
    """Whether a GPS IFD's fields say where: a latitude and a longitude, not just a time."""
    return _GPS_LATITUDE in gps and _GPS_LONGITUDE in gps


def text(value: object) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        return None
    cleaned = value.replace("\x00", "").strip()
    return cleaned[:200] or None
