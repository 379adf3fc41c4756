"""Uploading files and folders: find them, hash them, send what the library lacks, wait.

Resumable by content: each file's SHA-256 goes with its upload request, and the API answers
"duplicate" for bytes the library already holds, so running the same upload again after a
crash sends only what never arrived. Nothing here prints; an ``Observer`` is told what happens.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Protocol, TypeVar

import lightbox_takeout as takeout
from lightbox_cli.client import SETTLED, ClientError, Json, LightboxClient, TransferError

Done = TypeVar("Done")
Key = TypeVar("Key")

CONTENT_TYPES = {
    ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".jpe": "image/jpeg",
    ".png": "image/png",
    ".tif": "image/tiff", ".tiff": "image/tiff",
    ".webp": "image/webp",
    ".gif": "image/gif",
    ".heic": "image/heic", ".heif": "image/heif", ".hif": "image/heif",
    ".heics": "image/heic-sequence",
    ".avif": "image/avif",
    ".jxl": "image/jxl",
    ".pdf": "application/pdf",
    ".dng": "image/x-adobe-dng", ".cr2": "image/x-canon-cr2", ".cr3": "image/x-canon-cr3",
    ".nef": "image/x-nikon-nef", ".arw": "image/x-sony-arw", ".raf": "image/x-fuji-raf",
    ".orf": "image/x-olympus-orf", ".rw2": "image/x-panasonic-rw2",
    ".mp4": "video/mp4", ".mov": "video/quicktime", ".qt": "video/quicktime",
    ".m4v": "video/x-m4v", ".webm": "video/webm", ".3gp": "video/3gpp",
}
# The names --type takes.
TYPE_NAMES = {"jpeg": "image/jpeg", "png": "image/png", "tiff": "image/tiff",
              "webp": "image/webp", "gif": "image/gif", "heic": "image/heic",
              "heif": "image/heif", "heic-sequence": "image/heic-sequence", "avif": "image/avif",
              "jxl": "image/jxl", "pdf": "application/pdf",
              "dng": "image/x-adobe-dng", "cr2": "image/x-canon-cr2", "cr3": "image/x-canon-cr3",
              "nef": "image/x-nikon-nef", "arw": "image/x-sony-arw", "raf": "image/x-fuji-raf",
              "orf": "image/x-olympus-orf", "rw2": "image/x-panasonic-rw2",
              "mp4": "video/mp4", "mov": "video/quicktime", "m4v": "video/x-m4v",
              "webm": "video/webm", "3gp": "video/3gpp"}
# Files that travel beside photos (editors' and cameras' notes on them): left out as what they
# are, which tells more than "not an image".
SIDECARS = frozenset({".xmp", ".aae", ".thm"})
POLL_SECONDS = 1.0
# Part URLs this close to their expiry are signed again before a part is sent with them.
URL_MARGIN = timedelta(minutes=1)


@dataclass(frozen=True)
class LocalFile:
    path: Path
    content_type: str
    size: int
    # From a Google Takeout export: when (in this machine's zone) and where its sidecar says
    # it was taken, for the library to use when the file itself does not say; its caption;
    # its name before Google cut it; its album.
    taken_at: datetime | None = None
    place: takeout.Place | None = None
    description: str | None = None
    filename: str | None = None
    album: str | None = None
    # Known when the bytes were hashed on their way in (an import's download), not read again.
    sha256: str | None = None

    @property
    def name(self) -> str:
        """The name it is uploaded under."""
        return self.filename or self.path.name


@dataclass(frozen=True)
class Collection:
    files: list[LocalFile]
    # What the folders hold that is not uploaded (files, and folders not looked in), with why.
    left_out: list[tuple[Path, str]]
    # Paths named on the command line that cannot be uploaded, with why.
    refused: list[tuple[Path, str]]


class Outcome(StrEnum):
    UPLOADED = "uploaded"  # sent and verified; not waited for
    READY = "ready"
    SKIPPED = "skipped"  # the library already had these bytes
    DUPLICATE = "duplicate"  # the same bytes as another file of this upload
    FAILED = "failed"
    FAILED_BEFORE = "failed before"  # these bytes failed in the library before: not sent again
    WAITING = "waiting"  # still processing when the wait ran out


@dataclass(frozen=True)
class FileResult:
    file: LocalFile
    outcome: Outcome
    asset_id: str | None = None
    detail: str = ""
    # The asset's status on the server when this result was made.
    status: str | None = None

    @property
    def ok(self) -> bool:
        """Nothing failed in this run: what failed before is said again, not failed again, so
        that running an upload once more exits 0 when nothing new went wrong."""
        return self.outcome not in (Outcome.FAILED, Outcome.WAITING)

    @property
    def noteworthy(self) -> bool:
        """Worth a line of a long summary: what failed, now or before, or is still waiting."""
        return not self.ok or self.outcome is Outcome.FAILED_BEFORE


class Observer(Protocol):
    def started(self, file: LocalFile) -> None: ...

    def sent(self, file: LocalFile, count: int) -> None:
        """``count`` more bytes of ``file`` left; negative when a failed attempt is undone."""

    def finished(self, result: FileResult) -> None: ...


class Interrupted(Exception):
    pass


def collect(paths: Iterable[Path], types: Iterable[str] = TYPE_NAMES.values()) -> Collection:
    """Files named, and the images inside folders named (recursively, hidden ones left out);
    everything else is named with why, none of it silently dropped."""
    wanted = set(types)
    files: dict[Path, LocalFile] = {}
    left_out: list[tuple[Path, str]] = []
    refused: list[tuple[Path, str]] = []
    exported = _TakeoutFiles()
    for path in paths:
        if path.is_dir():
            for found in _walk(path, left_out):
                local = _local_file(found, wanted)
                if isinstance(local, LocalFile):
                    files.setdefault(local.path, local)
                else:
                    left_out.append((found, exported.take(found) or local))
        elif path.exists() or path.is_symlink():
            local = _local_file(path, wanted)
            if isinstance(local, str):
                refused.append((path, local))
            else:
                files.setdefault(local.path, local)
        else:
            refused.append((path, "no such file or folder"))
    kept = []
    for file in files.values():
        noted = exported.noted(file)
        if noted is None:
            left_out.append((file.path, "in the Google Photos bin (trashed)"))
        else:
            kept.append(noted)
    return Collection(sorted(kept, key=lambda f: f.path),
                      sorted(left_out, key=lambda item: item[0]), refused)


class _TakeoutFiles:
    """Google Takeout's JSON files met in the folders: sidecars by folder and name, album
    titles by folder (folders resolved, as the files' paths are)."""

    def __init__(self) -> None:
        self._sidecars: dict[Path, dict[str, Path]] = {}
        self._albums: dict[Path, str] = {}

    def take(self, path: Path) -> str | None:
        """Why ``path`` is not uploaded, when it is one of Takeout's JSON files."""
        document = read_takeout_json(path) if path.suffix.lower() == ".json" else None
        if document is None:
            return None
        folder = path.resolve().parent
        if takeout.is_album(document):
            self._albums[folder] = takeout.album_title(document) or path.parent.name
            return "a Google Takeout album's description"
        self._sidecars.setdefault(folder, {})[path.name] = path
        return "a Google Takeout sidecar (its date goes with its photo)"

    def noted(self, file: LocalFile) -> LocalFile | None:
        """The file with what its sidecar and album say; None for a photo in the bin.

        A folder is an album only with Takeout's sidecars beside its description: any other
        JSON with a title is not Google's."""
        sidecars = self._sidecars.get(file.path.parent, {})
        album = self._albums.get(file.path.parent) if sidecars else None
        sidecar = takeout.match(file.path.name, sidecars)
        document = read_takeout_json(sidecars[sidecar]) if sidecar is not None else None
        if document is None:
            return replace(file, album=album)
        notes = takeout.notes(document)
        if notes.trashed:
            return None
        name = takeout.restored_name(file.path.name, notes.title)
        return replace(file, taken_at=notes.taken_at, place=notes.place,
                       description=notes.description, album=album,
                       filename=name if name != file.path.name else None)


def read_takeout_json(path: Path) -> Mapping[str, object] | None:
    """A Takeout sidecar's or album's JSON at ``path``; None for any other file, a link to a
    device or a file too large to be one included."""
    try:
        if not stat.S_ISREG(path.stat().st_mode):
            return None
        with path.open("rb") as file:
            return takeout.parse(file.read(takeout.LARGEST_SIDECAR_BYTES + 1))
    except OSError:
        return None


def _walk(folder: Path, left_out: list[tuple[Path, str]]) -> Iterator[Path]:
    """The files under ``folder`` that are not hidden; the folders not looked in go to
    ``left_out`` with why."""
    try:
        entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
    except OSError as exc:
        left_out.append((folder, f"cannot read this folder: {exc.strerror}"))
        return
    for entry in entries:
        path = Path(entry.path)
        if entry.name.startswith("."):
            left_out.append((path, "a hidden folder, not looked in" if entry.is_dir()
                             else "hidden"))
        elif entry.is_dir(follow_symlinks=False):
            yield from _walk(path, left_out)
        elif entry.is_dir():
            left_out.append((path, "a link to a folder, not followed (it could loop)"))
        else:
            yield path


def _local_file(path: Path, wanted: set[str]) -> LocalFile | str:
    """The file to upload, or why it is not one."""
    suffix = path.suffix.lower()
    content_type = CONTENT_TYPES.get(suffix)
    if content_type is None and suffix in SIDECARS:
        return "a sidecar (notes on a photo, not an image)"
    if content_type not in wanted:
        return ("not of the types to upload "
                f"({', '.join(sorted(_extensions(wanted)))})")
    try:
        info = path.stat()
    except OSError as exc:
        return "a link to nothing" if path.is_symlink() else f"cannot read it: {exc.strerror}"
    if not stat.S_ISREG(info.st_mode):
        return "not a regular file"
    if not info.st_size:
        return "empty file"
    return LocalFile(path.resolve(), content_type, info.st_size)


def _extensions(content_types: set[str]) -> set[str]:
    return {suffix for suffix, kind in CONTENT_TYPES.items() if kind in content_types}


def sha256_of(path: Path) -> str:
    with path.open("rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


class Uploader:
    """Uploads files ``jobs`` at a time; Ctrl-C aborts the uploads under way."""

    def __init__(self, client: LightboxClient, observer: Observer, *, jobs: int = 4,
                 project_id: str | None = None, album_projects: Mapping[str, str] = {},
                 known_failures: Mapping[str, Json] = {}) -> None:
        """``project_id``: where every file goes; else ``album_projects``: the project of each
        album's files. ``known_failures``: the library's failed assets by SHA-256. The same
        bytes would fail the same way, so they are not sent again (``lightbox retry`` is for
        that)."""
        self._client = client
        self._known_failures = known_failures
        self._observer = observer
        self._jobs = jobs
        self._project_id = project_id
        self._album_projects = album_projects
        self._interrupted = threading.Event()
        self._lock = threading.Lock()
        # The first file of each content in each project: the same bytes go up once per project
        # (the library keeps one copy, and a duplicate that shows it in any other project).
        self._claimed: dict[tuple[str, str | None], LocalFile] = {}
        self._sent_bytes = 0

    @property
    def interrupted(self) -> bool:
        return self._interrupted.is_set()

    @property
    def sent_bytes(self) -> int:
        """The bytes the bucket took, each once: whatever became of their files (ready,
        failed, found a duplicate), and neither attempts taken back nor files not sent."""
        return self._sent_bytes

    def upload(self, files: Sequence[LocalFile]) -> list[FileResult]:
        """Each file's result, in the order given.

        Ctrl-C stops the uploads under way (their assets are aborted) and skips the rest; the
        results then say so, and ``interrupted`` is set.
        """
        with ThreadPoolExecutor(max_workers=self._jobs, thread_name_prefix="upload") as executor:
            futures = {executor.submit(self._upload_one, file): file for file in files}
            results, unfinished = gather(executor, futures, self._interrupted)
            results.update((futures[future], future.result()) for future in unfinished
                           if not future.cancelled())
        return [results.get(file) or FileResult(file, Outcome.FAILED,
                                                detail="not sent: interrupted")
                for file in files]

    def _upload_one(self, file: LocalFile) -> FileResult:
        self._observer.started(file)
        result = self._send(file)
        self._observer.finished(result)
        return result

    def _send(self, file: LocalFile) -> FileResult:
        try:
            sha256 = file.sha256 or sha256_of(file.path)
        except OSError as exc:
            return FileResult(file, Outcome.FAILED, detail=f"cannot read it: {exc.strerror}")
        with self._lock:
            first = self._claimed.setdefault((sha256, self._project_of(file)), file)
        if first is not file:
            self._observer.sent(file, file.size)
            return FileResult(file, Outcome.DUPLICATE, detail=f"same bytes as {first.path.name}")
        failed = self._known_failures.get(sha256)
        if failed is not None:
            self._observer.sent(file, file.size)
            return _failed_before(file, failed["asset_id"], failed["error"])
        try:
            ticket = self._client.presign(
                file.name, file.content_type, file.size, sha256, self._project_of(file),
                taken_at=file.taken_at, place=file.place, description=file.description)
        except ClientError as exc:
            return FileResult(file, Outcome.FAILED, detail=exc.message)
        if ticket.get("duplicate"):
            self._observer.sent(file, file.size)
            if ticket["status"] == "failed":  # it failed after the list of failures was read
                return _failed_before(file, ticket["asset_id"], self._reason(ticket["asset_id"]))
            return FileResult(file, Outcome.SKIPPED, ticket["asset_id"],
                              "already in the library", ticket["status"])
        asset_id: str = ticket["asset_id"]
        try:
            self._put(file, asset_id, ticket["upload"])
            status = self._client.complete(asset_id)["status"]
        except (ClientError, Interrupted) as exc:
            detail = exc.message if isinstance(exc, ClientError) else "interrupted"
            self._abandon(asset_id)
            return FileResult(file, Outcome.FAILED, asset_id, detail)
        if status == "failed":
            return FileResult(file, Outcome.FAILED, asset_id, self._reason(asset_id), status)
        uploaded = FileResult(file, Outcome.UPLOADED, asset_id, status=status)
        if status in SETTLED:
            # A small image can be ready, or found a duplicate, before `complete` answers.
            with contextlib.suppress(ClientError):
                return _settled_result(uploaded, self._client.asset(asset_id))
        return uploaded

    def _project_of(self, file: LocalFile) -> str | None:
        if self._project_id is not None or file.album is None:
            return self._project_id
        return self._album_projects.get(file.album)

    def _put(self, file: LocalFile, asset_id: str, upload: Json) -> None:
        def progress(count: int) -> None:
            if self._interrupted.is_set():
                raise Interrupted
            self._observer.sent(file, count)

        if "parts" not in upload:
            self._client.put_file(upload["url"], upload["headers"], file.path, offset=0,
                                  length=file.size, progress=progress)
            self._count_sent(file.size)
            return
        signed, signed_for = upload, 1
        for number in range(1, upload["part_count"] + 1):
            part = _signed_part(signed, number, check_expiry=number != signed_for)
            if part is None:
                # The ticket holds the first parts only, and the URLs of a large file's last
                # parts would expire before their turn: the others are signed when needed.
                signed, signed_for = self._client.parts(asset_id, first=number), number
                part = _signed_part(signed, number, check_expiry=False)
                if part is None:
                    raise TransferError(f"the server signed no URL for part {number}")
            # Exactly the part's size: its URL is signed for that Content-Length.
            self._client.put_file(part["url"], {}, file.path,
                                  offset=(number - 1) * upload["part_size"],
                                  length=part["size_bytes"], progress=progress)
            self._count_sent(part["size_bytes"])

    def _count_sent(self, count: int) -> None:
        # Counted once a PUT has landed: the progress the observer is told also takes in
        # attempts later taken back and files the library had, so it cannot say this.
        with self._lock:
            self._sent_bytes += count

    def _abandon(self, asset_id: str) -> None:
        """Abort an upload that will not finish, so it leaves no pending asset behind."""
        # If this fails too, the reaper aborts the upload once it has stayed pending too long.
        with contextlib.suppress(ClientError):
            self._client.abort(asset_id)

    def _reason(self, asset_id: str) -> str:
        try:
            return str(self._client.asset(asset_id).get("error") or "failed")
        except ClientError as exc:
            return f"failed ({exc.message})"


def _failed_before(file: LocalFile, asset_id: str, error: str | None) -> FileResult:
    return FileResult(file, Outcome.FAILED_BEFORE, asset_id,
                      f"{error or 'no reason given'} (lightbox retry tries again)", "failed")


def _signed_part(signed: Json, number: int, *, check_expiry: bool) -> Json | None:
    """Part ``number`` of these signed URLs, unless it is missing or, when checked, about to
    expire: a PUT must start before its URL expires. URLs just signed for this very part are
    used as they are, so that a client whose clock is wrong still gets on."""
    if check_expiry and (datetime.fromisoformat(signed["expires_at"]) - datetime.now(UTC)
                         < URL_MARGIN):
        return None
    part: Json | None = next((p for p in signed["parts"] if p["part_number"] == number), None)
    return part


def wait_until_settled(client: LightboxClient, results: Sequence[FileResult], since: str,
                       timeout: float, on_settled: Callable[[FileResult], None]
                       ) -> list[FileResult]:
    """The results again once each uploaded asset is ready, failed or a duplicate, or once
    ``timeout`` seconds have passed (those still processing come back as WAITING).

    ``since`` is a sync cursor from before the uploads: the change feed then holds every
    change of theirs, so one request a second follows any number of assets.
    """
    waiting = {r.asset_id: r for r in unsettled(results) if r.asset_id}
    settled = {r.asset_id: r for r in results if r.asset_id not in waiting}
    deadline = time.monotonic() + timeout
    while waiting:
        changed, since = client.changes(since)
        for asset in changed:
            result = waiting.get(asset["asset_id"])
            if result is None or asset["status"] not in SETTLED:
                continue
            done = _settled_result(result, asset)
            del waiting[asset["asset_id"]]
            settled[asset["asset_id"]] = done
            on_settled(done)
        if waiting and time.monotonic() >= deadline:
            for asset_id, result in waiting.items():
                settled[asset_id] = replace(result, outcome=Outcome.WAITING,
                                            detail=f"still processing after {timeout:g} s")
            break
        if waiting:
            time.sleep(POLL_SECONDS)
    return [settled.get(r.asset_id, r) if r.asset_id else r for r in results]


def unsettled(results: Iterable[FileResult]) -> list[FileResult]:
    """The uploads whose assets are still on their way to ready or failed."""
    return [r for r in results if r.outcome in (Outcome.UPLOADED, Outcome.SKIPPED)
            and r.status not in SETTLED]


def _settled_result(result: FileResult, asset: Json) -> FileResult:
    status = asset["status"]
    if status == "ready":
        return replace(result, outcome=result.outcome if result.outcome is Outcome.SKIPPED
                       else Outcome.READY, status=status)
    if status == "duplicate":
        return replace(result, outcome=Outcome.SKIPPED, status=status,
                       detail=f"already in the library as {asset['duplicate_of']}")
    return replace(result, outcome=Outcome.FAILED, status=status,
                   detail=str(asset.get("error") or status))


def gather(executor: ThreadPoolExecutor, futures: Mapping[Future[Done], Key],
           interrupted: threading.Event) -> tuple[dict[Key, Done], set[Future[Done]]]:
    """The results of ``futures`` by their keys, as they finish. The main thread waits in short
    steps, so that it can take a Ctrl-C: then ``interrupted`` is set, what has not started is
    cancelled, what has is waited for, and those futures are returned too."""
    results: dict[Key, Done] = {}
    pending: set[Future[Done]] = set(futures)
    try:
        while pending:
            done, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
            results.update((futures[future], future.result()) for future in done)
    except KeyboardInterrupt:
        interrupted.set()
        executor.shutdown(wait=True, cancel_futures=True)
        return results, pending
    return results, set()
