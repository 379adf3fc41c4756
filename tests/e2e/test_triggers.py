"""Bucket events through the running stack: removals, replays, disorder, junk, webhooks, lanes.

Events reach upload-complete the way they do in production: the bucket's own notifications
on the ingest queue, messages put on that queue by hand (as S3 would send them again), and
MinIO-shaped webhooks through the API gateway.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.e2e.conftest import LARGE_UPLOAD_BYTES, Client, Stack, start_stack
from tests.support import image_bytes, load_event, pattern
from tests.videos import clip

pytestmark = pytest.mark.e2e


def eventually(condition: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.25)


def derivative_keys(stack: Stack, asset_id: str) -> list[str]:
    listed = stack.client("s3").list_objects_v2(Bucket=stack.exports["LIGHTBOX_BUCKET"],
                                               Prefix=f"derivatives/local/{asset_id}/")
    return sorted(item["Key"] for item in listed.get("Contents", []))


def notification(stack: Stack, asset_id: str, fixture: str) -> str:
    """The message S3 puts on the ingest queue for this asset's original."""
    message = load_event(fixture)
    record = message["Records"][0]
    record["s3"]["bucket"]["name"] = stack.exports["LIGHTBOX_BUCKET"]
    record["s3"]["object"]["key"] = f"originals/local/{asset_id}"
    return json.dumps(message)


def send(stack: Stack, *bodies: str) -> None:
    sqs = stack.client("sqs")
    url = stack.exports["LIGHTBOX_INGEST_QUEUE_URL"]
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda body: sqs.send_message(QueueUrl=url, MessageBody=body), bodies))


def waiting(stack: Stack, queue: str) -> dict[str, str]:
    """How many of the queue's messages wait, and how many are taken and not yet deleted."""
    return stack.client("sqs").get_queue_attributes(
        QueueUrl=stack.exports[f"LIGHTBOX_{queue}_URL"],
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]


def drained(stack: Stack, queue: str) -> bool:
    return all(value == "0" for value in waiting(stack, queue).values())


def until_drained(stack: Stack, *queues: str) -> None:
    """Wait until none of ``queues`` holds a message; say what they hold if they never do."""
    try:
        eventually(lambda: all(drained(stack, queue) for queue in queues))
    except AssertionError as exc:
        raise AssertionError(
            {queue: waiting(stack, queue) for queue in queues}) from exc


def is_gone(client: Client, asset_id: str) -> bool:
    return client.http.get(f"{client.api}/v1/assets/{asset_id}", timeout=30).status_code == 404


def ready(client: Client, name: str, size: tuple[int, int] = (640, 480)) -> dict[str, Any]:
    asset_id = client.upload(name, "image/png", image_bytes("PNG", size))
    asset = client.wait_until_settled(asset_id)
    assert asset["status"] == "ready", asset["error"]
    return asset


def test_deleting_an_original_deletes_its_asset_and_derivatives(
    stack: Stack, client: Client
) -> None:
    asset = ready(client, "goodbye.png", (641, 480))
    assert len(derivative_keys(stack, asset["asset_id"])) == 2

    stack.client("s3").delete_object(Bucket=stack.exports["LIGHTBOX_BUCKET"],
                                     Key=f"originals/local/{asset['asset_id']}")

    eventually(lambda: is_gone(client, asset["asset_id"]))
    eventually(lambda: derivative_keys(stack, asset["asset_id"]) == [])
    listed = client.http.get(f"{client.api}/v1/assets?limit=100", timeout=30).json()["items"]
    assert asset["asset_id"] not in [item["asset_id"] for item in listed]


def test_a_creation_replayed_many_times_at_once_changes_nothing(
    stack: Stack, client: Client
) -> None:
    asset = ready(client, "replayed.png", (642, 480))
    keys = derivative_keys(stack, asset["asset_id"])

    send(stack, *[notification(stack, asset["asset_id"], "s3ObjectCreated.json")] * 20)

    until_drained(stack, "INGEST_QUEUE", "THUMBNAIL_QUEUE")
    after = client.asset(asset["asset_id"])
    assert after["status"] == "ready"
    assert after["updated_at"] == asset["updated_at"]
    assert derivative_keys(stack, asset["asset_id"]) == keys


def test_a_late_creation_after_the_removal_does_not_revive_the_asset(
    stack: Stack, client: Client
) -> None:
    asset = ready(client, "late.png", (643, 480))
    stack.client("s3").delete_object(Bucket=stack.exports["LIGHTBOX_BUCKET"],
                                     Key=f"originals/local/{asset['asset_id']}")
    eventually(lambda: is_gone(client, asset["asset_id"]))

    # The creation that preceded the removal, delivered again long after it.
    send(stack, notification(stack, asset["asset_id"], "s3ObjectCreated.json"))

    until_drained(stack, "INGEST_QUEUE")
    assert is_gone(client, asset["asset_id"])
    assert derivative_keys(stack, asset["asset_id"]) == []


