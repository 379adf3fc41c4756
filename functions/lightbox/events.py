"""Every shape in which bucket events reach Lightbox, read into one: ``ObjectEvent``.

- S3 → Lambda: ``{"Records": [{"eventSource": "aws:s3", "s3": {...}}]}``
- S3 → SQS → Lambda: SQS records whose body is the above, or ``s3:TestEvent``
- S3 → SNS → SQS: the SQS body is an SNS notification whose ``Message`` is the above
- S3 → EventBridge (→ SQS) → Lambda: ``{"detail-type": "Object Created", "source": "aws.s3"}``
- MinIO webhook: ``{"EventName", "Key": "bucket/key", "Records": [{"eventSource": "minio:s3"}]}``

Keys of S3 and MinIO notification records are URL-encoded (``+`` for a space, ``%2B`` for a
plus) and are decoded here, once; EventBridge carries keys as they are. Wrappers read every
record, never just the first.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any
from urllib.parse import unquote_plus

from lightbox.errors import InvalidEvent


class Action(Enum):
    CREATED = "created"
    REMOVED = "removed"
    OTHER = "other"


_NOTIFICATION_SOURCES = frozenset({"aws:s3", "minio:s3"})
_NOTIFICATION_ACTIONS = {"ObjectCreated": Action.CREATED, "ObjectRemoved": Action.REMOVED}
_EVENTBRIDGE_ACTIONS = {"Object Created": Action.CREATED, "Object Deleted": Action.REMOVED}


@dataclass(frozen=True)
class ObjectEvent:
    """Something happened to one object of a bucket; its key decoded."""

    bucket: str
    key: str
    action: Action


class SqsRecord:
    """One message of an SQS-triggered invocation."""

    def __init__(self, data: Any) -> None:
        # Lambda sends objects; anything else reads as a record without fields, so that a
        # batch still reports it instead of failing whole.
        self._data: Mapping[str, Any] = data if isinstance(data, Mapping) else {}

    @property
    def message_id(self) -> str:
        """Empty when missing: an empty ``itemIdentifier`` makes Lambda retry the whole batch."""
        return str(self._data.get("messageId") or "")

    @property
    def receipt_handle(self) -> str:
        return str(self._data.get("receiptHandle") or "")

    @property
    def body(self) -> str:
        return str(self._data.get("body") or "")

    @property
    def receive_count(self) -> int:
        try:
            return max(1, int(self._data["attributes"]["ApproximateReceiveCount"]))
        except (LookupError, TypeError, ValueError, OverflowError):  # Overflow: JSON's Infinity
            return 1

    @property
    def queue_arn(self) -> str:
        return str(self._data.get("eventSourceARN", ""))

    @property
    def queue_name(self) -> str:
        """The last part of its queue's ARN; empty when there is none."""
        return self.queue_arn.rpartition(":")[2]

    @property
    def sent_at(self) -> float | None:
        """When it was sent, in seconds since the epoch; None when the record does not say."""
        try:
            # A whole number of milliseconds; one too large for a float is OverflowError.
            return int(self._data["attributes"]["SentTimestamp"]) / 1000
        except (LookupError, TypeError, ValueError, OverflowError):
            return None


class SqsEvent:
    def __init__(self, data: Mapping[str, Any]) -> None:
        self._data = data

    @property
    def records(self) -> Iterator[SqsRecord]:
        records = self._data.get("Records")
        for record in records if isinstance(records, list) else ():
            yield SqsRecord(record)


def is_sqs_event(event: Mapping[str, Any]) -> bool:
    return _records_from(event, "aws:sqs")


def is_bucket_event(event: Mapping[str, Any]) -> bool:
    """A bucket event invoking a function directly: S3 notification records or EventBridge."""
    return event.get("source") == "aws.s3" or any(
        _records_from(event, source) for source in _NOTIFICATION_SOURCES)


def object_events(payload: Any) -> list[ObjectEvent]:
    """The object events in a payload of any supported shape (a dict, or JSON text)."""
    if isinstance(payload, str | bytes):
        try:
            payload = json.loads(payload)
        except (ValueError, RecursionError):  # nested deeper than the parser goes
            raise InvalidEvent(f"not JSON: {_excerpt(payload)}") from None
    if not isinstance(payload, dict):
        raise InvalidEvent(f"not a bucket event: {_excerpt(payload)}")
    if payload.get("Event") == "s3:TestEvent":  # sent once, when notifications are set up
        return []
    if payload.get("Type") == "Notification" and "Message" in payload:  # wrapped by SNS
        return object_events(payload["Message"])
    if payload.get("source") == "aws.s3" and "detail" in payload:
        return [_eventbridge_event(payload)]
    records = payload.get("Records")
    if isinstance(records, list):
        return [_notification_event(record) for record in records]
    raise InvalidEvent(f"not a bucket event: {_excerpt(payload)}")


def _notification_event(record: Any) -> ObjectEvent:
    try:
        s3 = record["s3"]
        name = str(record["eventName"]).removeprefix("s3:")  # MinIO prefixes it, AWS not
        return ObjectEvent(
            bucket=_text(s3["bucket"]["name"]),
            key=unquote_plus(_text(s3["object"]["key"])),
            action=_NOTIFICATION_ACTIONS.get(name.split(":", 1)[0], Action.OTHER),
        )
    except (KeyError, TypeError) as exc:
        raise InvalidEvent(f"malformed bucket notification record: {_excerpt(record)}") from exc


def _eventbridge_event(event: Mapping[str, Any]) -> ObjectEvent:
    try:
        detail = event["detail"]
        return ObjectEvent(
            bucket=_text(detail["bucket"]["name"]),
            key=_text(detail["object"]["key"]),
            action=_EVENTBRIDGE_ACTIONS.get(str(event.get("detail-type")), Action.OTHER),
        )
    except (KeyError, TypeError) as exc:
        raise InvalidEvent(f"malformed EventBridge event: {_excerpt(event)}") from exc


def _text(value: Any) -> str:
    # A bucket or key that is not text would name an object that cannot exist ("None").
    if not isinstance(value, str) or not value:
        raise TypeError(f"expected non-empty text, got {value!r}")
    return value


def _records_from(event: Mapping[str, Any], source: str) -> bool:
    records = event.get("Records") or []
    return bool(records) and all(
        isinstance(record, dict) and record.get("eventSource") == source for record in records
    )


def _excerpt(value: object) -> str:
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    return repr(text[:200])
