"""Deep zoom: who may read an asset's tiles, and where each tile is.

A browser's viewer fetches tiles with plain ``<img>`` requests that carry no API key, so a
tile URL carries its own capability: a grant, ``EXPIRES.MAC``, where MAC is an HMAC-SHA256 of
the asset id, its owner and the expiry (Unix seconds), URL-safe base64. The asset JSON hands
out grants that expire with its other signed URLs. A grant proves nothing once its asset is
in the trash, deleted or no longer tiled; one that is forged, expired, or made for another
asset or owner is refused exactly as an unknown asset is (AssetNotFound), so that a refusal
tells nothing about which assets exist.

A tile request is answered with a short-lived signed URL of the stored tile, and only for a
region and size the asset's pyramid has: the key is built from the pyramid's own tile, never
from the request.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID

from lightbox.domain import Asset, Pyramid, tile_key
from lightbox.errors import AssetNotFound
from lightbox.ports import AssetRepository, ObjectStore, TileGrantKey

# A tile's signed URL: long enough to be fetched at once, short as the grant is the access.
TILE_URL_TTL = 300
_MAC_CHARS = 43  # 32 bytes in unpadded base64
_MAX_GRANT_CHARS = 12 + 1 + _MAC_CHARS


@dataclass(frozen=True)
class TileAccess:
    """What the asset JSON says of an asset's tiles: the asset they are of, and a grant."""

    asset_id: UUID
    grant: str
    pyramid: Pyramid


def grant_tiles(asset: Asset, key: TileGrantKey, *, ttl: int,
                clock: Callable[[], float] = time.time) -> TileAccess | None:
    """A grant to read the asset's tiles for ``ttl`` seconds; None when it has none."""
    if asset.tiles is None:
        return None
    expires = int(clock()) + ttl
    return TileAccess(asset.id, f"{expires}.{_mac(key.secret(), asset, expires)}", asset.tiles)


def granted_asset(asset_id: UUID, grant: str, *, assets: AssetRepository, key: TileGrantKey,
                  clock: Callable[[], float] = time.time) -> Asset:
    """The tiled asset a valid, unexpired grant opens; AssetNotFound for anything else."""
    refused = AssetNotFound(f"no tiles of asset {asset_id}")
    expires_text, dot, mac = grant.partition(".")
    if (not dot or len(grant) > _MAX_GRANT_CHARS or not expires_text.isascii()
            or not expires_text.isdigit() or int(expires_text) < clock()):
        raise refused
    asset = assets.get_tiled(asset_id)
    if asset is None or not hmac.compare_digest(
            mac.encode(), _mac(key.secret(), asset, int(expires_text)).encode()):
        raise refused
    return asset


def tile_url(asset: Asset, region: str, size: str, rotation: str, quality_format: str, *,
             storage: ObjectStore) -> str:
    """A signed URL of the tile a IIIF request names, if the asset's pyramid has it."""
    tile = asset.tiles.find(region, size) if asset.tiles else None
    if tile is None or rotation != "0" or quality_format != "default.jpg":
        raise AssetNotFound(f"asset {asset.id} has no tile {region}/{size}/{rotation}/"
                            f"{quality_format}")
    return storage.presign_get(tile_key(asset.owner_id, asset.id, tile), expires_in=TILE_URL_TTL)


def _mac(secret: bytes, asset: Asset, expires: int) -> str:
    signed = f"{asset.id}\n{asset.owner_id}\n{expires}".encode()
    digest = hmac.new(secret, signed, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
