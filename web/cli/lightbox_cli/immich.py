"""Importing a library from an Immich server, through the API Immich publishes (its OpenAPI
document, ``open-api/immich-openapi-specs.json``; these routes as of its version 1.143).

Every route is under ``/api``, the key in the ``x-api-key`` header:

- ``GET /users/me``: checks the key; its ``id`` says whose library this is.
- ``POST /search/metadata`` (``page``, ``size``, ``withExif``, ``withDeleted``, ``visibility``):
  the owner's assets a page at a time; ``assets.nextPage`` is the next page's number, as a
  string, and null after the last.
- ``GET /assets/{id}``: one asset, for a live photo's motion part.
- ``GET /albums`` and ``GET /albums/{id}`` (its ``assets``): the albums and what each holds.
- ``GET /assets/{id}/original``: the original's bytes.

Each original is streamed into a spool file, hashed on the way (SHA-1 to check it against
Immich's ``checksum``, SHA-256 for the library), handed to the ``Uploader`` as any file is,
then deleted. A journal keeps the Immich assets finished, so that a second run downloads
nothing it brought over before; nothing prints here, an ``ImportObserver`` is told.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import threading
import time
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO, Protocol

import httpx

import lightbox_takeout as takeout
from lightbox_cli import __version__
from lightbox_cli.client import ATTEMPTS, CHUNK_BYTES, RETRYABLE, ClientError, Json, backoff
from lightbox_cli.uploads import (
    CONTENT_TYPES,
    TYPE_NAMES,
    FileResult,
    LocalFile,
    Observer,
    Outcome,
    Uploader,
    gather,
)

# Assets a search page holds (the API takes 1 to 1000).
PAGE_SIZE = 250
# What the timeline shows, and what was archived out of it. Locked assets need a session
# elevated with a PIN, which an API key is not; hidden ones are the motion parts of live
# photos, brought with their stills.
VISIBILITIES = ("timeline", "archive")
# An offset past this is no time zone: the dates it came from are not the same moment.
LONGEST_OFFSET = timedelta(hours=18)
_ASSET_ID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                       r"[0-9a-fA-F]{12}")


class ImmichError(ClientError):
    pass


class ImmichRefusedKey(ImmichError):
    """The key stopped working: nothing more can be had, so the import stops."""


class Interrupted(Exception):
    pass


@dataclass(frozen=True)
class ImmichAsset:
    """What the import needs of one asset."""

    id: str
    name: str
    content_type: str | None  # None: not a type the library takes
    checksum: str  # base64 SHA-1 of the original
    taken_at: datetime | None
    place: takeout.Place | None
    description: str | None
    trashed: bool
    motion_id: str | None  # a live photo's motion part


def immich_asset(item: Json) -> ImmichAsset:
    exif = item.get("exifInfo") or {}
    name = _file_name(str(item["originalFileName"]), str(item["id"]))
    description = exif.get("description")
    return ImmichAsset(
        id=str(item["id"]), name=name, content_type=_content_type(item, name),
        checksum=str(item["checksum"]), taken_at=wall_clock(item),
        # Immich says null for no place; 0, 0 is as unlikely a place for a photo here too.
        place=takeout.place_of(exif),
        description=takeout.caption(description) if isinstance(description, str) else None,
        trashed=item["isTrashed"] is True, motion_id=item.get("livePhotoVideoId"))


def wall_clock(item: Json) -> datetime | None:
    """When it was taken as the clock where it was taken showed: Immich's ``localDateTime``.

    Chosen over ``exifInfo.dateTimeOriginal`` shifted by ``exifInfo.timeZone`` because Immich
    always has it (from those two when the file says them, else from the file's own dates), it
    is what Immich's timeline shows, and a time zone Immich names need not be one Python knows.
    It comes as a UTC timestamp whose digits are the wall clock; ``fileCreatedAt`` is the same
    moment in true UTC, so the two differ by the place's offset, which goes with the date."""
    try:
        local = datetime.fromisoformat(str(item["localDateTime"])).replace(tzinfo=None)
        instant = datetime.fromisoformat(str(item["fileCreatedAt"])).astimezone(UTC)
    except (KeyError, ValueError):
        return None
    offset = timedelta(minutes=round((local - instant.replace(tzinfo=None)).total_seconds() / 60))
    zone = timezone(offset) if abs(offset) < LONGEST_OFFSET else UTC
    return local.replace(tzinfo=zone)


def _file_name(name: str, asset_id: str) -> str:
    """Immich's name for the original, as a name the library takes."""
    last = PurePosixPath(name.replace("\\", "/")).name.strip()
    if (not last or len(last) > takeout.MAX_NAME_CHARS
            or any(unicodedata.category(c).startswith("C") for c in last)):
        return asset_id
    return last


def _content_type(item: Json, name: str) -> str | None:
    """The type Immich says, when the library takes it; else the one its name says."""
    taken = set(TYPE_NAMES.values())
    said = item.get("originalMimeType")
    if said in taken:
        return str(said)
    by_name = CONTENT_TYPES.get(PurePosixPath(name).suffix.lower())
    return by_name if by_name in taken else None


class Spool(Protocol):
    """Where a download goes, hashed on the way; ``restart`` empties it for another try."""

    def write(self, chunk: bytes) -> None: ...

    def restart(self) -> None: ...


class ImmichClient:
    """One Immich server and one API key."""

    def __init__(self, url: str, api_key: str, *, timeout: float = 60,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.url = normalized_url(url)
        self._http = httpx.Client(
            base_url=f"{self.url}/api", timeout=timeout, transport=transport,
            headers={"x-api-key": api_key, "Accept": "application/json",
                     "User-Agent": f"lightbox-cli/{__version__}"})

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ImmichClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def me(self) -> Json:
        return self._json("GET", "/users/me")

    def asset_pages(self) -> Iterator[list[Json]]:
        """Every asset of the key's owner, trashed ones too (marked ``isTrashed``), a page at
        a time, each visibility in turn."""
        for visibility in VISIBILITIES:
            page: str | None = "1"
            while page is not None:
                answer = self._json("POST", "/search/metadata", json={
                    "page": int(page), "size": PAGE_SIZE, "withExif": True,
                    "withDeleted": True, "visibility": visibility})
                yield list(answer["assets"]["items"])
                page = answer["assets"]["nextPage"]

    def asset(self, asset_id: str) -> Json:
        return self._json("GET", f"/assets/{asset_id}")

    def albums(self, owner_id: str) -> Mapping[str, tuple[str, ...]]:
        """The names of the albums each of the owner's assets is in, by asset id (an album
        shared with the owner holds others' assets too, which are theirs to import)."""
        member_of: dict[str, list[str]] = {}
        for album in self._json_list("GET", "/albums"):
            name = str(album["albumName"]).strip()
            if not name:
                continue  # an album without a name makes no project
            for item in self._json("GET", f"/albums/{album['id']}")["assets"]:
                if item["ownerId"] == owner_id:
                    member_of.setdefault(str(item["id"]), []).append(name)
        return {asset_id: tuple(names) for asset_id, names in member_of.items()}

    def download(self, asset_id: str, spool: Spool, progress: Callable[[int], None]) -> None:
        """The original's bytes into ``spool``, tried again after a 5xx, a 429, a broken
        connection or a timeout; the bytes of an attempt are taken back from ``progress``."""
        for attempt in range(ATTEMPTS):
            spool.restart()
            got = 0
            try:
                with self._http.stream("GET", f"/assets/{asset_id}/original") as response:
                    if response.status_code == 200:
                        for chunk in response.iter_bytes(CHUNK_BYTES):
                            spool.write(chunk)
                            got += len(chunk)
                            progress(len(chunk))
                        return
                    response.read()
                    failure = _error(response)
                    if response.status_code not in RETRYABLE:
                        raise failure
            except httpx.TransportError as exc:
                failure = _no_answer(self.url, exc)
            progress(-got)
            if attempt + 1 < ATTEMPTS:
                time.sleep(backoff(attempt))
        raise failure

    def _json_list(self, method: str, path: str) -> list[Json]:
        answer: list[Json] = self._request(method, path).json()
        return answer

    def _json(self, method: str, path: str, **kwargs: Any) -> Json:
        answer: Json = self._request(method, path, **kwargs).json()
        return answer

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Reads only, so each is tried again on a 5xx, a 429 or no answer."""
        for attempt in range(ATTEMPTS):
            try:
                response = self._http.request(method, path, **kwargs)
            except httpx.TransportError as exc:
                failure = _no_answer(self.url, exc)
            else:
                if response.status_code < 400:
                    return response
                failure = _error(response)
                if response.status_code not in RETRYABLE:
                    raise failure
            if attempt + 1 < ATTEMPTS:
                time.sleep(backoff(attempt))
        raise failure


def normalized_url(url: str) -> str:
    """The server's address, whether given with the API's ``/api`` or without."""
    url = url.strip().rstrip("/")
    return url.removesuffix("/api").rstrip("/")


def _no_answer(url: str, exc: httpx.TransportError) -> ImmichError:
    if isinstance(exc, httpx.TimeoutException):
        return ImmichError(f"Immich at {url} did not answer in time ({type(exc).__name__})")
    return ImmichError(f"no answer from Immich at {url}: {exc}")


def _error(response: httpx.Response) -> ImmichError:
    if response.status_code == 401:
        return ImmichRefusedKey("Immich refused the API key (401): check --api-key or "
                                "IMMICH_API_KEY")
    try:
        said = response.json().get("message")
    except (ValueError, AttributeError):
        said = None
    if isinstance(said, list):  # its validation errors come as a list
        said = "; ".join(map(str, said))
    what = said or response.text.strip()[:200] or response.reason_phrase
    return ImmichError(f"Immich answered {response.status_code} to "
                       f"{response.request.method} {response.request.url.path}: {what}")


class Journal:
    """The Immich assets earlier runs brought over, one id a line, each appended once done.

    A line goes in one write of a few bytes to a file opened for appending, flushed to disk
    before the next asset counts as done: a run killed mid-write leaves at most a torn last
    line, which reads as no id. A lost or torn journal costs downloads, never duplicates:
    the library knows the bytes by their SHA-256 and takes them once."""

    def __init__(self, path: Path, heading: str) -> None:
        self.path = path
        self._lock = threading.Lock()
        try:
            lines = path.read_text(errors="replace").splitlines()
        except FileNotFoundError:
            lines = []
        self._done = {line for line in lines if _ASSET_ID.fullmatch(line)}
        path.parent.mkdir(parents=True, exist_ok=True)
        if not lines:
            self._append(f"# {heading}")

    def __contains__(self, asset_id: object) -> bool:
        return asset_id in self._done

    def __len__(self) -> int:
        return len(self._done)

    def add(self, asset_id: str) -> None:
        with self._lock:
            if asset_id not in self._done:
                self._append(asset_id)
                self._done.add(asset_id)

    def _append(self, line: str) -> None:
        descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(descriptor, f"{line}\n".encode())
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def journal_path(state: Path, immich_url: str, owner_id: str, destination: str) -> Path:
    """One journal per Immich server, owner and place in the library they go to."""
    key = hashlib.sha256("\n".join((normalized_url(immich_url), owner_id, destination))
                         .encode()).hexdigest()[:32]
    return state / "immich" / f"{key}.journal"


class ImportObserver(Observer, Protocol):
    def found(self, count: int) -> None:
        """``count`` more assets to bring over."""

    def downloading(self, asset: ImmichAsset) -> None: ...

    def received(self, asset: ImmichAsset, count: int) -> None:
        """``count`` more bytes of ``asset`` arrived; negative when an attempt is taken back."""

    def downloaded(self, asset: ImmichAsset) -> None: ...

    def done(self, asset: ImmichAsset) -> None:
        """The asset (and its motion part) is in the library, or failed."""


@dataclass
class ImportReport:
    results: list[FileResult] = field(default_factory=list)
    left_out: list[tuple[str, str]] = field(default_factory=list)  # (name, why)
    already: int = 0  # assets an earlier run brought over
    interrupted: bool = False


class _HashedSpool:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: BinaryIO = path.open("w+b")
        self.sha1 = hashlib.sha1(usedforsecurity=False)
        self.sha256 = hashlib.sha256()
        self.size = 0

    def write(self, chunk: bytes) -> None:
        self._file.write(chunk)
        self.sha1.update(chunk)
        self.sha256.update(chunk)
        self.size += len(chunk)

    def restart(self) -> None:
        self._file.seek(0)
        self._file.truncate()
        self.sha1 = hashlib.sha1(usedforsecurity=False)
        self.sha256 = hashlib.sha256()
        self.size = 0

    def close(self) -> None:
        self._file.close()


class Importer:
    """Brings an Immich library into Lightbox: ``jobs`` downloads at once, then their uploads
    through ``uploader``, a batch at a time so that the spool holds a few originals at most."""

    def __init__(self, immich: ImmichClient, uploader: Uploader, journal: Journal,
                 observer: ImportObserver, *, spool: Path, jobs: int,
                 albums: Mapping[str, tuple[str, ...]], by_album: bool) -> None:
        """``albums``: the names of the albums each asset is in; with ``by_album``, an asset
        goes to the project of each of its albums, as a Takeout photo in two album folders
        does (the library keeps its bytes once); else once, where the uploader puts all."""
        self._immich = immich
        self._uploader = uploader
        self._journal = journal
        self._observer = observer
        self._spool = spool
        self._jobs = jobs
        self._albums = albums
        self._by_album = by_album
        self._interrupted = threading.Event()

    def run(self) -> ImportReport:
        """What became of each asset; Ctrl-C stops the downloads and uploads under way, and
        the report then says it was interrupted."""
        report = ImportReport()
        try:
            self._run(report)
        except KeyboardInterrupt:
            self._interrupted.set()
        report.interrupted = self._interrupted.is_set() or self._uploader.interrupted
        return report

    def _run(self, report: ImportReport) -> None:
        for page in self._immich.asset_pages():
            todo = []
            for asset in map(immich_asset, page):
                if asset.trashed:
                    report.left_out.append((asset.name, "in the Immich trash"))
                elif asset.id in self._journal:
                    report.already += 1
                elif asset.content_type is None:
                    report.left_out.append((asset.name, "not of a type the library takes"))
                else:
                    todo.append(asset)
            self._observer.found(len(todo))
            for start in range(0, len(todo), self._jobs * 2):
                report.results += self._import(todo[start:start + self._jobs * 2])
                if self._interrupted.is_set() or self._uploader.interrupted:
                    return

    def _import(self, batch: Sequence[ImmichAsset]) -> list[FileResult]:
        """Download the batch (with live photos' motion parts), upload what arrived, and
        journal each asset all of whose files are in the library."""
        fetched = self._download_all(batch)
        if self._interrupted.is_set():
            for files in fetched.values():
                if isinstance(files, list):
                    for file in files:
                        file.path.unlink(missing_ok=True)
            return []
        try:
            ready = [file for files in fetched.values() if isinstance(files, list)
                     for file in files]
            uploaded = dict(zip(ready, self._uploader.upload(ready), strict=True))
        finally:
            for files in fetched.values():
                if isinstance(files, list):
                    for file in files:
                        file.path.unlink(missing_ok=True)
        results: list[FileResult] = []
        for asset in batch:
            parts = [part for key, part in fetched.items() if key[0] == asset.id]
            outcome = [uploaded[file] for files in parts if isinstance(files, list)
                       for file in files] + [r for r in parts if isinstance(r, FileResult)]
            results += outcome
            if all(result.ok for result in outcome) and not self._interrupted.is_set():
                self._journal.add(asset.id)
            self._observer.done(asset)
        return results

    def _download_all(self, batch: Sequence[ImmichAsset]
                      ) -> dict[tuple[str, str], list[LocalFile] | FileResult]:
        """Each asset's and motion part's files (one per album), or why it has none; keyed by
        (the asset's id, the part's id)."""
        with ThreadPoolExecutor(max_workers=self._jobs,
                                thread_name_prefix="download") as executor:
            futures: dict[Future[list[LocalFile] | FileResult], tuple[str, str]] = {
                executor.submit(self._fetch, asset): (asset.id, asset.id) for asset in batch}
            futures.update({executor.submit(self._fetch_motion, asset): (asset.id, asset.motion_id)
                            for asset in batch if asset.motion_id})
            fetched, unfinished = gather(executor, futures, self._interrupted)
        # Interrupted: what was downloaded meanwhile is not uploaded, and not kept.
        for future in unfinished:
            if not future.cancelled() and future.exception() is None:
                result = future.result()
                if isinstance(result, list):
                    for file in result:
                        file.path.unlink(missing_ok=True)
        return fetched

    def _fetch_motion(self, still: ImmichAsset) -> list[LocalFile] | FileResult:
        """A live photo's motion part: a video of its own in Immich, hidden from its timeline
        and its albums. It comes too, in the still's albums, so that nothing of the photo is
        lost, as it comes from a Takeout folder: the library has no live photos to pair them."""
        try:
            motion = immich_asset(self._immich.asset(str(still.motion_id)))
        except ImmichRefusedKey:
            raise
        except ClientError as exc:
            return _failed(still.name, None, f"its motion part: {exc.message}")
        if motion.content_type is None:
            return _failed(motion.name, None, "a motion part of a type the library does not take")
        return self._fetch(motion, albums_of=still.id)

    def _fetch(self, asset: ImmichAsset, albums_of: str | None = None
               ) -> list[LocalFile] | FileResult:
        if self._interrupted.is_set():
            return _failed(asset.name, asset.content_type, "not downloaded: interrupted")
        self._observer.downloading(asset)
        spool = _HashedSpool(self._spool / f"{asset.id}{PurePosixPath(asset.name).suffix}")

        def progress(count: int) -> None:
            if self._interrupted.is_set():
                raise Interrupted
            self._observer.received(asset, count)

        try:
            self._immich.download(asset.id, spool, progress)
        except (ClientError, Interrupted) as exc:
            spool.close()
            spool.path.unlink(missing_ok=True)
            if isinstance(exc, ImmichRefusedKey):
                raise
            detail = exc.message if isinstance(exc, ClientError) else "interrupted"
            return _failed(asset.name, asset.content_type, f"not downloaded: {detail}")
        finally:
            self._observer.downloaded(asset)
        spool.close()
        if base64.b64encode(spool.sha1.digest()).decode() != asset.checksum:
            spool.path.unlink(missing_ok=True)
            return _failed(asset.name, asset.content_type,
                           "the bytes Immich sent are not those of its checksum")
        file = LocalFile(spool.path, str(asset.content_type), spool.size,
                         taken_at=asset.taken_at, place=asset.place,
                         description=asset.description, filename=asset.name,
                         sha256=spool.sha256.hexdigest())
        albums = self._albums.get(albums_of or asset.id, ()) if self._by_album else ()
        return [replace(file, album=album) for album in dict.fromkeys(albums)] or [file]


def _failed(name: str, content_type: str | None, detail: str) -> FileResult:
    return FileResult(LocalFile(Path(name), content_type or "", 0, filename=name),
                      Outcome.FAILED, detail=detail)
