import pytest

from lightbox.batch import Backoff, process_batch
from lightbox.errors import InvalidEvent, QueueUnavailable, StorageUnavailable
from lightbox.events import SqsRecord
from tests.fakes import FakeRedelivery
from tests.support import sqs_event

QUEUE = "arn:aws:sqs:us-east-1:000000000000:lightbox-ingest"


def handle(record: SqsRecord) -> None:
    if record.body == "transient":
        raise StorageUnavailable("SlowDown")
    if record.body == "garbage":
        raise InvalidEvent("not a notification")
    if record.body == "bug":
        raise KeyError("unexpected")


def test_only_failed_records_are_reported() -> None:
    event = sqs_event("ok", "transient", "ok", "bug")
    assert process_batch(event, handle) == {
        "batchItemFailures": [{"itemIdentifier": "message-1"}, {"itemIdentifier": "message-3"}]
    }


def test_a_message_that_can_never_succeed_is_acknowledged() -> None:
    assert process_batch(sqs_event("garbage", "ok"), handle) == {"batchItemFailures": []}


def test_every_record_is_handled_even_after_a_failure() -> None:
    seen: list[str] = []

    def record_and_fail(record: SqsRecord) -> None:
        seen.append(record.body)
        raise StorageUnavailable("down")

    result = process_batch(sqs_event("a", "b", "c"), record_and_fail)
    assert seen == ["a", "b", "c"]
    assert len(result["batchItemFailures"]) == 3


def test_an_empty_event_reports_nothing() -> None:
    assert process_batch({"Records": []}, handle) == {"batchItemFailures": []}


def with_receive_counts(event: dict[str, object], *counts: int) -> dict[str, object]:
    for record, count in zip(event["Records"], counts, strict=True):  # type: ignore[call-overload]
        record["attributes"]["ApproximateReceiveCount"] = str(count)
    return event


def test_backoff_doubles_from_the_base_up_to_the_cap() -> None:
    backoff = Backoff(postpone=FakeRedelivery().postpone, base_seconds=30, max_seconds=900)
    assert [backoff.delay(n) for n in range(1, 8)] == [30, 60, 120, 240, 480, 900, 900]
    assert backoff.delay(0) == 30


def test_a_failed_record_is_postponed_by_its_own_receive_count() -> None:
    redelivery = FakeRedelivery()
    backoff = Backoff(postpone=redelivery.postpone, base_seconds=30, max_seconds=900)
    event = with_receive_counts(sqs_event("ok", "transient", "garbage", "bug", source_arn=QUEUE),
                                1, 3, 1, 9)

    result = process_batch(event, handle, backoff=backoff)

    assert result == {
        "batchItemFailures": [{"itemIdentifier": "message-1"}, {"itemIdentifier": "message-3"}]
    }
    # Only the failures wait; the acknowledged records are deleted by Lambda.
    assert redelivery.postponed == [(QUEUE, "handle-1", 120), (QUEUE, "handle-3", 900)]


def test_a_postponement_that_fails_still_reports_the_failure(caplog: pytest.LogCaptureFixture) -> None:
    def refuse(queue_arn: str, receipt_handle: str, delay: int) -> None:
        raise QueueUnavailable("throttled")

    backoff = Backoff(postpone=refuse, base_seconds=30, max_seconds=900)
    result = process_batch(sqs_event("transient"), handle, backoff=backoff)
    assert result == {"batchItemFailures": [{"itemIdentifier": "message-0"}]}
    assert "could not postpone message message-0: throttled" in caplog.text
