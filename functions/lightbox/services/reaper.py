"""The reaper: what at-least-once delivery can still lose, found by age and put right.

- ``pending`` past its upload URL's life: the bucket event may be lost; if the original is
  there, complete the upload, otherwise the upload never came and the asset fails.
- ``uploaded`` for long: its thumbnail job was lost (or went to the dead-letter queue);
  send it again. An asset an import adopted waits behind the whole backfill: its job counts
  as lost only once the backfill queue has drained.
- a multipart upload whose parts all arrived is assembled as ``complete`` would; one with
  parts missing past its URLs' life is aborted, and the asset fails.
- ``processing`` past the claim's lease: its worker died and its message is gone; send the
  job again, and the next claim takes over. Every claim counts an attempt, so an asset that
  always fails ends ``failed`` instead of circling forever.

A re-driven asset's waiting clock restarts, so a job stuck behind a long queue is sent again
once per period, not on every run, and two overlapping runs never both send it.

``recover`` does the same at once, whatever the age, for a restart that lost what the queues
held (the local stack keeps its queues in memory) or after an incident on AWS.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from lightbox.domain import Asset, Status
from lightbox.errors import InvalidParts, ObjectNotFound, UploadIncomplete, UploadMissing
from lightbox.ports import Pipeline
from lightbox.services.imports import backfill_backlog
from lightbox.services.uploads import complete_upload, queue_job

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReaperPolicy:
    pending_seconds: int  # the upload URL's life and some grace
    uploaded_seconds: int
    processing_seconds: int  # the claim's lease
    trash_days: int = 30  # then what is in the trash is deleted for good
    purge_after_seconds: int = 60  # a deletion still under way is not the reaper's
    # An import's page outlives the importer's 15 minutes only when its worker is gone.
    import_seconds: int = 1200
    batch: int = 200  # assets of each kind per run, so that a run stays short


@dataclass
class Reaped:
    completed: int = 0
    expired: int = 0
    redriven: int = 0
    errors: int = 0  # assets whose handling failed this run (logged, and left for the next)


def reap(pipeline: Pipeline, policy: ReaperPolicy) -> Reaped:
    assets = pipeline.assets
    reaped = Reaped()
    # An import's pending copies are its own to finish: a page listed again copies them.
    for asset in assets.waiting(Status.PENDING, policy.pending_seconds, policy.batch):
        with _isolated(asset, reaped):
            _finish_pending(asset, reaped, pipeline)
    waits = [(Status.UPLOADED, policy.uploaded_seconds, False),
             (Status.PROCESSING, policy.processing_seconds, False),
             (Status.PROCESSING, policy.processing_seconds, True)]
    if _backfill_drained(pipeline):
        # An imported asset's job waits behind the whole backfill: only once the backfill
        # queue is empty does one still uploaded show that its job was lost.
        waits.append((Status.UPLOADED, policy.uploaded_seconds, True))
    for status, age, imported in waits:
        for asset in assets.waiting(status, age, policy.batch, imported=imported):
            with _isolated(asset, reaped):
                if assets.renew(asset.owner_id, asset.id, status, age):
                    _redrive(asset, status, pipeline)
                    reaped.redriven += 1
    log.info("reaper: %d completed, %d expired, %d re-driven, %d errors", reaped.completed,
             reaped.expired, reaped.redriven, reaped.errors)
    return reaped


@dataclass
class Recovered:
    completed: int = 0  # pending uploads whose bytes had arrived
    requeued: int = 0  # uploaded or interrupted assets whose job was sent again
    errors: int = 0  # assets that could not be recovered now (the reaper tries again)


def recover(pipeline: Pipeline, *, before: datetime, batch: int = 200) -> Recovered:
    """Move on every asset left waiting since before ``before``, at once.

    Run when no worker is running since ``before`` (the local stack runs it as it starts):
    a ``processing`` asset's worker is then known dead. An upload whose bytes have not come
    stays ``pending``; its URL may still be used, and the reaper expires it otherwise.
    """
    recovered = Recovered()
    for status in (Status.PENDING, Status.UPLOADED, Status.PROCESSING):
        after: tuple[datetime, UUID] | None = None
        while page := pipeline.assets.stranded(status, before=before, after=after, limit=batch):
            for asset in page:
                with _isolated(asset, recovered):
                    _recover_one(asset, recovered, pipeline)
            after = (page[-1].updated_at, page[-1].id)
    log.info("recovery: %d completed, %d requeued, %d errors", recovered.completed,
             recovered.requeued, recovered.errors)
    return recovered


def _recover_one(asset: Asset, recovered: Recovered, pipeline: Pipeline) -> None:
    if asset.status is Status.PENDING:
        try:
            status = complete_upload(asset.owner_id, asset.id, pipeline)
        except (UploadMissing, UploadIncomplete):
            return
        recovered.completed += status is not Status.PENDING
        return
    if asset.status is Status.PROCESSING and not pipeline.assets.release(
            asset.owner_id, asset.id, "interrupted: the worker stopped with the stack"):
        return  # it moved on meanwhile
    queue_job(asset, pipeline)
    recovered.requeued += 1


def _backfill_drained(pipeline: Pipeline) -> bool:
    return backfill_backlog(pipeline) == 0


@contextmanager
def _isolated(asset: Asset, report: Reaped | Recovered) -> Iterator[None]:
    # One asset that cannot be handled (a bug, a missing object, a fault of one key) must not
    # stop the run, and with it the reaping of every other owner's assets.
    try:
        yield
    except Exception:
        report.errors += 1
        log.exception("reaper: asset %s of owner %s (%s) failed", asset.id, asset.owner_id,
                      asset.status)


def _finish_pending(asset: Asset, reaped: Reaped, pipeline: Pipeline) -> None:
    try:
        status = complete_upload(asset.owner_id, asset.id, pipeline)
        reaped.completed += status is not Status.PENDING
        return
    except UploadMissing:
        reason = "no upload arrived before the upload URL expired"
    except UploadIncomplete as exc:
        reason = f"the upload was not finished before its URLs expired: {exc.message}"
    except InvalidParts:
        # The client could have sent them again, but their URLs have expired since.
        reason = "the bucket refused the parts and their URLs have expired: upload the file again"
    if asset.multipart_upload_id is not None:
        pipeline.storage.abort_multipart(asset.original_key, asset.multipart_upload_id)
    if pipeline.assets.mark_failed(asset.owner_id, asset.id, expected=Status.PENDING,
                                   reason=reason):
        reaped.expired += 1


def _redrive(asset: Asset, status: Status, pipeline: Pipeline) -> None:
    try:
        queue_job(asset, pipeline)
    except ObjectNotFound:
        # Nothing can ever render it: fail it, saying why, so that its owner sees it.
        reason = "its original is missing from the bucket: upload it again"
        pipeline.assets.mark_failed(asset.owner_id, asset.id, expected=status, reason=reason)
        raise
