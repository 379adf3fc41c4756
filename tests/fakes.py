"""In-memory implementations of the ports, with the same conditional semantics as the adapters."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import threading
import unicodedata
from collections.abc import Callable, Collection, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from uuid import UUID, uuid4

from lightbox.domain import (
    ApiKey,
    Asset,
    Declared,
    Derivative,
    ImageInfo,
    Import,
    ImportJob,
    ImportSource,
    ImportStatus,
    Lane,
    Lanes,
    NewAsset,
    Principal,
    Project,
    Pyramid,
    Status,
    ThumbnailJob,
)
from lightbox.errors import (
    AssetNotFound,
    Conflict,
    InvalidParts,
    LimitReached,
    ObjectNotFound,
    ProjectExists,
    SourceChanged,
    StorageUnavailable,
)
from lightbox.ports import Pipeline
from lightbox.services.uploads import UploadPolicy
from lightbox.values import (
    AssetFilter,
    DeadLetter,
    LegacyChangeCursor,
    PageCursor,
    PresignedUpload,
    QueueDepth,
    RerenderLease,
    SimilarPair,
    SimilarScan,
    SortOrder,
    SourcePage,
    StatusTotal,
    StoredObject,
    UploadedPart,
)

T = TypeVar("T")
_LIVE = (Status.PROCESSING, Status.READY)
# The lanes as configured by default: 50 MiB or 100 megapixels go to the large lane.
LANES = Lanes(large_bytes=50 * 1024**2, large_pixels=100_000_000)
MIN_PART_BYTES = 5 * 1024**2  # S3's, for every part of a multipart upload but the last


def serialised(cls: type[T]) -> type[T]:
    """Every public method of the class one call at a time, as a database or a bucket orders
    concurrent requests (an import adopts several objects at once)."""
    lock = threading.RLock()

    def locked(method: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(method)
        def call(*args: Any, **kwargs: Any) -> Any:
            with lock:
                return method(*args, **kwargs)
        return call

    for name, member in list(vars(cls).items()):
        if callable(member) and not name.startswith("_"):
            setattr(cls, name, locked(member))
    return cls


@serialised
class FakeAssetRepository:
    def __init__(self) -> None:
        self.assets: dict[UUID, Asset] = {}
        self.purged: set[UUID] = set()
        self.get_many_calls = 0
        self._tick = 0
        self._elapsed = timedelta()
        self.sequences: dict[str, int] = {}  # each owner's last change number (owner_sequences)
        # assets_owner_source: (owner, bucket, key, ETag) of an adopted object → its asset.
        self.sources: dict[tuple[str, str, str, str], UUID] = {}
        self.leases: dict[UUID, datetime] = {}  # rerender_leases: asset → taken at

    def add(self, asset: NewAsset, *, max_pending: int) -> Asset:
        pending = sum(a.owner_id == asset.owner_id and a.status is Status.PENDING
                      for a in self.assets.values())
        if pending >= max_pending:
            raise LimitReached(f"{max_pending} uploads are already waiting for their bytes")
        now = self._now()
        stored = Asset(
            id=asset.id, owner_id=asset.owner_id, status=Status.PENDING, filename=asset.filename,
            content_type=asset.content_type, size_bytes=asset.size_bytes,
            declared_sha256=asset.declared_sha256, project_id=asset.project_id,
            project_ids=(asset.project_id,) if asset.project_id else (),
            multipart_upload_id=asset.multipart_upload_id,
            declared=asset.declared,
            created_at=now, updated_at=now,
            change_seq=self._next_change(asset.owner_id),
        )
        self.assets[asset.id] = stored
        return stored

    def get(self, owner_id: str, asset_id: UUID) -> Asset | None:
        asset = self.assets.get(asset_id)
        return asset if asset is not None and asset.owner_id == owner_id else None

    def get_tiled(self, asset_id: UUID) -> Asset | None:
        asset = self.assets.get(asset_id)
        if asset is None or asset.status is not Status.READY or asset.trashed_at is not None:
            return None
        return asset if asset.tiles is not None else None

    def add_duplicate(self, asset: NewAsset, holder_id: UUID) -> Asset | None:
        holder = self.get(asset.owner_id, holder_id)
        if holder is None or holder.status not in _LIVE:
            return None
        existing = next((a for a in self.assets.values() if a.owner_id == asset.owner_id
                         and a.duplicate_of == holder_id and a.status is Status.DUPLICATE
                         and a.project_id == asset.project_id), None)
        if existing is not None:
            return existing
        self.add(asset, max_pending=1 << 30)  # a duplicate waits for no bytes: no limit
        return self.change(asset.id, status=Status.DUPLICATE, content_type=holder.content_type,
                           sha256=holder.sha256, duplicate_of=holder_id)

    def add_adopted(self, asset: NewAsset, *, import_id: UUID, source_bucket: str,
                    source: StoredObject) -> tuple[Asset, bool]:
        identity = (asset.owner_id, source_bucket, source.key, source.etag)
        existing = self.sources.get(identity)
        if existing is not None:
            return self.assets[existing], False
        self.add(asset, max_pending=1 << 30)  # an import is bounded by its pages, not this
        self.sources[identity] = asset.id
        return self.change(asset.id, import_id=import_id), True

    def live_upload_under_way(self) -> bool:
        recent = self._now() - timedelta(minutes=1)
        return any(a.import_id is None and a.updated_at > recent
                   and a.status in (Status.PENDING, Status.UPLOADED, Status.PROCESSING)
                   for a in self.assets.values())

    def folder_of(self, asset_id: UUID) -> str | None:
        """The folder of the source key an adopted asset came from."""
        key = next((key for (_, _, key, _), adopted in self.sources.items()
                    if adopted == asset_id), None)
        return key[:key.rfind("/") + 1] if key is not None else None

    def find_by_content(self, owner_id: str, sha256: str) -> Asset | None:
        return next((a for a in self.assets.values() if a.owner_id == owner_id
                     and a.sha256 == sha256 and a.status in _LIVE), None)

    def mark_uploaded(self, owner_id: str, asset_id: UUID, content_type: str) -> bool:
        return self._move(owner_id, asset_id, Status.PENDING, Status.UPLOADED,
                          content_type=content_type)

    def claim(self, owner_id: str, asset_id: UUID, lease_seconds: int) -> Asset | None:
        asset = self.get(owner_id, asset_id)
        if asset is None:
            return None
        expired = (asset.status is Status.PROCESSING and asset.claimed_at is not None
                   and asset.claimed_at < self._now() - timedelta(seconds=lease_seconds))
        if asset.status is not Status.UPLOADED and not expired:
            return None
        claimed = dataclasses.replace(asset, status=Status.PROCESSING, attempts=asset.attempts + 1,
                                      sha256=None, claimed_at=self._now(),
                                      updated_at=self._now())
        self._store(claimed)
        return claimed

    def record_content(self, owner_id: str, asset_id: UUID, sha256: str) -> UUID | None:
        existing = next((a for a in self.assets.values() if a.owner_id == owner_id
                         and a.sha256 == sha256 and a.status in _LIVE and a.id != asset_id), None)
        if existing is not None:
            return existing.id
        self._move(owner_id, asset_id, Status.PROCESSING, Status.PROCESSING, sha256=sha256)
        return None

    def mark_ready(
        self, owner_id: str, asset_id: UUID, info: ImageInfo, derivatives: Sequence[Derivative],
        placeholder: str | None, *, render_spec: str = "",
        perceptual_hash: int | None = None, tiles: Pyramid | None = None,
    ) -> bool:
        return self._move(owner_id, asset_id, Status.PROCESSING, Status.READY, info=info,
                          derivatives=tuple(derivatives), placeholder=placeholder, error=None,
                          render_spec=render_spec, perceptual_hash=perceptual_hash,
                          tiles=tiles)

    def outdated(self, render_spec: str, *, after: tuple[str, UUID] | None,
                 limit: int) -> list[Asset]:
        rows = sorted((a for a in self.assets.values()
                       if a.status is Status.READY and a.render_spec != render_spec
                       and (after is None or (a.render_spec, a.id) > after)),
                      key=lambda a: (a.render_spec, a.id))
        return rows[:limit]

    def count_outdated(self, render_spec: str) -> int:
        return sum(a.status is Status.READY and a.render_spec != render_spec
                   for a in self.assets.values())

    def take_rerender(self, owner_id: str, asset_id: UUID, render_spec: str,
                      lease_seconds: int) -> RerenderLease | None:
        asset = self.get(owner_id, asset_id)
        if asset is None or asset.status is not Status.READY or asset.render_spec == render_spec:
            return None
        held = self.leases.get(asset_id)
        if held is not None and held >= self._now() - timedelta(seconds=lease_seconds):
            return None
        self.leases[asset_id] = self._now()
        return RerenderLease(asset, self.leases[asset_id])

    def replace_derivatives(self, lease: RerenderLease, derivatives: Sequence[Derivative],
                            placeholder: str | None, render_spec: str, *,
                            perceptual_hash: int | None = None, tiles: Pyramid | None = None,
                            ) -> tuple[Derivative, ...] | None:
        asset = lease.asset
        if self.leases.get(asset.id) != lease.taken_at:
            return None
        del self.leases[asset.id]
        current = self.get(asset.owner_id, asset.id)
        if current is None or current.status is not Status.READY:
            return None
        self.change(asset.id, derivatives=tuple(derivatives), placeholder=placeholder,
                    render_spec=render_spec, perceptual_hash=perceptual_hash, tiles=tiles)
        return current.derivatives

    def add_derivative(self, owner_id: str, asset_id: UUID, derivative: Derivative) -> bool:
        asset = self.get(owner_id, asset_id)
        if asset is None or asset.status is not Status.READY or any(
                d.key == derivative.key for d in asset.derivatives):
            return False
        self.change(asset_id, derivatives=(*asset.derivatives, derivative))
        return True

    def mark_duplicate(self, owner_id: str, asset_id: UUID, original_id: UUID) -> bool:
        holder = self.get(owner_id, original_id)
        if holder is None or holder.status not in _LIVE:
            return False
        return self._move(owner_id, asset_id, Status.PROCESSING, Status.DUPLICATE,
                          duplicate_of=original_id)

    def mark_failed(self, owner_id: str, asset_id: UUID, *, expected: Status, reason: str) -> bool:
        return self._move(owner_id, asset_id, expected, Status.FAILED, error=reason)

    def fill_declared(self, owner_id: str, asset_id: UUID, declared: Declared) -> None:
        asset = self.get(owner_id, asset_id)
        if asset is None or asset.status not in (Status.UPLOADED, *_LIVE):
            return
        had = asset.declared
        filled = Declared(taken_at=had.taken_at or declared.taken_at,
                          location=had.location or declared.location,
                          description=had.description or declared.description)
        if filled == had:
            return
        info = asset.info
        if asset.status is Status.READY and info is not None:
            info = dataclasses.replace(
                info, taken_at=info.taken_at or declared.taken_at,
                has_location=True if declared.location else info.has_location)
        self.change(asset_id, declared=filled, info=info)

    def mark_removed(self, owner_id: str, asset_id: UUID) -> bool:
        asset = self.get(owner_id, asset_id)
        if asset is None or asset.status in (Status.DELETED, Status.DUPLICATE):
            return False
        return self._move(owner_id, asset_id, asset.status, Status.DELETED, **_FORGOTTEN)

    def release(self, owner_id: str, asset_id: UUID, reason: str) -> bool:
        return self._move(owner_id, asset_id, Status.PROCESSING, Status.UPLOADED, error=reason,
                          sha256=None, claimed_at=None)

    def waiting(self, status: Status, older_than_seconds: int, limit: int, *,
                imported: bool = False) -> list[Asset]:
        horizon = self.now - timedelta(seconds=older_than_seconds)
        rows = sorted((a for a in self.assets.values()
                       if a.status is status and a.updated_at < horizon
                       and (a.import_id is not None) is imported),
                      key=lambda a: a.updated_at)
        return rows[:limit]

    def stranded(self, status: Status, *, before: datetime,
                 after: tuple[datetime, UUID] | None, limit: int) -> list[Asset]:
        rows = sorted((a for a in self.assets.values()
                       if a.status is status and a.updated_at < before
                       and (after is None or (a.updated_at, a.id) > after)),
                      key=lambda a: (a.updated_at, a.id))
        return rows[:limit]

    def renew(self, owner_id: str, asset_id: UUID, status: Status,
              older_than_seconds: int) -> bool:
        asset = self.get(owner_id, asset_id)
        horizon = self.now - timedelta(seconds=older_than_seconds)
        if asset is None or asset.status is not status or asset.updated_at >= horizon:
            return False
        return self._move(owner_id, asset_id, status, status)

    def page(
        self, owner_id: str, *, filters: AssetFilter, sort: SortOrder, limit: int,
        after: PageCursor | None,
    ) -> list[Asset]:
        def position(asset: Asset) -> tuple[datetime, UUID]:
            return sort.key_of(asset), asset.id

        rows = [
            a for a in self._owned(owner_id)
            if (a.shown_status == filters.status if filters.status
                else a.status is not Status.DELETED and a.trashed_at is None)
            and (filters.project_id is None or filters.project_id in a.project_ids)
            and (not filters.shown_only or a.status in (Status.READY, Status.DUPLICATE))
            and (filters.content_type is None or a.content_type == filters.content_type)
            and _taken_within(a, filters) and _searched(a, filters)
            and (after is None or (position(a) < (after.key, after.asset_id) if sort.descending
                                   else position(a) > (after.key, after.asset_id)))
        ]
        rows.sort(key=position, reverse=sort.descending)
        return rows[:limit]

    def changes(self, owner_id: str, *, after: int, limit: int) -> list[Asset]:
        rows = sorted((a for a in self._owned(owner_id) if a.change_seq > after),
                      key=lambda a: a.change_seq)
        return rows[:limit]

    def sequence(self, owner_id: str) -> int:
        return self.sequences.get(owner_id, 0)

    def get_many(self, owner_id: str, asset_ids: Collection[UUID]) -> list[Asset]:
        self.get_many_calls += 1
        return [a for a in self._owned(owner_id) if a.id in asset_ids]

    def sequence_at(self, owner_id: str, legacy: LegacyChangeCursor) -> int:
        # Nothing here was written before owner sequences: every change is after the cursor.
        return 0

    def totals(self, owner_id: str) -> dict[Status, StatusTotal]:
        totals = dict.fromkeys(Status, StatusTotal(count=0, size_bytes=0, oldest_update=None))
        for asset in self._owned(owner_id):
            shown = asset.status if asset.status is Status.DELETED else asset.shown_status
            total = totals[shown]
            oldest = min(filter(None, (total.oldest_update, asset.updated_at)))
            stored = shown is not Status.TRASHED or asset.status in (
                Status.UPLOADED, Status.PROCESSING, Status.READY, Status.FAILED)
            totals[shown] = StatusTotal(count=total.count + 1,
                                        size_bytes=total.size_bytes + stored * asset.size_bytes,
                                        oldest_update=oldest)
        return totals

    def update(
        self, owner_id: str, asset_id: UUID, *, filename: str | None, move: bool,
        project_id: UUID | None,
    ) -> Asset | None:
        asset = self.get(owner_id, asset_id)
        if asset is None or asset.status is Status.DELETED:
            return None
        return self.change(asset_id, filename=filename or asset.filename,
                           project_id=project_id if move else asset.project_id)

    def delete(self, owner_id: str, asset_id: UUID, *,
               trashed_for_seconds: int | None = None) -> Asset | None:
        asset = self.get(owner_id, asset_id)
        if asset is None or asset.status is Status.DELETED:
            return None
        if trashed_for_seconds is not None and not (
                asset.trashed_at is not None
                and asset.trashed_at <= self.now - timedelta(seconds=trashed_for_seconds)):
            return None
        self.purged.discard(asset_id)
        return self.change(asset_id, status=Status.DELETED, trashed_at=None, **_FORGOTTEN)

    def trash(self, owner_id: str, asset_id: UUID) -> Asset | None:
        asset = self.get(owner_id, asset_id)
        if asset is None or asset.status is Status.DELETED:
            return None
        return asset if asset.trashed_at else self.change(asset_id, trashed_at=self._now())

    def restore(self, owner_id: str, asset_id: UUID) -> Asset | None:
        asset = self.get(owner_id, asset_id)
        if asset is None or asset.status is Status.DELETED:
            return None
        return self.change(asset_id, trashed_at=None) if asset.trashed_at else asset

    def trashed(self, owner_id: str | None, *, older_than_seconds: int,
                limit: int) -> list[Asset]:
        before = self.now - timedelta(seconds=older_than_seconds)
        found = sorted((a for a in self.assets.values()
                        if a.trashed_at is not None and a.trashed_at <= before
                        and a.status is not Status.DELETED
                        and owner_id in (None, a.owner_id)),
                       key=lambda a: (a.trashed_at, a.id))
        return found[:limit]

    def mark_purged(self, owner_id: str, asset_id: UUID) -> None:
        self.purged.add(asset_id)

    def unpurged(self, older_than_seconds: int, limit: int) -> list[Asset]:
        horizon = self.now - timedelta(seconds=older_than_seconds)
        return [a for a in self.assets.values() if a.updated_at < horizon
                and self.purgeable(a.owner_id, a.id)][:limit]

    def purgeable(self, owner_id: str, asset_id: UUID) -> Asset | None:
        asset = self.get(owner_id, asset_id)
        if asset is None or asset.status is not Status.DELETED or asset_id in self.purged:
            return None
        in_use = any(a.duplicate_of == asset_id and a.status is Status.DUPLICATE
                     for a in self.assets.values())
        return None if in_use else asset

    def reset_failed(self, owner_id: str, asset_id: UUID) -> bool:
        return self._move(owner_id, asset_id, Status.FAILED, Status.PENDING, error=None,
                          attempts=0, claimed_at=None)

    def similar(self, owner_id: str, asset_id: UUID, *, distance: int,
                limit: int) -> list[tuple[Asset, int]]:
        """A scan of every hash: what the band indexes must find."""
        reference = self.get(owner_id, asset_id)
        if reference is None or reference.status is not Status.READY:
            return []
        found = sorted(((near, gap) for near in self._hashed(owner_id)
                        if near.id != asset_id and near.trashed_at is None
                        and (gap := _distance(reference, near)) is not None and gap <= distance),
                       key=lambda pair: (pair[1], pair[0].id))
        return found[:limit]

    def similar_pairs(self, owner_id: str, *, distance: int, after: UUID | None, scan: int,
                      per_asset: int, project_id: UUID | None = None) -> SimilarScan:
        hashed = sorted((asset for asset in self._hashed(owner_id)
                         if project_id is None or project_id in asset.project_ids),
                        key=lambda asset: asset.id)
        walked = [asset for asset in hashed if after is None or asset.id > after][:scan]
        pairs: list[SimilarPair] = []
        for asset in walked:
            later = sorted((gap, near.id) for near in hashed if near.id > asset.id
                            and (gap := _distance(asset, near)) is not None and gap <= distance)
            pairs.extend(SimilarPair(asset.id, near_id, gap) for gap, near_id in later[:per_asset])
        return SimilarScan(pairs=tuple(pairs), scanned=len(walked),
                           last=walked[-1].id if walked else None)

    def _hashed(self, owner_id: str) -> list[Asset]:
        return [asset for asset in self._owned(owner_id)
                if asset.status is Status.READY and asset.perceptual_hash is not None]

    def in_project(self, owner_id: str, project_id: UUID, limit: int) -> list[Asset]:
        return [a for a in self._owned(owner_id) if project_id in a.project_ids
                and a.status is not Status.DELETED and a.trashed_at is None][:limit]

    def _owned(self, owner_id: str) -> list[Asset]:
        return [a for a in self.assets.values() if a.owner_id == owner_id]

    def ping(self) -> None:
        pass

    def put(self, asset: Asset) -> None:
        """Store an asset in any state (test set-up)."""
        self.assets[asset.id] = asset

    def _move(self, owner_id: str, asset_id: UUID, expected: Status, to: Status,
              **changes: object) -> bool:
        asset = self.get(owner_id, asset_id)
        if asset is None or asset.status is not expected:
            return False
        self._store(dataclasses.replace(
            asset, status=to, updated_at=self._now(), change_seq=self._next_change(owner_id),
            **changes,  # type: ignore[arg-type]
        ))
        return True

    def change(self, asset_id: UUID, **changes: object) -> Asset:
        """Change any fields of an asset as an UPDATE would (stamping its change, and leaving
        the project it leaves, as migration 0016's trigger does)."""
        asset = self.assets[asset_id]
        moved_to = changes.get("project_id", asset.project_id)
        if moved_to != asset.project_id:
            changes.setdefault("project_ids", (*([moved_to] if moved_to else []), *(
                member for member in asset.project_ids if member not in (asset.project_id,
                                                                         moved_to))))
        return self._store(dataclasses.replace(
            asset, updated_at=self._now(), change_seq=self._next_change(asset.owner_id),
            **changes,  # type: ignore[arg-type]
        ))

    def _store(self, asset: Asset) -> Asset:
        # The unique index assets_owner_content: one live row per owner and content.
        if asset.status in _LIVE and asset.sha256 is not None and any(
            other.id != asset.id and other.owner_id == asset.owner_id
            and other.sha256 == asset.sha256 and other.status in _LIVE
            for other in self.assets.values()
        ):
            raise Conflict("already exists: assets_owner_content")
        self.assets[asset.id] = asset
        return asset

    def _next_change(self, owner_id: str) -> int:
        self.sequences[owner_id] = self.sequences.get(owner_id, 0) + 1
        return self.sequences[owner_id]

    @property
    def now(self) -> datetime:
        return datetime(2026, 1, 1, tzinfo=UTC) + self._elapsed + timedelta(
            microseconds=self._tick)

    def advance(self, seconds: float) -> None:
        """Let time pass (test set-up)."""
        self._elapsed += timedelta(seconds=seconds)

    def _now(self) -> datetime:
        # Strictly increasing, so that ordering by creation time is deterministic.
        self._tick += 1
        return self.now



def _searched(asset: Asset, filters: AssetFilter) -> bool:
    """The kind, camera and filename filters, as ILIKE would (casefold stands in for it)."""
    info = asset.info
    camera = " ".join(filter(None, (info.camera_make, info.camera_model))) if info else ""
    return ((filters.content_types is None or asset.content_type in filters.content_types)
            and (filters.camera is None or filters.camera.casefold() in camera.casefold())
            and (filters.text is None or filters.text.casefold() in asset.filename.casefold()))


def _taken_within(asset: Asset, filters: AssetFilter) -> bool:
    if filters.taken_from is None and filters.taken_until is None:
        return True
    taken = asset.info.taken_at if asset.info else None
    return taken is not None and (filters.taken_from is None or taken >= filters.taken_from) \
        and (filters.taken_until is None or taken < filters.taken_until)


def project_name_key(name: str) -> str:
    """The database's project_name_key (migration 0005), for the fakes."""
    folded = unicodedata.normalize("NFKC", name).lower()
    return folded.replace("ẞ", "ss").replace("ß", "ss").replace("ς", "σ")


class FakeProjectRepository:
    def __init__(self, assets: FakeAssetRepository) -> None:
        self._assets = assets
        self.projects: dict[UUID, Project] = {}

    def add(self, owner_id: str, project_id: UUID, name: str, *, max_projects: int) -> Project:
        if len(self.list(owner_id)) >= max_projects:
            raise LimitReached(f"an owner may have at most {max_projects} projects")
        if self.find_by_name(owner_id, name) is not None:
            raise ProjectExists(f"a project named {name!r} already exists")
        now = datetime(2026, 1, 1, tzinfo=UTC)
        self.projects[project_id] = Project(id=project_id, owner_id=owner_id, name=name,
                                            created_at=now, updated_at=now)
        return self.projects[project_id]

    def list(self, owner_id: str) -> list[Project]:
        return sorted((self._counted(p) for p in self.projects.values()
                       if p.owner_id == owner_id), key=lambda p: (project_name_key(p.name), p.id))

    def find_by_name(self, owner_id: str, name: str) -> Project | None:
        return next((p for p in self.list(owner_id)
                     if project_name_key(p.name) == project_name_key(name)), None)

    def get(self, owner_id: str, project_id: UUID) -> Project | None:
        project = self.projects.get(project_id)
        return self._counted(project) if project and project.owner_id == owner_id else None

    def rename(self, owner_id: str, project_id: UUID, name: str) -> Project | None:
        project = self.get(owner_id, project_id)
        if project is None:
            return None
        taken = self.find_by_name(owner_id, name)
        if taken is not None and taken.id != project_id:
            raise ProjectExists(f"a project named {name!r} already exists")
        self.projects[project_id] = dataclasses.replace(project, name=name)
        return self.get(owner_id, project_id)

    def delete_if_empty(self, owner_id: str, project_id: UUID) -> bool:
        project = self.get(owner_id, project_id)
        if project is None or project.asset_count:
            return False
        del self.projects[project_id]
        for asset in list(self._assets.assets.values()):  # ON DELETE SET NULL, and CASCADE
            if project_id in asset.project_ids:
                self._assets.change(
                    asset.id,
                    project_id=None if asset.project_id == project_id else asset.project_id,
                    project_ids=tuple(m for m in asset.project_ids if m != project_id))
        return True

    def add_members(self, owner_id: str, project_id: UUID,
                    asset_ids: Sequence[UUID]) -> int | None:
        if self.get(owner_id, project_id) is None:
            return None
        for asset_id in asset_ids:
            asset = self._assets.get(owner_id, asset_id)
            if asset is None or asset.status is Status.DELETED or asset.trashed_at is not None:
                raise AssetNotFound(f"no asset {asset_id} to add")
        added = 0
        for asset_id in asset_ids:
            asset = self._assets.assets[asset_id]
            if project_id not in asset.project_ids:
                self._assets.change(asset_id, project_ids=(*asset.project_ids, project_id))
                added += 1
        return added

    def remove_members(self, owner_id: str, project_id: UUID,
                       asset_ids: Sequence[UUID]) -> int | None:
        if self.get(owner_id, project_id) is None:
            return None
        removed = 0
        for asset_id in asset_ids:
            asset = self._assets.get(owner_id, asset_id)
            if asset is not None and project_id in asset.project_ids:
                self._assets.change(
                    asset_id, project_ids=tuple(m for m in asset.project_ids if m != project_id),
                    project_id=None if asset.project_id == project_id else asset.project_id)
                removed += 1
        return removed

    def _counted(self, project: Project) -> Project:
        count = len(self._assets.in_project(project.owner_id, project.id, 1_000_000))
        return dataclasses.replace(project, asset_count=count)


class FakeApiKeyRepository:
    """The ApiKeyRepository port in memory."""

    def __init__(self) -> None:
        self.keys: dict[bytes, ApiKey] = {}

    def add(self, key: ApiKey, secret_hash: bytes) -> None:
        self.keys[secret_hash] = key

    def principal_of(self, secret_hash: bytes) -> Principal | None:
        key = self.keys.get(secret_hash)
        if key is None or not key.usable_at(datetime.now(UTC)):
            return None
        return Principal(key.owner_id, admin=key.admin)

    def make_admin(self, secret_hash: bytes) -> None:
        if secret_hash in self.keys:
            self.keys[secret_hash] = dataclasses.replace(self.keys[secret_hash], admin=True)

    def list(self, owner_id: str | None) -> list[ApiKey]:
        return [k for k in self.keys.values() if owner_id in (None, k.owner_id)]

    def revoke(self, owner_id: str, key_id: UUID) -> ApiKey | None:
        for secret_hash, key in self.keys.items():
            if key.id == key_id and key.owner_id == owner_id:
                self.keys[secret_hash] = dataclasses.replace(key, revoked_at=key.created_at)
                return self.keys[secret_hash]
        return None

    def expire(self, owner_id: str, key_id: UUID, at: datetime) -> ApiKey | None:
        for secret_hash, key in self.keys.items():
            if key.id == key_id and key.owner_id == owner_id:
                expires_at = at if key.expires_at is None else min(key.expires_at, at)
                self.keys[secret_hash] = dataclasses.replace(key, expires_at=expires_at)
                return self.keys[secret_hash]
        return None


# What a deletion forgets of what the asset's client declared (adapters/assets.py).
_FORGOTTEN: dict[str, object] = {"declared": Declared(), "perceptual_hash": None}


def _distance(first: Asset, second: Asset) -> int | None:
    if first.perceptual_hash is None or second.perceptual_hash is None:
        return None
    return (first.perceptual_hash ^ second.perceptual_hash).bit_count()


@serialised
class FakeObjectStore:
    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}
        self.content_types: dict[str, str] = {}
        self.deleted: list[str] = []
        self.rejected: set[str] = set()
        self.uploads: dict[str, dict[int, bytes]] = {}  # multipart uploads: their parts
        self.aborted: list[str] = []
        self.fail_with: Exception | None = None
        self.fail_on: set[str] = set()  # keys whose every operation is unavailable
        self.ranges_read = 0
        self.buckets: dict[str, dict[str, bytes]] = {}  # other buckets, which imports read
        self.copies = 0

    def presign_put(
        self, key: str, *, content_type: str, size_bytes: int, expires_in: int,
        sha256: str | None = None,
    ) -> PresignedUpload:
        headers = {"Content-Type": content_type}
        if sha256 is not None:
            headers["x-amz-checksum-sha256"] = sha256
        return PresignedUpload(
            method="PUT", url=f"https://bucket.test/{key}?size={size_bytes}", headers=headers,
            expires_at=datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=expires_in),
        )

    def start_multipart(self, key: str, *, content_type: str) -> str:
        upload_id = f"upload-{len(self.uploads) + 1}"
        self.uploads[upload_id] = {}
        return upload_id

    def presign_part(self, key: str, upload_id: str, number: int, *, size_bytes: int,
                     expires_in: int) -> str:
        return (f"https://bucket.test/{key}?uploadId={upload_id}&partNumber={number}"
                f"&size={size_bytes}")

    def uploaded_parts(self, key: str, upload_id: str) -> list[UploadedPart]:
        if upload_id not in self.uploads:
            raise ObjectNotFound(f"no multipart upload {upload_id}")
        return [UploadedPart(number=n, size=len(data), etag=f"etag-{n}")
                for n, data in self.uploads[upload_id].items()]

    def complete_multipart(self, key: str, upload_id: str, parts: Sequence[UploadedPart]) -> None:
        if upload_id not in self.uploads:
            raise ObjectNotFound(f"no multipart upload {upload_id}")
        received = self.uploads[upload_id]
        numbers = [part.number for part in parts]
        if numbers != sorted(set(numbers)):
            raise _refused("InvalidPartOrder")
        if any(part.number not in received or part.etag != f"etag-{part.number}"
               for part in parts):
            raise _refused("InvalidPart")
        if any(len(received[part.number]) < MIN_PART_BYTES for part in parts[:-1]):
            raise _refused("EntityTooSmall")
        self.uploads.pop(upload_id)
        self.objects[key] = b"".join(received[part.number] for part in parts)

    def abort_multipart(self, key: str, upload_id: str) -> None:
        self.uploads.pop(upload_id, None)
        self.aborted.append(upload_id)

    def presign_get(self, key: str, *, expires_in: int) -> str:
        return f"https://bucket.test/{key}?expires={expires_in}"

    def head(self, key: str) -> StoredObject | None:
        self._maybe_fail(key)
        data = self.objects.get(key)
        return None if data is None else StoredObject(key=key, size=len(data), etag="etag")

    def read_start(self, key: str, length: int) -> tuple[StoredObject, bytes] | None:
        stored = self.head(key)
        return None if stored is None else (stored, self.objects[key][:length])

    def read_range(self, key: str, length: int, *, start: int = 0) -> bytes:
        self.ranges_read += 1
        return self._get(key)[start:start + length]

    def iter_chunks(self, key: str) -> Iterator[bytes]:
        data = self._get(key)
        for start in range(0, len(data), 4096):
            yield data[start : start + 4096]

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self._maybe_fail()
        self.objects[key] = data
        self.content_types[key] = content_type

    def copy_in(self, source_bucket: str, source: StoredObject, key: str, *,
                content_type: str) -> None:
        self._maybe_fail(source.key)
        objects = self.buckets.get(source_bucket, {})
        if source.key not in objects:
            raise ObjectNotFound(f"no object s3://{source_bucket}/{source.key}")
        if etag_of(objects[source.key]) != source.etag:
            raise SourceChanged(f"s3://{source_bucket}/{source.key} changed after it was listed")
        self.objects[key] = objects[source.key]
        self.content_types[key] = content_type
        self.copies += 1

    def delete(self, keys: Sequence[str]) -> None:
        self._maybe_fail()
        for key in keys:
            self.objects.pop(key, None)
            self.deleted.append(key)

    def delete_prefix(self, prefix: str) -> None:
        self.delete([key for key in self.objects if key.startswith(prefix)])

    def mark_rejected(self, key: str) -> None:
        self._maybe_fail()
        self.rejected.add(key)

    def ping(self) -> None:
        self._maybe_fail()

    def _get(self, key: str) -> bytes:
        self._maybe_fail(key)
        if key not in self.objects:
            raise ObjectNotFound(f"no object {key}")
        return self.objects[key]

    def _maybe_fail(self, key: str | None = None) -> None:
        if self.fail_with is not None:
            raise self.fail_with
        if key in self.fail_on:
            raise StorageUnavailable(f"SlowDown on {key}")


