"""Pages of a library with signed URLs, the change feed that syncing clients follow, and stats.

Cursors are opaque to clients: URL-safe base64 of a small JSON array. A page cursor holds the
sort order and the last row's sort key and id (keyset pagination: a deep page costs what the
first one does, and rows inserted meanwhile never shift a page). A change cursor holds a
number of the owner's own change sequence, so it tells nothing of other owners; a change
cursor of the earlier feed (transaction ids) is still read, and mapped so that nothing it had
not seen is missed.

Near-duplicates are found by perceptual hash (``imaging.perceptual``): the assets within some
bits of one asset, and groups of them across a library, walked a page of assets at a time.
"""

from __future__ import annotations

import base64
import dataclasses
import json
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from lightbox.domain import Asset, Lane, Principal, Status
from lightbox.errors import AssetNotFound, InvalidField, InvalidState
from lightbox.ports import AssetRepository, ObjectStore, Pipeline, TileGrantKey
from lightbox.services.tiles import TileAccess, grant_tiles
from lightbox.values import (
    AssetFilter,
    ChangeCursor,
    LegacyChangeCursor,
    PageCursor,
    QueueDepth,
    SortOrder,
)

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
# Signed URLs in one page: some 1.5 kB each with a session token, so a page stays near 3 MB,
# well under Lambda's 6 MB response limit, however many thumbnails its assets have. A page
# stops before the asset that would pass it; its cursor goes on from there.
MAX_PAGE_URLS = 2000
# The original is in the bucket from the moment it was uploaded until it is deleted.
_HAS_ORIGINAL = frozenset({Status.UPLOADED, Status.PROCESSING, Status.READY, Status.FAILED})
# The totals' statuses whose bytes are in the bucket (the trash's: those that hold one).
_STORED = _HAS_ORIGINAL | {Status.TRASHED}
_WAITING = (Status.UPLOADED, Status.PROCESSING)
_MAX_SEQ = 2**63  # an owner's change numbers are Postgres bigints
_MAX_XID = 2**64  # the earlier feed's were xid8s

# Bits in which two perceptual hashes may differ and still be the same picture. Measured on
# generated photographs (tests/unit/test_perceptual.py): a JPEG re-encoded at quality 60,
# halved, brightened or given more contrast by 10 % moves at most 4 bits, a 2 % crop at most 8;
# unrelated pictures lie 20 or more apart. The index finds every distance exactly; its cost
# steps up with distance // 4 (the values probed per 16-bit band: 17, 137, then 697): at a
# million assets 11 takes 5 ms and 12 takes 16 (docs/BENCHMARKS.md), where random hashes begin
# to meet by chance anyway. So 11 is the most a request may ask.
DEFAULT_SIMILAR_DISTANCE = 10
MAX_SIMILAR_DISTANCE = 11
DEFAULT_SIMILAR_LIMIT = 50
MAX_SIMILAR_LIMIT = 200
# A page of groups walks this many hashed assets, and lists at most so many near each of them.
SIMILAR_WALK = 200
SIMILAR_PER_ASSET = 50


@dataclass(frozen=True)
class ListQuery:
    limit: int = DEFAULT_PAGE_SIZE
    cursor: PageCursor | None = None
    filters: AssetFilter = field(default_factory=AssetFilter)
    sort: SortOrder = SortOrder.NEWEST
    changed_since: ChangeCursor | LegacyChangeCursor | None = None


@dataclass(frozen=True)
class Thumbnail:
    size: int
    page: int
    format: str
    width: int
    height: int
    url: str


@dataclass(frozen=True)
class AssetView:
    asset: Asset
    original_url: str | None
    thumbnails: tuple[Thumbnail, ...]
    tiles: TileAccess | None = None


@dataclass(frozen=True)
class AssetPage:
    items: tuple[AssetView, ...]
    next_cursor: str | None  # the next page (of listing or of changes) is waiting now
    sync_cursor: str  # pass as changed_since later to receive every change after this answer


@dataclass(frozen=True)
class SimilarQuery:
    distance: int = DEFAULT_SIMILAR_DISTANCE
    limit: int = DEFAULT_SIMILAR_LIMIT


@dataclass(frozen=True)
class Similar:
    """An asset near another, and the bits in which their perceptual hashes differ."""

    view: AssetView
    distance: int


