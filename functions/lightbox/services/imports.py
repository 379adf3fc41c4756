"""Adopting what a bucket already holds, without a byte passing through a client.

``start_import`` records a run for ``s3://BUCKET/PREFIX`` (where the owner may import from)
and queues its first page. ``import_page`` (the importer, one page per message) lists up to a
page of objects after the last key the run recorded, adopts each, records the page, and queues
the next: a crash or a repeated message re-lists the same page, where every object already
adopted is found by its source (bucket, key and ETag: ``add_adopted``) and nothing is added
twice. ``resume_stalled`` (reaper, recovery) queues the page of a run whose message was lost.

An object is adopted by copying it, inside the storage service, to the key an upload would
have (``originals/OWNER/ASSET``), and it then takes the upload's path from ``uploaded`` on,
in the backfill lane. It is copied rather than adopted in place because everything else holds
to that layout: bucket events, deletion and purge, the lifecycle of rejected files, and an
owner's isolation. An original in place could be replaced or removed behind the library's
back, after it was reported ready, and deleting the asset would have to delete the source or
leave it. A copy costs no transfer and one request (parts above 5 GiB); the source is never
changed, and its owner removes it when they wish.

Objects that cannot be assets are skipped, counted by reason: folder markers, sidecars (by
name), empty or oversized objects, anything the sniffer does not take (by content), what the
importer may not read (one such object never stops the run), and photos a Google Takeout
sidecar says were in the bin. A Takeout's sidecars give their photos dates, places, captions
and names (``sidecars``), read in the run's time zone.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING
from uuid import UUID, uuid4

from lightbox import filetypes
from lightbox.domain import (
    DERIVATIVES_PREFIX,
    MAX_FILENAME_CHARS,
    MAX_PROJECT_NAME_CHARS,
    ORIGINALS_PREFIX,
    Asset,
    Import,
    ImportJob,
    ImportRequest,
    ImportSource,
    ImportStatus,
    Lane,
    NewAsset,
    Status,
    tidy_name,
)
from lightbox.errors import (
    ConfigError,
    Conflict,
    Forbidden,
    ImportNotFound,
    LightboxError,
    LimitReached,
    ObjectNotFound,
    ProjectExists,
    ProjectNotFound,
    SourceChanged,
    Unavailable,
)
from lightbox.ports import ImportQueue, ImportRepository, Pipeline, ProjectRepository, SourceBucket
from lightbox.services.courtesy import GiveWay
from lightbox.services.uploads import send_job
from lightbox.values import StoredObject

if TYPE_CHECKING:
    from lightbox.services.sidecars import PageSidecars

log = logging.getLogger(__name__)

# What photo tools keep beside originals: metadata, edit lists, thumbnails, folder settings.
SIDECAR_SUFFIXES = (".json", ".xmp", ".aae", ".thm", ".xml", ".txt", ".html", ".ini", ".db",
                    ".ds_store", ".pp3", ".dop", ".on1")
# Objects of a page adopted at once (threads sharing the function's clients and connection).
# On the local stack (bench/imports.py), before background work gave way (courtesy.py), 8
# adopted 31 objects/s and slowed a user's own uploads 2.6-fold, 4 adopted 24/s and slowed
# them 2.3-2.4-fold: the copies share its servers.
ADOPTED_AT_ONCE = 4
# How long a page that waits for the backfill lane (ImportPolicy.backlog) waits before it
# looks again.
BACKLOG_WAIT_SECONDS = 30
# Objects adopted between two looks for a user's own upload under way: with 16 (some 0.7 s of
# copies) a live upload waited 1.7 times as long as on an idle stack, with 4 1.1 times.
ADOPTED_BETWEEN_GIVING_WAY = ADOPTED_AT_ONCE


class Skip(StrEnum):
    """Why a listed object did not become an asset."""

    FOLDER = "folder"  # a key ending in "/", which consoles make for folders
    SIDECAR = "sidecar"  # by name: SIDECAR_SUFFIXES
    EMPTY = "empty"
    TOO_LARGE = "too_large"  # over LIGHTBOX_MAX_UPLOAD_BYTES
    NOT_MEDIA = "not_media"  # by content: not a kind Lightbox takes
    GONE = "gone"  # removed between its listing and its reading
    ALREADY_IMPORTED = "already_imported"  # by an earlier run, even if deleted since
    UNREADABLE = "unreadable"  # refused to the importer: archived (Glacier), another's key
    TRASHED = "trashed"  # in the Google Photos bin, its Takeout sidecar says


@dataclass(frozen=True)
class ImportPolicy:
    # BUCKET/PREFIX patterns; {owner} is the importing owner, {bucket} the media bucket.
    sources: tuple[str, ...]
    media_bucket: str
    page_size: int
    # A page waits while the backfill lane has more jobs than this to take: adopting far ahead
    # of rendering only piles up work (and on the local stack SQS answers slower the more it
    # holds: with 10,000 queued a 10,000-object import's renders fell from 7 a second to 2).
    backlog: int
    max_upload_bytes: int
    max_projects: int  # per owner: a Takeout's albums become projects up to it

    def allowed(self, owner_id: str) -> list[ImportSource]:
        sources = []
        for pattern in self.sources:
            bucket, _, prefix = (pattern.replace("{owner}", owner_id)
                                 .replace("{bucket}", self.media_bucket).partition("/"))
            sources.append(ImportSource(bucket, prefix))
        return sources

    def allows(self, owner_id: str, source: ImportSource) -> bool:
        if self.reaches_library(source):
            return False  # the library's own objects, every owner's: never a source
        return any(source.bucket == allowed.bucket and source.prefix.startswith(allowed.prefix)
                   for allowed in self.allowed(owner_id))

    def reaches_library(self, source: ImportSource) -> bool:
        """Whether the source may list the library's own objects: a prefix inside one of its
        prefixes, or one that starts them (``origin``, ``""``) and so lists them too."""
        return source.bucket == self.media_bucket and any(
            source.prefix.startswith(managed) or managed.startswith(source.prefix)
            for managed in (ORIGINALS_PREFIX, DERIVATIVES_PREFIX))


@dataclass(frozen=True)
class ImportReport:
    """A run and where its adopted assets are: how many are in each status."""

    run: Import
    assets: dict[Status, int]

    @property
    def adopted(self) -> int:
        return sum(self.assets.values())


def start_import(
    owner_id: str, request: ImportRequest, *, imports: ImportRepository, queue: ImportQueue,
    projects: ProjectRepository, policy: ImportPolicy,
) -> tuple[ImportReport, bool]:
    """Start a run, or join the one already listing that source; True when started now."""
    source, project_id = request.source, request.project_id
    if not policy.allows(owner_id, source):
        allowed = ", ".join(allowed.uri for allowed in policy.allowed(owner_id)) or "nowhere"
        raise Forbidden(f"{source.uri} is not a source you may import from (allowed: "
                        f"{allowed})")
    if project_id is not None and projects.get(owner_id, project_id) is None:
        raise ProjectNotFound(f"no project {project_id}")
    run, started = imports.start(owner_id, uuid4(), source, project_id, request.time_zone)
    if not started and (run.project_id, run.time_zone) != (project_id, request.time_zone):
        raise Conflict(f"an import of {source.uri} into another project or time zone is under "
                       f"way (import {run.id}); wait for it to end")
    if started:
        # Lost after the run is recorded, the message is sent again by the reaper.
        queue.send(ImportJob(run.id, owner_id))
    return ImportReport(run, imports.asset_totals(owner_id, run.id)), started


def import_report(owner_id: str, import_id: UUID, *, imports: ImportRepository) -> ImportReport:
    run = imports.get(owner_id, import_id)
    if run is None:
        raise ImportNotFound(f"no import {import_id}")
    return ImportReport(run, imports.asset_totals(owner_id, import_id))


def list_imports(owner_id: str, *, imports: ImportRepository, limit: int) -> list[ImportReport]:
    return [ImportReport(run, imports.asset_totals(owner_id, run.id))
            for run in imports.recent(owner_id, limit)]


def import_page(
    job: ImportJob, pipeline: Pipeline, *, imports: ImportRepository, queue: ImportQueue,
    projects: ProjectRepository, open_source: Callable[[str], SourceBucket],
    policy: ImportPolicy, give_way: GiveWay,
) -> Import | None:
    """List and adopt the run's next page; returns the run as recorded after it, or None
    when there was nothing to do (the run is over, or another worker recorded this page)."""
    run = imports.get(job.owner_id, job.import_id)
    if run is None or run.status is not ImportStatus.LISTING:
        log.info("import %s is not listing; nothing to do", job.import_id)
        return None
    if not policy.allows(run.owner_id, run.source):  # the deployment's sources changed since
        imports.fail(run, f"{run.source.uri} is no longer a source you may import from")
        return None
    if backfill_backlog(pipeline) > policy.backlog:
        # Restart the run's clock, or the reaper would take it for stalled.
        imports.renew(run)
        queue.send(job, delay_seconds=BACKLOG_WAIT_SECONDS)
        log.info("import %s waits for the backfill lane to catch up", run.id)
        return None
    source = open_source(run.source.bucket)
    try:
        page = source.list_page(run.source.prefix, after=run.after_key, limit=policy.page_size)
    except (ObjectNotFound, ConfigError) as exc:  # no such bucket, or no right to read it
        imports.fail(run, f"cannot list {run.source.uri}: {exc.message}")
        return None
    # Imported here, for the importer alone: the API functions import this module for its
    # routes and policy, and their cold start need not read Takeout's rules or time zones.
    from zoneinfo import ZoneInfo

    from lightbox.services.sidecars import PageSidecars

    sidecars = PageSidecars(page, prefix=run.source.prefix, after=run.after_key, source=source,
                            zone=ZoneInfo(run.time_zone))
    adopting = _Adopting(run, source, sidecars, _albums(run, sidecars, imports, projects, policy),
                         pipeline, policy)
    # Each object waits mostly on S3 and the database: a page's are adopted several at once,
    # a few at a time, each few after a user's own upload under way (``courtesy``).
    objects = page.objects
    reasons: list[Skip | None] = []
    with ThreadPoolExecutor(ADOPTED_AT_ONCE) as pool:
        for first in range(0, len(objects), ADOPTED_BETWEEN_GIVING_WAY):
            give_way.wait()
            reasons += pool.map(adopting.adopt,
                                objects[first:first + ADOPTED_BETWEEN_GIVING_WAY])
    skipped = Counter(run.skipped) + Counter(reason for reason in reasons if reason)
    done = not page.more
    if not imports.advance(run, after_key=objects[-1].key if objects else run.after_key,
                           listed=run.listed + len(objects), skipped=dict(skipped), done=done):
        log.info("import %s: this page was recorded by another worker", run.id)
        return None
    if not done:
        queue.send(job)
    return imports.get(run.owner_id, run.id)


def backfill_backlog(pipeline: Pipeline) -> int:
    """The jobs the backfill lane has yet to take (waiting or delayed)."""
    depth = pipeline.jobs.depth(Lane.BACKFILL)
    return depth.waiting + depth.delayed


def resume_stalled(*, imports: ImportRepository, queue: ImportQueue, older_than_seconds: int,
                   limit: int) -> int:
    """Queue the next page of every run that has not moved for that long; how many."""
    resumed = 0
    for run in imports.stalled(older_than_seconds, limit):
        if imports.renew(run):  # once per period, and by one of two overlapping runs
            queue.send(ImportJob(run.id, run.owner_id))
            resumed += 1
    return resumed


def stalled_since(before: datetime) -> int:
    """The age, in seconds, of a run last moved at ``before``."""
    return max(0, int((datetime.now(UTC) - before).total_seconds()))


def _albums(run: Import, sidecars: PageSidecars, imports: ImportRepository,
            projects: ProjectRepository, policy: ImportPolicy) -> dict[str, UUID]:
    """The project of each album folder met so far, with those whose description is on this
    page: a project of the album's name (found, or made). None when the run names a project:
    everything goes there."""
    if run.project_id is not None:
        return {}
    albums = imports.albums(run)
    for folder, title in sidecars.albums().items():
        name = tidy_name(title, MAX_PROJECT_NAME_CHARS).strip()
        if folder in albums or not name:
            continue
        project_id = _project_named(run.owner_id, name, projects, policy)
        if project_id is not None:
            joined = imports.add_album(run, folder, project_id)
            log.info("import %s: %s is the album %r; %d photos adopted before joined it",
                     run.id, folder, title, joined)
    return imports.albums(run)


def _project_named(owner_id: str, name: str, projects: ProjectRepository,
                   policy: ImportPolicy) -> UUID | None:
    found = projects.find_by_name(owner_id, name)
    if found is not None:
        return found.id
    try:
        return projects.add(owner_id, uuid4(), name, max_projects=policy.max_projects).id
    except ProjectExists:  # made meanwhile by another request
        again = projects.find_by_name(owner_id, name)
        return again.id if again is not None else None
    except LimitReached as exc:  # the photos come all the same, in no project
        log.warning("the album %r is not made a project: %s", name, exc.message)
        return None


@dataclass(frozen=True)
class _Adopting:
    """One page of a run, as its objects are adopted."""

    run: Import
    source: SourceBucket
    sidecars: PageSidecars
    albums: dict[str, UUID]  # folder → project
    pipeline: Pipeline
    policy: ImportPolicy

    def adopt(self, listed: StoredObject) -> Skip | None:
        """Adopt one object; why it was skipped, or None."""
        run = self.run
        by_listing = _skipped_by_listing(run, listed, self.policy)
        if by_listing is not None:
            return by_listing
        declared, name, trashed = self.sidecars.declared(listed.key)
        if trashed:
            return Skip.TRASHED
        try:
            head = self.source.read_range(listed.key, filetypes.HEADER_BYTES)
        except ObjectNotFound:
            return Skip.GONE
        except Unavailable:
            raise  # the page is tried again
        except LightboxError as exc:  # refused for this object alone: it must not stop the run
            log.warning("import %s: cannot read %s: %s", run.id, listed.key, exc.message)
            return Skip.UNREADABLE
        content_type = filetypes.sniff(head)
        if content_type is None:
            return Skip.NOT_MEDIA
        folder = listed.key[:listed.key.rfind("/") + 1]
        asset, added = self.pipeline.assets.add_adopted(
            NewAsset(id=uuid4(), owner_id=run.owner_id, filename=_filename(name or listed.key),
                     content_type=content_type, size_bytes=listed.size, declared_sha256=None,
                     project_id=run.project_id or self.albums.get(folder), declared=declared),
            import_id=run.id, source_bucket=run.source.bucket, source=listed)
        if asset.status is Status.PENDING:
            # New; or recorded by a run (this one, or one that stopped) that never copied it.
            _copy(asset, run, listed, head, self.pipeline)
        return None if added or asset.import_id == run.id else Skip.ALREADY_IMPORTED


def _skipped_by_listing(run: Import, listed: StoredObject, policy: ImportPolicy) -> Skip | None:
    """Why an object is left out before it is read, by what its listing says."""
    name = listed.key.rsplit("/", 1)[-1]
    if not name:
        return Skip.FOLDER
    if name.lower().endswith(SIDECAR_SUFFIXES):
        return Skip.SIDECAR
    if listed.size == 0:
        return Skip.EMPTY
    if listed.size > policy.max_upload_bytes:
        return Skip.TOO_LARGE
    return None


def _copy(asset: Asset, run: Import, listed: StoredObject, head: bytes,
          pipeline: Pipeline) -> None:
    assets = pipeline.assets
    try:
        pipeline.storage.copy_in(run.source.bucket, listed, asset.original_key,
                                 content_type=asset.content_type)
    except ObjectNotFound:
        _fail(asset, pipeline, f"s3://{run.source.bucket}/{listed.key} was removed before it "
                               "was copied")
        return
    except SourceChanged as exc:
        _fail(asset, pipeline, f"{exc.message}: import again to adopt what is there now")
        return
    except Unavailable:
        raise
    except LightboxError as exc:  # refused for this object alone (archived, another's key)
        _fail(asset, pipeline, f"the copy was refused: {exc.message}")
        return
    # The copy's bucket event may have got there first: then it sent the job.
    if assets.mark_uploaded(asset.owner_id, asset.id, asset.content_type):
        send_job(replace(asset, status=Status.UPLOADED), head, pipeline)


def _fail(asset: Asset, pipeline: Pipeline, reason: str) -> None:
    pipeline.assets.mark_failed(asset.owner_id, asset.id, expected=Status.PENDING, reason=reason)


def _filename(key: str) -> str:
    """A key's last part as an upload's filename."""
    return tidy_name(key.rsplit("/", 1)[-1], MAX_FILENAME_CHARS)
