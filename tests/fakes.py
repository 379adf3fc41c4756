"""In-memory implementations of the ports, with the same conditional semantics as the adapters."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

from lightbox.domain import Asset, Derivative, ImageInfo, Lane, NewAsset, Status, ThumbnailJob
from lightbox.errors import ObjectNotFound, StorageUnavailable
from lightbox.ports import ListCursor, PresignedUpload, StoredObject

_LIVE = (Status.PROCESSING, Status.READY)


class FakeAssetRepository:
    def __init__(self) -> None:
        self.assets: dict[UUID, Asset] = {}
        self._tick = 0
        self._elapsed = timedelta()

    def add(self, asset: NewAsset) -> Asset:
        now = self._now()
        stored = Asset(
            id=asset.id, owner_id=asset.owner_id, status=Status.PENDING, filename=asset.filename,
            content_type=asset.content_type, size_bytes=asset.size_bytes,
            declared_sha256=asset.declared_sha256, project_id=asset.project_id,
            created_at=now, updated_at=now,
        )
        self.assets[asset.id] = stored
        return stored

    def get(self, owner_id: str, asset_id: UUID) -> Asset | None:
        asset = self.assets.get(asset_id)
        return asset if asset is not None and asset.owner_id == owner_id else None

    def find_by_content(self, owner_id: str, sha256: str) -> Asset | None:
        return next((a for a in self.assets.values() if a.owner_id == owner_id
                     and a.sha256 == sha256 and a.status in _LIVE), None)

    def page(
        self, owner_id: str, *, status: Status | None, limit: int, after: ListCursor | None
    ) -> list[Asset]:
        rows = [
            a for a in self.assets.values()
            if a.owner_id == owner_id
            and (a.status == status if status else a.status is not Status.DELETED)
            and (after is None or (a.created_at, a.id) < (after.created_at, after.asset_id))
        ]
        rows.sort(key=lambda a: (a.created_at, a.id), reverse=True)
        return rows[:limit]

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
                                      claimed_at=self._now(), updated_at=self._now())
        self.assets[asset_id] = claimed
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
        placeholder: str | None,
    ) -> bool:
        return self._move(owner_id, asset_id, Status.PROCESSING, Status.READY, info=info,
                          derivatives=tuple(derivatives), placeholder=placeholder, error=None)

    def mark_duplicate(self, owner_id: str, asset_id: UUID, original_id: UUID) -> bool:
        return self._move(owner_id, asset_id, Status.PROCESSING, Status.DUPLICATE,
                          duplicate_of=original_id)

    def mark_failed(self, owner_id: str, asset_id: UUID, *, expected: Status, reason: str) -> bool:
        return self._move(owner_id, asset_id, expected, Status.FAILED, error=reason)

    def mark_deleted(self, owner_id: str, asset_id: UUID) -> bool:
        asset = self.get(owner_id, asset_id)
        if asset is None or asset.status in (Status.DELETED, Status.DUPLICATE):
            return False
        return self._move(owner_id, asset_id, asset.status, Status.DELETED)

    def release(self, owner_id: str, asset_id: UUID, reason: str) -> bool:
        return self._move(owner_id, asset_id, Status.PROCESSING, Status.UPLOADED, error=reason,
                          claimed_at=None)

    def waiting(self, status: Status, older_than_seconds: int, limit: int) -> list[Asset]:
        horizon = self.now - timedelta(seconds=older_than_seconds)
        rows = sorted((a for a in self.assets.values()
                       if a.status is status and a.updated_at < horizon),
                      key=lambda a: a.updated_at)
        return rows[:limit]

    def renew(self, owner_id: str, asset_id: UUID, status: Status,
              older_than_seconds: int) -> bool:
        asset = self.get(owner_id, asset_id)
        horizon = self.now - timedelta(seconds=older_than_seconds)
        if asset is None or asset.status is not status or asset.updated_at >= horizon:
            return False
        return self._move(owner_id, asset_id, status, status)

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
        self.assets[asset_id] = dataclasses.replace(
            asset, status=to, updated_at=self._now(), **changes  # type: ignore[arg-type]
        )
        return True

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


class FakeObjectStore:
    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}
        self.content_types: dict[str, str] = {}
        self.deleted: list[str] = []
        self.rejected: set[str] = set()
        self.fail_with: Exception | None = None

    def presign_put(
        self, key: str, *, content_type: str, size_bytes: int, expires_in: int
    ) -> PresignedUpload:
        return PresignedUpload(
            method="PUT", url=f"https://bucket.test/{key}?size={size_bytes}",
            headers={"Content-Type": content_type},
            expires_at=datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=expires_in),
        )

    def presign_get(self, key: str, *, expires_in: int) -> str:
        return f"https://bucket.test/{key}?expires={expires_in}"

    def head(self, key: str) -> StoredObject | None:
        self._maybe_fail()
        data = self.objects.get(key)
        return None if data is None else StoredObject(key=key, size=len(data), etag="etag")

    def read_range(self, key: str, length: int) -> bytes:
        return self._get(key)[:length]

    def iter_chunks(self, key: str) -> Iterator[bytes]:
        data = self._get(key)
        for start in range(0, len(data), 4096):
            yield data[start : start + 4096]

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self._maybe_fail()
        self.objects[key] = data
        self.content_types[key] = content_type

    def delete(self, keys: Sequence[str]) -> None:
        for key in keys:
            self.objects.pop(key, None)
            self.deleted.append(key)

    def mark_rejected(self, key: str) -> None:
        self._maybe_fail()
        self.rejected.add(key)

    def ping(self) -> None:
        self._maybe_fail()

    def _get(self, key: str) -> bytes:
        self._maybe_fail()
        if key not in self.objects:
            raise ObjectNotFound(f"no object {key}")
        return self.objects[key]

    def _maybe_fail(self) -> None:
        if self.fail_with is not None:
            raise self.fail_with


class FakeJobQueue:
    def __init__(self) -> None:
        self.sent: list[ThumbnailJob] = []
        self.lanes: list[Lane] = []

    def send(self, job: ThumbnailJob, lane: Lane) -> None:
        self.sent.append(job)
        self.lanes.append(lane)

    def ping(self) -> None:
        pass


class FakeRedelivery:
    """Records the messages a batch postponed: (queue ARN, receipt handle, seconds)."""

    def __init__(self) -> None:
        self.postponed: list[tuple[str, str, int]] = []

    def postpone(self, queue_arn: str, receipt_handle: str, delay: int) -> None:
        self.postponed.append((queue_arn, receipt_handle, delay))


class FakeLibrary:
    """One owner's fakes side by side, and the assets that tests start from."""

    def __init__(self, owner: str = "studio") -> None:
        self.owner = owner
        self.assets = FakeAssetRepository()
        self.storage = FakeObjectStore()
        self.jobs = FakeJobQueue()

    def pending(self, data: bytes, *, uploaded: bool = True) -> UUID:
        """A presigned asset for ``data``, its original in the bucket unless told otherwise."""
        asset = self.assets.add(NewAsset(id=uuid4(), owner_id=self.owner, filename="a.jpg",
                                         content_type="image/jpeg", size_bytes=len(data),
                                         declared_sha256=None, project_id=None))
        if uploaded:
            self.storage.objects[asset.original_key] = data
        return asset.id

    def asset(self, asset_id: UUID) -> Asset:
        asset = self.assets.get(self.owner, asset_id)
        assert asset is not None
        return asset


def unavailable_storage() -> FakeObjectStore:
    store = FakeObjectStore()
    store.fail_with = StorageUnavailable("SlowDown")
    return store