def etag_of(data: bytes) -> str:
    """An object's ETag as S3 gives a single PUT's: its quoted MD5."""
    return f'"{hashlib.md5(data).hexdigest()}"'


class FakeSourceBucket:
    """A bucket of the FakeObjectStore's ``buckets``, as an import reads it."""

    def __init__(self, storage: FakeObjectStore, bucket: str) -> None:
        self._storage = storage
        self._bucket = bucket
        self.pages = 0
        self.read: list[str] = []  # the keys read, in order

    def list_page(self, prefix: str, *, after: str | None, limit: int) -> SourcePage:
        if self._bucket not in self._storage.buckets:
            raise ObjectNotFound(f"no bucket {self._bucket}")
        self.pages += 1
        objects = self._storage.buckets[self._bucket]
        keys = sorted(key for key in objects if key.startswith(prefix) and key > (after or ""))
        return SourcePage(tuple(StoredObject(key, len(objects[key]), etag_of(objects[key]))
                                for key in keys[:limit]), more=len(keys) > limit)

    def read_range(self, key: str, length: int) -> bytes:
        self.read.append(key)
        objects = self._storage.buckets.get(self._bucket, {})
        if key not in objects:
            raise ObjectNotFound(f"no object s3://{self._bucket}/{key}")
        return objects[key][:length]


