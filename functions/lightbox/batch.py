"""SQS batches processed record by record, reporting only the records that failed.

With ``ReportBatchItemFailures`` enabled on the event source mapping, Lambda deletes every
message not listed in ``batchItemFailures``, so one bad record never redelivers the rest.
A failed message is postponed exponentially (30 s, 1 min, 2 min, ...) rather than retried at
the queue's fixed visibility timeout; past the queue's ``maxReceiveCount`` it moves to the
dead-letter queue. A message that can never be processed (``InvalidEvent``) is logged and
acknowledged: retrying it would only end in the dead-letter queue.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from lightbox.errors import InvalidEvent, LightboxError
from lightbox.events import SqsEvent, SqsRecord
from lightbox.ports import Metrics

log = logging.getLogger(__name__)

BatchResponse = dict[str, list[dict[str, str]]]


@dataclass(frozen=True)
class Backoff:
    """How long a failed message waits before its next attempt."""

    postpone: Callable[[str, str, int], None]  # queue ARN, receipt handle, seconds
    base_seconds: int
    max_seconds: int

    def delay(self, attempt: int) -> int:
        # Doubling more often than max_seconds has bits only passes the cap (and 2 ** a
        # receive count in the billions would take minutes to compute).
        doublings = min(max(0, attempt - 1), self.max_seconds.bit_length())
        return int(min(self.max_seconds, self.base_seconds * 2**doublings))


def process_batch(
    event: Mapping[str, Any],
    handle: Callable[[SqsRecord], None],
    *,
    backoff: Backoff | None = None,
    metrics: Metrics | None = None,
) -> BatchResponse:
    """Each record handled in turn; ``metrics`` gets how long each waited in its queue
    (``QueueWait``, by queue), the age an operator watches rise when workers fall behind."""
    failures: list[dict[str, str]] = []
    for record in SqsEvent(event).records:
        if metrics is not None and record.sent_at is not None:
            metrics.record("QueueWait", max(0.0, time.time() - record.sent_at) * 1000,
                           "Milliseconds", Queue=record.queue_name)
        try:
            handle(record)
        except InvalidEvent as exc:
            log.warning("dropping message %s: %s", record.message_id, exc)
        except Exception:
            # Whatever went wrong, only this record is retried.
            log.exception(
                "message %s failed (receive #%d)", record.message_id, record.receive_count
            )
            failures.append({"itemIdentifier": record.message_id})
            if backoff is not None:
                _postpone(record, backoff)
    return {"batchItemFailures": failures}


def _postpone(record: SqsRecord, backoff: Backoff) -> None:
    delay = backoff.delay(record.receive_count)
    try:
        backoff.postpone(record.queue_arn, record.receipt_handle, delay)
    except LightboxError as exc:
        # It comes back after the queue's visibility timeout instead: later, not lost.
        log.warning("could not postpone message %s: %s", record.message_id, exc)