@dataclass(frozen=True)
class GroupsQuery:
    distance: int = DEFAULT_SIMILAR_DISTANCE
    after: UUID | None = None
    project_id: UUID | None = None


@dataclass(frozen=True)
class SimilarGroup:
    """An asset and the later ones (in id order) near it, nearest first, with their distances."""

    asset: Asset
    similar: tuple[tuple[Asset, int], ...]


@dataclass(frozen=True)
class SimilarGroups:
    groups: tuple[SimilarGroup, ...]
    next_cursor: str | None  # the walk goes on from there; None once every asset was walked


@dataclass(frozen=True)
class Stats:
    """What a caller may know: figures of their own library, and for an admin the depths of
    the thumbnail queues, which every owner shares (so they tell of other owners' work)."""

    counts: dict[Status, int]
    stored_bytes: int  # the owner's originals in the bucket
    waiting: int  # the owner's assets still to render (uploaded or processing)
    oldest_waiting: datetime | None  # since when the longest-waiting of them has waited
    queues: dict[Lane, QueueDepth] | None  # for an admin only


def list_assets(
    owner_id: str, query: ListQuery, pipeline: Pipeline, *, url_ttl: int
) -> AssetPage:
    assets, storage = pipeline.assets, pipeline.storage
    if query.changed_since is not None:
        return _changes(owner_id, query.changed_since, query.limit, assets=assets,
                        storage=storage, url_ttl=url_ttl, tile_key=pipeline.tile_key)
    # Read before the page: whatever changes while the client pages on comes after it.
    sync_cursor = encode_change_cursor(ChangeCursor(seq=assets.sequence(owner_id)))
    # One row more than asked tells whether another page follows.
    rows = assets.page(owner_id, filters=query.filters, sort=query.sort, limit=query.limit + 1,
                       after=query.cursor)
    views = _within_budget(_views(owner_id, rows[: query.limit], assets=assets,
                                  storage=storage, url_ttl=url_ttl,
                                  tile_key=pipeline.tile_key))
    next_cursor = None
    if len(rows) > len(views):
        last = rows[len(views) - 1]
        next_cursor = encode_page_cursor(query.sort, PageCursor(query.sort.key_of(last), last.id))
    return AssetPage(items=views, next_cursor=next_cursor, sync_cursor=sync_cursor)


def _changes(owner_id: str, since: ChangeCursor | LegacyChangeCursor, limit: int, *,
             assets: AssetRepository, storage: ObjectStore, url_ttl: int,
             tile_key: TileGrantKey | None) -> AssetPage:
    after = (since.seq if isinstance(since, ChangeCursor)
             else assets.sequence_at(owner_id, since))
    changes = assets.changes(owner_id, after=after, limit=limit + 1)
    views = _within_budget(_views(owner_id, changes[:limit], assets=assets, storage=storage,
                                  url_ttl=url_ttl, tile_key=tile_key))
    page = changes[: len(views)]
    # Every change numbered below the last one read has been read (or changed again since).
    sync_cursor = encode_change_cursor(ChangeCursor(seq=page[-1].change_seq if page else after))
    next_cursor = sync_cursor if len(changes) > len(views) else None
    return AssetPage(items=views, next_cursor=next_cursor, sync_cursor=sync_cursor)


def get_asset(owner_id: str, asset_id: UUID, pipeline: Pipeline, *, url_ttl: int) -> AssetView:
    asset = pipeline.assets.get(owner_id, asset_id)
    if asset is None or asset.status is Status.DELETED:
        raise AssetNotFound(f"no asset {asset_id}")
    return view_one(asset, pipeline, url_ttl=url_ttl)


def view_one(asset: Asset, pipeline: Pipeline, *, url_ttl: int) -> AssetView:
    holder_id = _holder_of(asset)
    holder = pipeline.assets.get(asset.owner_id, holder_id) if holder_id is not None else None
    return view_of(asset, pipeline.storage, url_ttl, holder, tile_key=pipeline.tile_key)


