"""Pages of a library, newest first, with signed URLs for each original and derivative."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from lightbox.domain import Asset, Status
from lightbox.errors import AssetNotFound, InvalidField, RequestError
from lightbox.ports import AssetRepository, ListCursor, ObjectStore

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
# The original is in the bucket from the moment it was uploaded until it is deleted.
_HAS_ORIGINAL = frozenset({Status.UPLOADED, Status.PROCESSING, Status.READY, Status.FAILED})


@dataclass(frozen=True)
class ListQuery:
    limit: int = DEFAULT_PAGE_SIZE
    cursor: ListCursor | None = None
    status: Status | None = None


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


@dataclass(frozen=True)
class AssetPage:
    items: tuple[AssetView, ...]
    next_cursor: str | None


def parse_list_query(params: Mapping[str, str]) -> ListQuery:
    unknown = set(params) - {"limit", "cursor", "status"}
    if unknown:
        raise RequestError(f"unknown query parameters: {', '.join(sorted(unknown))}")
    return ListQuery(
        limit=_limit(params.get("limit")),
        cursor=decode_cursor(params["cursor"]) if params.get("cursor") else None,
        status=_status(params.get("status")),
    )


def list_assets(
    owner_id: str, query: ListQuery, *, assets: AssetRepository, storage: ObjectStore, url_ttl: int
) -> AssetPage:
    # One row more than asked tells whether another page follows.
    rows = assets.page(owner_id, status=query.status, limit=query.limit + 1, after=query.cursor)
    page = rows[: query.limit]
    next_cursor = encode_cursor(page[-1]) if len(rows) > query.limit else None
    return AssetPage(
        items=tuple(_view(asset, storage, url_ttl) for asset in page), next_cursor=next_cursor
    )


def get_asset(
    owner_id: str, asset_id: UUID, *, assets: AssetRepository, storage: ObjectStore, url_ttl: int
) -> AssetView:
    asset = assets.get(owner_id, asset_id)
    if asset is None or asset.status is Status.DELETED:
        raise AssetNotFound(f"no asset {asset_id}")
    return _view(asset, storage, url_ttl)


def encode_cursor(asset: Asset) -> str:
    raw = json.dumps([asset.created_at.isoformat(), str(asset.id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(token: str) -> ListCursor:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        created_at, asset_id = json.loads(raw)
        return ListCursor(created_at=datetime.fromisoformat(created_at), asset_id=UUID(asset_id))
    except (ValueError, TypeError) as exc:
        raise InvalidField("cursor is not one this API returned") from exc


def _view(asset: Asset, storage: ObjectStore, url_ttl: int) -> AssetView:
    original_url = None
    if asset.status in _HAS_ORIGINAL:
        original_url = storage.presign_get(asset.original_key, expires_in=url_ttl)
    thumbnails = tuple(
        Thumbnail(
            size=d.size, page=d.page, format=d.format, width=d.width, height=d.height,
            url=storage.presign_get(d.key, expires_in=url_ttl),
        )
        for d in asset.derivatives
    )
    return AssetView(asset=asset, original_url=original_url, thumbnails=thumbnails)


def _limit(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_PAGE_SIZE
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_PAGE_SIZE:
        raise InvalidField(f"limit must be a whole number from 1 to {MAX_PAGE_SIZE}")
    return int(raw)


def _status(raw: str | None) -> Status | None:
    if raw is None:
        return None
    try:
        return Status(raw)
    except ValueError:
        raise InvalidField(
            f"status must be one of {', '.join(s.value for s in Status)}"
        ) from None
