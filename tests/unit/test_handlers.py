"""The four entry points, driven as Lambda drives them, over fake adapters.

HTTP through Chalice's test client (API Gateway proxy events), queues through the SQS event
shape Lambda passes to a function.
"""

from __future__ import annotations

import json
import types
import uuid
from collections.abc import Iterator
from typing import Any

import listing
import presign
import pytest
import thumbnail
import upload_complete
from chalice.test import Client

from lightbox.config import Config
from lightbox.domain import Status, original_key
from lightbox.errors import DatabaseUnavailable
from lightbox.wiring import Container
from tests.fakes import FakeAssetRepository, FakeJobQueue, FakeObjectStore
from tests.support import image_bytes, load_event, sqs_event

CONFIG = Config.from_env({"LIGHTBOX_BUCKET": "media", "LIGHTBOX_THUMBNAIL_SIZES": "64,256"})
JPEG = image_bytes("JPEG", (800, 600))


class Fakes(types.SimpleNamespace):
    assets: FakeAssetRepository
    storage: FakeObjectStore
    jobs: FakeJobQueue


@pytest.fixture
def fakes(monkeypatch: pytest.MonkeyPatch) -> Iterator[Fakes]:
    shared = Fakes(assets=FakeAssetRepository(), storage=FakeObjectStore(), jobs=FakeJobQueue())
    for module in (presign, upload_complete, thumbnail, listing):
        container = Container(CONFIG, assets=shared.assets, storage=shared.storage,
                              jobs=shared.jobs)
        monkeypatch.setattr(module, "container", container)
    yield shared


def post_json(client: Client, path: str, body: Any, content_type: str = "application/json") -> Any:
    return client.http.post(path, headers={"Content-Type": content_type},
                            body=json.dumps(body).encode())


def upload_body(**changes: Any) -> dict[str, Any]:
    return {"filename": "a.jpg", "content_type": "image/jpeg", "size_bytes": len(JPEG), **changes}


# --- presign ---------------------------------------------------------------------------------

def test_presign_answers_201_with_the_upload_to_make(fakes: Fakes) -> None:
    with Client(presign.app) as client:
        response = post_json(client, "/v1/uploads", upload_body())

    assert response.status_code == 201
    body = response.json_body
    assert body["status"] == "pending"
    assert body["upload"]["method"] == "PUT"
    assert body["upload"]["url"].startswith(f"https://bucket.test/originals/local/{body['asset_id']}")
    assert body["upload"]["headers"] == {"Content-Type": "image/jpeg"}
    assert body["upload"]["expires_at"] == "2026-01-01T00:15:00+00:00"


@pytest.mark.parametrize(
    ("body", "content_type", "status", "code"),
    [
        (upload_body(size_bytes=-1), "application/json", 422, "invalid_field"),
        (upload_body(size_bytes=6 * 1024**3), "application/json", 413, "too_large"),
        (upload_body(content_type="image/bmp"), "application/json", 415, "unsupported_media_type"),
        (upload_body(extra=1), "application/json", 400, "bad_request"),
        ([1, 2], "application/json", 400, "bad_request"),
        (upload_body(), "text/plain", 415, "unsupported_media_type"),
    ],
)
def test_presign_refuses_bad_requests_in_the_error_shape(
    fakes: Fakes, body: Any, content_type: str, status: int, code: str
) -> None:
    with Client(presign.app) as client:
        response = post_json(client, "/v1/uploads", body, content_type)
    assert response.status_code == status
    assert response.json_body["error"]["code"] == code
    assert response.json_body["error"]["message"]
    assert fakes.assets.assets == {}


def test_a_body_that_is_not_json_is_a_400(fakes: Fakes) -> None:
    with Client(presign.app) as client:
        response = client.http.post("/v1/uploads", headers={"Content-Type": "application/json"},
                                    body=b"{not json")
    assert response.status_code == 400
    assert response.json_body == {
        "error": {"code": "bad_request", "message": "the request body is not valid JSON"}
    }


def test_a_wrong_method_is_a_405_in_the_error_shape(fakes: Fakes) -> None:
    with Client(presign.app) as client:
        response = client.http.get("/v1/uploads")
    assert response.status_code == 405
    assert response.json_body["error"]["code"] == "method_not_allowed"


