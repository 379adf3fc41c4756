"""Turn an uploaded original into its derivatives, exactly once.

The claim (uploaded → processing) decides which worker renders an asset; extra jobs for the
same asset find nothing to claim and end there. A worker that dies leaves its claim to
expire after ``lease_seconds``, by when its own message is visible again and re-claims it.
A file that cannot be rendered fails at once; a transient error hands the asset back
(processing → uploaded) and lets the queue retry, up to ``max_attempts`` claims. The last
attempt's error fails the asset with its reason and is still raised, so that the message goes
on to the dead-letter queue (``maxReceiveCount`` equals ``max_attempts``), from which
``redrive`` sends it back once the cause is mended.

Every attempt hashes the bytes afresh (the claim forgets an earlier attempt's hash), so a copy
of the same bytes that became live in between makes the retry a duplicate instead of a
collision. An error that even the release cannot record leaves the claim to expire: the
reaper sends the job again after the lease, and that claim counts one more attempt.

An image is downloaded to a file once, hashed on the way. A clip is never downloaded: its
bytes stream through the hash and are dropped, and the video core reads only its index and the
packets of its poster, through ranged GETs.

``rerender_job`` makes a ready asset's derivatives again with the current spec, when
``lightbox admin rerender`` asks (``services/rerender.py``). The asset stays ready and listed
throughout: a lease of its own (not a state) keeps a second worker off it, the new derivatives
replace the old in one conditional UPDATE (one change in the feed), and only then are keys no
longer listed deleted. Its bytes were hashed when it was first rendered: they are read, not
hashed again, and the original is never written.

A large image's deep-zoom tiles (``RenderedTiles``) are made one by one as they are stored,
while the original is still at hand, and PUT a few at a time: a scan has a thousand or more.
Their keys follow from the pyramid recorded with the asset, so that whatever drops an asset's
tiles names them without listing the bucket.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import AbstractContextManager, closing, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO, TypeVar
from uuid import UUID

from lightbox import filetypes
from lightbox.domain import (
    Asset,
    Derivative,
    Pyramid,
    RenderedImage,
    RenderedTiles,
    RenderSpec,
    Rendition,
    Status,
    ThumbnailJob,
    Tile,
    derivative_key,
    tile_key,
)
from lightbox.errors import Conflict, ImageError, ObjectNotFound
from lightbox.ports import AssetRepository, Metrics, ObjectStore, Pipeline
from lightbox.ranged import RangedObject
from lightbox.telemetry import about

log = logging.getLogger(__name__)

MEDIA_TYPES = {"jpeg": "image/jpeg", "webp": "image/webp"}
EXTENSIONS = {"jpeg": "jpg", "webp": "webp"}
# Tiles PUT at once (within botocore's pool of 10 connections); twice as many are made ahead
# of the uploads, no more, so that memory holds a few dozen tiles at most.
TILE_UPLOADS = 8


Original = TypeVar("Original", Path, BinaryIO)
# How a lane gets at an original: its sha256, and what its renderer reads.
Opener = Callable[[ObjectStore, Asset], AbstractContextManager[tuple[str, Original]]]
# How a lane reads an original whose sha256 is already known (a rerender).
Reader = Callable[[ObjectStore, Asset], AbstractContextManager[Original]]


@dataclass(frozen=True)
class ProcessingPolicy:
    lease_seconds: int
    max_attempts: int


@contextmanager
def downloaded(storage: ObjectStore, asset: Asset) -> Iterator[tuple[str, Path]]:
    """The image lanes': the original in a temporary file, hashed as it was written."""
    with tempfile.TemporaryDirectory(prefix="lightbox-") as workdir:
        original = Path(workdir) / "original"
        with original.open("wb") as file:
            sha256 = streamed_sha256(storage, asset.original_key, into=file)
        yield sha256, original


@contextmanager
def saved(storage: ObjectStore, asset: Asset) -> Iterator[Path]:
    """The image lanes' rerender: the original in a temporary file, not hashed."""
    with tempfile.TemporaryDirectory(prefix="lightbox-") as workdir:
        original = Path(workdir) / "original"
        with original.open("wb") as file:
            for chunk in storage.iter_chunks(asset.original_key):
                file.write(chunk)
        yield original


@contextmanager
def seekable(storage: ObjectStore, asset: Asset) -> Iterator[BinaryIO]:
    """The video lane's rerender: the clip read where the video core asks, never streamed."""
    yield RangedObject(storage, asset.original_key, asset.size_bytes)  # type: ignore[misc]