class FakeImportRepository:
    def __init__(self, assets: FakeAssetRepository) -> None:
        self._assets = assets
        self.runs: dict[UUID, Import] = {}
        self.album_folders: dict[UUID, dict[str, UUID]] = {}

    def start(self, owner_id: str, import_id: UUID, source: ImportSource,
              project_id: UUID | None, time_zone: str) -> tuple[Import, bool]:
        running = next((run for run in self.runs.values() if run.owner_id == owner_id
                        and run.source == source and run.status is ImportStatus.LISTING), None)
        if running is not None:
            return running, False
        now = self._assets.now
        run = Import(id=import_id, owner_id=owner_id, source=source, project_id=project_id,
                     status=ImportStatus.LISTING, created_at=now, updated_at=now,
                     time_zone=time_zone)
        self.runs[import_id] = run
        return run, True

    def get(self, owner_id: str, import_id: UUID) -> Import | None:
        run = self.runs.get(import_id)
        return run if run is not None and run.owner_id == owner_id else None

    def recent(self, owner_id: str, limit: int) -> list[Import]:
        owned = [run for run in self.runs.values() if run.owner_id == owner_id]
        return sorted(owned, key=lambda run: run.created_at, reverse=True)[:limit]

    def advance(self, run: Import, *, after_key: str | None, listed: int,
                skipped: dict[str, int], done: bool) -> bool:
        current = self.get(run.owner_id, run.id)
        if current is None or current.status is not ImportStatus.LISTING \
                or current.after_key != run.after_key:
            return False
        self.runs[run.id] = dataclasses.replace(
            current, after_key=after_key, listed=listed, skipped=skipped,
            status=ImportStatus.LISTED if done else current.status,
            updated_at=self._assets.now)
        return True

    def fail(self, run: Import, reason: str) -> bool:
        current = self.get(run.owner_id, run.id)
        if current is None or current.status is not ImportStatus.LISTING:
            return False
        self.runs[run.id] = dataclasses.replace(current, status=ImportStatus.FAILED,
                                                error=reason)
        return True

    def asset_totals(self, owner_id: str, import_id: UUID) -> dict[Status, int]:
        totals: dict[Status, int] = {}
        for asset in self._assets.assets.values():
            if asset.owner_id == owner_id and asset.import_id == import_id:
                totals[asset.status] = totals.get(asset.status, 0) + 1
        return totals

    def stalled(self, older_than_seconds: int, limit: int) -> list[Import]:
        cutoff = self._assets.now - timedelta(seconds=older_than_seconds)
        return sorted((run for run in self.runs.values()
                       if run.status is ImportStatus.LISTING and run.updated_at < cutoff),
                      key=lambda run: run.updated_at)[:limit]

    def renew(self, run: Import) -> bool:
        current = self.get(run.owner_id, run.id)
        if current is None or current.updated_at != run.updated_at:
            return False
        self.runs[run.id] = dataclasses.replace(current, updated_at=self._assets.now)
        return True

    def albums(self, run: Import) -> dict[str, UUID]:
        return dict(self.album_folders.get(run.id, {}))

    def add_album(self, run: Import, folder: str, project_id: UUID) -> int:
        project_id = self.album_folders.setdefault(run.id, {}).setdefault(folder, project_id)
        joined = [asset for asset in self._assets.assets.values()
                  if asset.import_id == run.id and asset.project_id is None
                  and asset.status is not Status.DELETED and asset.owner_id == run.owner_id
                  and self._assets.folder_of(asset.id) == folder]
        for asset in joined:
            self._assets.change(asset.id, project_id=project_id)
        return len(joined)


