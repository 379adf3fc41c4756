"""Google Takeout's JSON sidecars: which photo each describes, and what they say of it.

Google Photos exports every photo with a sidecar beside it, named after the photo with
``.json`` or ``.supplemental-metadata.json`` appended, the whole name cut to 51 characters
(46 and ``.json``), a duplicate's counter moved behind what was cut (``IMG.jpg(1).json`` for
``IMG(1).jpg``), and no sidecar at all for an edited copy (``IMG-edited.jpg``) or the video of
a live photo (``IMG.MP4`` beside ``IMG.HEIC``), which share their original's. The date is
``photoTakenTime``: seconds since the epoch, in UTC; ``title`` is the photo's name in Google
Photos, of which the file's may be a cut; ``description`` the caption given there; ``geoData``
where it was taken (a place set in Google Photos, else the file's own; 0, 0 means unknown),
``geoDataExif`` the file's own; ``trashed`` marks what was in the bin. An album's
folder holds a JSON of the same look without a date (``metadata.json``, named in the account's
language): its ``title`` names the album.
"""

from __future__ import annotations

import json
import math
import re
import stat
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

# Google cuts a sidecar's name before `.json` to this many characters.
_NAME_CHARS = 46
_SUPPLEMENTAL = ".supplemental-metadata"
_COUNTER = re.compile(r"^(?P<stem>.*)(?P<counter>\(\d+\))(?P<extension>\.[^.]*)$")
# What Google Photos appends to an edited copy's name, in the languages it exports in.
_EDITED = ("-edited", "-bearbeitet", "-modifié", "-modificato", "-bewerkt", "-editado",
           "-edytowane", "-editat", "-編集済み")
_LARGEST_SIDECAR_BYTES = 1024 * 1024
# The longest description and name the library takes (its API's limits).
MAX_DESCRIPTION_CHARS = 2000
MAX_NAME_CHARS = 255


Place = tuple[float, float]  # latitude, longitude


@dataclass(frozen=True)
class Notes:
    """What a sidecar says of its photo."""

    taken_at: datetime | None  # in this machine's time zone
    title: str | None
    description: str | None
    place: Place | None
    trashed: bool


def read(path: Path) -> Mapping[str, object] | None:
    """A sidecar's or an album's JSON; None for any other file, whatever it holds (a link to a
    device, a gigabyte, JSON nested past Python's stack, numbers past a float)."""
    try:
        if not stat.S_ISREG(path.stat().st_mode):
            return None
        with path.open("rb") as file:
            data = file.read(_LARGEST_SIDECAR_BYTES + 1)
        if len(data) > _LARGEST_SIDECAR_BYTES:
            return None
        document = json.loads(data.decode("utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    if not isinstance(document, dict) or "title" not in document:
        return None
    return document


def is_album(document: Mapping[str, object]) -> bool:
    return "photoTakenTime" not in document and "creationTime" not in document


def notes(document: Mapping[str, object]) -> Notes:
    description = _text(document.get("description"))
    return Notes(taken_at=taken_at(document), title=_text(document.get("title")),
                 description=caption(description) if description else None,
                 place=place_of(document.get("geoData")) or place_of(document.get("geoDataExif")),
                 trashed=document.get("trashed") is True)


def caption(text: str) -> str | None:
    """The text as the library takes a description: line breaks as LF, no other control
    characters, at most its length. A caption that cannot be sent must not keep the photo
    out."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n")
    kept = "".join(c for c in lines if c in "\n\t" or unicodedata.category(c) not in ("Cc", "Cs"))
    return kept[:MAX_DESCRIPTION_CHARS].strip() or None


def _text(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def place_of(value: object) -> Place | None:
    if not isinstance(value, dict):
        return None
    latitude, longitude = _degrees(value.get("latitude")), _degrees(value.get("longitude"))
    if latitude is None or longitude is None or (latitude, longitude) == (0.0, 0.0):
        return None  # 0, 0 is Google's "unknown"
    if abs(latitude) > 90 or abs(longitude) > 180:
        return None  # nowhere on Earth
    return latitude, longitude


def _degrees(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        degrees = float(value)
    except OverflowError:  # an integer of hundreds of digits
        return None
    return degrees if math.isfinite(degrees) else None


def album_title(document: Mapping[str, object]) -> str | None:
    return _text(document.get("title"))


def restored_name(name: str, title: str | None) -> str:
    """The photo's name before Google cut it to fit (``title``), when ``name`` is that cut;
    else ``name``."""
    if (not title or title == name or "/" in title or len(title) > MAX_NAME_CHARS
            or any(unicodedata.category(c).startswith("C") for c in title)):
        return name  # not a name the library would take
    stem, _, extension = name.rpartition(".")
    title_stem, _, title_extension = title.rpartition(".")
    cut = bool(stem) and title_stem.startswith(stem) and len(title_stem) > len(stem)
    return title if cut and extension.lower() == title_extension.lower() else name


def taken_at(document: Mapping[str, object]) -> datetime | None:
    taken = document.get("photoTakenTime")
    seconds = taken.get("timestamp") if isinstance(taken, dict) else None
    try:
        value = int(str(seconds))
    except ValueError:
        return None
    if value <= 0:  # an unknown date is exported as 0
        return None
    try:
        # As the wall clock of the machine importing, where the photos were most likely
        # taken: the library keeps dates as EXIF does, in local time without a zone, and a
        # sidecar says only the instant.
        return datetime.fromtimestamp(value, UTC).astimezone()
    except (OverflowError, OSError, ValueError):
        return None


def sidecar_names(photo: str) -> Iterable[str]:
    """The names Google may have given ``photo``'s sidecar, most likely first."""
    counted = _COUNTER.match(photo)
    counter = counted["counter"] if counted else ""
    name = f"{counted['stem']}{counted['extension']}" if counted else photo
    for original in (name, *_unedited(name)):
        for suffix in (_SUPPLEMENTAL, ""):
            yield f"{(original + suffix)[:_NAME_CHARS]}{counter}.json"


def _unedited(name: str) -> Iterable[str]:
    stem, dot, extension = name.rpartition(".")
    for edited in _EDITED:
        if dot and stem.endswith(edited):
            yield f"{stem[:-len(edited)]}.{extension}"


def match(photo: Path, sidecars: Mapping[str, Path]) -> Path | None:
    """The sidecar of ``photo`` among those of its folder (by name), if there is one."""
    for name in sidecar_names(photo.name):
        if name in sidecars:
            return sidecars[name]
    # A live photo's video shares its still's sidecar: the one whose photo has the same stem.
    stem = photo.stem + "."
    shared = [path for name, path in sidecars.items() if name.startswith(stem)
              and name.count(".") >= 2]
    return shared[0] if len(shared) == 1 else None