@contextmanager
def ranged(storage: ObjectStore, asset: Asset) -> Iterator[tuple[str, BinaryIO]]:
    """The video lane's: the clip hashed as it streams past, then read where it is asked."""
    sha256 = streamed_sha256(storage, asset.original_key)
    clip = RangedObject(storage, asset.original_key, asset.size_bytes)
    try:
        yield sha256, clip  # type: ignore[misc]  # a RawIOBase reads as a BinaryIO does
    finally:
        log.info("asset %s: the poster read %d bytes in %d requests", asset.id,
                 clip.fetched_bytes, clip.requests)


def process_job(
    job: ThumbnailJob,
    pipeline: Pipeline,
    *,
    render: Callable[[Original, RenderSpec], Rendition],
    spec: RenderSpec,
    policy: ProcessingPolicy,
    open_original: Opener[Original] = downloaded,  # type: ignore[assignment]
) -> Status | None:
    """Render one asset; returns its new status, or None when there was nothing to do."""
    with about(asset_id=job.asset_id, owner=job.owner_id):
        assets, storage, metrics = pipeline.assets, pipeline.storage, pipeline.metrics
        asset = assets.claim(job.owner_id, job.asset_id, policy.lease_seconds)
        if asset is None:
            log.info("asset %s is not waiting for thumbnails", job.asset_id)
            _tidy_duplicate(job, assets=assets, storage=storage)
            return None
        if asset.attempts > policy.max_attempts:
            return _fail(assets, asset,
                         f"gave up after {policy.max_attempts} attempts: {asset.error}",
                         code="gave_up", metrics=metrics)
        try:
            status = _render_and_store(asset, assets=assets, storage=storage, render=render,
                                       spec=spec, open_original=open_original, metrics=metrics)
        except ImageError as exc:
            return _fail(assets, asset, str(exc), code="unprocessable", metrics=metrics)
        except ObjectNotFound:
            return _fail(assets, asset, "the original is no longer in the bucket",
                         code="original_missing", metrics=metrics)
        except Exception as exc:
            # Said here, where the line carries the asset; the batch logs the traceback.
            log.warning("asset %s: attempt %d failed: %s", asset.id, asset.attempts, exc)
            if asset.attempts >= policy.max_attempts:
                _fail(assets, asset, f"gave up after {asset.attempts} attempts: {exc}",
                      code="gave_up", metrics=metrics)
            else:
                _release(assets, asset, f"attempt {asset.attempts} failed: {exc}")
            raise
        if status is Status.READY:
            kind = filetypes.kind_of(asset.content_type)
            metrics.record("Renders", 1, "Count", Kind=kind)
            if job.accepted_at is not None:
                metrics.record("UploadToReady", max(0.0, time.time() - job.accepted_at) * 1000,
                               "Milliseconds", Kind=kind)
        return status


def _render_and_store(
    asset: Asset,
    *,
    assets: AssetRepository,
    storage: ObjectStore,
    render: Callable[[Original, RenderSpec], Rendition],
    spec: RenderSpec,
    open_original: Opener[Original],
    metrics: Metrics,
) -> Status | None:
    with open_original(storage, asset) as (sha256, original):
        if asset.declared_sha256 and asset.declared_sha256 != sha256:
            return _fail(
                assets, asset,
                f"the uploaded bytes hash to {sha256}, not the declared {asset.declared_sha256}",
                code="hash_mismatch", metrics=metrics,
            )
        original_id = assets.record_content(asset.owner_id, asset.id, sha256)
        if original_id is not None:
            return _mark_duplicate(asset, original_id, assets=assets, storage=storage)
        rendition = render(original, spec)
        tiles = store_tiles(asset, rendition.tiles, storage)
    # What the original does not say, its client may have (a Takeout sidecar).
    info = replace(rendition.info,
                   taken_at=rendition.info.taken_at or asset.declared.taken_at,
                   has_location=True if asset.declared.location else rendition.info.has_location)

    derivatives = store_images(asset, rendition.images, storage)
    if not assets.mark_ready(asset.owner_id, asset.id, info, derivatives,
                             rendition.placeholder, render_spec=spec.fingerprint,
                             perceptual_hash=rendition.perceptual_hash, tiles=tiles):
        current = assets.get(asset.owner_id, asset.id)
        if current is None or current.status is Status.DELETED:
            # Deleted while rendering: what was just written belongs to nothing.
            storage.delete(_keys(asset, derivatives, tiles))
        log.warning("asset %s changed state while rendering; its result was dropped", asset.id)
        return None
    log.info("asset %s ready: %d derivatives%s", asset.id, len(derivatives),
             f", {tiles.count()} tiles" if tiles else "")
    return Status.READY


