import json

import pytest

from lightbox.errors import InvalidEvent
from lightbox.events import SqsEvent, is_sqs_event, object_events
from tests.support import load_event


def test_an_object_created_notification_becomes_one_event() -> None:
    (event,) = object_events(json.dumps(load_event("s3ObjectCreated.json")))
    assert event.bucket == "lightbox-test"
    assert event.key == "originals/local/9b2c7a5e-3f4d-4e1a-8c7b-2d1e0f9a8b7c"
    assert event.created


def test_keys_are_decoded_once_plus_for_space_and_percent_escapes() -> None:
    (event,) = object_events(json.dumps(load_event("s3KeyWithSpaces.json")))
    assert event.key == "uploads/My Summer + Winter, 2026.jpg"


def test_every_record_of_a_message_is_read() -> None:
    notification = load_event("s3ObjectCreated.json")
    second = json.loads(json.dumps(notification["Records"][0]))
    second["s3"]["object"]["key"] = "originals/local/other"
    second["eventName"] = "ObjectRemoved:Delete"
    notification["Records"].append(second)
    events = object_events(json.dumps(notification))
    assert [e.key for e in events] == [
        "originals/local/9b2c7a5e-3f4d-4e1a-8c7b-2d1e0f9a8b7c", "originals/local/other"
    ]
    assert [e.created for e in events] == [True, False]


def test_the_test_event_carries_no_objects() -> None:
    assert object_events(json.dumps(load_event("s3TestEvent.json"))) == []


@pytest.mark.parametrize(
    "body",
    ["not json", "[1, 2]", '{"hello": "world"}', '{"Records": [{"s3": {}}]}', '{"Records": 3}'],
)
def test_a_body_that_is_no_notification_is_an_invalid_event(body: str) -> None:
    with pytest.raises(InvalidEvent):
        object_events(body)


def test_sqs_records_expose_lambda_fields() -> None:
    records = list(SqsEvent(load_event("sqsEvent.json")).records)
    assert [r.message_id for r in records] == [
        "059f36b4-87a3-44ab-83d2-661975830a7d", "2e1424d4-f796-459a-8184-9c92662be6da"
    ]
    assert [r.body for r in records] == ["first message", "second message"]
    assert [r.receive_count for r in records] == [1, 3]


def test_sqs_events_are_told_from_api_gateway_events() -> None:
    assert is_sqs_event(load_event("sqsEvent.json"))
    assert not is_sqs_event({"resource": "/v1/uploads", "httpMethod": "POST"})
    assert not is_sqs_event({"Records": []})
    assert not is_sqs_event({"Records": [{"eventSource": "aws:s3"}]})