class FakeImportQueue:
    def __init__(self) -> None:
        self.sent: list[ImportJob] = []
        self.delays: list[int] = []

    def send(self, job: ImportJob, *, delay_seconds: int = 0) -> None:
        self.sent.append(job)
        self.delays.append(delay_seconds)


def _refused(code: str) -> InvalidParts:
    """As the S3 adapter reports a refused completion: the upload stays open."""
    return InvalidParts(f"the bucket refused the parts ({code}): PUT the parts again, then "
                        "complete again; or abort the upload")


@serialised
class FakeJobQueue:
    def __init__(self) -> None:
        self.sent: list[ThumbnailJob] = []
        self.lanes: list[Lane] = []
        self.taken = 0  # the first jobs sent, which workers have taken: no longer waiting

    def send(self, job: ThumbnailJob, lane: Lane) -> None:
        self.sent.append(job)
        self.lanes.append(lane)

    def depths(self) -> dict[Lane, QueueDepth]:
        return {lane: self.depth(lane) for lane in Lane}

    def depth(self, lane: Lane) -> QueueDepth:
        return QueueDepth(waiting=self.lanes[self.taken:].count(lane), in_flight=0, delayed=0)

    def ping(self) -> None:
        pass


class FakeDeadLetterQueue:
    """Letters waiting, and what became of them: sent back to their queue, or discarded."""

    def __init__(self, *bodies: str) -> None:
        self.waiting = [DeadLetter(body, f"receipt-{n}") for n, body in enumerate(bodies)]
        self.sent_back: list[str] = []
        self.discarded: list[str] = []

    def receive(self, limit: int) -> list[DeadLetter]:
        letters, self.waiting = self.waiting[:limit], self.waiting[limit:]
        return letters

    def send_back(self, letter: DeadLetter) -> None:
        self.sent_back.append(letter.body)

    def discard(self, letter: DeadLetter) -> None:
        self.discarded.append(letter.body)


