"""From a client's declaration to a verified original in the bucket.

``create_upload`` (presign) records the asset as pending and signs a PUT for its key — or,
for a large original, starts a multipart upload and signs a PUT for each of its first parts
(``presign_parts`` signs the others on request, so that even 10,000 parts cost small
answers); for bytes the owner already has (a declared sha256) it answers with the asset
holding them, or with a duplicate of it in the project the upload names. ``complete_upload``
(upload-complete, from a bucket event, the HTTP route or the reaper) assembles the parts if
there are any, checks what arrived and queues the thumbnail job in its lane. Both are safe
to repeat. Parts the bucket refuses to assemble (InvalidParts) leave the asset pending and
the multipart upload open, so that the client can PUT them again or abort.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID, uuid4

from lightbox import filetypes
from lightbox.domain import (
    Asset,
    Declared,
    Lane,
    NewAsset,
    Status,
    ThumbnailJob,
    original_key,
)
from lightbox.errors import (
    AssetNotFound,
    InvalidField,
    InvalidState,
    LimitReached,
    ObjectNotFound,
    ProjectNotFound,
    UploadIncomplete,
    UploadMissing,
)
from lightbox.ports import AssetRepository, Metrics, ObjectStore, Pipeline, ProjectRepository
from lightbox.telemetry import about
from lightbox.values import PresignedPart, PresignedUpload

log = logging.getLogger(__name__)

MAX_PARTS = 10_000  # S3's limit
# Part URLs in one answer: some 50 kB of JSON, where all of 10,000 parts would be 5 MB.
MAX_PARTS_PER_ANSWER = 100
_MIB = 1024 * 1024


@dataclass(frozen=True)
class UploadPolicy:
    url_ttl: int
    multipart_threshold: int  # originals of this many bytes or more go in parts
    part_bytes: int
    max_pending: int  # uploads an owner may have begun and not finished

    def part_size(self, size_bytes: int) -> int:
        """The configured part size, grown (in whole MiB) when the parts would be too many."""
        needed = math.ceil(size_bytes / MAX_PARTS)
        return max(self.part_bytes, math.ceil(needed / _MIB) * _MIB)


@dataclass(frozen=True)
class MultipartUpload:
    """Presigned PUTs of some of the ``part_count`` parts, in order; ``complete`` assembles
    them once every part arrived."""

    part_size: int
    part_count: int
    parts: tuple[PresignedPart, ...]
    expires_at: datetime


@dataclass(frozen=True)
class PartsQuery:
    first: int = 1
    limit: int = MAX_PARTS_PER_ANSWER


@dataclass(frozen=True)
class UploadRequest:
    filename: str
    content_type: str
    size_bytes: int
    sha256: str | None = None
    project_id: UUID | None = None
    declared: Declared = field(default_factory=Declared)


@dataclass(frozen=True)
class UploadTicket:
    """The answer to a presign request: where to PUT, or the asset that has these bytes."""

    asset_id: UUID
    status: Status
    upload: PresignedUpload | MultipartUpload | None

    @property
    def duplicate(self) -> bool:
        return self.upload is None


def create_upload(
    owner_id: str,
    request: UploadRequest,
    pipeline: Pipeline,
    *,
    projects: ProjectRepository,
    policy: UploadPolicy,
) -> UploadTicket:
    assets, storage = pipeline.assets, pipeline.storage
    if request.sha256 is not None:
        holder = assets.find_by_content(owner_id, request.sha256)
        known = None if holder is None else _known_content(
            owner_id, request, holder, assets=assets, projects=projects)
        if known is not None:
            return known
    _check_project(owner_id, request.project_id, projects)
    asset_id = uuid4()
    key = original_key(owner_id, asset_id)
    multipart_id = None
    if request.size_bytes >= policy.multipart_threshold:
        # Started before the asset is recorded (with its id), so that the limit is counted and
        # the row inserted in one step; a refused upload aborts it again.
        multipart_id = storage.start_multipart(key, content_type=request.content_type)
    new = NewAsset(id=asset_id, owner_id=owner_id, filename=request.filename,
                   content_type=request.content_type, size_bytes=request.size_bytes,
                   declared_sha256=request.sha256, project_id=request.project_id,
                   multipart_upload_id=multipart_id, declared=request.declared)
    try:
        asset = assets.add(new, max_pending=policy.max_pending)
    except LimitReached:
        if multipart_id is not None:
            storage.abort_multipart(key, multipart_id)
        raise
    upload: PresignedUpload | MultipartUpload
    if multipart_id is not None:
        upload = _presign_parts(asset, PartsQuery(), storage=storage, policy=policy)
    else:
        upload = storage.presign_put(
            key, content_type=asset.content_type, size_bytes=asset.size_bytes,
            expires_in=policy.url_ttl, sha256=request.sha256,
        )
    with about(asset_id=asset.id, owner=owner_id):
        log.info("asset %s: the upload of %d bytes of %s presigned%s", asset.id,
                 asset.size_bytes, asset.content_type, " in parts" if multipart_id else "")
    return UploadTicket(asset_id=asset.id, status=asset.status, upload=upload)


def _known_content(
    owner_id: str, request: UploadRequest, holder: Asset, *, assets: AssetRepository,
    projects: ProjectRepository,
) -> UploadTicket | None:
    """No upload for bytes the owner has: the asset holding them, or, for another project,
    a duplicate of it there (None when the holder stopped being live meanwhile). What the
    request declares of the bytes goes to the holder where it has none; a holder in the trash
    comes out of it, since its owner is sending those bytes again."""
    if holder.trashed_at is not None:
        restored = assets.restore(owner_id, holder.id)
        if restored is None:
            return None
        holder = restored
    if request.declared:
        assets.fill_declared(owner_id, holder.id, request.declared)
    if request.project_id is None or request.project_id == holder.project_id:
        return UploadTicket(asset_id=holder.id, status=holder.status, upload=None)
    _check_project(owner_id, request.project_id, projects)
    copy = assets.add_duplicate(
        NewAsset(id=uuid4(), owner_id=owner_id, filename=request.filename,
                 content_type=request.content_type, size_bytes=request.size_bytes,
                 declared_sha256=request.sha256, project_id=request.project_id,
                 declared=request.declared),
        holder.id,
    )
    return UploadTicket(asset_id=copy.id, status=copy.status, upload=None) if copy else None


def _check_project(owner_id: str, project_id: UUID | None, projects: ProjectRepository) -> None:
    if project_id is not None and projects.get(owner_id, project_id) is None:
        raise ProjectNotFound(f"no project {project_id}")


def presign_parts(
    owner_id: str, asset_id: UUID, query: PartsQuery, pipeline: Pipeline, *,
    policy: UploadPolicy,
) -> MultipartUpload:
    """URLs for more parts of a pending multipart upload.

    Whoever asks is still uploading: the pending clock restarts, so that the reaper leaves the
    upload alone for these URLs' life.
    """
    assets = pipeline.assets
    asset = _pending_multipart(assets, owner_id, asset_id)
    count = math.ceil(asset.size_bytes / policy.part_size(asset.size_bytes))
    if query.first > count:
        raise InvalidField(f"first must be from 1 to {count}, the upload's last part")
    assets.renew(owner_id, asset_id, Status.PENDING, 0)
    # Read again for the renewed clock; and a complete or abort meanwhile ends the upload.
    return _presign_parts(_pending_multipart(assets, owner_id, asset_id), query,
                          storage=pipeline.storage, policy=policy)


def _pending_multipart(assets: AssetRepository, owner_id: str, asset_id: UUID) -> Asset:
    asset = assets.get(owner_id, asset_id)
    if asset is None or asset.status is Status.DELETED:
        raise AssetNotFound(f"no asset {asset_id}")
    if asset.status is not Status.PENDING:
        raise InvalidState(f"asset {asset_id} is {asset.status.value}: its upload is over")
    if asset.multipart_upload_id is None:
        raise InvalidState(f"asset {asset_id} is not uploaded in parts: PUT it to its URL")
    return asset


def _presign_parts(
    asset: Asset, query: PartsQuery, *, storage: ObjectStore, policy: UploadPolicy
) -> MultipartUpload:
    assert asset.multipart_upload_id is not None
    part_size = policy.part_size(asset.size_bytes)
    count = math.ceil(asset.size_bytes / part_size)
    parts = []
    for number in range(query.first, min(count, query.first + query.limit - 1) + 1):
        size = min(part_size, asset.size_bytes - (number - 1) * part_size)
        # Each URL is signed for its part's size: a part of another size never reaches the
        # bucket, where it would only make the assembly fail.
        url = storage.presign_part(asset.original_key, asset.multipart_upload_id, number,
                                   size_bytes=size, expires_in=policy.url_ttl)
        parts.append(PresignedPart(number=number, size=size, url=url))
    # The URLs live from the pending clock's last start: the presign, or the last renewal.
    expires_at = asset.updated_at + timedelta(seconds=policy.url_ttl)
    return MultipartUpload(part_size=part_size, part_count=count, parts=tuple(parts),
                           expires_at=expires_at)


def complete_upload(owner_id: str, asset_id: UUID, pipeline: Pipeline) -> Status:
    """Verify the uploaded original and queue its thumbnails; returns the asset's status."""
    with about(asset_id=asset_id, owner=owner_id):
        return _complete_upload(owner_id, asset_id, pipeline)


