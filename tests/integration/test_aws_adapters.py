"""The S3 and SQS adapters, built by the real composition root, against a moto server.

Uploads and downloads go through presigned URLs with a plain HTTP client, as a browser would.
"""

from __future__ import annotations

import dataclasses
import hashlib
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from lightbox.config import Config
from lightbox.domain import Lane, ThumbnailJob
from lightbox.errors import (
    ConfigError,
    InvalidParts,
    LightboxError,
    ObjectNotFound,
    QueueUnavailable,
    StorageUnavailable,
)
from lightbox.ports import JobQueue, ObjectStore
from lightbox.wiring import Container


@pytest.fixture
def store(aws_env: None, aws_endpoint: str, bucket: str) -> ObjectStore:
    return Container(Config.from_env({"LIGHTBOX_BUCKET": bucket,
                                      "AWS_ENDPOINT_URL": aws_endpoint})).storage


def test_a_presigned_put_takes_the_upload_of_a_plain_http_client(store: ObjectStore) -> None:
    data = b"\xff\xd8\xff" + bytes(range(256)) * 40
    upload = store.presign_put("originals/o/a", content_type="image/jpeg", size_bytes=len(data),
                               expires_in=600)

    response = requests.put(upload.url, data=data, headers=upload.headers, timeout=10)

    assert response.status_code == 200
    assert upload.method == "PUT"
    assert abs(upload.expires_at - (datetime.now(UTC) + timedelta(seconds=600))) < timedelta(seconds=5)
    stored = store.head("originals/o/a")
    assert stored is not None and stored.size == len(data)
    assert store.read_range("originals/o/a", 3) == b"\xff\xd8\xff"
    streamed = b"".join(store.iter_chunks("originals/o/a"))
    assert hashlib.sha256(streamed).digest() == hashlib.sha256(data).digest()


def test_a_presigned_get_serves_the_object(store: ObjectStore) -> None:
    store.put("derivatives/o/a/1-256.jpg", b"thumbnail bytes", "image/jpeg")
    response = requests.get(store.presign_get("derivatives/o/a/1-256.jpg", expires_in=60), timeout=10)
    assert response.status_code == 200
    assert response.content == b"thumbnail bytes"
    assert response.headers["Content-Type"] == "image/jpeg"
    assert response.headers["Cache-Control"] == "private, max-age=31536000, immutable"


def test_deleting_a_prefix_deletes_every_page_of_its_listing_and_nothing_else(
        store: ObjectStore, s3_client: Any, bucket: str) -> None:
    # An asset's tiles: more objects than one listing page (1000) holds.
    prefix = f"derivatives/owner/{uuid.uuid4()}/"
    keys = [f"{prefix}iiif/{n},0,512,512/512,512/0/default.jpg" for n in range(1100)]
    neighbour = f"{prefix[:-1]}x/1-256.jpg"  # shares the prefix's text, not its folder
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda key: store.put(key, b"tile", "image/jpeg"), [*keys, neighbour]))
    store.delete_prefix(prefix)
    left = s3_client.list_objects_v2(Bucket=bucket, Prefix=prefix[:-1]).get("Contents", [])
    assert [item["Key"] for item in left] == [neighbour]


def test_missing_objects(store: ObjectStore) -> None:
    assert store.head("originals/o/missing") is None
    with pytest.raises(ObjectNotFound):
        store.read_range("originals/o/missing", 16)
    with pytest.raises(ObjectNotFound):
        b"".join(store.iter_chunks("originals/o/missing"))


def test_the_head_of_an_empty_object_is_empty(store: ObjectStore) -> None:
    store.put("originals/o/empty", b"", "image/jpeg")
    assert store.read_range("originals/o/empty", 16) == b""


def test_an_objects_start_comes_with_what_a_head_says_of_it(store: ObjectStore) -> None:
    data = b"\xff\xd8\xff" + bytes(range(256)) * 400
    store.put("originals/o/start", data, "image/jpeg")
    store.put("originals/o/short", b"\xff\xd8", "image/jpeg")
    store.put("originals/o/empty", b"", "image/jpeg")

    assert store.read_start("originals/o/start", 64) == (store.head("originals/o/start"),
                                                          data[:64])
    assert store.read_start("originals/o/short", 64) == (store.head("originals/o/short"),
                                                          b"\xff\xd8")
    assert store.read_start("originals/o/empty", 64) == (store.head("originals/o/empty"), b"")
    assert store.read_start("originals/o/missing", 64) is None


