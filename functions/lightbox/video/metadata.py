"""What a clip's container says about it, read from FFmpeg's metadata tags: when it was
taken, whether it says where, and which way up it is shown."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime

# QuickTime's own creation date carries the phone's time zone: first. The movie header's
# creation_time (UTC) is what every MP4 writer fills in, often with 0 (1904 or 1970).
_APPLE_CREATION_DATE = "com.apple.quicktime.creationdate"
_CREATION_TIME = "creation_time"
_EARLIEST = datetime(1971, 1, 1)
# ISO 6709 positions: QuickTime's own key and MP4's ©xyz (FFmpeg calls it "location").
_LOCATION_KEYS = ("com.apple.quicktime.location.ISO6709", "location")
_ISO6709 = re.compile(r"[+-]\d+(?:\.\d+)?[+-]\d+(?:\.\d+)?")


def taken_at(tags: Mapping[str, str]) -> datetime | None:
    """When the clip was recorded, as the wall clock where it was (as EXIF dates are); UTC
    when the container says only that."""
    local = _parse(tags.get(_APPLE_CREATION_DATE))
    if local is not None:
        return local.replace(tzinfo=None)
    created = _parse(tags.get(_CREATION_TIME))
    if created is None:
        return None
    return (created.astimezone(UTC) if created.tzinfo else created).replace(tzinfo=None)


def _parse(value: str | None) -> datetime | None:
    if not value:
        return None
    text = value.strip().replace("Z", "+00:00")
    if re.search(r"[+-]\d{4}$", text):  # +0200, as QuickTime writes it
        text = f"{text[:-2]}:{text[-2:]}"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.replace(tzinfo=None) >= _EARLIEST else None


def has_location(tags: Mapping[str, str]) -> bool:
    return any(_ISO6709.match(tags.get(key, "").strip()) for key in _LOCATION_KEYS)


def orientation(rotation: float) -> int:
    """The EXIF orientation that shows a frame as its display matrix turns it.

    ``rotation`` is the matrix's counter-clockwise angle in degrees (FFmpeg's convention); a
    phone held upright stores its frames sideways with -90 (turn clockwise). Phones write no
    mirroring matrices, and Lightbox reads none.
    """
    quarter = round(rotation / 90) % 4  # counter-clockwise quarter turns
    return (1, 8, 3, 6)[quarter]
