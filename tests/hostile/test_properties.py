"""Properties of everything that reads untrusted input: bucket events, SQS batches, request
bodies and query strings. Each reader either returns something well formed or raises the
error Lightbox declares for it (``InvalidEvent``, or a ``LightboxError`` rendered as a 4xx);
any other exception would be a crash: a 500, or a message retried until the dead-letter queue.
"""

from __future__ import annotations

import base64
import copy
import json
import string
import unicodedata
import uuid
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any, cast
from urllib.parse import quote_plus

import pytest
from chalice.app import Request
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from lightbox import filetypes
from lightbox.batch import Backoff, process_batch
from lightbox.errors import InvalidEvent, LightboxError, RequestError, StorageUnavailable
from lightbox.events import Action, ObjectEvent, SqsRecord, object_events
from lightbox.http import inputs
from lightbox.services import library, listing, uploads
from lightbox.values import ChangeCursor, LegacyChangeCursor, PageCursor, SortOrder
from tests.fakes import FakeRedelivery
from tests.support import load_event, sqs_event

# Pure functions: a few hundred examples each keep the module well under a minute.
QUICK = settings(max_examples=300, deadline=None,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])

MAX_UPLOAD_BYTES = 5 * 1024**3
BUCKET_EVENTS = [
    "s3ObjectCreated.json", "s3ObjectRemoved.json", "s3KeyWithSpaces.json", "s3TestEvent.json",
    "eventBridgeObjectCreated.json", "eventBridgeObjectDeleted.json", "minioWebhookPut.json",
    "minioWebhookDelete.json", "minioWebhookKeyWithPlus.json",
]
# Bodies of queue messages as they really arrive: wrapped by SNS, or a batch of the bucket's.
QUEUE_BODIES = [
    record["body"]
    for name in ("snsSqsS3Event.json", "sqsS3Batch.json")
    for record in load_event(name)["Records"]
]
JSON_QUEUE_BODIES = [body for body in QUEUE_BODIES if body.startswith("{")]

odd_text = st.one_of(
    st.text(),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1000, max_size=5000),
    st.sampled_from(["", " ", "+", "%", "%2", "%zz", "%25", "%2B", "%00", "../", "../../etc",
                     "a+b%2Bc", "%ED%A0%80", "\x00", "\ud800", "\u202e", "e\u0301", "null", "[]",
                     "{}", "NaN", "-1", "1e999"]),
    st.integers(1000, 6000).map(lambda n: "1" * n),  # past int()'s 4300 digits
)
json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), odd_text,
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)
# Text S3 can hold in a key: any Unicode that UTF-8 can carry.
key_text = st.text(alphabet=st.characters(codec="utf-8"), min_size=1)