def test_a_range_anywhere_reads_those_bytes_and_a_clip_reads_through_ranges(
    store: ObjectStore,
) -> None:
    from lightbox.ranged import RangedObject

    data = bytes(range(256)) * 8192  # 2 MiB
    store.put("originals/o/clip", data, "video/mp4")
    assert store.read_range("originals/o/clip", 100, start=1_000_000) == data[1_000_000:1_000_100]
    assert store.read_range("originals/o/clip", 100, start=len(data) - 10) == data[-10:]
    assert store.read_range("originals/o/clip", 100, start=len(data)) == b""  # past the end
    file = RangedObject(store, "originals/o/clip", len(data))
    file.seek(-5000, 2)
    assert file.read() == data[-5000:] and file.requests == 1


def test_deleting_more_keys_than_one_request_takes(store: ObjectStore, s3_client: Any,
                                                   bucket: str) -> None:
    keys = [f"derivatives/o/{n:04d}" for n in range(1001)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda key: s3_client.put_object(Bucket=bucket, Key=key, Body=b"x"), keys))
    store.delete(keys)
    assert s3_client.list_objects_v2(Bucket=bucket).get("KeyCount") == 0


def test_ping_answers_for_the_bucket_and_fails_for_a_missing_one(aws_env: None,
                                                                  store: ObjectStore) -> None:
    store.ping()
    missing = Container(Config.from_env({"LIGHTBOX_BUCKET": "no-such-bucket-here"})).storage
    with pytest.raises(LightboxError):
        missing.ping()


def test_an_unreachable_endpoint_is_unavailable(monkeypatch: pytest.MonkeyPatch, aws_env: None) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
    store = Container(Config.from_env({"LIGHTBOX_BUCKET": "any",
                                       "AWS_ENDPOINT_URL": "http://127.0.0.1:1"})).storage
    with pytest.raises(StorageUnavailable):
        store.head("originals/o/a")


MIB = 1024 * 1024


def test_parts_the_bucket_refuses_on_complete_are_invalid_parts_and_the_upload_stays(
    store: ObjectStore, s3_client: Any, bucket: str
) -> None:
    key = f"originals/o/{uuid.uuid4()}"
    upload_id = store.start_multipart(key, content_type="image/tiff")

    def put_part(number: int, data: bytes) -> None:
        s3_client.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number,
                              Body=data)

    put_part(1, b"a" * 10)  # smaller than the 5 MiB every part but the last must have
    put_part(2, b"b" * 10)
    parts = store.uploaded_parts(key, upload_id)
    with pytest.raises(InvalidParts, match="EntityTooSmall") as refused:
        store.complete_multipart(key, upload_id, parts)
    assert refused.value.status == 409 and "abort" in refused.value.message
    wrong_etag = [dataclasses.replace(parts[0], etag='"0123"'), parts[1]]
    with pytest.raises(InvalidParts, match="InvalidPart"):
        store.complete_multipart(key, upload_id, wrong_etag)

    # The upload is still there: the part PUT again at its size, complete succeeds.
    put_part(1, b"a" * 5 * MIB)
    store.complete_multipart(key, upload_id, store.uploaded_parts(key, upload_id))
    stored = store.head(key)
    assert stored is not None and stored.size == 5 * MIB + 10


@pytest.fixture
def queue_url(sqs_client: Any) -> str:
    url: str = sqs_client.create_queue(QueueName=f"jobs-{uuid.uuid4().hex[:12]}")["QueueUrl"]
    return url


@pytest.fixture
def large_queue_url(sqs_client: Any) -> str:
    url: str = sqs_client.create_queue(QueueName=f"large-{uuid.uuid4().hex[:12]}")["QueueUrl"]
    return url


@pytest.fixture
def video_queue_url(sqs_client: Any) -> str:
    url: str = sqs_client.create_queue(QueueName=f"video-{uuid.uuid4().hex[:12]}")["QueueUrl"]
    return url


@pytest.fixture
def jobs(aws_env: None, queue_url: str, large_queue_url: str, video_queue_url: str) -> JobQueue:
    return Container(Config.from_env({"LIGHTBOX_THUMBNAIL_QUEUE_URL": queue_url,
                                      "LIGHTBOX_LARGE_THUMBNAIL_QUEUE_URL": large_queue_url,
                                      "LIGHTBOX_VIDEO_QUEUE_URL": video_queue_url})).jobs


def received(sqs_client: Any, queue_url: str) -> list[ThumbnailJob]:
    messages = sqs_client.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10,
                                          WaitTimeSeconds=1).get("Messages", [])
    return [ThumbnailJob.from_json(message["Body"]) for message in messages]


