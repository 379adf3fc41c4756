"""The ports the services depend on. Adapters implement them; tests pass fakes.

Each port is a Protocol with only the operations Lightbox needs, and each adapter raises
only Lightbox errors (``lightbox.errors``), never its library's.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, Protocol
from uuid import UUID

from lightbox.domain import (
    ApiKey,
    Asset,
    Declared,
    Derivative,
    ImageInfo,
    Import,
    ImportJob,
    ImportSource,
    Lane,
    Lanes,
    NewAsset,
    Principal,
    Project,
    Pyramid,
    RenderSpec,
    Rendition,
    Share,
    Status,
    ThumbnailJob,
)
from lightbox.values import (
    AssetFilter,
    DeadLetter,
    LegacyChangeCursor,
    PageCursor,
    PresignedUpload,
    QueueDepth,
    RerenderLease,
    SimilarScan,
    SortOrder,
    SourcePage,
    StatusTotal,
    StoredObject,
    Trigger,
    UploadedPart,
)

# Decode a file and return its derivatives; raises ImageError for what cannot be rendered.
Renderer = Callable[[Path, RenderSpec], Rendition]
# The same for a clip, from a seekable file that reads only what is asked of it.
ClipRenderer = Callable[[BinaryIO, RenderSpec], Rendition]


class AssetRepository(Protocol):
    """Every owner's assets: the pipeline moves them through their states (each move is
    conditional on the state it expects, so a repeated or late message changes nothing);
    clients browse, sync, organise, delete and retry them."""

    def add(self, asset: NewAsset, *, max_pending: int) -> Asset:
        """Record a pending upload; raises LimitReached when the owner already has
        ``max_pending`` of them, however many requests add at once."""
        ...

    def get(self, owner_id: str, asset_id: UUID) -> Asset | None: ...

    def get_tiled(self, asset_id: UUID) -> Asset | None:
        """The asset with this id if it is ready, out of the trash and tiled, whoever owns it:
        only for a caller that proves the owner's consent by other means (a tile grant)."""
        ...

    def add_duplicate(self, asset: NewAsset, holder_id: UUID) -> Asset | None:
        """A duplicate of ``holder_id`` in ``asset.project_id``: the one already there, else
        ``asset`` added with status duplicate; None when the holder is no longer live."""
        ...

    def add_adopted(self, asset: NewAsset, *, import_id: UUID, source_bucket: str,
                    source: StoredObject) -> tuple[Asset, bool]:
        """Record a pending asset for a source object an import adopts, and whether it was
        added now: an owner's asset for that object (its bucket, key and ETag) is returned
        instead, whichever import added it, deleted or not."""
        ...

    def find_by_content(self, owner_id: str, sha256: str) -> Asset | None:
        """A live (processing or ready) asset of this owner with these exact bytes."""
        ...

    def mark_uploaded(self, owner_id: str, asset_id: UUID, content_type: str) -> bool:
        """pending → uploaded; False when the asset was not pending."""
        ...

    def claim(self, owner_id: str, asset_id: UUID, lease_seconds: int) -> Asset | None:
        """uploaded → processing, or take over a processing asset whose lease expired."""
        ...

    def record_content(self, owner_id: str, asset_id: UUID, sha256: str) -> UUID | None:
        """Store the computed sha256 of a processing asset.

        Returns the id of the live asset that already holds these bytes, in which case
        nothing is stored.
        """
        ...

    def mark_ready(
        self,
        owner_id: str,
        asset_id: UUID,
        info: ImageInfo,
        derivatives: Sequence[Derivative],
        placeholder: str | None,
        *,
        render_spec: str,
        perceptual_hash: int | None = None,
        tiles: Pyramid | None = None,
    ) -> bool:
        """processing → ready, with its derivatives, its tiles' pyramid if it has tiles, and
        the fingerprint of the spec that made them."""
        ...

    def outdated(self, render_spec: str, *, after: tuple[str, UUID] | None,
                 limit: int) -> list[Asset]:
        """Ready assets of every owner whose derivatives another spec made, in (render_spec,
        id) order, from just after ``after`` (a page's last pair)."""
        ...

    def count_outdated(self, render_spec: str) -> int:
        """How many ready assets another spec made."""
        ...

    def take_rerender(self, owner_id: str, asset_id: UUID, render_spec: str,
                      lease_seconds: int) -> RerenderLease | None:
        """A lease on a ready asset that another spec made, unless another worker holds one
        younger than ``lease_seconds``. The asset itself does not change."""
        ...

    def replace_derivatives(self, lease: RerenderLease, derivatives: Sequence[Derivative],
                            placeholder: str | None, render_spec: str, *,
                            perceptual_hash: int | None = None, tiles: Pyramid | None = None,
                            ) -> tuple[Derivative, ...] | None:
        """Replace a ready asset's derivatives, tiles' pyramid and perceptual hash (one change)
        while the lease is still held, and end the lease; the derivatives replaced, or None
        when the asset is no longer ready or another worker took the lease over."""
        ...

    def add_derivative(self, owner_id: str, asset_id: UUID, derivative: Derivative) -> bool:
        """Append one derivative to a ready asset's list; False when the asset is not ready or
        already lists that key."""
        ...

    def mark_duplicate(self, owner_id: str, asset_id: UUID, original_id: UUID) -> bool:
        """processing → duplicate of ``original_id``, only while that asset is live
        (processing or ready)."""
        ...

    def fill_declared(self, owner_id: str, asset_id: UUID, declared: Declared) -> None:
        """Give an asset on its way or ready what a client declared of the same bytes, where
        it has none: the declared date, place and description, and for a ready asset its
        taken_at (when its original has none) and has_location."""
        ...

    def mark_failed(self, owner_id: str, asset_id: UUID, *, expected: Status, reason: str) -> bool:
        ...

    def mark_removed(self, owner_id: str, asset_id: UUID) -> bool:
        """The original is gone from the bucket: any state but deleted and duplicate (whose
        redundant copy is removed on purpose) → deleted; the row stays as a tombstone."""
        ...

    def release(self, owner_id: str, asset_id: UUID, reason: str) -> bool:
        """processing → uploaded after a transient failure, keeping the reason."""
        ...

    def waiting(self, status: Status, older_than_seconds: int, limit: int, *,
                imported: bool = False) -> list[Asset]:
        """Assets of every owner left in ``status`` for longer than the given age, oldest
        first: those uploaded, or (``imported``) those an import adopted."""
        ...

    def live_upload_under_way(self) -> bool:
        """Whether an upload of a user's own (not an import's) is on its way to ``ready``:
        presigned, uploaded or rendering, and moved in the last minute."""
        ...

    def stranded(self, status: Status, *, before: datetime,
                 after: tuple[datetime, UUID] | None, limit: int) -> list[Asset]:
        """Assets of every owner in ``status`` unchanged since before ``before``, in
        (updated_at, id) order, from just after ``after`` (a page's last pair)."""
        ...

    def renew(self, owner_id: str, asset_id: UUID, status: Status,
              older_than_seconds: int) -> bool:
        """Restart the waiting clock of an asset still waiting as ``waiting`` found it.

        False when it has moved on or another reaper run renewed it first.
        """
        ...

    def page(
        self, owner_id: str, *, filters: AssetFilter, sort: SortOrder, limit: int,
        after: PageCursor | None,
    ) -> list[Asset]: ...

    def months(self, owner_id: str, filters: AssetFilter) -> list[tuple[datetime, int]]:
        """Each month (its first instant) in which the assets passing ``filters`` were taken,
        by the date a taken-order page sorts them by, newest first, with how many."""
        ...

    def changes(self, owner_id: str, *, after: int, limit: int) -> list[Asset]:
        """The owner's assets changed after that number of their sequence (tombstones
        included), in change order. Every change numbered below the last one returned has
        committed and is returned, or was changed again later."""
        ...

    def sequence(self, owner_id: str) -> int:
        """The number of the owner's last committed change (0 before any): every change up
        to it is visible to a later read."""
        ...

    def get_many(self, owner_id: str, asset_ids: Collection[UUID]) -> list[Asset]:
        """The owner's assets with these ids, in any state, in no particular order."""
        ...

    def sequence_at(self, owner_id: str, legacy: LegacyChangeCursor) -> int:
        """A number of the owner's sequence at or below every change the legacy cursor had
        not seen: following the feed from it re-reads rather than misses."""
        ...

    def totals(self, owner_id: str) -> dict[Status, StatusTotal]:
        """The owner's totals for every status (zero for a status without assets)."""
        ...

    def update(
        self, owner_id: str, asset_id: UUID, *, filename: str | None, move: bool,
        project_id: UUID | None,
    ) -> Asset | None:
        """Rename and/or move (``move``: to ``project_id``, None for none) a live asset."""
        ...

    def delete(self, owner_id: str, asset_id: UUID, *,
               trashed_for_seconds: int | None = None) -> Asset | None:
        """Delete for good: any state but deleted → deleted, keeping the row as a tombstone;
        the asset as it was. With ``trashed_for_seconds``, only if it is in the trash and has
        been for that long (not restored meanwhile)."""
        ...

    def trash(self, owner_id: str, asset_id: UUID) -> Asset | None:
        """Into the trash, keeping its status, bytes and project: the asset as it is now;
        None for no asset or a deleted one."""
        ...

    def restore(self, owner_id: str, asset_id: UUID) -> Asset | None:
        """Out of the trash, as it was: the asset as it is now; None as for ``trash``."""
        ...

    def trashed(self, owner_id: str | None, *, older_than_seconds: int,
                limit: int) -> list[Asset]:
        """What has been in the trash for that long, longest first: the owner's, or every
        owner's for None."""
        ...

    def mark_purged(self, owner_id: str, asset_id: UUID) -> None:
        """Record that a deleted asset's objects are gone from the bucket."""
        ...

    def unpurged(self, older_than_seconds: int, limit: int) -> list[Asset]:
        """Deleted assets of every owner whose objects may still be in the bucket and that
        no live duplicate uses."""
        ...

    def purgeable(self, owner_id: str, asset_id: UUID) -> Asset | None:
        """The asset if it is deleted, its objects may still be in the bucket, and no live
        duplicate uses them."""
        ...

    def reset_failed(self, owner_id: str, asset_id: UUID) -> bool:
        """failed → pending, clearing the reason and the attempts, to verify it again."""
        ...

    def in_project(self, owner_id: str, project_id: UUID, limit: int) -> list[Asset]:
        """Live assets of a project."""
        ...

    def similar(self, owner_id: str, asset_id: UUID, *, distance: int,
                limit: int) -> list[tuple[Asset, int]]:
        """The owner's other ready assets whose perceptual hash is within ``distance`` bits of
        this ready asset's, each with its distance, nearest first (then by id); none when the
        asset is not ready or has no hash. Exact (nothing within the distance is missed),
        found through an index rather than a scan."""
        ...

    def similar_pairs(self, owner_id: str, *, distance: int, after: UUID | None, scan: int,
                      per_asset: int, project_id: UUID | None = None) -> SimilarScan:
        """Walk up to ``scan`` of the owner's hashed ready assets (in ``project_id`` only, when
        given) in id order after ``after``, each with at most ``per_asset`` (nearest first) of
        the later ones within ``distance`` bits of it."""
        ...

    def ping(self) -> None: ...


