import json

import pytest

from lightbox.errors import InvalidEvent
from lightbox.events import (
    Action,
    ObjectEvent,
    SqsEvent,
    is_bucket_event,
    is_sqs_event,
    object_events,
)
from tests.support import load_event

BUCKET = "lightbox-test"
KEY = "originals/local/9b2c7a5e-3f4d-4e1a-8c7b-2d1e0f9a8b7c"


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        ("s3ObjectCreated.json", ObjectEvent(BUCKET, KEY, Action.CREATED)),
        ("s3ObjectRemoved.json", ObjectEvent(BUCKET, KEY, Action.REMOVED)),
        ("s3KeyWithSpaces.json",
         ObjectEvent(BUCKET, "uploads/My Summer + Winter, 2026.jpg", Action.CREATED)),
        ("eventBridgeObjectCreated.json", ObjectEvent(BUCKET, KEY, Action.CREATED)),
        ("eventBridgeObjectDeleted.json",
         ObjectEvent(BUCKET, "uploads/My Summer + Winter, 2026.jpg", Action.REMOVED)),
        ("minioWebhookPut.json", ObjectEvent(BUCKET, KEY, Action.CREATED)),
        ("minioWebhookDelete.json", ObjectEvent(BUCKET, KEY, Action.REMOVED)),
        ("minioWebhookKeyWithPlus.json",
         ObjectEvent(BUCKET, "inbox/My Summer + Winter, 2026.jpg", Action.CREATED)),
    ],
)
def test_each_published_shape_becomes_one_decoded_event(fixture: str, expected: ObjectEvent) -> None:
    payload = load_event(fixture)
    assert object_events(payload) == [expected]
    assert object_events(json.dumps(payload)) == [expected]  # as a queue's body


def test_a_minio_key_agrees_with_its_bucket_slash_key_summary() -> None:
    payload = load_event("minioWebhookKeyWithPlus.json")
    (event,) = object_events(payload)
    assert f"{event.bucket}/{event.key}" == payload["Key"]


def test_a_key_is_decoded_exactly_once() -> None:
    notification = load_event("s3ObjectCreated.json")
    # A literal "%2B" in a key reaches us as "%252B" and must come out as "%2B", not "+".
    notification["Records"][0]["s3"]["object"]["key"] = "originals/a%252Bb+c"
    (event,) = object_events(notification)
    assert event.key == "originals/a%2Bb c"


def test_every_record_of_a_notification_is_read_in_order() -> None:
    notification = load_event("s3ObjectCreated.json")
    notification["Records"] += load_event("s3ObjectRemoved.json")["Records"]
    notification["Records"][1]["s3"]["object"]["key"] = "originals/local/other"
    events = object_events(notification)
    assert [(e.key, e.action) for e in events] == [
        (KEY, Action.CREATED), ("originals/local/other", Action.REMOVED)
    ]


@pytest.mark.parametrize(
    ("event_name", "action"),
    [
        ("ObjectCreated:CompleteMultipartUpload", Action.CREATED),
        ("ObjectCreated:Copy", Action.CREATED),
        ("ObjectRemoved:DeleteMarkerCreated", Action.REMOVED),
        ("s3:ObjectRemoved:NoOP", Action.REMOVED),
        ("ObjectRestore:Completed", Action.OTHER),
        ("s3:ObjectAccessed:Get", Action.OTHER),
        ("LifecycleExpiration:Delete", Action.OTHER),
    ],
)
def test_event_names_map_to_what_happened_to_the_object(event_name: str, action: Action) -> None:
    notification = load_event("s3ObjectCreated.json")
    notification["Records"][0]["eventName"] = event_name
    assert object_events(notification)[0].action is action


def test_eventbridge_detail_types_other_than_created_and_deleted_are_other() -> None:
    event = load_event("eventBridgeObjectCreated.json")
    event["detail-type"] = "Object Restore Completed"
    assert object_events(event)[0].action is Action.OTHER


def test_the_test_event_and_empty_webhooks_carry_no_objects() -> None:
    assert object_events(load_event("s3TestEvent.json")) == []
    assert object_events('{"EventName": "s3:ObjectCreated:Put", "Key": "b/k", "Records": []}') == []


def test_sns_wrapped_notifications_are_unwrapped() -> None:
    (record,) = SqsEvent(load_event("snsSqsS3Event.json")).records
    assert object_events(record.body) == [ObjectEvent(BUCKET, KEY, Action.CREATED)]


def test_a_batch_from_the_bucket_queue_reads_record_by_record() -> None:
    records = list(SqsEvent(load_event("sqsS3Batch.json")).records)
    assert [r.receive_count for r in records] == [1, 1, 1, 2]
    assert object_events(records[0].body) == [ObjectEvent(BUCKET, KEY, Action.CREATED)]
    assert object_events(records[1].body) == []
    with pytest.raises(InvalidEvent, match="not JSON"):
        object_events(records[2].body)
    assert object_events(records[3].body) == [ObjectEvent(BUCKET, KEY, Action.REMOVED)]


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        b"\xff\xfe binary",
        "[1, 2]",
        '"a string"',
        '{"hello": "world"}',
        '{"Records": [{"s3": {}}]}',
        '{"Records": [{"eventName": "ObjectCreated:Put"}]}',
        '{"Records": 3}',
        '{"Records": ["x"]}',
        '{"source": "aws.s3", "detail": {"bucket": {}}}',
        '{"Type": "Notification", "Message": "not json"}',
    ],
)
def test_a_body_that_is_no_bucket_event_is_an_invalid_event(body: str | bytes) -> None:
    with pytest.raises(InvalidEvent):
        object_events(body)


def test_sqs_records_expose_lambda_fields() -> None:
    records = list(SqsEvent(load_event("sqsEvent.json")).records)
    assert [r.message_id for r in records] == [
        "059f36b4-87a3-44ab-83d2-661975830a7d", "2e1424d4-f796-459a-8184-9c92662be6da"
    ]
    assert [r.body for r in records] == ["first message", "second message"]
    assert [r.receive_count for r in records] == [1, 3]
    assert records[0].receipt_handle == "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a"
    assert records[0].queue_arn == "arn:aws:sqs:us-east-1:000000000000:lightbox-ingest"


@pytest.mark.parametrize(
    ("fixture", "sqs", "bucket"),
    [
        ("sqsEvent.json", True, False),
        ("sqsS3Batch.json", True, False),
        ("s3ObjectCreated.json", False, True),
        ("eventBridgeObjectCreated.json", False, True),
        ("minioWebhookPut.json", False, True),
    ],
)
def test_invocations_are_told_apart_by_shape(fixture: str, sqs: bool, bucket: bool) -> None:
    event = load_event(fixture)
    assert is_sqs_event(event) is sqs
    assert is_bucket_event(event) is bucket


@pytest.mark.parametrize(
    "event",
    [
        {"resource": "/v1/uploads", "httpMethod": "POST"},
        {"Records": []},
        {"Records": [{"eventSource": "aws:sqs"}, {"eventSource": "aws:s3"}]},
        {"source": "aws.events", "detail-type": "Scheduled Event"},
    ],
)
def test_other_invocations_are_neither(event: dict[str, object]) -> None:
    assert not is_bucket_event(event)
    assert not is_sqs_event(event)
