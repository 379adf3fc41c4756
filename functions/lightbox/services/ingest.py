"""What a bucket event means for the asset behind its key.

Events arrive at least once, late and out of order; the bucket and the asset's state decide,
never the event alone. A creation completes the upload (idempotent). A removal deletes the
asset only if its original is really gone (checked in the bucket) and had arrived: a late
removal of an object uploaded again since, or of an upload still under way, changes nothing.
Anything outside ``originals/`` is acknowledged and ignored.
"""

from __future__ import annotations

import logging
from uuid import UUID

from lightbox.domain import Status, parse_original_key
from lightbox.errors import AssetNotFound, UploadMissing
from lightbox.events import Action, ObjectEvent
from lightbox.ports import Pipeline
from lightbox.services.uploads import complete_upload

log = logging.getLogger(__name__)


def handle_object_event(
    event: ObjectEvent,
    pipeline: Pipeline,
    *,
    expected_bucket: str,
) -> Status | None:
    """Apply one bucket event; returns the asset's status, or None when it names no asset."""
    target = parse_original_key(event.key) if event.bucket == expected_bucket else None
    if target is None or event.action is Action.OTHER:
        log.info("ignoring %s of s3://%s/%s", event.action.value, event.bucket, event.key)
        return None
    owner_id, asset_id = target
    try:
        if event.action is Action.CREATED:
            return complete_upload(owner_id, asset_id, pipeline)
        return remove_asset(owner_id, asset_id, pipeline)
    except (AssetNotFound, UploadMissing) as exc:
        # Deleted since, or never presigned: nothing to do, and nothing to retry.
        log.warning("ignoring %s of s3://%s/%s: %s", event.action.value, event.bucket,
                    event.key, exc)
        return None


def remove_asset(owner_id: str, asset_id: UUID, pipeline: Pipeline) -> Status:
    """The original is gone: delete the asset and its derivatives, keeping a tombstone."""
    assets, storage = pipeline.assets, pipeline.storage
    asset = assets.get(owner_id, asset_id)
    if asset is None:
        raise AssetNotFound(f"no asset {asset_id}")
    if asset.status is Status.DUPLICATE:
        return asset.status  # its redundant copy was removed on purpose
    if asset.status is Status.PENDING:
        # Nothing was stored yet, so nothing can have been removed: a forged or confused
        # event must not cancel an upload the user is still sending (abort does that).
        log.warning("asset %s: ignoring the removal of an original not yet uploaded", asset_id)
        return asset.status
    if storage.head(asset.original_key) is not None:
        log.info("asset %s: its original exists again; the removal is stale", asset_id)
        return asset.status
    assets.mark_removed(owner_id, asset_id)
    # Read again: a render may have finished since the first read, and nothing can add
    # derivatives to a deleted asset. Also on a repeat, in case the first one stopped here.
    deleted = assets.get(owner_id, asset_id)
    if deleted is not None:
        storage.delete([derivative.key for derivative in deleted.derivatives])
    return Status.DELETED