def similar_assets(owner_id: str, asset_id: UUID, query: SimilarQuery, pipeline: Pipeline, *,
                   url_ttl: int) -> tuple[Similar, ...]:
    """The owner's ready assets (not in the trash) within ``query.distance`` bits of this one,
    nearest first.

    An asset without a perceptual hash is refused (InvalidState), saying why: one not yet
    ready, a duplicate (whose holder has the hash), or one rendered before hashes were made."""
    asset = pipeline.assets.get(owner_id, asset_id)
    if asset is None or asset.status is Status.DELETED:
        raise AssetNotFound(f"no asset {asset_id}")
    if asset.status is Status.DUPLICATE:
        raise InvalidState(f"asset {asset_id} is a duplicate of {asset.duplicate_of}: ask for "
                           "the assets similar to that one")
    if asset.status is not Status.READY:
        raise InvalidState(f"asset {asset_id} is {asset.status}: only a ready asset has a "
                           "perceptual hash")
    if asset.perceptual_hash is None:
        raise InvalidState(f"asset {asset_id} has no perceptual hash yet: it was rendered "
                           "before near-duplicates were looked for; render it again")
    found = pipeline.assets.similar(owner_id, asset_id, distance=query.distance,
                                    limit=query.limit)
    views = _within_budget(tuple(view_of(near, pipeline.storage, url_ttl,
                                         tile_key=pipeline.tile_key) for near, _ in found))
    return tuple(Similar(view, gap) for view, (_, gap) in zip(views, found, strict=False))


def similar_groups(owner_id: str, query: GroupsQuery, pipeline: Pipeline) -> SimilarGroups:
    """Groups of near-duplicates in a stretch of the library: each walked asset that has near
    ones after it (in id order) with those, so that each pair is told once. A client joins
    groups that share an asset to see every cluster."""
    scan = pipeline.assets.similar_pairs(owner_id, distance=query.distance, after=query.after,
                                         scan=SIMILAR_WALK, per_asset=SIMILAR_PER_ASSET,
                                         project_id=query.project_id)
    wanted = {pair.asset_id for pair in scan.pairs} | {pair.similar_id for pair in scan.pairs}
    # Read after the walk: one deleted meanwhile, or in the trash, is left out.
    ready = {asset.id: asset for asset in pipeline.assets.get_many(owner_id, wanted)
             if asset.shown_status is Status.READY} if wanted else {}
    near: dict[UUID, list[tuple[Asset, int]]] = {}
    for pair in scan.pairs:
        if pair.asset_id in ready and pair.similar_id in ready:
            near.setdefault(pair.asset_id, []).append((ready[pair.similar_id], pair.distance))
    groups = tuple(SimilarGroup(ready[asset_id], tuple(found))
                   for asset_id, found in near.items())
    # A walk of fewer assets than a page's reached the end of the library.
    next_cursor = (encode_groups_cursor(query.distance, scan.last)
                   if scan.scanned == SIMILAR_WALK and scan.last is not None else None)
    return SimilarGroups(groups=groups, next_cursor=next_cursor)


def _views(owner_id: str, page: list[Asset], *, assets: AssetRepository, storage: ObjectStore,
           url_ttl: int, tile_key: TileGrantKey | None) -> tuple[AssetView, ...]:
    # The holders of a page's duplicates in one query, not one per row.
    wanted = {holder_id for asset in page if (holder_id := _holder_of(asset)) is not None}
    holders = {h.id: h for h in assets.get_many(owner_id, wanted)} if wanted else {}
    return tuple(view_of(asset, storage, url_ttl,
                         holders.get(holder_id) if (holder_id := _holder_of(asset)) else None,
                         tile_key=tile_key)
                 for asset in page)


def _holder_of(asset: Asset) -> UUID | None:
    """The asset whose bytes a duplicate shows."""
    return asset.duplicate_of if asset.status is Status.DUPLICATE else None


def library_stats(principal: Principal, pipeline: Pipeline) -> Stats:
    totals = pipeline.assets.totals(principal.owner_id)
    waiting = [totals[status] for status in _WAITING]
    return Stats(
        counts={status: total.count for status, total in totals.items()},
        stored_bytes=sum(totals[status].size_bytes for status in _STORED),
        waiting=sum(total.count for total in waiting),
        oldest_waiting=min((t.oldest_update for t in waiting if t.oldest_update), default=None),
        queues=pipeline.jobs.depths() if principal.admin else None,
    )


def encode_page_cursor(sort: SortOrder, position: PageCursor) -> str:
    return _encode(["p", sort.value, position.key.isoformat(), str(position.asset_id)])


