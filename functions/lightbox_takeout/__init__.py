"""Google Takeout's JSON sidecars: which photo each describes, and what they say of it.

Shared by the functions (an import of a Takeout in a bucket) and the ``lightbox`` command (an
upload of one from a disk): standard library only, and nothing of where the files are.

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
import unicodedata
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo

# Google cuts a sidecar's name before `.json` to this many characters.
_NAME_CHARS = 46
_SUPPLEMENTAL = ".supplemental-metadata"
_COUNTER = re.compile(r"^(?P<stem>.*)(?P<counter>\(\d+\))(?P<extension>\.[^.]*)$")
# What Google Photos appends to an edited copy's name, in the languages it exports in.
_EDITED = ("-edited", "-bearbeitet", "-modifié", "-modificato", "-bewerkt", "-editado",
           "-edytowane", "-editat", "-編集済み")
LARGEST_SIDECAR_BYTES = 1024 * 1024
# The longest description and name the library takes (its API's limits).
MAX_DESCRIPTION_CHARS = 2000
MAX_NAME_CHARS = 255


Place = tuple[float, float]  # latitude, longitude
Document = Mapping[str, object]  # a sidecar's or an album's JSON


@dataclass(frozen=True)
class Notes:
    """What a sidecar says of its photo."""

    taken_at: datetime | None  # in the zone asked for
    title: str | None
    description: str | None
    place: Place | None
    trashed: bool


def parse(data: bytes) -> Document | None:
    """A sidecar's or an album's JSON; None for anything else, whatever it holds (a gigabyte,
    JSON nested past Python's stack, numbers past a float, text that is not UTF-8)."""
    if len(data) > LARGEST_SIDECAR_BYTES:
        return None
    try:
        document = json.loads(data.decode("utf-8"))
    except (ValueError, RecursionError):
        return None
    if not isinstance(document, dict) or "title" not in document:
        return None
    return document


def is_album(document: Document) -> bool:
    return "photoTakenTime" not in document and "creationTime" not in document


def notes(document: Document, zone: tzinfo | None = None) -> Notes:
    """What the sidecar says, its date in ``zone`` (None: this machine's)."""
    description = _text(document.get("description"))
    return Notes(taken_at=taken_at(document, zone), title=_text(document.get("title")),
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


def album_title(document: Document) -> str | None:
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


def taken_at(document: Document, zone: tzinfo | None = None) -> datetime | None:
    taken = document.get("photoTakenTime")
    seconds = taken.get("timestamp") if isinstance(taken, dict) else None
    try:
        value = int(str(seconds))
    except ValueError:
        return None
    if value <= 0:  # an unknown date is exported as 0
        return None
    try:
        # As a wall clock where the photos were most likely taken (the importer's, unless
        # told): the library keeps dates as EXIF does, in local time without a zone, and a
        # sidecar says only the instant.
        return datetime.fromtimestamp(value, UTC).astimezone(zone)
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


def match(photo: str, sidecars: Collection[str]) -> str | None:
    """The name of ``photo``'s sidecar among those of its folder, if there is one."""
    for name in sidecar_names(photo):
        if name in sidecars:
            return name
    # A live photo's video shares its still's sidecar: the one whose photo has the same stem.
    stem = (photo.rpartition(".")[0] or photo) + "."
    shared = [name for name in sidecars if name.startswith(stem) and name.count(".") >= 2]
    return shared[0] if len(shared) == 1 else None
