"""SQS batches processed record by record, reporting only the records that failed.

With ``ReportBatchItemFailures`` enabled on the event source mapping, Lambda deletes every
message not listed in ``batchItemFailures``, so one bad record never redelivers the rest.
A message that can never be processed (``InvalidEvent``) is logged and acknowledged:
retrying it would only end in the dead-letter queue.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from lightbox.errors import InvalidEvent
from lightbox.events import SqsEvent, SqsRecord

log = logging.getLogger(__name__)

BatchResponse = dict[str, list[dict[str, str]]]


def process_batch(event: Mapping[str, Any], handle: Callable[[SqsRecord], None]) -> BatchResponse:
    failures: list[dict[str, str]] = []
    for record in SqsEvent(event).records:
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
    return {"batchItemFailures": failures}
