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

import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from lightbox import filetypes
from lightbox.domain import Asset, Lane, NewAsset, Status, ThumbnailJob, original_key
from lightbox.errors import (
    AssetNotFound,
    InvalidField,
    InvalidState,
    LimitReached,
    ObjectNotFound,
    PayloadTooLarge,
    ProjectNotFound,
    UploadIncomplete,
    UploadMissing,
    unknown_names,
)
from lightbox.ports import (
    AssetRepository,
    JobQueue,
    ObjectStore,
    PresignedPart,
    PresignedUpload,
    ProjectRepository,
    StoredObject,
)

MAX_FILENAME_CHARS = 255
MAX_PARTS = 10_000  # S3's limit
# Part URLs in one answer: some 50 kB of JSON, where all of 10,000 parts would be 5 MB.
MAX_PARTS_PER_ANSWER = 100
_MIB = 1024 * 1024
_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")


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


@dataclass(frozen=True)
class Lanes:
    """Originals this large, in bytes or pixels, go to the large lane."""

    large_bytes: int
    large_pixels: int

    def of(self, size_bytes: int, dimensions: tuple[int, int] | None) -> Lane:
        pixels = dimensions[0] * dimensions[1] if dimensions else 0
        large = size_bytes >= self.large_bytes or pixels >= self.large_pixels
        return Lane.LARGE if large else Lane.STANDARD


@dataclass(frozen=True)
class UploadTicket:
    """The answer to a presign request: where to PUT, or the asset that has these bytes."""

    asset_id: UUID
    status: Status
    upload: PresignedUpload | MultipartUpload | None

    @property
    def duplicate(self) -> bool:
        return self.upload is None


def parse_upload_request(body: Mapping[str, Any], *, max_upload_bytes: int) -> UploadRequest:
    unknown = set(body) - {"filename", "content_type", "size_bytes", "sha256", "project_id"}
    if unknown:
        raise unknown_names("fields", unknown)
    return UploadRequest(
        filename=parse_filename(_text(body, "filename")),
        content_type=filetypes.normalise_content_type(_text(body, "content_type")),
        size_bytes=_size(body.get("size_bytes"), max_upload_bytes),
        sha256=_sha256(body.get("sha256")),
        project_id=parse_uuid(body.get("project_id"), "project_id"),
    )


def create_upload(
    owner_id: str,
    request: UploadRequest,
    *,
    assets: AssetRepository,
    projects: ProjectRepository,
    storage: ObjectStore,
    policy: UploadPolicy,
) -> UploadTicket:
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
                   multipart_upload_id=multipart_id)
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
    return UploadTicket(asset_id=asset.id, status=asset.status, upload=upload)


def _known_content(
    owner_id: str, request: UploadRequest, holder: Asset, *, assets: AssetRepository,
    projects: ProjectRepository,
) -> UploadTicket | None:
    """No upload for bytes the owner has: the asset holding them, or, for another project,
    a duplicate of it there (None when the holder stopped being live meanwhile)."""
    if request.project_id is None or request.project_id == holder.project_id:
        return UploadTicket(asset_id=holder.id, status=holder.status, upload=None)
    _check_project(owner_id, request.project_id, projects)
    copy = assets.add_duplicate(
        NewAsset(id=uuid4(), owner_id=owner_id, filename=request.filename,
                 content_type=request.content_type, size_bytes=request.size_bytes,
                 declared_sha256=request.sha256, project_id=request.project_id),
        holder.id,
    )
    return UploadTicket(asset_id=copy.id, status=copy.status, upload=None) if copy else None


def _check_project(owner_id: str, project_id: UUID | None, projects: ProjectRepository) -> None:
    if project_id is not None and projects.get(owner_id, project_id) is None:
        raise ProjectNotFound(f"no project {project_id}")


def parse_parts_query(params: Mapping[str, str]) -> PartsQuery:
    unknown = set(params) - {"first", "limit"}
    if unknown:
        raise unknown_names("query parameters", unknown)
    return PartsQuery(first=parse_whole(params.get("first"), "first", 1, MAX_PARTS),
                      limit=parse_whole(params.get("limit"), "limit", MAX_PARTS_PER_ANSWER,
                                   MAX_PARTS_PER_ANSWER))


def presign_parts(
    owner_id: str, asset_id: UUID, query: PartsQuery, *, assets: AssetRepository,
    storage: ObjectStore, policy: UploadPolicy,
) -> MultipartUpload:
    """URLs for more parts of a pending multipart upload.

    Whoever asks is still uploading: the pending clock restarts, so that the reaper leaves the
    upload alone for these URLs' life.
    """
    asset = _pending_multipart(assets, owner_id, asset_id)
    count = math.ceil(asset.size_bytes / policy.part_size(asset.size_bytes))
    if query.first > count:
        raise InvalidField(f"first must be from 1 to {count}, the upload's last part")
    assets.renew(owner_id, asset_id, Status.PENDING, 0)
    # Read again for the renewed clock; and a complete or abort meanwhile ends the upload.
    return _presign_parts(_pending_multipart(assets, owner_id, asset_id), query,
                          storage=storage, policy=policy)


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


