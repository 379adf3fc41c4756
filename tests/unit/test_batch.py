from lightbox.batch import process_batch
from lightbox.errors import InvalidEvent, StorageUnavailable
from lightbox.events import SqsRecord
from tests.support import sqs_event


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
