"""Google Takeout's sidecars met by an import: what each says of the photo beside it.

A Takeout moved into a bucket keeps its JSON sidecars beside the photos, and an import reads
them as ``lightbox upload`` reads them from a disk (``lightbox_takeout``): the date the photo
was taken when its file has none, where, its caption, its name before Google cut it, and
whether it was in the bin. A sidecar's key sorts just after its photo's, so a page of the
listing holds nearly every sidecar its photos need; one that fell on an earlier or a later page
is read by its key, for the few photos at the page's edges. Nothing outside the run's prefix
is read, and a sidecar that cannot be read leaves its photo as its file says.

An album's folder holds a JSON of the same look without a date (``metadata.json``, named in
the account's language): its title names the album. It counts only among Takeout's sidecars,
so that someone's own JSON with a title makes no album.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import tzinfo

import lightbox_takeout as takeout
from lightbox.domain import Declared, Location
from lightbox.errors import LightboxError, ObjectNotFound, Unavailable
from lightbox.ports import SourceBucket
from lightbox.values import SourcePage

log = logging.getLogger(__name__)

# JSON files of a folder read on one page to find its album's description: a Takeout folder
# holds one beside its sidecars, which are known by name and never read for it.
ALBUM_CANDIDATES_READ = 4
# The keys of a folder looked at for a sidecar when its album's description has none beside it
# on its page: each photo's sidecar follows it in key order.
SIDECARS_LOOKED_FOR = 100


class PageSidecars:
    """The sidecars of one page's photos."""

    def __init__(self, page: SourcePage, *, prefix: str, after: str | None,
                 source: SourceBucket, zone: tzinfo) -> None:
        self._source = source
        self._zone = zone
        self._prefix = prefix
        self._after = after
        # Past the page's last key, when the listing goes on: keys this page did not see.
        self._last = page.objects[-1].key if page.more and page.objects else None
        self._on_page: dict[str, set[str]] = {}  # folder (with its "/") → JSON names
        for listed in page.objects:
            folder, name = _split(listed.key)
            if name.lower().endswith(".json"):
                self._on_page.setdefault(folder, set()).add(name)

    def albums(self) -> dict[str, str]:
        """The album folders whose description is on this page: folder → the album's title."""
        found = {}
        for folder, names in self._on_page.items():
            described = [name for name in sorted(names) if not _names_a_file(name)]
            for name in described[:ALBUM_CANDIDATES_READ]:
                document = self._read(folder + name)
                if document is None or not takeout.is_album(document):
                    continue
                if any(map(_names_a_file, names)) or self._holds_sidecars(folder):
                    found[folder] = takeout.album_title(document) or _split(folder[:-1])[1]
                break
        return found

    def _holds_sidecars(self, folder: str) -> bool:
        """Whether the folder's first keys (its sidecars follow their photos) hold one; of a
        folder the run's prefix cuts through, only those under the prefix."""
        listed = self._source.list_page(max(folder, self._prefix, key=len), after=None,
                                        limit=SIDECARS_LOOKED_FOR)
        return any(_names_a_file(name) for name in
                   (_split(item.key)[1] for item in listed.objects)
                   if name.lower().endswith(".json"))

    def declared(self, key: str) -> tuple[Declared, str | None, bool]:
        """What the sidecar of the photo at ``key`` says of it: its date, place and caption;
        its name before Google cut it (None: as the key says); and whether it was in the bin.
        Nothing for a photo without a sidecar."""
        notes = self._notes(key)
        if notes is None:
            return Declared(), None, False
        _, name = _split(key)
        restored = takeout.restored_name(name, notes.title)
        return (Declared(taken_at=notes.taken_at.replace(tzinfo=None) if notes.taken_at else None,
                         location=Location(*notes.place) if notes.place else None,
                         description=notes.description),
                restored if restored != name else None, notes.trashed)

    def _notes(self, key: str) -> takeout.Notes | None:
        folder, name = _split(key)
        found = takeout.match(name, self._on_page.get(folder, set()))
        for sidecar in [found] if found is not None else self._off_page(folder, name):
            document = self._read(folder + sidecar)
            if document is not None and not takeout.is_album(document):
                return takeout.notes(document, self._zone)
        return None

    def _off_page(self, folder: str, name: str) -> Iterable[str]:
        """The names the photo's sidecar may have that this page could not show."""
        for sidecar in takeout.sidecar_names(name):
            key = folder + sidecar
            if not key.startswith(self._prefix):
                continue  # outside what the run may read
            if (self._after is not None and key <= self._after) or (
                    self._last is not None and key > self._last):
                yield sidecar

    def _read(self, key: str) -> takeout.Document | None:
        try:
            return takeout.parse(self._source.read_range(key, takeout.LARGEST_SIDECAR_BYTES + 1))
        except ObjectNotFound:
            return None
        except Unavailable:
            raise  # the page is tried again
        except LightboxError as exc:  # refused for this object alone: the photo still comes
            log.warning("cannot read the sidecar %s: %s", key, exc.message)
            return None


def _names_a_file(sidecar: str) -> bool:
    """Whether a JSON's name is a sidecar's: a file's name (with its extension) and a suffix
    of Google's, where an album's description is a word (``metadata.json``)."""
    described = sidecar[:-len(".json")].removesuffix(".supplemental-metadata")
    return "." in described.rstrip("()0123456789")


def _split(key: str) -> tuple[str, str]:
    folder, slash, name = key.rpartition("/")
    return folder + slash, name