def _complete_upload(owner_id: str, asset_id: UUID, pipeline: Pipeline) -> Status:
    assets, storage = pipeline.assets, pipeline.storage
    asset = assets.get(owner_id, asset_id)
    if asset is None:
        raise AssetNotFound(f"no asset {asset_id}")
    if asset.status is not Status.PENDING:
        return _completed_before(asset, pipeline)

    started = storage.read_start(asset.original_key, filetypes.HEADER_BYTES)
    if started is None and asset.multipart_upload_id is not None:
        _assemble_parts(asset, storage)
        started = storage.read_start(asset.original_key, filetypes.HEADER_BYTES)
        if started is None:
            raise UploadMissing(f"the multipart upload of asset {asset.id} is gone and nothing "
                                "was assembled: abort the upload and presign again")
    if started is None:
        current = _current_status(assets, owner_id, asset_id)
        if current is not Status.PENDING:
            # Its bucket event completed it meanwhile, and the copy may already be gone as a
            # duplicate's: the upload did arrive.
            return current
        raise UploadMissing(f"nothing was uploaded for asset {asset_id} yet; PUT the file first")
    stored, head = started
    if stored.size != asset.size_bytes:
        return _reject(
            asset, assets=assets, storage=storage,
            reason=f"size mismatch: {asset.size_bytes} bytes were declared, "
            f"{stored.size} arrived", metrics=pipeline.metrics, code="size_mismatch",
        )
    detected = filetypes.sniff(head)
    if detected is None:
        return _reject(
            asset, assets=assets, storage=storage,
            reason=f"unsupported file: this is {filetypes.describe(head)}, "
            f"not {filetypes.SUPPORTED_NAMES}", metrics=pipeline.metrics, code="unsupported",
        )
    if not assets.mark_uploaded(owner_id, asset_id, detected):
        return _current_status(assets, owner_id, asset_id)
    lane = send_job(asset, head, pipeline, accepted_at=time.time())
    log.info("asset %s: uploaded (%s, %d bytes), its job sent to the %s lane", asset.id,
             detected, stored.size, lane.value)
    return Status.UPLOADED