class ProjectRepository(Protocol):
    def add(self, owner_id: str, project_id: UUID, name: str, *, max_projects: int) -> Project:
        """Raises ProjectExists when the owner has a project of that name (as find_by_name
        compares names; so does rename), LimitReached when
        they have ``max_projects`` already (however many requests add at once)."""
        ...

    def list(self, owner_id: str) -> list[Project]: ...

    def find_by_name(self, owner_id: str, name: str) -> Project | None:
        """The owner's project whose name is this one under the database's rule (case,
        compatibility forms, ß/ss, final sigma: ``project_name_key``)."""
        ...

    def get(self, owner_id: str, project_id: UUID) -> Project | None: ...

    def rename(self, owner_id: str, project_id: UUID, name: str) -> Project | None: ...

    def delete_if_empty(self, owner_id: str, project_id: UUID) -> bool: ...

    def add_members(self, owner_id: str, project_id: UUID,
                    asset_ids: Sequence[UUID]) -> int | None:
        """Put the owner's assets in the project: how many were not in it already; None when
        the owner has no such project. Raises AssetNotFound, adding none, when one of them is
        not a live asset of theirs (unknown, deleted or in the trash)."""
        ...

    def remove_members(self, owner_id: str, project_id: UUID,
                       asset_ids: Sequence[UUID]) -> int | None:
        """Take assets out of the project: how many were in it; None when the owner has no
        such project. An asset that was not in it is no change."""
        ...