def test_messages_that_are_no_bucket_events_are_acknowledged_not_retried(
    stack: Stack, client: Client
) -> None:
    send(stack, "not json at all", '{"hello": "world"}',
         json.dumps(load_event("s3TestEvent.json")),
         notification(stack, "00000000-0000-0000-0000-000000000000", "s3ObjectCreated.json"))

    until_drained(stack, "INGEST_QUEUE")
    assert drained(stack, "INGEST_DEAD_LETTER_QUEUE")


def minio_event(stack: Stack, asset_id: str) -> dict[str, Any]:
    event = load_event("minioWebhookPut.json")
    key = f"originals/local/{asset_id}"
    event["Key"] = f"{stack.exports['LIGHTBOX_BUCKET']}/{key}"
    event["Records"][0]["s3"]["bucket"]["name"] = stack.exports["LIGHTBOX_BUCKET"]
    event["Records"][0]["s3"]["object"]["key"] = key.replace("/", "%2F")
    return event


def test_minio_webhooks_reach_upload_complete_with_the_shared_token(
    stack: Stack, client: Client
) -> None:
    data = image_bytes("PNG", (644, 480))
    ticket = client.presign("hooked.png", "image/png", data).json()
    asset_id = ticket["asset_id"]
    hook = f"{client.api}/hooks/minio"
    token = {"Authorization": f"Bearer {stack.exports['LIGHTBOX_WEBHOOK_TOKEN']}"}

    refused = requests.post(hook, json=minio_event(stack, asset_id), timeout=30)
    assert refused.status_code == 401
    # Each data directory has a random token; the constant earlier versions used is refused.
    assert stack.exports["LIGHTBOX_WEBHOOK_TOKEN"] != "lightbox-local-webhook"
    published = {"Authorization": "Bearer lightbox-local-webhook"}
    assert requests.post(hook, json=minio_event(stack, asset_id), headers=published,
                         timeout=30).status_code == 401
    early = requests.post(hook, json=minio_event(stack, asset_id), headers=token, timeout=30)
    assert early.status_code == 200
    assert early.json()["events"][0]["status"] == "ignored"  # nothing uploaded yet

    put = requests.put(ticket["upload"]["url"], data=data, headers=ticket["upload"]["headers"],
                       timeout=30)
    assert put.status_code == 200
    applied = requests.post(hook, json=minio_event(stack, asset_id), headers=token, timeout=30)
    assert applied.status_code == 200
    assert applied.json()["events"][0]["status"] in ("uploaded", "processing", "ready")
    assert client.wait_until_settled(asset_id)["status"] == "ready"


def test_a_large_scan_takes_the_large_lane_and_photos_do_not_wait_for_it(
    stack: Stack, client: Client
) -> None:
    scan = image_bytes("TIFF", (2400, 1800))
    assert len(scan) >= LARGE_UPLOAD_BYTES
    large = client.upload("scan.tif", "image/tiff", scan)
    photos = [client.upload(f"phone-{n}.png", "image/png", image_bytes("PNG", (320 + n, 240)))
              for n in range(3)]

    for asset_id in [large, *photos]:
        assert client.wait_until_settled(asset_id)["status"] == "ready"
    log = stack.log_path.read_text(errors="replace")
    assert f"LargeThumbnailFunction INFO lightbox.services.thumbnails: asset {large} ready" in log
    for asset_id in photos:
        assert f" ThumbnailFunction INFO lightbox.services.thumbnails: asset {asset_id} ready" in log


def test_clips_take_the_video_lane_and_photos_do_not_wait_for_them(
    stack: Stack, client: Client
) -> None:
    clips = [client.upload(f"clip-{n}.mp4", "video/mp4", clip(pattern((320, 240), seed=n)))
             for n in range(2)]
    photos = [client.upload(f"still-{n}.png", "image/png", image_bytes("PNG", (300 + n, 200)))
              for n in range(2)]

    for asset_id in [*clips, *photos]:
        assert client.wait_until_settled(asset_id)["status"] == "ready"
    log = stack.log_path.read_text(errors="replace")
    for asset_id in clips:
        assert f" VideoFunction INFO lightbox.services.thumbnails: asset {asset_id} ready" in log
        assert f"asset {asset_id}: the poster read " in log
    for asset_id in photos:
        assert f" ThumbnailFunction INFO lightbox.services.thumbnails: asset {asset_id} ready" in log


def test_the_scheduler_runs_the_reaper_which_expires_uploads_that_never_came(
    tmp_path: Path,
) -> None:
    stack = start_stack(tmp_path / "data", "embedded", "--schedule-seconds", "1",
                        LIGHTBOX_UPLOAD_URL_TTL="1", LIGHTBOX_PENDING_GRACE_SECONDS="1")
    try:
        client = stack.api_client()
        response = client.presign("never.png", "image/png", image_bytes("PNG", (10, 10)))
        assert response.status_code == 201

        asset = client.wait_until_settled(response.json()["asset_id"], timeout=30)

        assert asset["status"] == "failed"
        assert asset["error"] == "no upload arrived before the upload URL expired"
    finally:
        assert stack.stop() == 0, stack.log_tail()