def store_images(asset: Asset, images: Iterable[RenderedImage],
                 storage: ObjectStore) -> list[Derivative]:
    """PUT each rendered image at its derivative key; the derivatives as an asset lists them."""
    derivatives = []
    for image in images:
        key = derivative_key(asset.owner_id, asset.id, image.page, image.size,
                             EXTENSIONS[image.format])
        storage.put(key, image.data, MEDIA_TYPES[image.format])
        derivatives.append(
            Derivative(size=image.size, page=image.page, format=image.format,
                       width=image.width, height=image.height, key=key, bytes=len(image.data))
        )
    return derivatives


def store_tiles(asset: Asset, tiles: RenderedTiles | None,
                storage: ObjectStore) -> Pyramid | None:
    """Make the tiles and PUT each at its key as it is made, ``TILE_UPLOADS`` at a time; the
    pyramid stored. A page that cannot be cut into tiles (an ImageError) leaves the asset
    without tiles, its thumbnails are what matters; any other failure is raised for the queue
    to retry. Either way, what this attempt wrote that the asset does not already have is
    deleted again."""
    if tiles is None:
        return None
    try:
        made = tiles.make()
    except ImageError as exc:
        log.warning("asset %s: no tiles, its page could not be decoded whole: %s", asset.id, exc)
        return None
    if made is None:
        return None
    pyramid, images = made
    try:
        with closing(images):
            _put_each(asset, images, storage)
    except ImageError as exc:
        _drop_new_tiles(asset, pyramid, storage)
        log.warning("asset %s: no tiles, its page could not be cut into them: %s", asset.id, exc)
        return None
    except Exception:
        _drop_new_tiles(asset, pyramid, storage)
        raise
    return pyramid


def _put_each(asset: Asset, images: Iterable[tuple[Tile, bytes]], storage: ObjectStore) -> None:
    with ThreadPoolExecutor(TILE_UPLOADS, thread_name_prefix="tiles") as pool:
        uploading: set[Future[None]] = set()
        for tile, data in images:
            if len(uploading) >= 2 * TILE_UPLOADS:
                done, uploading = wait(uploading, return_when=FIRST_COMPLETED)
                for upload in done:
                    upload.result()  # the first failure stops the making of more
            uploading.add(pool.submit(storage.put, tile_key(asset.owner_id, asset.id, tile),
                                      data, MEDIA_TYPES["jpeg"]))
        for upload in wait(uploading).done:
            upload.result()


def _drop_new_tiles(asset: Asset, pyramid: Pyramid, storage: ObjectStore) -> None:
    """Delete the tiles of ``pyramid`` but those the asset's own pyramid has (a rerender's of
    the same size writes the keys the asset already lists)."""
    kept = set(_tile_keys(asset, asset.tiles))
    try:
        storage.delete([key for key in _tile_keys(asset, pyramid) if key not in kept])
    except Exception:
        # The error that stopped the tiles matters more; deleting the asset drops these too.
        log.exception("asset %s: could not drop the tiles of a failed attempt", asset.id)


def _tile_keys(asset: Asset, pyramid: Pyramid | None) -> list[str]:
    """The keys of an asset's tiles, from its pyramid."""
    if pyramid is None:
        return []
    return [tile_key(asset.owner_id, asset.id, tile) for tile in pyramid.tiles()]


def _keys(asset: Asset, derivatives: Iterable[Derivative], tiles: Pyramid | None) -> list[str]:
    return [derivative.key for derivative in derivatives] + _tile_keys(asset, tiles)