def test_a_sent_job_arrives_as_json_on_the_queue_of_its_lane(
    jobs: JobQueue, sqs_client: Any, queue_url: str, large_queue_url: str, video_queue_url: str
) -> None:
    small, large, clip = (ThumbnailJob(uuid.uuid4(), "studio") for _ in range(3))
    jobs.send(small, Lane.STANDARD)
    jobs.send(large, Lane.LARGE)
    jobs.send(clip, Lane.VIDEO)
    jobs.ping()
    assert received(sqs_client, queue_url) == [small]
    assert received(sqs_client, large_queue_url) == [large]
    assert received(sqs_client, video_queue_url) == [clip]


def test_without_a_large_queue_every_lane_is_the_standard_one(
    aws_env: None, sqs_client: Any, queue_url: str
) -> None:
    jobs = Container(Config.from_env({"LIGHTBOX_THUMBNAIL_QUEUE_URL": queue_url})).jobs
    job = ThumbnailJob(uuid.uuid4(), "studio")
    jobs.send(job, Lane.LARGE)
    assert received(sqs_client, queue_url) == [job]


def test_without_a_video_queue_a_clips_job_is_not_sent_to_a_lane_that_cannot_render_it(
    aws_env: None, sqs_client: Any, queue_url: str
) -> None:
    jobs = Container(Config.from_env({"LIGHTBOX_THUMBNAIL_QUEUE_URL": queue_url})).jobs
    with pytest.raises(ConfigError, match="LIGHTBOX_VIDEO_QUEUE_URL is not set"):
        jobs.send(ThumbnailJob(uuid.uuid4(), "studio"), Lane.VIDEO)
    assert received(sqs_client, queue_url) == []


def test_a_postponed_message_stays_hidden_until_its_delay_has_passed(
    aws_env: None, sqs_client: Any, queue_url: str
) -> None:
    arn = sqs_client.get_queue_attributes(QueueUrl=queue_url,
                                          AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    redelivery = Container(Config.from_env({})).backoff  # built as the handlers build it
    for body in ("later", "now"):
        sqs_client.send_message(QueueUrl=queue_url, MessageBody=body)
    messages = sqs_client.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10,
                                          VisibilityTimeout=30, WaitTimeSeconds=1)["Messages"]
    handles = {m["Body"]: m["ReceiptHandle"] for m in messages}
    assert set(handles) == {"later", "now"}

    redelivery.postpone(arn, handles["later"], 600)
    redelivery.postpone(arn, handles["now"], 0)

    again = sqs_client.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10,
                                       WaitTimeSeconds=1).get("Messages", [])
    assert [m["Body"] for m in again] == ["now"]


def test_postponing_on_an_unknown_queue_is_an_error_the_batch_can_log(aws_env: None) -> None:
    redelivery = Container(Config.from_env({})).backoff  # built as the handlers build it
    with pytest.raises(LightboxError, match="finding a queue failed"):
        redelivery.postpone("arn:aws:sqs:us-east-1:000000000000:no-such-queue", "handle", 30)


def test_an_unreachable_queue_is_unavailable(monkeypatch: pytest.MonkeyPatch, aws_env: None,
                                             queue_url: str) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
    jobs = Container(Config.from_env({"LIGHTBOX_THUMBNAIL_QUEUE_URL": queue_url})).jobs
    with pytest.raises(QueueUnavailable):
        jobs.send(ThumbnailJob(uuid.uuid4(), "studio"), Lane.STANDARD)


def test_dead_letters_are_received_in_batches_and_sent_back_to_their_queue_once(
    aws_env: None, sqs_client: Any, queue_url: str, large_queue_url: str
) -> None:
    dead_url = large_queue_url  # any queue serves as the dead-letter queue here
    for n in range(13):
        sqs_client.send_message(QueueUrl=dead_url, MessageBody=f"event {n}")
    container = Container(Config.from_env({
        "LIGHTBOX_THUMBNAIL_QUEUE_URL": queue_url,
        "LIGHTBOX_INGEST_QUEUE_URL": queue_url,
        "LIGHTBOX_INGEST_DEAD_LETTER_QUEUE_URL": dead_url,
        "LIGHTBOX_THUMBNAIL_DEAD_LETTER_QUEUE_URL": dead_url,
    }))
    events, job_letters = container.ingest_dead_letters, container.job_dead_letters
    assert len(job_letters) == 1  # no large lane configured

    letters = events.receive(100)
    assert sorted(letter.body for letter in letters) == sorted(f"event {n}" for n in range(13))
    for letter in letters:
        events.send_back(letter)

    assert events.receive(100) == []
    back = []
    while batch := sqs_client.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10,
                                              WaitTimeSeconds=1).get("Messages", []):
        back += [m["Body"] for m in batch]
        sqs_client.delete_message_batch(QueueUrl=queue_url, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)])
    assert sorted(back) == sorted(f"event {n}" for n in range(13))