def paths_of(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every position inside a JSON document, the document itself first."""
    found = [prefix]
    if isinstance(value, dict):
        for name, child in value.items():
            found += paths_of(child, (*prefix, name))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += paths_of(child, (*prefix, index))
    return found


@st.composite
def mutated(draw: st.DrawFn, document: Any) -> Any:
    """``document`` with a few of its fields removed or replaced by something hostile."""
    document = copy.deepcopy(document)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(paths_of(document)))
        if not path:
            document = draw(json_values)
            continue
        parent = document
        try:
            for step in path[:-1]:
                parent = parent[step]
            if draw(st.booleans()):
                del parent[path[-1]]
            else:
                parent[path[-1]] = draw(json_values)
        except (KeyError, IndexError, TypeError):
            pass  # an earlier mutation took this path away
    return document


sample_events = st.sampled_from(BUCKET_EVENTS).map(load_event)
hostile_events = st.one_of(
    json_values,
    sample_events.flatmap(mutated),
    st.sampled_from(JSON_QUEUE_BODIES).map(json.loads).flatmap(mutated).map(json.dumps),
    st.sampled_from(QUEUE_BODIES),
    json_values.map(json.dumps),
    st.binary(),
)


def assert_well_formed(events: list[ObjectEvent]) -> None:
    for event in events:
        assert isinstance(event, ObjectEvent)
        assert isinstance(event.bucket, str)
        assert event.bucket
        assert isinstance(event.key, str)
        assert event.key
        assert isinstance(event.action, Action)


def parse_or_invalid(payload: Any) -> list[ObjectEvent] | None:
    try:
        events = object_events(payload)
    except InvalidEvent:
        return None
    assert_well_formed(events)
    return events


@QUICK
@given(hostile_events)
@example("[" * 100_000)
@example({"Type": "Notification", "Message": "[" * 100_000})
def test_any_payload_is_read_into_well_formed_events_or_is_an_invalid_event(payload: Any) -> None:
    parse_or_invalid(payload)


@QUICK
@given(st.sampled_from(BUCKET_EVENTS).map(load_event), key_text)
def test_a_key_encoded_as_s3_encodes_it_in_notifications_decodes_to_itself(
        payload: dict[str, Any], key: str) -> None:
    if payload.get("source") == "aws.s3":
        payload["detail"]["object"]["key"] = key  # EventBridge carries keys as they are
    elif "Records" in payload:
        payload["Records"][0]["s3"]["object"]["key"] = quote_plus(key, safe="/")
    else:
        return  # the test event has no object
    for form in (payload, json.dumps(payload)):
        (event,) = object_events(form)
        assert event.key == key


@QUICK
@given(st.sampled_from(JSON_QUEUE_BODIES).map(json.loads), key_text)
def test_keys_survive_the_sns_and_queue_wrapping_too(body: dict[str, Any], key: str) -> None:
    notification = json.loads(body["Message"]) if "Message" in body else body
    if "Records" not in notification:
        return
    notification["Records"][0]["s3"]["object"]["key"] = quote_plus(key, safe="/")
    if "Message" in body:
        body["Message"] = json.dumps(notification)
    else:
        body = notification
    assert [event.key for event in object_events(json.dumps(body))][:1] == [key]


def sqs_records(bodies: st.SearchStrategy[str]) -> st.SearchStrategy[list[dict[str, Any]]]:
    return st.lists(bodies, max_size=8).map(lambda texts: sqs_event(*texts)["Records"])


def parse_and_fail_on_demand(record: SqsRecord) -> None:
    """A handler that parses, and fails transiently for keys asking it to."""
    for event in object_events(record.body):
        if event.key.startswith("fail"):
            raise StorageUnavailable("SlowDown")


def with_key(key: str) -> str:
    notification = load_event("s3ObjectCreated.json")
    notification["Records"][0]["s3"]["object"]["key"] = quote_plus(key, safe="/")
    return json.dumps(notification)


message_bodies = st.one_of(
    st.sampled_from(QUEUE_BODIES),
    st.sampled_from(["fail/now", "fail", "ok/fine", "fail+me"]).map(with_key),
    st.text(),
    hostile_events.map(lambda value: value if isinstance(value, str) else json.dumps(
        value, default=lambda raw: raw.decode("utf-8", "replace"))),
)


def expected_failure(body: str) -> bool:
    try:
        return any(event.key.startswith("fail") for event in object_events(body))
    except InvalidEvent:
        return False  # acknowledged: retrying could never help


@QUICK
@given(sqs_records(message_bodies))
def test_a_batch_reports_exactly_the_records_whose_handling_failed(
        records: list[dict[str, Any]]) -> None:
    redelivery = FakeRedelivery()
    backoff = Backoff(postpone=redelivery.postpone, base_seconds=30, max_seconds=900)
    result = process_batch({"Records": records}, parse_and_fail_on_demand, backoff=backoff)
    failed = [r["messageId"] for r in records if expected_failure(r["body"])]
    assert result == {"batchItemFailures": [{"itemIdentifier": m} for m in failed]}
    assert [handle for _, handle, _ in redelivery.postponed] == [
        r["receiptHandle"] for r in records if r["messageId"] in failed
    ]


@QUICK
@given(st.lists(st.one_of(sqs_records(message_bodies).map(lambda rs: rs[0] if rs else {}),
                          json_values).flatmap(mutated), max_size=6))
def test_any_batch_is_processed_without_raising(records: list[Any]) -> None:
    result = process_batch({"Records": records}, parse_and_fail_on_demand,
                           backoff=Backoff(FakeRedelivery().postpone, 30, 900))
    for failure in result["batchItemFailures"]:
        # An id that cannot be read is reported empty: Lambda then retries the whole batch.
        assert isinstance(failure["itemIdentifier"], str)


def test_a_receive_count_past_any_reason_waits_the_longest_delay_at_once() -> None:
    (record,) = sqs_event(with_key("fail/now"))["Records"]
    record["attributes"]["ApproximateReceiveCount"] = "9" * 12
    redelivery = FakeRedelivery()
    process_batch({"Records": [record]}, parse_and_fail_on_demand,
                  backoff=Backoff(redelivery.postpone, base_seconds=30, max_seconds=900))
    assert [delay for _, _, delay in redelivery.postponed] == [900]


# The first bytes of an upload: anything, or a TIFF header (whose IFD0 is read to tell a RAW
# from a TIFF) followed by anything.
HEADS = st.one_of(st.binary(max_size=256), st.builds(
    lambda magic, offset, rest: magic + offset.to_bytes(4, "little") + rest,
    st.sampled_from([b"II*\x00", b"MM\x00*", b"IIRO", b"IIU\x00"]),
    st.integers(0, 2**32 - 1) | st.integers(0, 64), st.binary(max_size=1024)))


@QUICK
@given(HEADS, st.none() | st.integers(0, 2**32 - 1))
def test_any_leading_bytes_are_a_supported_type_or_none(head: bytes, ifd: int | None) -> None:
    assert filetypes.sniff(head) in (*filetypes.SUPPORTED, None)
    for tag, value in filetypes.tiff_tags(head, 0, ifd).items():
        assert 0 <= tag < 2**16 and isinstance(value, (int, bytes))


@pytest.mark.parametrize("value", [None, "", 7, ["b"], {"name": "b"}])
@pytest.mark.parametrize("field", ["bucket", "object"])
def test_a_bucket_or_key_that_is_not_text_is_an_invalid_event(field: str, value: Any) -> None:
    notification = load_event("s3ObjectCreated.json")
    bridged = load_event("eventBridgeObjectCreated.json")
    name = "name" if field == "bucket" else "key"
    notification["Records"][0]["s3"][field][name] = value
    bridged["detail"][field][name] = value
    for payload in (notification, bridged):
        with pytest.raises(InvalidEvent):
            object_events(payload)


# ---- requests


def assert_client_error(call: Callable[[], object]) -> object | None:
    """What ``call`` returns, or None when it raised a Lightbox error rendered as a 4xx."""
    try:
        return call()
    except LightboxError as exc:
        assert 400 <= exc.status < 500, exc
        return None


def assert_acceptable_filename(name: str) -> None:
    assert name
    assert len(name) <= inputs.MAX_FILENAME_CHARS
    assert unicodedata.is_normalized("NFC", name)
    assert name == name.strip()
    assert not any(unicodedata.category(char) in ("Cc", "Cs") for char in name)


UPLOAD_FIELDS = ["filename", "content_type", "size_bytes", "sha256", "project_id"]
upload_values = {
    "filename": st.one_of(odd_text, json_values),
    "content_type": st.one_of(st.sampled_from([*filetypes.SUPPORTED, "image/jpg",
                                               " IMAGE/PNG ; q=1", "image/heic", "text/html"]),
                              json_values),
    "size_bytes": st.one_of(st.integers(-2, 2), st.integers(), st.just(MAX_UPLOAD_BYTES),
                            st.just(MAX_UPLOAD_BYTES + 1), json_values),
    "sha256": st.one_of(st.text(alphabet="0123456789abcdefABCDEF", min_size=63, max_size=65),
                        st.just("a" * 64 + "\n"), json_values),
    "project_id": st.one_of(st.uuids().map(str), odd_text, json_values),
}


@st.composite
def upload_bodies(draw: st.DrawFn) -> dict[str, Any]:
    fields = draw(st.lists(st.sampled_from(UPLOAD_FIELDS), unique=True))
    body = {name: draw(upload_values[name]) for name in fields}
    if draw(st.integers(0, 9)) == 0:
        body[draw(st.text(max_size=10))] = draw(json_values)
    return body


@QUICK
@given(st.one_of(upload_bodies(), st.dictionaries(st.text(max_size=10), json_values)))
@example({"filename": "a.jpg", "content_type": "image/jpeg", "size_bytes": 1,
          "sha256": "a" * 64 + "\n"})
def test_a_presign_body_is_a_valid_request_or_a_client_error(body: dict[str, Any]) -> None:
    request = assert_client_error(
        lambda: inputs.parse_upload_request(body, max_upload_bytes=MAX_UPLOAD_BYTES))
    if request is None:
        return
    assert isinstance(request, uploads.UploadRequest)
    assert_acceptable_filename(request.filename)
    assert request.content_type in filetypes.SUPPORTED
    assert 1 <= request.size_bytes <= MAX_UPLOAD_BYTES
    assert request.sha256 is None or (len(request.sha256) == 64
                                      and set(request.sha256) <= set(string.hexdigits.lower()))


@QUICK
@given(st.one_of(odd_text, st.text(alphabet=st.characters(codec="utf-8"))))
@example("e\u0301")
@example(" \u0301 ")
@example("a" * 256)
def test_an_accepted_filename_is_nfc_non_empty_bounded_and_free_of_control_characters(
        raw: str) -> None:
    name = assert_client_error(lambda: inputs.parse_filename(raw))
    if name is not None:
        assert isinstance(name, str)
        assert_acceptable_filename(name)


@QUICK
@given(json_values, st.integers(1, 2**63))
def test_an_accepted_size_is_a_whole_number_within_the_limit(raw: Any, limit: int) -> None:
    size = assert_client_error(lambda: inputs._size(raw, limit))
    if size is not None:
        assert type(size) is int
        assert 1 <= size <= limit


@QUICK
@given(st.one_of(json_values, st.uuids().map(str), st.uuids().map(lambda u: u.hex)))
@example("a" * 64 + "\n")
def test_an_accepted_uuid_or_sha256_is_one(raw: Any) -> None:
    parsed = assert_client_error(lambda: inputs.parse_uuid(raw, "project_id"))
    assert parsed is None or raw is not None
    digest = assert_client_error(lambda: inputs._sha256(raw))
    if digest is not None:
        assert isinstance(digest, str)
        assert len(digest) == 64
        assert set(digest) <= set(string.hexdigits.lower())


@QUICK
@given(st.one_of(json_values, st.dictionaries(st.sampled_from(["filename", "project_id", "x"]),
                                              st.one_of(odd_text, st.uuids().map(str),
                                                        json_values))))
def test_a_patch_body_is_a_change_or_a_client_error(body: Any) -> None:
    if not isinstance(body, dict):
        return  # the API refuses anything but an object before a parser sees it
    changes = assert_client_error(lambda: inputs.parse_asset_changes(body))
    if isinstance(changes, library.AssetChanges):
        assert changes.filename is None or assert_acceptable_filename(changes.filename) is None
        assert changes.move == ("project_id" in body)
    name = assert_client_error(lambda: inputs.parse_project_name(body))
    if isinstance(name, str):
        assert 1 <= len(name) <= inputs.MAX_PROJECT_NAME_CHARS
        assert unicodedata.is_normalized("NFC", name)
        assert not any(unicodedata.category(char) in ("Cc", "Cs") for char in name)


# ---- listing queries and cursors

aware_datetimes = st.datetimes(timezones=st.timezones())
page_cursors = st.builds(
    lambda sort, key, asset_id: (sort, listing.encode_page_cursor(sort, PageCursor(key,
                                                                                   asset_id))),
    st.sampled_from(SortOrder), st.one_of(aware_datetimes, st.datetimes()), st.uuids(),
)
change_cursors = st.builds(
    lambda seq: listing.encode_change_cursor(ChangeCursor(seq)), st.integers(0, 2**63 - 1))
legacy_change_cursors = st.builds(
    lambda xid, asset_id: b64(json.dumps(["c", xid, str(asset_id)]).encode()),
    st.integers(0, 2**64 - 1), st.uuids())


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


forged_cursors = st.one_of(
    odd_text,
    st.binary().map(b64),
    json_values.map(lambda value: b64(json.dumps(value).encode())),
    st.tuples(st.sampled_from(["p", "c", "x"]), json_values, json_values, json_values).map(
        lambda parts: b64(json.dumps(list(parts)).encode())),
    st.just(b64(b"[" * 5000)),
    st.just(b64(b'["c",true,"00000000-0000-0000-0000-000000000000"]')),
    st.just(b64(b'["c",18446744073709551616,"00000000-0000-0000-0000-000000000000"]')),
    st.just(b64(b'["s",true]')), st.just(b64(b'["s",9223372036854775808]')),
    st.just(b64(b'["s",-1]')),
)
QUERY_NAMES = ["limit", "cursor", "status", "project_id", "content_type", "taken_from",
               "taken_until", "sort", "changed_since"]
query_values = st.one_of(
    odd_text, forged_cursors, page_cursors.map(lambda pair: pair[1]), change_cursors,
    st.integers(-5, 300).map(str), st.just("1" + "0" * 5000),
    st.sampled_from([*(s.value for s in SortOrder), "ready", "pending", *filetypes.SUPPORTED,
                     "2024-05-31", "2024-05-31T12:00:00+02:00", "2024-02-30", "9999-12-31T23:59"]),
    st.dates().map(str), st.datetimes().map(lambda d: d.isoformat()), st.uuids().map(str),
)


@QUICK
@given(st.dictionaries(st.sampled_from(QUERY_NAMES) | st.text(max_size=8), query_values,
                       max_size=4))
@example({"limit": "1" + "0" * 5000})
@example({"changed_since": b64(b'["c",true,"00000000-0000-0000-0000-000000000000"]')})
@example({"cursor": b64(b"[" * 5000)})
def test_any_query_is_a_valid_listing_query_or_a_client_error(params: dict[str, str]) -> None:
    query = assert_client_error(lambda: inputs.parse_list_query(params))
    if not isinstance(query, listing.ListQuery):
        return
    assert 1 <= query.limit <= listing.MAX_PAGE_SIZE
    if isinstance(query.changed_since, ChangeCursor):
        assert type(query.changed_since.seq) is int
        assert 0 <= query.changed_since.seq < 2**63  # Postgres' bigint
    if isinstance(query.changed_since, LegacyChangeCursor):
        assert type(query.changed_since.xid) is int
        assert 0 <= query.changed_since.xid < 2**64  # Postgres' xid8
    if query.filters.content_type is not None:
        assert query.filters.content_type in filetypes.SUPPORTED


@QUICK
@given(page_cursors, change_cursors)
def test_a_cursor_the_service_produced_round_trips(page: tuple[SortOrder, str],
                                                   changes: str) -> None:
    sort, token = page
    cursor = listing.decode_page_cursor(token, sort)
    assert listing.encode_page_cursor(sort, cursor) == token
    assert listing.encode_change_cursor(listing.decode_change_cursor(changes)) == changes
    query = inputs.parse_list_query({"cursor": token, "sort": sort.value})
    assert query.cursor == cursor


@QUICK
@given(forged_cursors | page_cursors.map(lambda pair: pair[1]) | change_cursors
       | legacy_change_cursors, st.sampled_from(SortOrder), st.data())
def test_a_tampered_or_random_cursor_is_a_client_error(token: str, sort: SortOrder,
                                                       data: st.DataObject) -> None:
    if token and data.draw(st.booleans()):
        at = data.draw(st.integers(0, len(token) - 1))
        token = token[:at] + data.draw(st.characters()) + token[at + 1:]
    page = assert_client_error(lambda: listing.decode_page_cursor(token, sort))
    if page is not None:
        assert isinstance(page, PageCursor)
    change = assert_client_error(lambda: listing.decode_change_cursor(token))
    if isinstance(change, ChangeCursor):
        assert type(change.seq) is int
        assert 0 <= change.seq < 2**63
    if isinstance(change, LegacyChangeCursor):
        assert type(change.xid) is int and isinstance(change.asset_id, uuid.UUID)
        assert 0 <= change.xid < 2**64


@pytest.mark.parametrize("body", ["[" * 100_000, '{"a": ' * 100_000])
def test_json_nested_deeper_than_the_parser_goes_is_refused_not_a_crash(body: str) -> None:
    with pytest.raises(InvalidEvent):
        object_events(body)
    with pytest.raises(RequestError):
        inputs.read_json_object(cast(Request, SimpleNamespace(raw_body=body.encode())))