def test_a_failing_dependency_is_a_503_never_a_traceback(
    fakes: Fakes, monkeypatch: pytest.MonkeyPatch
) -> None:
    def down(*args: object, **kwargs: object) -> None:
        raise DatabaseUnavailable("connection refused")

    monkeypatch.setattr(fakes.assets, "add", down)
    with Client(presign.app) as client:
        response = post_json(client, "/v1/uploads", upload_body())
    assert response.status_code == 503
    assert response.json_body == {
        "error": {"code": "database_unavailable", "message": "connection refused"}
    }


def test_an_unexpected_error_is_a_500_in_the_error_shape(
    fakes: Fakes, monkeypatch: pytest.MonkeyPatch
) -> None:
    def bug(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("secret detail")

    monkeypatch.setattr(fakes.assets, "add", bug)
    with Client(presign.app) as client:
        response = post_json(client, "/v1/uploads", upload_body())
    assert response.status_code == 500
    assert response.json_body == {
        "error": {"code": "internal", "message": "an internal error occurred"}
    }


# --- upload-complete -------------------------------------------------------------------------

def presigned(client: Client) -> str:
    asset_id: str = post_json(client, "/v1/uploads", upload_body()).json_body["asset_id"]
    return asset_id


def test_complete_answers_202_and_is_idempotent(fakes: Fakes) -> None:
    with Client(presign.app) as client:
        asset_id = presigned(client)
    fakes.storage.objects[f"originals/local/{asset_id}"] = JPEG

    with Client(upload_complete.app) as client:
        first = client.http.post(f"/v1/uploads/{asset_id}/complete")
        second = client.http.post(f"/v1/uploads/{asset_id}/complete")
    assert first.status_code == second.status_code == 202
    assert first.json_body == {"asset_id": asset_id, "status": "uploaded"}
    assert second.json_body == {"asset_id": asset_id, "status": "uploaded"}


@pytest.mark.parametrize("asset_id", [str(uuid.uuid4()), "not-a-uuid"])
def test_complete_of_an_unknown_asset_is_a_404(fakes: Fakes, asset_id: str) -> None:
    with Client(upload_complete.app) as client:
        response = client.http.post(f"/v1/uploads/{asset_id}/complete")
    assert response.status_code == 404
    assert response.json_body["error"]["code"] == "asset_not_found"


def test_complete_before_the_put_is_a_409(fakes: Fakes) -> None:
    with Client(presign.app) as client:
        asset_id = presigned(client)
    with Client(upload_complete.app) as client:
        response = client.http.post(f"/v1/uploads/{asset_id}/complete")
    assert response.status_code == 409
    assert response.json_body["error"]["code"] == "upload_missing"


def test_the_lambda_entry_point_takes_bucket_notifications_through_sqs(fakes: Fakes) -> None:
    with Client(presign.app) as client:
        asset_id = presigned(client)
    key = f"originals/local/{asset_id}"
    fakes.storage.objects[key] = JPEG
    notification = load_event("s3ObjectCreated.json")
    notification["Records"][0]["s3"]["bucket"]["name"] = "media"
    notification["Records"][0]["s3"]["object"]["key"] = key.replace("/", "%2F")

    result = upload_complete.handler(
        sqs_event(json.dumps(notification), json.dumps(load_event("s3TestEvent.json")), "junk"),
        None,
    )

    assert result == {"batchItemFailures": []}
    assert fakes.assets.assets[uuid.UUID(asset_id)].status is Status.UPLOADED
    assert [str(job.asset_id) for job in fakes.jobs.sent] == [asset_id]


def test_the_lambda_entry_point_also_serves_api_gateway_events(fakes: Fakes) -> None:
    with Client(upload_complete.app) as client:
        response = client.http.post(f"/v1/uploads/{uuid.uuid4()}/complete")
    assert response.status_code == 404  # routed by handler() exactly as by app()


# --- thumbnail -------------------------------------------------------------------------------

def test_a_thumbnail_job_renders_its_asset(fakes: Fakes) -> None:
    with Client(presign.app) as client:
        asset_id = presigned(client)
    fakes.storage.objects[original_key("local", uuid.UUID(asset_id))] = JPEG
    upload_complete.handler(
        sqs_event(json.dumps({"Records": [{
            "eventName": "ObjectCreated:Put",
            "s3": {"bucket": {"name": "media"}, "object": {"key": f"originals/local/{asset_id}"}},
        }]})),
        None,
    )

    result = thumbnail.handle_jobs(sqs_event(fakes.jobs.sent[0].to_json()), None)

    assert result == {"batchItemFailures": []}
    asset = fakes.assets.assets[uuid.UUID(asset_id)]
    assert asset.status is Status.READY
    assert [d.size for d in asset.derivatives] == [256, 64]


def test_a_failing_job_is_reported_for_retry_alone(fakes: Fakes, monkeypatch: pytest.MonkeyPatch) -> None:
    def down(*args: object, **kwargs: object) -> None:
        raise DatabaseUnavailable("gone")

    monkeypatch.setattr(fakes.assets, "claim", down)
    job = json.dumps({"asset_id": str(uuid.uuid4()), "owner_id": "local"})
    result = thumbnail.handle_jobs(sqs_event("not a job", job), None)
    assert result == {"batchItemFailures": [{"itemIdentifier": "message-1"}]}


# --- listing ---------------------------------------------------------------------------------

def test_listing_pages_through_assets_in_the_contract_shape(fakes: Fakes) -> None:
    with Client(presign.app) as client:
        ids = [presigned(client) for _ in range(3)]
    with Client(listing.app) as client:
        first = client.http.get("/v1/assets?limit=2")
        cursor = first.json_body["next_cursor"]
        second = client.http.get(f"/v1/assets?limit=2&cursor={cursor}")

    assert first.status_code == second.status_code == 200
    listed = [item["asset_id"] for item in first.json_body["items"] + second.json_body["items"]]
    assert listed == list(reversed(ids))
    assert second.json_body["next_cursor"] is None
    item = first.json_body["items"][0]
    assert set(item) >= {
        "asset_id", "status", "filename", "content_type", "size_bytes", "sha256", "width",
        "height", "pages", "created_at", "updated_at", "error", "original_url", "thumbnails",
    }


@pytest.mark.parametrize(
    ("query", "status"),
    [("limit=0", 422), ("status=nope", 422), ("cursor=%%%", 422), ("limit=1&limit=2", 400)],
)
def test_listing_refuses_bad_queries(fakes: Fakes, query: str, status: int) -> None:
    with Client(listing.app) as client:
        response = client.http.get(f"/v1/assets?{query}")
    assert response.status_code == status
    assert "error" in response.json_body


def test_one_asset_and_a_missing_one(fakes: Fakes) -> None:
    with Client(presign.app) as client:
        asset_id = presigned(client)
    with Client(listing.app) as client:
        found = client.http.get(f"/v1/assets/{asset_id}")
        missing = client.http.get(f"/v1/assets/{uuid.uuid4()}")
    assert found.status_code == 200 and found.json_body["asset_id"] == asset_id
    assert missing.status_code == 404


def test_health_is_200_when_every_dependency_answers(fakes: Fakes) -> None:
    with Client(listing.app) as client:
        response = client.http.get("/health")
    assert response.status_code == 200
    assert response.json_body == {
        "status": "ok", "checks": {"database": "ok", "storage": "ok", "queue": "ok"}
    }


def test_health_is_503_naming_the_dependency_that_is_down(
    fakes: Fakes, monkeypatch: pytest.MonkeyPatch
) -> None:
    def down() -> None:
        raise DatabaseUnavailable("database unavailable: connection refused")

    monkeypatch.setattr(fakes.assets, "ping", down)
    with Client(listing.app) as client:
        response = client.http.get("/health")
    assert response.status_code == 503
    assert response.json_body["checks"] == {
        "database": "database unavailable: connection refused", "storage": "ok", "queue": "ok"
    }


def test_health_reports_missing_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(listing, "container", Container(Config.from_env({})))
    with Client(listing.app) as client:
        response = client.http.get("/health")
    assert response.status_code == 503
    assert response.json_body["checks"]["database"] == "DATABASE_URL is not set"