class ShareRepository(Protocol):
    def add(self, share: Share, token_hash: bytes, *, max_active: int) -> Share | None:
        """The share as stored; None when its owner has no such project. Raises LimitReached
        when the project has ``max_active`` live shares already."""
        ...

    def list(self, owner_id: str, project_id: UUID) -> list[Share]:
        """Every share of the project, revoked and expired ones too, oldest first."""
        ...

    def revoke(self, owner_id: str, project_id: UUID, share_id: UUID) -> Share | None:
        """Revoked (again, if it was): None when there is no such share."""
        ...

    def open(self, token_hash: bytes) -> Share | None:
        """The live (unrevoked, unexpired) share with this token's hash."""
        ...


class ApiKeyRepository(Protocol):
    def add(self, key: ApiKey, secret_hash: bytes) -> None: ...

    def principal_of(self, secret_hash: bytes) -> Principal | None:
        """The owner of the unrevoked, unexpired key with this hash, an admin if the key is
        one."""
        ...

    def list(self, owner_id: str | None) -> list[ApiKey]: ...

    def make_admin(self, secret_hash: bytes) -> None:
        """Make the key with this hash an admin's."""
        ...

    def revoke(self, owner_id: str, key_id: UUID) -> ApiKey | None: ...

    def expire(self, owner_id: str, key_id: UUID, at: datetime) -> ApiKey | None:
        """Make the key stop working at ``at``, or earlier if it was to already."""
        ...


