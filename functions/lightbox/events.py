"""Read-only wrappers over the events Lambda hands to Lightbox's functions.

Every wrapper reads every record (never just the first), and bucket notification keys,
which arrive URL-encoded (``+`` for a space, ``%2B`` for a plus), are decoded here and
nowhere else.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from lightbox.errors import InvalidEvent


class SqsRecord:
    """One message of an SQS-triggered invocation."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self._data = data

    @property
    def message_id(self) -> str:
        return str(self._data["messageId"])

    @property
    def body(self) -> str:
        return str(self._data.get("body") or "")

    @property
    def receive_count(self) -> int:
        return int(self._data.get("attributes", {}).get("ApproximateReceiveCount", 1))


class SqsEvent:
    def __init__(self, data: Mapping[str, Any]) -> None:
        self._data = data

    @property
    def records(self) -> Iterator[SqsRecord]:
        for record in self._data.get("Records") or ():
            yield SqsRecord(record)


def is_sqs_event(event: Mapping[str, Any]) -> bool:
    records = event.get("Records") or []
    return bool(records) and all(record.get("eventSource") == "aws:sqs" for record in records)


@dataclass(frozen=True)
class ObjectEvent:
    """A bucket notification about one object, its key decoded."""

    bucket: str
    key: str
    name: str

    @property
    def created(self) -> bool:
        return self.name.startswith("ObjectCreated:")


def object_events(body: str) -> list[ObjectEvent]:
    """The bucket notifications carried by one SQS message body.

    ``s3:TestEvent``, which S3 sends when a notification is configured, carries none.
    """
    try:
        message = json.loads(body)
    except ValueError:
        raise InvalidEvent(f"message body is not JSON: {body[:200]!r}") from None
    if not isinstance(message, dict):
        raise InvalidEvent(f"message body is not a bucket notification: {body[:200]!r}")
    if message.get("Event") == "s3:TestEvent":
        return []
    records = message.get("Records")
    if not isinstance(records, list):
        raise InvalidEvent(f"message body is not a bucket notification: {body[:200]!r}")
    return [_object_event(record) for record in records]


def _object_event(record: Any) -> ObjectEvent:
    try:
        s3 = record["s3"]
        return ObjectEvent(
            bucket=str(s3["bucket"]["name"]),
            key=unquote_plus(str(s3["object"]["key"])),
            name=str(record["eventName"]),
        )
    except (KeyError, TypeError) as exc:
        raise InvalidEvent(f"malformed bucket notification record: {str(record)[:200]}") from exc