class FakeRedelivery:
    """Records the messages a batch postponed: (queue ARN, receipt handle, seconds)."""

    def __init__(self) -> None:
        self.postponed: list[tuple[str, str, int]] = []

    def postpone(self, queue_arn: str, receipt_handle: str, delay: int) -> None:
        self.postponed.append((queue_arn, receipt_handle, delay))


class FakeTileGrantKey:
    def __init__(self, secret: bytes = b"k" * 32) -> None:
        self._secret = secret

    def secret(self) -> bytes:
        return self._secret


@serialised
class RecordedMetrics:
    """Every value recorded, as (name, value, unit, dimensions)."""

    def __init__(self) -> None:
        self.values: list[tuple[str, float, str, dict[str, str]]] = []

    def record(self, name: str, value: float, unit: str, **dimensions: str) -> None:
        self.values.append((name, value, unit, dimensions))

    def named(self, name: str) -> list[tuple[float, str, dict[str, str]]]:
        return [(value, unit, dimensions) for recorded, value, unit, dimensions in self.values
                if recorded == name]


class FakeLibrary:
    """One owner's fakes side by side, and the assets that tests start from."""

    def __init__(self, owner: str = "studio") -> None:
        self.owner = owner
        self.assets = FakeAssetRepository()
        self.projects = FakeProjectRepository(self.assets)
        self.storage = FakeObjectStore()
        self.jobs = FakeJobQueue()
        self.lanes = LANES
        self.metrics = RecordedMetrics()

    @property
    def pipeline(self) -> Pipeline:
        """The fakes as services take them; a test replaces one by assigning it first."""
        return Pipeline(assets=self.assets, storage=self.storage, jobs=self.jobs,
                        lanes=self.lanes, tile_key=FakeTileGrantKey(), metrics=self.metrics)

    def pending(self, data: bytes, *, uploaded: bool = True) -> UUID:
        """A presigned asset for ``data``, its original in the bucket unless told otherwise."""
        asset = self.assets.add(NewAsset(id=uuid4(), owner_id=self.owner, filename="a.jpg",
                                         content_type="image/jpeg", size_bytes=len(data),
                                         declared_sha256=None, project_id=None), max_pending=100)
        if uploaded:
            self.storage.objects[asset.original_key] = data
        return asset.id

    def asset(self, asset_id: UUID) -> Asset:
        asset = self.assets.get(self.owner, asset_id)
        assert asset is not None
        return asset


def pipeline_of(assets: FakeAssetRepository, storage: FakeObjectStore,
                jobs: FakeJobQueue | None = None, lanes: Lanes = LANES) -> Pipeline:
    """A pipeline over these fakes (a new job queue unless one is given)."""
    return Pipeline(assets=assets, storage=storage, jobs=jobs or FakeJobQueue(), lanes=lanes)


def unavailable_storage() -> FakeObjectStore:
    store = FakeObjectStore()
    store.fail_with = StorageUnavailable("SlowDown")
    return store


def upload_ports(assets: FakeAssetRepository) -> dict[str, Any]:
    """The rest of what create_upload needs, over the same fake assets, with the defaults."""
    return {"projects": FakeProjectRepository(assets),
            "policy": UploadPolicy(url_ttl=900, multipart_threshold=64 * 1024**2,
                                   part_bytes=16 * 1024**2, max_pending=1000)}