class ObjectStore(Protocol):
    def presign_put(
        self, key: str, *, content_type: str, size_bytes: int, expires_in: int,
        sha256: str | None = None,
    ) -> PresignedUpload:
        """A single PUT; with ``sha256`` the bucket refuses other bytes where it can check."""
        ...

    def start_multipart(self, key: str, *, content_type: str) -> str:
        """Begin a multipart upload; returns its upload id."""
        ...

    def presign_part(self, key: str, upload_id: str, number: int, *, size_bytes: int,
                     expires_in: int) -> str:
        """A PUT of one part; the bucket refuses a body of another size where it checks."""
        ...

    def uploaded_parts(self, key: str, upload_id: str) -> list[UploadedPart]:
        """The parts received so far; raises ObjectNotFound for an unknown upload."""
        ...

    def complete_multipart(self, key: str, upload_id: str, parts: Sequence[UploadedPart]) -> None:
        ...

    def abort_multipart(self, key: str, upload_id: str) -> None: ...

    def presign_get(self, key: str, *, expires_in: int) -> str: ...

    def head(self, key: str) -> StoredObject | None: ...

    def read_start(self, key: str, length: int) -> tuple[StoredObject, bytes] | None:
        """An object's size and ETag with its first ``length`` bytes (fewer when it is
        shorter), in one request; None when there is no such object."""
        ...

    def read_range(self, key: str, length: int, *, start: int = 0) -> bytes:
        """``length`` bytes of an object from ``start`` (fewer at its end); raises
        ObjectNotFound."""
        ...

    def iter_chunks(self, key: str) -> Iterator[bytes]:
        """The object's bytes, streamed; raises ObjectNotFound."""
        ...

    def put(self, key: str, data: bytes, content_type: str) -> None: ...

    def copy_in(self, source_bucket: str, source: StoredObject, key: str, *,
                content_type: str) -> None:
        """Copy an object of another bucket (or of this one) to ``key``, inside the storage
        service: no byte passes through the caller. Raises ObjectNotFound when the source is
        gone, SourceChanged when it no longer has the ETag it was listed with."""
        ...

    def delete(self, keys: Sequence[str]) -> None: ...

    def delete_prefix(self, prefix: str) -> None:
        """Delete every object whose key starts with ``prefix``."""
        ...

    def mark_rejected(self, key: str) -> None:
        """Let the bucket's lifecycle expire an object that failed its checks."""
        ...

    def ping(self) -> None: ...


class TileGrantKey(Protocol):
    def secret(self) -> bytes:
        """The key tile grants are signed with: random, made once for the deployment, the same
        in every function."""
        ...


class SourceBucket(Protocol):
    """A bucket an import reads: listed and read, never written."""

    def list_page(self, prefix: str, *, after: str | None, limit: int) -> SourcePage:
        """Up to ``limit`` objects under ``prefix`` whose keys sort after ``after``, in key
        order; raises ObjectNotFound when the bucket does not exist, StorageUnavailable when
        it cannot be read."""
        ...

    def read_range(self, key: str, length: int) -> bytes:
        """An object's first ``length`` bytes; raises ObjectNotFound."""
        ...