def rerender_job(
    job: ThumbnailJob,
    pipeline: Pipeline,
    *,
    render: Callable[[Original, RenderSpec], Rendition],
    spec: RenderSpec,
    policy: ProcessingPolicy,
    read_original: Reader[Original] = saved,  # type: ignore[assignment]
) -> bool:
    """Make a ready asset's derivatives again with ``spec``; True when they were replaced.

    Nothing to do when the asset is no longer ready, is already on this spec, or another
    worker holds its lease. A render that fails leaves the asset ready with its old
    derivatives: an ImageError ends there (the file did render before, under other limits),
    anything else is raised for the queue to retry. Keys written by a render whose asset was
    deleted meanwhile are deleted again; those of a lease taken over are left to its new
    holder, which writes the same keys.
    """
    with about(asset_id=job.asset_id, owner=job.owner_id):
        assets, storage = pipeline.assets, pipeline.storage
        fingerprint = spec.fingerprint
        lease = assets.take_rerender(job.owner_id, job.asset_id, fingerprint, policy.lease_seconds)
        if lease is None:
            log.info("asset %s: no rerender to do (not ready, up to date, or taken)", job.asset_id)
            return False
        asset = lease.asset
        try:
            with read_original(storage, asset) as original:
                rendition = render(original, spec)
                tiles = store_tiles(asset, rendition.tiles, storage)
        except (ImageError, ObjectNotFound) as exc:
            log.warning("asset %s: left as it was, its rerender failed: %s", asset.id, exc)
            return False
        derivatives = store_images(asset, rendition.images, storage)
        replaced = assets.replace_derivatives(
            lease, derivatives, rendition.placeholder, fingerprint,
            perceptual_hash=rendition.perceptual_hash, tiles=tiles)
        if replaced is None:
            current = assets.get(asset.owner_id, asset.id)
            if current is None or current.status is not Status.READY:
                # Deleted (or removed) while rendering: what was just written belongs to nothing.
                storage.delete(_keys(asset, derivatives, tiles))
            log.warning("asset %s changed while rerendering; its result was dropped", asset.id)
            return False
        # The tiles replaced are those of the pyramid recorded when the lease was taken: only a
        # render holding the lease changes it.
        kept = set(_keys(asset, derivatives, tiles))
        storage.delete([key for key in _keys(asset, replaced, asset.tiles) if key not in kept])
        log.info("asset %s rerendered: %d derivatives", asset.id, len(derivatives))
        return True


def _mark_duplicate(
    asset: Asset, original_id: UUID, *, assets: AssetRepository, storage: ObjectStore
) -> Status | None:
    if asset.declared:
        # What its client declared of these bytes is theirs too, where they have none.
        assets.fill_declared(asset.owner_id, original_id, asset.declared)
    if not assets.mark_duplicate(asset.owner_id, asset.id, original_id):
        current = assets.get(asset.owner_id, asset.id)
        if current is None or current.status is not Status.PROCESSING:
            log.warning("asset %s changed state while hashing; nothing to do", asset.id)
            return None
        # The asset holding these bytes was deleted meanwhile: the retry hashes afresh and
        # finds this asset the only copy.
        raise Conflict(f"asset {original_id}, which holds the same bytes, is no longer live")
    _drop_copies(asset, storage)
    return Status.DUPLICATE


def _tidy_duplicate(job: ThumbnailJob, *, assets: AssetRepository, storage: ObjectStore) -> None:
    """Finish what an attempt that failed after marking its asset a duplicate left behind."""
    current = assets.get(job.owner_id, job.asset_id)
    if current is not None and current.status is Status.DUPLICATE:
        _drop_copies(current, storage)


def _drop_copies(asset: Asset, storage: ObjectStore) -> None:
    # The same bytes are stored under the asset it duplicates; what an earlier attempt
    # rendered before it failed belongs to nothing.
    storage.delete([asset.original_key])
    storage.delete_prefix(asset.derivatives_prefix)


def streamed_sha256(storage: ObjectStore, key: str, into: BinaryIO | None = None) -> str:
    """Stream an object once, hashing it on the way; written ``into`` a file when one is
    given."""
    digest = hashlib.sha256()
    for chunk in storage.iter_chunks(key):
        digest.update(chunk)
        if into is not None:
            into.write(chunk)
    return digest.hexdigest()


def _fail(assets: AssetRepository, asset: Asset, reason: str, *, code: str,
          metrics: Metrics) -> Status:
    log.info("asset %s failed: %s", asset.id, reason)
    if assets.mark_failed(asset.owner_id, asset.id, expected=Status.PROCESSING, reason=reason):
        metrics.record("Failures", 1, "Count", Reason=code)
    return Status.FAILED


def _release(assets: AssetRepository, asset: Asset, reason: str) -> None:
    try:
        assets.release(asset.owner_id, asset.id, reason)
    except Exception:
        # The lease expires anyway; the retry must not be lost to a second failure.
        log.exception("could not release asset %s", asset.id)
