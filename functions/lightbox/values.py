"""The plain values that ports and services exchange: what a listing asks for (sort, filter,
cursors), and what the bucket and the queues answer (signed uploads, parts, objects, depths,
dead letters).

Frozen data without behaviour beyond reading itself; the protocols are in ``lightbox.ports``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from lightbox.domain import Asset, Status


class SortOrder(StrEnum):
    """How a listing is ordered: by upload or taken time, newest (``-``) or oldest first."""

    NEWEST = "-created"
    OLDEST = "created"
    TAKEN_NEWEST = "-taken"
    TAKEN_OLDEST = "taken"

    @property
    def by_taken(self) -> bool:
        return self.value.endswith("taken")

    @property
    def descending(self) -> bool:
        return self.value.startswith("-")

    def key_of(self, asset: Asset) -> datetime:
        return asset.taken_sort if self.by_taken else asset.created_at


@dataclass(frozen=True)
class AssetFilter:
    status: Status | None = None
    project_id: UUID | None = None
    content_type: str | None = None
    taken_from: datetime | None = None  # inclusive, camera wall-clock time
    taken_until: datetime | None = None  # exclusive
    content_types: tuple[str, ...] | None = None  # a kind's (filetypes.KINDS)
    camera: str | None = None  # in the camera's make and model, any case
    text: str | None = None  # in the filename, any case
    shown_only: bool = False  # only what has something to show: ready, or a duplicate of such


@dataclass(frozen=True)
class PageCursor:
    """The position after the last asset of a page: its sort key and id (keyset pagination)."""

    key: datetime
    asset_id: UUID


@dataclass(frozen=True)
class ChangeCursor:
    """A position in an owner's change feed: every change numbered up to it has been seen.
    The numbers are the owner's own (migration 0006), counting no one else's changes."""

    seq: int


@dataclass(frozen=True)
class LegacyChangeCursor:
    """A position in the feed before migration 0006, ordered by transaction id, which
    clients may still hold: every change up to (xid, asset id) had been seen."""

    xid: int
    asset_id: UUID


@dataclass(frozen=True)
class StatusTotal:
    """An owner's assets in one status: how many, their declared bytes (in the trash: of those
    that hold an original), and the earliest time one of them last changed (None when there
    are none)."""

    count: int
    size_bytes: int
    oldest_update: datetime | None


@dataclass(frozen=True)
class PresignedUpload:
    method: str
    url: str
    headers: dict[str, str]
    expires_at: datetime
    fields: dict[str, str] | None = field(default=None)


@dataclass(frozen=True)
class PresignedPart:
    number: int
    size: int
    url: str


@dataclass(frozen=True)
class UploadedPart:
    number: int
    size: int
    etag: str


@dataclass(frozen=True)
class QueueDepth:
    waiting: int
    in_flight: int
    delayed: int


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int
    etag: str


@dataclass(frozen=True)
class SourcePage:
    """Objects of an import's source in key order, and whether the listing goes on after them
    (a page may hold fewer than were asked for and still not be the last)."""

    objects: tuple[StoredObject, ...]
    more: bool


@dataclass(frozen=True)
class DeadLetter:
    body: str
    receipt: str


@dataclass(frozen=True)
class SimilarPair:
    """Two ready assets whose perceptual hashes differ in ``distance`` bits."""

    asset_id: UUID
    similar_id: UUID
    distance: int


@dataclass(frozen=True)
class SimilarScan:
    """A stretch of an owner's hashed assets, in id order, walked for near-duplicates: each
    pair found once, under the first of its two; how many were walked, and the last of them."""

    pairs: tuple[SimilarPair, ...]
    scanned: int
    last: UUID | None


@dataclass(frozen=True)
class RerenderLease:
    """A ready asset taken for a rerender, and when: its new derivatives replace the old ones
    only while the lease is still this one."""

    asset: Asset
    taken_at: datetime


class TriggerState(StrEnum):
    """A trigger's state as Lambda and EventBridge report it, in three words."""

    ENABLED = "enabled"
    DISABLED = "disabled"
    CHANGING = "changing"  # Lambda's Enabling, Disabling, Creating or Updating


@dataclass(frozen=True)
class Trigger:
    """What starts a function on its own: a queue's event source mapping or a schedule."""

    function: str
    source: str  # the queue's or the schedule rule's name
    state: TriggerState


@dataclass(frozen=True)
class Processing:
    """Whether the functions that work through the queues and the schedule are running."""

    triggers: tuple[Trigger, ...]

    @property
    def state(self) -> TriggerState:
        """Enabled or disabled when every trigger is; changing while any is on its way, or
        while some are one and some the other (a pause or resume half done: repeat it)."""
        states = {trigger.state for trigger in self.triggers}
        return states.pop() if len(states) == 1 else TriggerState.CHANGING
