"""Google Takeout's JSON sidecars: which photo each describes, and when that photo was taken.

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
import re
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


Place = tuple[float, float]  # latitude, longitude


@dataclass(frozen=True)
class Notes:
    """What a sidecar says of its photo."""

    taken_at: datetime | None  # UTC
    title: str | None
    description: str | None
    place: Place | None
    trashed: bool


def read(path: Path) -> Mapping[str, object] | None:
    """A sidecar's or an album's JSON; None for any other file."""
    try:
        if path.stat().st_size > _LARGEST_SIDECAR_BYTES:
            return None
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(document, dict) or "title" not in document:
        return None
    return document


def is_album(document: Mapping[str, object]) -> bool:
    return "photoTakenTime" not in document and "creationTime" not in document


def notes(document: Mapping[str, object]) -> Notes:
    return Notes(taken_at=taken_at(document), title=_text(document.get("title")),
                 description=_text(document.get("description")),
                 place=_place(document.get("geoData")) or _place(document.get("geoDataExif")),
                 trashed=document.get("trashed") is True)


def _text(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _place(value: object) -> Place | None:
    if not isinstance(value, dict):
        return None
    latitude, longitude = _degrees(value.get("latitude")), _degrees(value.get("longitude"))
    if latitude is None or longitude is None or (latitude, longitude) == (0.0, 0.0):
        return None  # 0, 0 is Google's "unknown"
    if abs(latitude) > 90 or abs(longitude) > 180:
        return None  # nowhere on Earth
    return latitude, longitude


def _degrees(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def album_title(document: Mapping[str, object]) -> str | None:
    return _text(document.get("title"))


def restored_name(name: str, title: str | None) -> str:
    """The photo's name before Google cut it to fit (``title``), when ``name`` is that cut;
    else ``name``."""
    if not title or title == name or "/" in title:
        return name
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
        return datetime.fromtimestamp(value, UTC)
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