def complete_upload(
    owner_id: str,
    asset_id: UUID,
    *,
    assets: AssetRepository,
    storage: ObjectStore,
    jobs: JobQueue,
    lanes: Lanes,
) -> Status:
    """Verify the uploaded original and queue its thumbnails; returns the asset's status."""
    asset = assets.get(owner_id, asset_id)
    if asset is None:
        raise AssetNotFound(f"no asset {asset_id}")
    if asset.status is Status.UPLOADED:
        # A repeat may follow a send that failed after the state changed: send again,
        # the thumbnail function's claim makes extra jobs harmless.
        queue_job(asset, storage=storage, jobs=jobs, lanes=lanes)
        return asset.status
    if asset.status in (Status.DUPLICATE, Status.DELETED):
        # Its original was removed, so its upload URL, while still valid, could write the key
        # once more: remove that copy too, or it would stay in the bucket unreferenced.
        storage.delete([asset.original_key])
        return asset.status
    if asset.status is not Status.PENDING:
        return asset.status

    stored = storage.head(asset.original_key)
    if stored is None and asset.multipart_upload_id is not None:
        stored = _assemble_parts(asset, storage)
    if stored is None:
        raise UploadMissing(f"nothing was uploaded for asset {asset_id} yet; PUT the file first")
    if stored.size != asset.size_bytes:
        return _reject(
            asset, assets=assets, storage=storage,
            reason=f"size mismatch: {asset.size_bytes} bytes were declared, "
            f"{stored.size} arrived",
        )
    head = storage.read_range(asset.original_key, filetypes.HEADER_BYTES)
    detected = filetypes.sniff(head)
    if detected is None:
        return _reject(
            asset, assets=assets, storage=storage,
            reason=f"unsupported file: this is {filetypes.describe(head)}, "
            f"not {filetypes.SUPPORTED_NAMES}",
        )
    if not assets.mark_uploaded(owner_id, asset_id, detected):
        return _current_status(assets, owner_id, asset_id)
    _send_job(asset, head, jobs=jobs, lanes=lanes)
    return Status.UPLOADED


def _assemble_parts(asset: Asset, storage: ObjectStore) -> StoredObject:
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
        pass  # completed (or aborted) by a concurrent call: the HEAD that follows tells
    stored = storage.head(asset.original_key)
    if stored is None:
        raise UploadMissing(f"the multipart upload of asset {asset.id} is gone and nothing was "
                            "assembled: abort the upload and presign again")
    return stored


def queue_job(asset: Asset, *, storage: ObjectStore, jobs: JobQueue, lanes: Lanes) -> Lane:
    """Send an uploaded asset's thumbnail job (again), to the lane its original belongs in."""
    head = storage.read_range(asset.original_key, filetypes.HEADER_BYTES)
    return _send_job(asset, head, jobs=jobs, lanes=lanes)


def _send_job(asset: Asset, head: bytes, *, jobs: JobQueue, lanes: Lanes) -> Lane:
    lane = lanes.of(asset.size_bytes, filetypes.dimensions(head))
    jobs.send(ThumbnailJob(asset.id, asset.owner_id), lane)
    return lane


def _reject(
    asset: Asset, *, assets: AssetRepository, storage: ObjectStore, reason: str
) -> Status:
    # Tagged before the state changes: a retry after a failed tagging finds it still pending.
    storage.mark_rejected(asset.original_key)
    if assets.mark_failed(asset.owner_id, asset.id, expected=Status.PENDING, reason=reason):
        return Status.FAILED
    return _current_status(assets, asset.owner_id, asset.id)


def _current_status(assets: AssetRepository, owner_id: str, asset_id: UUID) -> Status:
    asset = assets.get(owner_id, asset_id)
    if asset is None:
        raise AssetNotFound(f"no asset {asset_id}")
    return asset.status


def _text(body: Mapping[str, Any], name: str) -> str:
    value = body.get(name)
    if value is None:
        raise InvalidField(f"{name} is required")
    if not isinstance(value, str):
        raise InvalidField(f"{name} must be a string")
    return value


def parse_filename(value: str) -> str:
    # Stored as data and never part of a key; still, no control characters in a name.
    name = unicodedata.normalize("NFC", value).strip()
    if not name:
        raise InvalidField("filename must not be empty")
    if len(name) > MAX_FILENAME_CHARS:
        raise InvalidField(f"filename must be at most {MAX_FILENAME_CHARS} characters")
    if any(unicodedata.category(char) in ("Cc", "Cs") for char in name):
        raise InvalidField("filename must not contain control characters")
    return name


def _size(value: Any, max_upload_bytes: int) -> int:
    if value is None:
        raise InvalidField("size_bytes is required")
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidField("size_bytes must be a whole number of bytes")
    if value < 1:
        raise InvalidField("size_bytes must be at least 1")
    if value > max_upload_bytes:
        # Not echoed: it may be hundreds of digits long, and answers stay small.
        raise PayloadTooLarge(f"size_bytes is over the limit of {max_upload_bytes} bytes")
    return value


def parse_whole(raw: str | None, name: str, default: int, maximum: int) -> int:
    """A whole number from 1 to ``maximum`` in a query parameter; ``default`` when absent."""
    if raw is None:
        return default
    # Bounded before int(), which refuses strings of over 4300 digits with a ValueError.
    if not (raw.isascii() and raw.isdigit() and len(raw) <= len(str(maximum))) \
            or not 1 <= int(raw) <= maximum:
        raise InvalidField(f"{name} must be a whole number from 1 to {maximum}")
    return int(raw)


def _sha256(value: Any) -> str | None:
    if value is None:
        return None
    # fullmatch: with match, "$" also matches before a trailing newline.
    if not isinstance(value, str) or not _SHA256.fullmatch(value):
        raise InvalidField("sha256 must be 64 hexadecimal characters")
    return value.lower()


def parse_uuid(value: Any, name: str) -> UUID | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            return UUID(value)
        except ValueError:
            pass
    raise InvalidField(f"{name} must be a UUID")