class ImportRepository(Protocol):
    """Imports, each moving forward page by page; every move is conditional on the page the
    caller started from, so that a repeated or late message changes nothing."""

    def start(self, owner_id: str, import_id: UUID, source: ImportSource,
              project_id: UUID | None, time_zone: str) -> tuple[Import, bool]:
        """Record a new run, and True; or the run already listing that source for that owner,
        and False."""
        ...

    def get(self, owner_id: str, import_id: UUID) -> Import | None: ...

    def recent(self, owner_id: str, limit: int) -> list[Import]:
        """The owner's runs, newest first."""
        ...

    def advance(self, run: Import, *, after_key: str | None, listed: int,
                skipped: dict[str, int], done: bool) -> bool:
        """Record a page handled after ``run.after_key`` and the run's new totals: False when
        another worker recorded it first, or the run is no longer listing."""
        ...

    def fail(self, run: Import, reason: str) -> bool: ...

    def asset_totals(self, owner_id: str, import_id: UUID) -> dict[Status, int]:
        """How many of the run's assets are in each status (only statuses it has)."""
        ...

    def stalled(self, older_than_seconds: int, limit: int) -> list[Import]:
        """Runs of every owner still listing that have not moved for that long, oldest first."""
        ...

    def renew(self, run: Import) -> bool:
        """Restart the clock of a run still where ``stalled`` found it."""
        ...

    def albums(self, run: Import) -> dict[str, UUID]:
        """The project of each album folder (a key prefix ending in "/") the run has met."""
        ...

    def add_album(self, run: Import, folder: str, project_id: UUID) -> int:
        """Record the folder's project, unless one is recorded, and put in it the photos the
        run adopted from that folder (not from below it) that are in no project; how many."""
        ...


class ImportQueue(Protocol):
    def send(self, job: ImportJob, *, delay_seconds: int = 0) -> None: ...


class JobQueue(Protocol):
    def send(self, job: ThumbnailJob, lane: Lane) -> None: ...

    def depths(self) -> dict[Lane, QueueDepth]: ...

    def depth(self, lane: Lane) -> QueueDepth:
        """The queue of a lane, or the standard one's where it has none of its own."""
        ...

    def ping(self) -> None: ...


class DeadLetterQueue(Protocol):
    """The messages a queue gave up on, kept until an operator sends them back."""

    def receive(self, limit: int) -> list[DeadLetter]:
        """Up to ``limit`` letters, hidden from other readers for a while."""
        ...

    def send_back(self, letter: DeadLetter) -> None:
        """Put the message on the queue it came from again, and take it off this one."""
        ...

    def discard(self, letter: DeadLetter) -> None: ...


class ProcessingSwitch(Protocol):
    """The triggers of the functions that work through the queues and the schedule: the
    event source mappings of their queues and the rules of their schedules."""

    def triggers(self) -> list[Trigger]: ...

    def set_enabled(self, enabled: bool) -> None:
        """Enable or disable every trigger; Lambda takes some seconds to settle."""
        ...


class Metrics(Protocol):
    """What an operator charts and alarms on: a value, its unit (``Count`` or
    ``Milliseconds``) and the dimensions it is split by (a kind of media, a failure's reason,
    a queue). Few dimensions, of few values each: every combination is a metric to pay for."""

    def record(self, name: str, value: float, unit: str, **dimensions: str) -> None: ...


class Unmeasured:
    """Metrics nobody reads: a pipeline's default where no function reports them (the
    command-line tools, tests that look at other things)."""

    def record(self, name: str, value: float, unit: str, **dimensions: str) -> None:
        pass


@dataclass(frozen=True)
class Pipeline:
    """What carries an asset from its upload to ready, and what most services use together:
    the records, the bucket, the thumbnail queues and the rule that picks a queue's lane.

    A test replaces one of them with ``dataclasses.replace``. The tile grant key signs what
    the asset JSON hands out for deep zoom; without one, no asset shows its tiles. The metrics
    are what the functions report of each asset's way (uploads rejected, renders, failures)."""

    assets: AssetRepository
    storage: ObjectStore
    jobs: JobQueue
    lanes: Lanes
    tile_key: TileGrantKey | None = None
    metrics: Metrics = field(default_factory=Unmeasured)
