"""The API as clients meet it: keys and owners, projects, sync, large uploads, deletion,
retry and stats, through the local stack (every answer checked against the OpenAPI document).
"""

from __future__ import annotations

import hashlib
import io
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest
import requests
import tifffile
from PIL import Image

from infra.template import Template
from tests.conftest import REPO
from tests.e2e.conftest import Client, Stack
from tests.support import image_bytes, unique_owner

pytestmark = pytest.mark.e2e

MIB = 1024 * 1024


def unique_image(fmt: str, size: tuple[int, int]) -> bytes:
    """An image no other test uploads (the same bytes twice make a duplicate): decoders stop
    at the image's end and ignore what follows."""
    return image_bytes(fmt, size) + uuid.uuid4().bytes


@pytest.fixture(scope="module")
def stranger(stack: Stack) -> Client:
    """A second owner, with a key made by ``./dev.sh key create``."""
    return stack.api_client(stack.create_key(f"stranger-{uuid.uuid4().hex[:8]}"))


def keys_of(stack: Stack, client: Client) -> set[str]:
    pages = stack.client("s3").get_paginator("list_objects_v2").paginate(
        Bucket=stack.exports["LIGHTBOX_BUCKET"])
    return {object_["Key"] for page in pages for object_ in page.get("Contents", [])}


