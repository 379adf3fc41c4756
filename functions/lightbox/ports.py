"""The ports the services depend on. Adapters implement them; tests pass fakes.

Each port is a Protocol with only the operations Lightbox needs, and each adapter raises
only Lightbox errors (``lightbox.errors``), never its library's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol
from uuid import UUID

from lightbox.domain import (
    Asset,
    Derivative,
    ImageInfo,
    Lane,
    NewAsset,
    RenderSpec,
    Rendition,
    Status,
    ThumbnailJob,
)

# Decode a file and return its derivatives; raises ImageError for what cannot be rendered.
Renderer = Callable[[Path, RenderSpec], Rendition]


@dataclass(frozen=True)
class ListCursor:
    """The position after the last asset of a page: keyset pagination, newest first."""

    created_at: datetime
    asset_id: UUID


class AssetRepository(Protocol):
    def add(self, asset: NewAsset) -> Asset: ...

    def get(self, owner_id: str, asset_id: UUID) -> Asset | None: ...

    def find_by_content(self, owner_id: str, sha256: str) -> Asset | None:
        """A live (processing or ready) asset of this owner with these exact bytes."""
        ...

    def page(
        self, owner_id: str, *, status: Status | None, limit: int, after: ListCursor | None
    ) -> list[Asset]: ...

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
    ) -> bool: ...

    def mark_duplicate(self, owner_id: str, asset_id: UUID, original_id: UUID) -> bool: ...

    def mark_failed(self, owner_id: str, asset_id: UUID, *, expected: Status, reason: str) -> bool:
        ...

    def mark_deleted(self, owner_id: str, asset_id: UUID) -> bool:
        """Any state but deleted and duplicate → deleted; the row stays as a tombstone."""
        ...

    def release(self, owner_id: str, asset_id: UUID, reason: str) -> bool:
        """processing → uploaded after a transient failure, keeping the reason."""
        ...

    def waiting(self, status: Status, older_than_seconds: int, limit: int) -> list[Asset]:
        """Assets of every owner left in ``status`` for longer than the given age, oldest first."""
        ...

    def renew(self, owner_id: str, asset_id: UUID, status: Status,
              older_than_seconds: int) -> bool:
        """Restart the waiting clock of an asset still waiting as ``waiting`` found it.

        False when it has moved on or another reaper run renewed it first.
        """
        ...

    def ping(self) -> None: ...


@dataclass(frozen=True)
class PresignedUpload:
    method: str
    url: str
    headers: dict[str, str]
    expires_at: datetime
    fields: dict[str, str] | None = field(default=None)


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int
    etag: str


class ObjectStore(Protocol):
    def presign_put(
        self, key: str, *, content_type: str, size_bytes: int, expires_in: int
    ) -> PresignedUpload: ...

    def presign_get(self, key: str, *, expires_in: int) -> str: ...

    def head(self, key: str) -> StoredObject | None: ...

    def read_range(self, key: str, length: int) -> bytes:
        """The first ``length`` bytes of an object; raises ObjectNotFound."""
        ...

    def iter_chunks(self, key: str) -> Iterator[bytes]:
        """The object's bytes, streamed; raises ObjectNotFound."""
        ...

    def put(self, key: str, data: bytes, content_type: str) -> None: ...

    def delete(self, keys: Sequence[str]) -> None: ...

    def mark_rejected(self, key: str) -> None:
        """Let the bucket's lifecycle expire an object that failed its checks."""
        ...

    def ping(self) -> None: ...


class JobQueue(Protocol):
    def send(self, job: ThumbnailJob, lane: Lane) -> None: ...

    def ping(self) -> None: ...