def _completed_before(asset: Asset, pipeline: Pipeline) -> Status:
    """A completion repeated after the upload was verified."""
    if asset.status is Status.UPLOADED:
        # A repeat may follow a send that failed after the state changed: send again,
        # the thumbnail function's claim makes extra jobs harmless. Not for an import's copy,
        # whose event comes while the job the import sent waits behind thousands: sent again
        # each time, the backfill would double. A lost one is sent again by the reaper.
        if asset.import_id is None:
            try:
                queue_job(asset, pipeline)
            except ObjectNotFound:
                # Rendered meanwhile and found a duplicate (or deleted): its original is gone,
                # and there is nothing to send. The repeat answers what the asset is now.
                return _current_status(pipeline.assets, asset.owner_id, asset.id)
    elif asset.status in (Status.DUPLICATE, Status.DELETED):
        # Its original was removed, so its upload URL, while still valid, could write the key
        # once more: remove that copy too, or it would stay in the bucket unreferenced.
        pipeline.storage.delete([asset.original_key])
    return asset.status


def _assemble_parts(asset: Asset, storage: ObjectStore) -> None:
    assert asset.multipart_upload_id is not None
    try:
        parts = storage.uploaded_parts(asset.original_key, asset.multipart_upload_id)
        received = sum(part.size for part in parts)
        if received < asset.size_bytes:
            raise UploadIncomplete(
                f"{received} of {asset.size_bytes} bytes have arrived in {len(parts)} parts; "
                "PUT the missing parts, then complete again"
            )
        storage.complete_multipart(asset.original_key, asset.multipart_upload_id,
                                   sorted(parts, key=lambda part: part.number))
    except ObjectNotFound:
        pass  # completed (or aborted) by a concurrent call: the read that follows tells


def queue_job(asset: Asset, pipeline: Pipeline) -> Lane:
    """Send an uploaded asset's thumbnail job (again), to the lane its original belongs in."""
    head = pipeline.storage.read_range(asset.original_key, filetypes.HEADER_BYTES)
    return send_job(asset, head, pipeline)


def send_job(asset: Asset, head: bytes, pipeline: Pipeline, *,
             accepted_at: float | None = None) -> Lane:
    """Send an uploaded asset's thumbnail job, to the lane its original (its first bytes:
    ``head``) belongs in. ``accepted_at``: when its upload was accepted, given only the first
    time, so that the render can report how long the upload took to be ready."""
    lane = pipeline.lanes.of(asset.size_bytes, filetypes.dimensions(head),
                             video=filetypes.sniff(head) in filetypes.VIDEO,
                             background=asset.import_id is not None)
    pipeline.jobs.send(ThumbnailJob(asset.id, asset.owner_id, accepted_at=accepted_at), lane)
    return lane


def _reject(
    asset: Asset, *, assets: AssetRepository, storage: ObjectStore, reason: str,
    metrics: Metrics, code: str,
) -> Status:
    # Tagged before the state changes: a retry after a failed tagging finds it still pending.
    storage.mark_rejected(asset.original_key)
    if assets.mark_failed(asset.owner_id, asset.id, expected=Status.PENDING, reason=reason):
        log.warning("asset %s: rejected: %s", asset.id, reason)
        metrics.record("Failures", 1, "Count", Reason=code)
        return Status.FAILED
    return _current_status(assets, asset.owner_id, asset.id)


def _current_status(assets: AssetRepository, owner_id: str, asset_id: UUID) -> Status:
    asset = assets.get(owner_id, asset_id)
    if asset is None:
        raise AssetNotFound(f"no asset {asset_id}")
    return asset.status