def decode_page_cursor(token: str, sort: SortOrder) -> PageCursor:
    parts = _decode(token)
    if len(parts) != 4 or parts[0] != "p":
        raise InvalidField("cursor is not one this API returned")
    if parts[1] != sort.value:
        raise InvalidField(f"this cursor belongs to sort={parts[1]}; pass the same sort")
    try:
        return PageCursor(key=datetime.fromisoformat(str(parts[2])), asset_id=UUID(str(parts[3])))
    except (ValueError, TypeError) as exc:
        raise InvalidField("cursor is not one this API returned") from exc


def encode_groups_cursor(distance: int, after: UUID) -> str:
    return _encode(["g", distance, str(after)])


def decode_groups_cursor(token: str, distance: int) -> UUID:
    """The last asset a page of groups walked; the walk goes on at the same distance."""
    parts = _decode(token)
    if len(parts) != 3 or parts[0] != "g":
        raise InvalidField("cursor is not one this API returned")
    if parts[1] != distance:
        raise InvalidField(f"this cursor belongs to distance={parts[1]}; pass the same distance")
    try:
        return UUID(str(parts[2]))
    except ValueError as exc:
        raise InvalidField("cursor is not one this API returned") from exc


def encode_change_cursor(position: ChangeCursor) -> str:
    return _encode(["s", position.seq])


def decode_change_cursor(token: str) -> ChangeCursor | LegacyChangeCursor:
    parts = _decode(token)
    try:
        if len(parts) == 2 and parts[0] == "s":
            return ChangeCursor(seq=_number(parts[1], _MAX_SEQ))
        if len(parts) == 3 and parts[0] == "c":  # issued before migration 0006
            return LegacyChangeCursor(xid=_number(parts[1], _MAX_XID), asset_id=UUID(str(parts[2])))
        raise ValueError(token)
    except (ValueError, TypeError) as exc:
        raise InvalidField("changed_since is not a cursor this API returned") from exc


def _number(value: object, bound: int) -> int:
    # JSON's true is a Python int too; the database would refuse it, or a number past its type.
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < bound:
        raise ValueError(value)
    return value


def _encode(parts: list[object]) -> str:
    raw = json.dumps(parts, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(token: str) -> list[object]:
    try:
        parts = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, RecursionError):  # RecursionError: nested deeper than json goes
        raise InvalidField("cursor is not one this API returned") from None
    if not isinstance(parts, list):
        raise InvalidField("cursor is not one this API returned")
    return parts


def _within_budget(views: tuple[AssetView, ...]) -> tuple[AssetView, ...]:
    """The first views whose signed URLs fit in a page: at least one, so that paging moves on."""
    urls = 0
    for count, view in enumerate(views):
        urls += (view.original_url is not None) + len(view.thumbnails)
        if urls > MAX_PAGE_URLS and count:
            return views[:count]
    return views


def view_of(asset: Asset, storage: ObjectStore, url_ttl: int,
            holder: Asset | None = None, *, tile_key: TileGrantKey | None = None) -> AssetView:
    """An asset with signed URLs, and a grant to its tiles when it has them and ``tile_key``
    is given; a duplicate, given its holder, shows the holder's bytes (and tiles)."""
    original_url = None
    tiled = asset
    if asset.status in _HAS_ORIGINAL:
        original_url = storage.presign_get(asset.original_key, expires_in=url_ttl)
    # A tombstone tells only that the asset is gone.
    derivatives = asset.derivatives if asset.status is not Status.DELETED else ()
    if holder is not None and asset.status is Status.DUPLICATE:
        # A duplicate has no bytes of its own; its holder keeps them while it lives, deleted
        # or not, so they are there to show.
        original_url = storage.presign_get(holder.original_key, expires_in=url_ttl)
        derivatives = holder.derivatives
        tiled = holder
        asset = dataclasses.replace(asset, sha256=holder.sha256, info=holder.info,
                                    placeholder=holder.placeholder)
    thumbnails = tuple(
        Thumbnail(
            size=d.size, page=d.page, format=d.format, width=d.width, height=d.height,
            url=storage.presign_get(d.key, expires_in=url_ttl),
        )
        for d in derivatives
    )
    # Tiles are shown only where they are served: of a ready asset out of the trash (and, for
    # a duplicate, itself out of the trash too).
    tiles = None
    if (tile_key is not None and tiled.status is Status.READY and tiled.trashed_at is None
            and asset.trashed_at is None):
        tiles = grant_tiles(tiled, tile_key, ttl=url_ttl)
    return AssetView(asset=asset, original_url=original_url, thumbnails=thumbnails, tiles=tiles)


