"""Send back what the dead-letter queues hold, once the cause is mended.

A bucket event goes back to the ingest queue as it was: upload-complete is idempotent. A
thumbnail job is not simply sent back: its asset failed when the job was given up, and a job
for a failed asset does nothing. So the asset goes through verification and rendering again,
as a retry does; a job whose asset has moved on since (ready, deleted) is dropped.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from lightbox.domain import Status, ThumbnailJob
from lightbox.errors import AssetNotFound, InvalidEvent, InvalidState
from lightbox.ports import DeadLetterQueue, Pipeline
from lightbox.services.library import retry_asset
from lightbox.services.uploads import queue_job

log = logging.getLogger(__name__)


@dataclass
class Redriven:
    events: int = 0
    jobs: int = 0
    dropped: int = 0


def redrive(
    *,
    events: DeadLetterQueue,
    job_letters: Sequence[DeadLetterQueue],
    pipeline: Pipeline,
    limit: int,
) -> Redriven:
    """Up to ``limit`` letters of each dead-letter queue; returns what became of them."""
    redriven = Redriven()
    for letter in events.receive(limit):
        events.send_back(letter)
        redriven.events += 1
    for queue in job_letters:
        for letter in queue.receive(limit):
            try:
                job = ThumbnailJob.from_json(letter.body)
            except InvalidEvent as exc:
                log.warning("dropping a dead letter: %s", exc)
                resumed = False
            else:
                resumed = _resume(job, pipeline)
            queue.discard(letter)
            if resumed:
                redriven.jobs += 1
            else:
                redriven.dropped += 1
    log.info("redrive: %d events, %d jobs sent back; %d dropped", redriven.events,
             redriven.jobs, redriven.dropped)
    return redriven


def _resume(job: ThumbnailJob, pipeline: Pipeline) -> bool:
    asset = pipeline.assets.get(job.owner_id, job.asset_id)
    if asset is None:
        return False
    if asset.status in (Status.UPLOADED, Status.PROCESSING):
        queue_job(asset, pipeline)
        return True
    if asset.status is not Status.FAILED:
        return False
    try:
        retry_asset(job.owner_id, job.asset_id, pipeline)
    except (AssetNotFound, InvalidState):
        return False  # deleted or retried by someone else meanwhile
    return True