def listed(client: Client, **params: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    query: dict[str, str] = {"limit": "200", **params}
    while True:
        page = client.http.get(f"{client.api}/v1/assets", params=query, timeout=30)
        assert page.status_code == 200, page.text
        items.extend(page.json()["items"])
        if page.json()["next_cursor"] is None:
            return items
        query["cursor"] = page.json()["next_cursor"]


def changes(client: Client, cursor: str) -> tuple[list[dict[str, Any]], str]:
    """Follow the change feed until it has nothing more now; the items and the next cursor."""
    items: list[dict[str, Any]] = []
    while True:
        page = client.http.get(f"{client.api}/v1/assets",
                               params={"changed_since": cursor, "limit": "2"}, timeout=30)
        assert page.status_code == 200, page.text
        items.extend(page.json()["items"])
        cursor = page.json()["sync_cursor"]
        if page.json()["next_cursor"] is None:
            return items, cursor


# --- auth and isolation ----------------------------------------------------------------------

# Every /v1 route the template puts behind the authorizer (all but the tiles a grant opens:
# e2e/test_tiles.py), as a client would call it.
V1_ROUTES = sorted((route.method, route.path) for route in
                   Template.load(REPO / "template.yaml").routes
                   if route.path.startswith("/v1/") and route.authorizer is not None)


@pytest.mark.parametrize("credentials", [None, "Bearer lbk_not-a-real-key", "Basic dXNlcg==",
                                         "Bearer a.b.c"])
def test_every_v1_route_refuses_requests_without_valid_credentials(
    client: Client, credentials: str | None
) -> None:
    asset, project = uuid.uuid4(), uuid.uuid4()
    for method, path in V1_ROUTES:
        headers = {"Authorization": credentials} if credentials else {}
        anonymous = requests.Session()
        anonymous.hooks["response"] = client.http.hooks["response"]
        response = anonymous.request(
            method, client.api + path.format(asset_id=asset, project_id=project, import_id=asset,
                                             share_id=asset, size=256), headers=headers,
            json={}, timeout=30)
        assert response.status_code == 401, (method, path, response.text)
        assert response.json()["error"]["code"] == "unauthorized"
        assert response.headers["WWW-Authenticate"] == "Bearer"


def test_a_revoked_key_stops_working_at_once(stack: Stack) -> None:
    owner = f"revoked-{uuid.uuid4().hex[:8]}"
    key = stack.create_key(owner)
    client = stack.api_client(key)
    assert client.http.get(f"{client.api}/v1/stats", timeout=30).status_code == 200
    key_id = stack.key_command("list", "--owner", owner).splitlines()[-1].split()[0]
    stack.key_command("revoke", "--owner", owner, key_id)
    assert client.http.get(f"{client.api}/v1/stats", timeout=30).status_code == 401


def test_one_owner_can_never_see_or_touch_anothers_assets_or_projects(
    stack: Stack, client: Client, stranger: Client
) -> None:
    project = client.http.post(f"{client.api}/v1/projects", json={"name": "Private"},
                               timeout=30).json()
    data = unique_image("JPEG", (640, 480))
    asset_id = client.upload("mine.jpg", "image/jpeg", data, project_id=project["project_id"])
    assert client.wait_until_settled(asset_id)["status"] == "ready"
    pending = client.presign("pending.jpg", "image/jpeg", data + b"\0").json()["asset_id"]
    bucket = stack.exports["LIGHTBOX_BUCKET"]
    started = client.http.post(f"{client.api}/v1/imports", timeout=30, json={
        "source": f"s3://{bucket}/imports/local/nothing-{uuid.uuid4().hex[:8]}/"})
    assert started.status_code == 202, started.text
    import_id = started.json()["import_id"]
    sync_cursor = stranger.http.get(f"{stranger.api}/v1/assets",
                                    timeout=30).json()["sync_cursor"]
    share = client.http.post(f"{client.api}/v1/projects/{project['project_id']}/shares",
                             json={}, timeout=30).json()
    theirs_project = stranger.http.post(f"{stranger.api}/v1/projects", json={"name": "Theirs"},
                                        timeout=30).json()["project_id"]

    api = stranger.api
    for method, path, body in [
        ("GET", f"/v1/assets/{asset_id}", None),
        ("PATCH", f"/v1/assets/{asset_id}", {"filename": "stolen.jpg"}),
        ("DELETE", f"/v1/assets/{asset_id}", None),
        ("DELETE", f"/v1/assets/{asset_id}?permanent=true", None),
        ("POST", f"/v1/assets/{asset_id}/restore", None),
        ("POST", f"/v1/assets/{asset_id}/retry", None),
        ("GET", f"/v1/assets/{asset_id}/similar", None),
        ("GET", f"/v1/assets/{asset_id}/thumbnails/256", None),
        ("GET", f"/v1/assets/{asset_id}/thumbnails/640", None),
        ("GET", f"/v1/imports/{import_id}", None),
        ("POST", f"/v1/uploads/{asset_id}/complete", None),
        ("POST", f"/v1/uploads/{pending}/complete", None),
        ("POST", f"/v1/uploads/{pending}/abort", None),
        ("GET", f"/v1/projects/{project['project_id']}", None),
        ("PATCH", f"/v1/projects/{project['project_id']}", {"name": "Mine now"}),
        ("DELETE", f"/v1/projects/{project['project_id']}?cascade=true", None),
        ("POST", f"/v1/projects/{project['project_id']}/assets", {"asset_ids": [asset_id]}),
        ("DELETE", f"/v1/projects/{project['project_id']}/assets", {"asset_ids": [asset_id]}),
        ("POST", f"/v1/projects/{theirs_project}/assets", {"asset_ids": [asset_id]}),
        ("POST", f"/v1/projects/{project['project_id']}/shares", {}),
        ("GET", f"/v1/projects/{project['project_id']}/shares", None),
        ("DELETE", f"/v1/projects/{project['project_id']}/shares/{share['share_id']}", None),
        ("POST", "/v1/uploads", {"filename": "x.jpg", "content_type": "image/jpeg",
                                 "size_bytes": 10, "project_id": project["project_id"]}),
    ]:
        response = stranger.http.request(method, api + path, json=body, timeout=30)
        assert response.status_code == 404, (method, path, response.text)

    # Known bytes of another owner are no duplicate: nothing tells that they exist.
    declared = stranger.presign("copy.jpg", "image/jpeg", data,
                                sha256=hashlib.sha256(data).hexdigest())
    assert declared.status_code == 201, declared.text
    assert asset_id not in {item["asset_id"] for item in listed(stranger)}
    assert listed(stranger, project_id=project["project_id"]) == []
    assert [p["project_id"] for p in stranger.http.get(f"{api}/v1/projects", timeout=30).json()[
        "items"]] == [theirs_project]
    assert stranger.http.get(f"{api}/v1/imports", timeout=30).json()["items"] == []
    # Nor may the stranger import what the owner keeps for import.
    taken = stranger.http.post(f"{api}/v1/imports", json={"source": f"s3://{bucket}/imports/local/"},
                               timeout=30)
    assert taken.status_code == 403, taken.text
    groups = stranger.http.get(f"{api}/v1/similar?distance=11", timeout=30).json()["groups"]
    assert asset_id not in {near["asset"]["asset_id"] for group in groups
                            for near in [group, *group["similar"]]}
    theirs, _ = changes(stranger, sync_cursor)
    assert {item["asset_id"] for item in theirs} <= {declared.json()["asset_id"]}
    stats = stranger.http.get(f"{api}/v1/stats", timeout=30).json()
    assert stats["assets"]["ready"] == 0 and stats["stored_bytes"] == 0
    assert "queues" not in stats  # the shared queues tell of other owners' work
    # Emptying one's trash empties no one else's.
    assert client.http.delete(f"{api}/v1/assets/{pending}", timeout=30).status_code == 204
    emptied = stranger.http.delete(f"{api}/v1/trash", timeout=30)
    assert emptied.json() == {"deleted": 0, "more": False}, emptied.text
    assert listed(stranger, status="trashed") == []

    # And the owner still has everything, untouched.
    mine = client.asset(asset_id)
    assert mine["filename"] == "mine.jpg" and mine["project_id"] == project["project_id"]
    assert mine["project_ids"] == [project["project_id"]]
    assert requests.get(f"{api}/v1/shared/{share['token']}", timeout=30).status_code == 200
    assert client.asset(pending)["status"] == "trashed"


def test_a_size_made_on_demand_is_rendered_once_and_an_unlisted_size_is_refused(
    client: Client,
) -> None:
    asset_id = client.upload("wide.jpg", "image/jpeg", unique_image("JPEG", (1600, 1000)))
    assert client.wait_until_settled(asset_id)["status"] == "ready"
    path = f"{client.api}/v1/assets/{asset_id}/thumbnails"

    first = client.http.get(f"{path}/640", allow_redirects=False, timeout=60)
    assert first.status_code == 302, first.text
    made = requests.get(first.headers["Location"], timeout=30)
    assert made.status_code == 200
    with Image.open(io.BytesIO(made.content)) as image:
        assert max(image.size) == 640
    listed = [t for t in client.asset(asset_id)["thumbnails"] if t["size"] == 640]
    assert len(listed) == 1  # recorded, so that deleting the asset deletes it
    again = client.http.get(f"{path}/640", allow_redirects=False, timeout=60)
    assert urlsplit(again.headers["Location"]).path == urlsplit(first.headers["Location"]).path
    assert len([t for t in client.asset(asset_id)["thumbnails"] if t["size"] == 640]) == 1

    refused = client.http.get(f"{path}/333", allow_redirects=False, timeout=30)
    assert refused.status_code == 400 and "640" in refused.json()["error"]["message"]


# --- projects --------------------------------------------------------------------------------

def test_projects_are_created_renamed_and_deleted_only_when_empty_or_to_the_trash(
    stack: Stack, client: Client
) -> None:
    api = client.api
    name = f"Trip {uuid.uuid4().hex[:6]}"
    created = client.http.post(f"{api}/v1/projects", json={"name": name}, timeout=30)
    assert created.status_code == 201
    project = created.json()
    again = client.http.post(f"{api}/v1/projects", json={"name": name.upper()}, timeout=30)
    assert again.status_code == 409 and again.json()["error"]["code"] == "project_exists"
    renamed = client.http.patch(f"{api}/v1/projects/{project['project_id']}",
                                json={"name": name + " (2)"}, timeout=30)
    assert renamed.status_code == 200 and renamed.json()["name"] == name + " (2)"

    photo = client.upload("trip.png", "image/png", unique_image("PNG", (320, 240)))
    moved = client.http.patch(f"{api}/v1/assets/{photo}",
                              json={"project_id": project["project_id"]}, timeout=30)
    assert moved.status_code == 200 and moved.json()["project_id"] == project["project_id"]
    assert client.wait_until_settled(photo)["status"] == "ready"
    assert [item["asset_id"] for item in listed(client, project_id=project["project_id"])] == [
        photo]
    refused = client.http.delete(f"{api}/v1/projects/{project['project_id']}", timeout=30)
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "project_not_empty"

    deleted = client.http.delete(f"{api}/v1/projects/{project['project_id']}",
                                 params={"cascade": "true"}, timeout=30)
    assert deleted.status_code == 204
    assert client.http.get(f"{api}/v1/projects/{project['project_id']}",
                           timeout=30).status_code == 404
    # Its photo went to the trash, bytes kept; restored, it is in no project.
    trashed = client.asset(photo)
    assert (trashed["status"], trashed["project_id"]) == ("trashed", None)
    assert any(photo in key for key in keys_of(stack, client))
    restored = client.http.post(f"{api}/v1/assets/{photo}/restore", timeout=30).json()
    assert (restored["status"], restored["project_id"]) == ("ready", None)


# --- sync ------------------------------------------------------------------------------------

def test_a_client_syncs_every_creation_change_and_deletion_as_tombstones(
    stack: Stack, client: Client
) -> None:
    api = client.api
    cursor = client.http.get(f"{api}/v1/assets", params={"limit": "1"},
                             timeout=30).json()["sync_cursor"]
    first = client.upload("one.jpg", "image/jpeg", unique_image("JPEG", (200, 150)))
    second = client.upload("two.jpg", "image/jpeg", unique_image("JPEG", (200, 150)))
    third = client.presign("three.jpg", "image/jpeg", b"x" * 10).json()["asset_id"]
    for asset_id in (first, second):
        client.wait_until_settled(asset_id)
    renamed = client.http.patch(f"{api}/v1/assets/{second}", json={"filename": "2.jpg"},
                                timeout=30)
    assert renamed.status_code == 200
    assert client.http.delete(f"{api}/v1/assets/{first}?permanent=true",
                              timeout=30).status_code == 204

    items, cursor = changes(client, cursor)
    latest = {item["asset_id"]: item for item in items}  # the feed may repeat an asset
    assert set(latest) == {first, second, third}
    assert latest[first]["status"] == "deleted" and latest[first]["original_url"] is None
    assert latest[first]["thumbnails"] == []
    assert latest[second]["filename"] == "2.jpg" and latest[second]["status"] == "ready"
    assert latest[third]["status"] == "pending"
    # Caught up: nothing more until something changes.
    assert changes(client, cursor)[0] == []


# --- large uploads ---------------------------------------------------------------------------

def big_tiff(path: Path, megabytes: int) -> bytes:
    """An uncompressed RGB strip TIFF of about ``megabytes`` MB: a flatbed scan."""
    side = int((megabytes * 1_000_000 / 3) ** 0.5)
    rows = np.linspace(0, 255, side, dtype=np.uint8)
    image = np.empty((side, side, 3), dtype=np.uint8)
    image[..., 0] = rows[:, None]
    image[..., 1] = rows[None, :]
    image[..., 2] = 128
    tifffile.imwrite(path, image, photometric="rgb", rowsperstrip=64, metadata=None)
    return path.read_bytes()


def test_a_200_mb_scan_is_uploaded_in_parts_and_becomes_ready(
    stack: Stack, client: Client, tmp_path: Path
) -> None:
    data = big_tiff(tmp_path / "scan.tif", 200)
    ticket = client.presign("scan.tif", "image/tiff", data).json()
    upload = ticket["upload"]
    assert "url" not in upload and len(upload["parts"]) == -(-len(data) // upload["part_size"])
    assert sum(part["size_bytes"] for part in upload["parts"]) == len(data)
    # Complete before every part arrived: refused, saying what is missing.
    client.put_parts(upload, data, upload["parts"][:1])
    early = client.complete(ticket["asset_id"])
    assert early.status_code == 409 and early.json()["error"]["code"] == "upload_incomplete"
    client.put_parts(upload, data, upload["parts"][1:])
    completed = client.complete(ticket["asset_id"])
    assert completed.status_code == 202, completed.text

    asset = client.wait_until_settled(ticket["asset_id"], timeout=240)
    assert asset["status"] == "ready", asset
    assert asset["size_bytes"] == len(data) and asset["sha256"] == hashlib.sha256(data).hexdigest()
    original = requests.get(asset["original_url"], headers={"Range": "bytes=0-3"}, timeout=30)
    assert original.content == data[:4]


def test_parts_the_bucket_refuses_are_a_409_and_leave_the_upload_to_mend_or_abort(
    stack: Stack, client: Client
) -> None:
    data = b"\0" * (70 * MIB)
    ticket = client.presign("wrong.tif", "image/tiff", data).json()
    url = ticket["upload"]["parts"][0]["url"]
    upload_id = parse_qs(urlsplit(url).query)["uploadId"][0]
    s3, bucket = stack.client("s3"), stack.exports["LIGHTBOX_BUCKET"]
    key = next(upload["Key"] for upload in s3.list_multipart_uploads(Bucket=bucket)["Uploads"]
               if upload["UploadId"] == upload_id)
    # Every byte arrives, but in a first part far under the 5 MiB S3 demands of it.
    last = ticket["upload"]["parts"][-1]["part_number"]
    for number, body in ((1, data[:1]), (last, data[1:])):
        s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=body)

    refused = client.complete(ticket["asset_id"])
    assert refused.status_code == 409, refused.text
    error = refused.json()["error"]
    assert error["code"] == "invalid_parts" and "abort" in error["message"]
    assert client.asset(ticket["asset_id"])["status"] == "pending"
    aborted = client.http.post(f"{client.api}/v1/uploads/{ticket['asset_id']}/abort", timeout=30)
    assert aborted.status_code == 204


def test_a_5_tib_upload_costs_small_answers_its_part_urls_coming_in_pages(client: Client) -> None:
    size = 5 * 1024**4
    presigned = client.presign("huge.tif", "image/tiff", b"", size_bytes=size)
    assert presigned.status_code == 201 and len(presigned.content) < 200_000
    ticket = presigned.json()
    upload, asset_id = ticket["upload"], ticket["asset_id"]
    count = upload["part_count"]
    assert count == -(-size // upload["part_size"]) and len(upload["parts"]) == 100
    before = client.asset(asset_id)["updated_at"]

    more = client.http.get(f"{client.api}/v1/uploads/{asset_id}/parts",
                           params={"first": count - 1}, timeout=30)
    assert more.status_code == 200 and len(more.content) < 200_000
    last = more.json()["parts"]
    assert [part["part_number"] for part in last] == [count - 1, count]
    assert sum(part["size_bytes"] for part in last) == size - (count - 2) * upload["part_size"]
    # Asking renewed the pending clock: the reaper counts from now.
    assert client.asset(asset_id)["updated_at"] > before
    past = client.http.get(f"{client.api}/v1/uploads/{asset_id}/parts",
                           params={"first": count + 1}, timeout=30)
    assert past.status_code == 422
    assert client.http.post(f"{client.api}/v1/uploads/{asset_id}/abort", timeout=30).status_code == 204
    gone = client.http.get(f"{client.api}/v1/uploads/{asset_id}/parts", timeout=30)
    assert gone.status_code == 404


def test_an_aborted_upload_leaves_nothing_behind(stack: Stack, client: Client) -> None:
    ticket = client.presign("big.tif", "image/tiff", b"\0" * (70 * MIB)).json()
    part = ticket["upload"]["parts"][0]
    assert requests.put(part["url"], data=b"\0" * part["size_bytes"],
                        timeout=120).status_code == 200
    aborted = client.http.post(f"{client.api}/v1/uploads/{ticket['asset_id']}/abort", timeout=30)
    assert aborted.status_code == 204
    assert client.http.get(f"{client.api}/v1/assets/{ticket['asset_id']}",
                           timeout=30).status_code == 404
    s3 = stack.client("s3")
    uploads = s3.list_multipart_uploads(Bucket=stack.exports["LIGHTBOX_BUCKET"]).get("Uploads", [])
    assert ticket["asset_id"] not in {upload["Key"].rsplit("/", 1)[-1] for upload in uploads}


def test_a_declared_hash_is_enforced_by_the_bucket(
    stack: Stack, client: Client
) -> None:
    data = unique_image("JPEG", (300, 200))
    other = data[:-16] + uuid.uuid4().bytes  # as long, other bytes
    ticket = client.presign("declared.jpg", "image/jpeg", data,
                            sha256=hashlib.sha256(data).hexdigest()).json()
    upload = ticket["upload"]
    assert "x-amz-checksum-sha256" in upload["headers"]
    put = requests.put(upload["url"], data=other, headers=upload["headers"], timeout=60)
    # Both backends check the checksum as S3 does (the thumbnail function checks again, for
    # stores that do not: tests/unit/test_thumbnails.py).
    assert put.status_code == 400, put.text


# --- lifecycle -------------------------------------------------------------------------------

def test_a_deleted_asset_waits_in_the_trash_until_restored_or_deleted_for_good(
    stack: Stack,
) -> None:
    client = stack.api_client(stack.create_key(unique_owner()))  # a trash of its own
    api = client.api
    asset_id = client.upload("oops.jpg", "image/jpeg", unique_image("JPEG", (800, 600)))
    assert client.wait_until_settled(asset_id)["status"] == "ready"
    keys = {key for key in keys_of(stack, client) if asset_id in key}
    sync = client.http.get(f"{api}/v1/assets", timeout=30).json()["sync_cursor"]

    assert client.http.delete(f"{api}/v1/assets/{asset_id}", timeout=30).status_code == 204
    assert asset_id not in {item["asset_id"] for item in listed(client)}
    [trashed] = listed(client, status="trashed")
    assert (trashed["asset_id"], trashed["status"]) == (asset_id, "trashed")
    assert trashed["trashed_at"] is not None and trashed["thumbnails"]
    assert {key for key in keys_of(stack, client) if asset_id in key} == keys
    feed, sync = changes(client, sync)
    assert [item["status"] for item in feed if item["asset_id"] == asset_id] == ["trashed"]

    restored = client.http.post(f"{api}/v1/assets/{asset_id}/restore", timeout=30)
    assert restored.status_code == 200, restored.text
    assert (restored.json()["status"], restored.json()["trashed_at"]) == ("ready", None)
    assert asset_id in {item["asset_id"] for item in listed(client)}
    feed, sync = changes(client, sync)
    assert [item["status"] for item in feed if item["asset_id"] == asset_id] == ["ready"]

    assert client.http.delete(f"{api}/v1/assets/{asset_id}", timeout=30).status_code == 204
    emptied = client.http.delete(f"{api}/v1/trash", timeout=30).json()
    assert emptied == {"deleted": 1, "more": False}
    assert client.http.get(f"{api}/v1/assets/{asset_id}", timeout=30).status_code == 404
    assert not any(asset_id in key for key in keys_of(stack, client))
    feed, _ = changes(client, sync)
    assert [item["status"] for item in feed if item["asset_id"] == asset_id][-1] == "deleted"


def test_delete_removes_the_original_and_every_derivative(stack: Stack, client: Client) -> None:
    asset_id = client.upload("gone.jpg", "image/jpeg", unique_image("JPEG", (800, 600)))
    assert client.wait_until_settled(asset_id)["status"] == "ready"
    assert any(asset_id in key for key in keys_of(stack, client))
    gone = f"{client.api}/v1/assets/{asset_id}?permanent=true"
    assert client.http.delete(gone, timeout=30).status_code == 204
    assert client.http.get(f"{client.api}/v1/assets/{asset_id}", timeout=30).status_code == 404
    assert client.http.delete(gone, timeout=30).status_code == 404
    assert not any(asset_id in key for key in keys_of(stack, client))


def test_retry_runs_a_failed_asset_again(stack: Stack, client: Client) -> None:
    good = unique_image("JPEG", (400, 300))
    garbage = b"this is not an image" + b"\0" * (len(good) - 20)
    ticket = client.presign("fixed.jpg", "image/jpeg", garbage).json()
    upload = ticket["upload"]
    assert requests.put(upload["url"], data=garbage, headers=upload["headers"],
                        timeout=60).status_code == 200
    assert client.wait_until_settled(ticket["asset_id"])["status"] == "failed"
    refused = client.http.post(f"{client.api}/v1/assets/{uuid.uuid4()}/retry", timeout=30)
    assert refused.status_code == 404
    # The upload URL takes one write only; the original is mended in the bucket, as an
    # operator would, then the owner retries.
    stack.client("s3").put_object(
        Bucket=stack.exports["LIGHTBOX_BUCKET"], Key=f"originals/local/{ticket['asset_id']}",
        Body=good, ContentType="image/jpeg")
    retried = client.http.post(f"{client.api}/v1/assets/{ticket['asset_id']}/retry", timeout=60)
    assert retried.status_code == 202, retried.text
    assert client.wait_until_settled(ticket["asset_id"])["status"] == "ready"
    not_failed = client.http.post(f"{client.api}/v1/assets/{ticket['asset_id']}/retry",
                                  timeout=30)
    assert not_failed.status_code == 409
    assert not_failed.json()["error"]["code"] == "invalid_state"


def test_stats_count_assets_per_status_and_report_queue_depths_to_the_admin(
    client: Client, stranger: Client
) -> None:
    before = client.http.get(f"{client.api}/v1/stats", timeout=30).json()
    client.presign("counted.jpg", "image/jpeg", b"x" * 10)
    after = client.http.get(f"{client.api}/v1/stats", timeout=30).json()
    assert after["assets"]["pending"] == before["assets"]["pending"] + 1
    # The key ./dev.sh up made is an admin's: it sees the queues every owner shares.
    assert set(after["queues"]) == {"thumbnails_standard", "thumbnails_large", "thumbnails_video",
                                    "thumbnails_backfill"}
    assert all(depth["waiting"] >= 0 for depth in after["queues"].values())
    data = unique_image("JPEG", (64, 48))
    assert stranger.wait_until_settled(stranger.upload("own.jpg", "image/jpeg", data))
    theirs = stranger.http.get(f"{stranger.api}/v1/stats", timeout=30).json()
    assert "queues" not in theirs
    assert theirs["stored_bytes"] == len(data) and theirs["waiting"]["assets"] == 0


def test_the_openapi_document_is_served_without_credentials(client: Client) -> None:
    response = requests.get(f"{client.api}/openapi.json", timeout=30)
    assert response.status_code == 200
    assert response.json()["openapi"].startswith("3.1")


def test_browsers_may_call_the_api_from_elsewhere_as_the_template_allows(client: Client) -> None:
    # The preflight: answered by the gateway, as API Gateway answers it from template.yaml.
    preflight = requests.options(f"{client.api}/v1/assets/{uuid.uuid4()}", timeout=30, headers={
        "Origin": "https://gallery.example", "Access-Control-Request-Method": "PATCH",
        "Access-Control-Request-Headers": "authorization,content-type"})
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "PATCH" in preflight.headers["Access-Control-Allow-Methods"]
    assert "Authorization" in preflight.headers["Access-Control-Allow-Headers"]
    # Answers of the gateway (a refusal) and of the functions carry the origin too, so that a
    # browser can read why a request failed.
    refused = requests.get(f"{client.api}/v1/assets", timeout=30)
    assert refused.status_code == 401 and refused.headers["Access-Control-Allow-Origin"] == "*"
    listed = client.http.get(f"{client.api}/v1/assets", timeout=30)
    assert listed.headers["Access-Control-Allow-Origin"] == "*"
