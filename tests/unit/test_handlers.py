"""The four entry points, driven as Lambda drives them, over fake adapters.

HTTP through Chalice's test client (API Gateway proxy events), queues through the SQS event
shape Lambda passes to a function.
"""

from __future__ import annotations

import json
import re
import types
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import library
import presign
import pytest
import reaper
import thumbnail
import upload_complete
from chalice.test import Client as ChaliceClient

from lightbox.batch import Backoff
from lightbox.config import Config
from lightbox.domain import Lane, NewAsset, Status, original_key
from lightbox.errors import DatabaseUnavailable, StorageUnavailable
from lightbox.wiring import Container
from tests.fakes import (
    FakeAssetRepository,
    FakeImportQueue,
    FakeImportRepository,
    FakeJobQueue,
    FakeObjectStore,
    FakeProjectRepository,
    FakeRedelivery,
)
from tests.support import ApiClient, ApiResponse, image_bytes, load_event, sqs_event

# The bucket and the asset the published sample events in tests/events name.
BUCKET = "lightbox-test"
SAMPLE_ASSET = uuid.UUID("9b2c7a5e-3f4d-4e1a-8c7b-2d1e0f9a8b7c")
WEBHOOK_TOKEN = "minio-shared-secret"
CONFIG = Config.from_env({"LIGHTBOX_BUCKET": BUCKET, "LIGHTBOX_THUMBNAIL_SIZES": "64,256",
                          "LIGHTBOX_WEBHOOK_TOKEN": WEBHOOK_TOKEN})
JPEG = image_bytes("JPEG", (800, 600))


class Fakes(types.SimpleNamespace):
    assets: FakeAssetRepository
    storage: FakeObjectStore
    jobs: FakeJobQueue
    redelivery: FakeRedelivery


@pytest.fixture
def fakes(monkeypatch: pytest.MonkeyPatch) -> Iterator[Fakes]:
    shared = Fakes(assets=FakeAssetRepository(), storage=FakeObjectStore(), jobs=FakeJobQueue(),
                   redelivery=FakeRedelivery())
    backoff = Backoff(postpone=shared.redelivery.postpone, base_seconds=30, max_seconds=900)
    projects = FakeProjectRepository(shared.assets)
    imports = FakeImportRepository(shared.assets)
    for module in (presign, upload_complete, thumbnail, library, reaper):
        container = Container(CONFIG, assets=shared.assets, storage=shared.storage,
                              jobs=shared.jobs, backoff=backoff, projects=projects,
                              imports=imports, import_queue=FakeImportQueue())
        monkeypatch.setattr(module, "container", container)
    yield shared


def sample_asset(fakes: Fakes, *, uploaded: bytes | None = JPEG) -> uuid.UUID:
    """The pending asset the sample events name, with its original in the bucket."""
    fakes.assets.add(NewAsset(id=SAMPLE_ASSET, owner_id="local", filename="a.jpg",
                              content_type="image/jpeg", size_bytes=len(JPEG),
                              declared_sha256=None, project_id=None), max_pending=100)
    if uploaded is not None:
        fakes.storage.objects[original_key("local", SAMPLE_ASSET)] = uploaded
    return SAMPLE_ASSET


def status_of(fakes: Fakes, asset_id: uuid.UUID) -> Status:
    return fakes.assets.assets[asset_id].status


def post_json(client: ApiClient, path: str, body: Any,
              content_type: str = "application/json") -> ApiResponse:
    return client.post(path, raw_body=json.dumps(body).encode(),
                       headers={"Content-Type": content_type})


def upload_body(**changes: Any) -> dict[str, Any]:
    return {"filename": "a.jpg", "content_type": "image/jpeg", "size_bytes": len(JPEG), **changes}


# --- presign ---------------------------------------------------------------------------------

def test_presign_answers_201_with_the_upload_to_make(fakes: Fakes) -> None:
    with ApiClient(presign.app) as client:
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
        (upload_body(size_bytes=6 * 1024**4), "application/json", 413, "too_large"),
        (upload_body(content_type="image/bmp"), "application/json", 415, "unsupported_media_type"),
        (upload_body(extra=1), "application/json", 400, "bad_request"),
        ([1, 2], "application/json", 400, "bad_request"),
        (upload_body(), "text/plain", 415, "unsupported_media_type"),
    ],
)
def test_presign_refuses_bad_requests_in_the_error_shape(
    fakes: Fakes, body: Any, content_type: str, status: int, code: str
) -> None:
    with ApiClient(presign.app) as client:
        response = post_json(client, "/v1/uploads", body, content_type)
    assert response.status_code == status
    assert response.json_body["error"]["code"] == code
    assert response.json_body["error"]["message"]
    assert fakes.assets.assets == {}


def test_a_body_that_is_not_json_is_a_400(fakes: Fakes) -> None:
    with ApiClient(presign.app) as client:
        response = client.post("/v1/uploads", raw_body=b"{not json")
    assert response.status_code == 400
    assert response.json_body == {
        "error": {"code": "bad_request", "message": "the request body is not valid JSON"}
    }


def test_a_wrong_method_is_a_405_in_the_error_shape(fakes: Fakes) -> None:
    with ApiClient(presign.app) as client:
        response = client.get("/v1/uploads")
    assert response.status_code == 405
    assert response.json_body["error"]["code"] == "method_not_allowed"


def test_a_failing_dependency_is_a_503_never_a_traceback(
    fakes: Fakes, monkeypatch: pytest.MonkeyPatch
) -> None:
    def down(*args: object, **kwargs: object) -> None:
        raise DatabaseUnavailable("connection refused")

    monkeypatch.setattr(fakes.assets, "add", down)
    with ApiClient(presign.app) as client:
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
    with ApiClient(presign.app) as client:
        response = post_json(client, "/v1/uploads", upload_body())
    assert response.status_code == 500
    assert response.json_body == {
        "error": {"code": "internal", "message": "an internal error occurred"}
    }


def test_a_5_tib_presign_is_a_small_answer_and_the_other_parts_come_on_request(
    fakes: Fakes,
) -> None:
    with ApiClient(presign.app) as client:
        response = post_json(client, "/v1/uploads", upload_body(size_bytes=5 * 1024**4))
        assert response.status_code == 201 and len(response.body) < 100_000
        upload = response.json_body["upload"]
        count = upload["part_count"]
        assert len(upload["parts"]) == 100 and count == -(-5 * 1024**4 // upload["part_size"])
        asset_id = response.json_body["asset_id"]

        more = client.get(f"/v1/uploads/{asset_id}/parts?first={count - 1}&limit=100")
        assert more.status_code == 200
        assert more.json_body["asset_id"] == asset_id
        assert more.json_body["part_count"] == count
        assert more.json_body["part_size"] == upload["part_size"]
        assert [part["part_number"] for part in more.json_body["parts"]] == [count - 1, count]
        assert more.json_body["expires_at"]

        assert client.get(f"/v1/uploads/{asset_id}/parts?limit=101").status_code == 422
        assert client.get(f"/v1/uploads/{asset_id}/parts?first={count + 1}").status_code == 422
        assert client.get(f"/v1/uploads/{asset_id}/parts?page=2").status_code == 400
        assert client.get(f"/v1/uploads/{asset_id}/parts", owner="other").status_code == 404
        assert client.get(f"/v1/uploads/{uuid.uuid4()}/parts").status_code == 404
        assert client.get("/v1/uploads/not-a-uuid/parts").status_code == 404
        single = post_json(client, "/v1/uploads", upload_body()).json_body["asset_id"]
        refused = client.get(f"/v1/uploads/{single}/parts")
        assert refused.status_code == 409 and refused.json_body["error"]["code"] == "invalid_state"


# --- upload-complete -------------------------------------------------------------------------

def presigned(client: ApiClient) -> str:
    asset_id: str = post_json(client, "/v1/uploads", upload_body()).json_body["asset_id"]
    return asset_id


def test_complete_answers_202_and_is_idempotent(fakes: Fakes) -> None:
    with ApiClient(presign.app) as client:
        asset_id = presigned(client)
    fakes.storage.objects[f"originals/local/{asset_id}"] = JPEG

    with ApiClient(upload_complete.app) as client:
        first = client.post(f"/v1/uploads/{asset_id}/complete")
        second = client.post(f"/v1/uploads/{asset_id}/complete")
    assert first.status_code == second.status_code == 202
    assert first.json_body == {"asset_id": asset_id, "status": "uploaded"}
    assert second.json_body == {"asset_id": asset_id, "status": "uploaded"}


@pytest.mark.parametrize("asset_id", [str(uuid.uuid4()), "not-a-uuid"])
def test_complete_of_an_unknown_asset_is_a_404(fakes: Fakes, asset_id: str) -> None:
    with ApiClient(upload_complete.app) as client:
        response = client.post(f"/v1/uploads/{asset_id}/complete")
    assert response.status_code == 404
    assert response.json_body["error"]["code"] == "asset_not_found"


def test_complete_before_the_put_is_a_409(fakes: Fakes) -> None:
    with ApiClient(presign.app) as client:
        asset_id = presigned(client)
    with ApiClient(upload_complete.app) as client:
        response = client.post(f"/v1/uploads/{asset_id}/complete")
    assert response.status_code == 409
    assert response.json_body["error"]["code"] == "upload_missing"


@pytest.mark.parametrize(
    "fixture", ["s3ObjectCreated.json", "eventBridgeObjectCreated.json"]
)
def test_bucket_events_invoking_the_function_directly_complete_the_upload(
    fakes: Fakes, fixture: str
) -> None:
    asset_id = sample_asset(fakes)
    assert upload_complete.handler(load_event(fixture), None) is None
    assert status_of(fakes, asset_id) is Status.UPLOADED
    assert [job.asset_id for job in fakes.jobs.sent] == [asset_id]


def test_a_batch_from_the_bucket_queue_acknowledges_what_it_cannot_use(fakes: Fakes) -> None:
    asset_id = sample_asset(fakes)

    # A creation, the test event, a body that is not S3 JSON, and a removal (the object
    # is still there, so the removal is stale).
    result = upload_complete.handler(load_event("sqsS3Batch.json"), None)

    assert result == {"batchItemFailures": []}
    assert status_of(fakes, asset_id) is Status.UPLOADED
    assert len(fakes.jobs.sent) == 1
    assert fakes.redelivery.postponed == []


def test_notifications_wrapped_by_sns_are_read_through_the_queue(fakes: Fakes) -> None:
    asset_id = sample_asset(fakes)
    assert upload_complete.handler(load_event("snsSqsS3Event.json"), None) == {
        "batchItemFailures": []
    }
    assert status_of(fakes, asset_id) is Status.UPLOADED


def test_a_transient_failure_fails_its_record_alone_and_postpones_it(fakes: Fakes) -> None:
    asset_id = sample_asset(fakes)
    batch = load_event("sqsS3Batch.json")
    fakes.storage.fail_with = StorageUnavailable("SlowDown")

    result = upload_complete.handler(batch, None)

    # The creation needs the bucket. The removal of the still pending asset does not (it is
    # ignored without asking), and the rest is acknowledged.
    failed = [batch["Records"][0]]
    assert result == {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in failed]}
    assert fakes.redelivery.postponed == [
        (r["eventSourceARN"], r["receiptHandle"], delay) for r, delay in zip(failed, [30], strict=True)
    ]
    assert status_of(fakes, asset_id) is Status.PENDING


def test_a_removed_original_deletes_its_asset_and_derivatives(fakes: Fakes) -> None:
    asset_id = sample_asset(fakes)
    upload_complete.handler(load_event("s3ObjectCreated.json"), None)
    thumbnail.handle_jobs(sqs_event(fakes.jobs.sent[0].to_json()), None)
    assert status_of(fakes, asset_id) is Status.READY
    del fakes.storage.objects[original_key("local", asset_id)]

    upload_complete.handler(sqs_event(json.dumps(load_event("s3ObjectRemoved.json"))), None)

    assert status_of(fakes, asset_id) is Status.DELETED
    assert fakes.storage.objects == {}


def minio_post(client: ApiClient, body: Any, token: str | None = WEBHOOK_TOKEN) -> Any:
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    # The webhook route has no authorizer: MinIO signs in with its own shared secret.
    return client.post("/hooks/minio", headers=headers, raw_body=json.dumps(body).encode(),
                       owner=None)


def test_minio_webhooks_with_the_shared_token_are_applied(fakes: Fakes) -> None:
    asset_id = sample_asset(fakes)
    with ApiClient(upload_complete.app) as client:
        created = minio_post(client, load_event("minioWebhookPut.json"))
        elsewhere = minio_post(client, load_event("minioWebhookKeyWithPlus.json"))
    assert created.status_code == elsewhere.status_code == 200
    assert created.json_body == {"events": [
        {"key": f"originals/local/{asset_id}", "action": "created", "status": "uploaded"}]}
    assert elsewhere.json_body == {"events": [
        {"key": "inbox/My Summer + Winter, 2026.jpg", "action": "created", "status": "ignored"}]}
    assert status_of(fakes, asset_id) is Status.UPLOADED
    assert len(fakes.jobs.sent) == 1


@pytest.mark.parametrize("token", [None, "wrong", ""])
def test_minio_webhooks_without_the_token_are_401(fakes: Fakes, token: str | None) -> None:
    asset_id = sample_asset(fakes)
    with ApiClient(upload_complete.app) as client:
        response = minio_post(client, load_event("minioWebhookPut.json"), token)
    assert response.status_code == 401
    assert response.json_body["error"]["code"] == "unauthorized"
    assert status_of(fakes, asset_id) is Status.PENDING


def test_minio_webhooks_are_403_where_no_token_is_configured(
    fakes: Fakes, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = Config.from_env({"LIGHTBOX_BUCKET": BUCKET})
    monkeypatch.setattr(upload_complete, "container", Container(config, assets=fakes.assets))
    with ApiClient(upload_complete.app) as client:
        response = minio_post(client, load_event("minioWebhookPut.json"))
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("body", "status"),
    [({"hello": "world"}, 400), ([1, 2], 400), ({"Records": [{"s3": {}}]}, 400)],
)
def test_a_webhook_body_that_is_no_bucket_event_is_a_400(
    fakes: Fakes, body: Any, status: int
) -> None:
    with ApiClient(upload_complete.app) as client:
        response = minio_post(client, body)
    assert response.status_code == status
    assert "error" in response.json_body


def test_a_webhook_that_cannot_be_applied_now_is_a_503_so_minio_retries(fakes: Fakes) -> None:
    sample_asset(fakes)
    fakes.storage.fail_with = StorageUnavailable("SlowDown")
    with ApiClient(upload_complete.app) as client:
        response = minio_post(client, load_event("minioWebhookPut.json"))
    assert response.status_code == 503


def test_the_lambda_entry_point_also_serves_api_gateway_events(fakes: Fakes) -> None:
    with ApiClient(upload_complete.app) as client:
        response = client.post(f"/v1/uploads/{uuid.uuid4()}/complete")
    assert response.status_code == 404  # routed by handler() exactly as by app()


# --- thumbnail -------------------------------------------------------------------------------

def test_a_thumbnail_job_renders_its_asset(fakes: Fakes) -> None:
    with ApiClient(presign.app) as client:
        asset_id = presigned(client)
    fakes.storage.objects[original_key("local", uuid.UUID(asset_id))] = JPEG
    upload_complete.handler(
        sqs_event(json.dumps({"Records": [{
            "eventName": "ObjectCreated:Put",
            "s3": {"bucket": {"name": BUCKET}, "object": {"key": f"originals/local/{asset_id}"}},
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
    assert [handle for _, handle, _ in fakes.redelivery.postponed] == ["handle-1"]


# --- reaper ----------------------------------------------------------------------------------

def test_the_reaper_runs_on_its_schedule_and_reports_what_it_did(fakes: Fakes) -> None:
    stuck = sample_asset(fakes)
    trashed = fakes.assets.add(NewAsset(id=uuid.uuid4(), owner_id="local", filename="b.jpg",
                                        content_type="image/jpeg", size_bytes=9,
                                        declared_sha256=None, project_id=None), max_pending=100).id
    fakes.assets.change(trashed, status=Status.READY)
    fakes.assets.trash("local", trashed)
    fakes.assets.advance(CONFIG.trash_days * 86400 + 1)  # past the grace and the trash's days

    with ChaliceClient(reaper.app) as client:
        event = client.events.generate_cw_event(
            source="aws.events", detail_type="Scheduled Event", detail={},
            resources=["arn:aws:events:us-east-1:000000000000:rule/lightbox-reaper"],
        )
        response = client.lambda_.invoke("reap_waiting_assets", event)

    assert response.payload == {"completed": 1, "expired": 0, "redriven": 0, "errors": 0,
                                "purged": 0, "trash_expired": 1, "imports_resumed": 0}
    assert status_of(fakes, stuck) is Status.UPLOADED
    assert status_of(fakes, trashed) is Status.DELETED
    assert fakes.jobs.lanes == [Lane.STANDARD]


# --- listing ---------------------------------------------------------------------------------

def test_listing_pages_through_assets_in_the_contract_shape(fakes: Fakes) -> None:
    with ApiClient(presign.app) as client:
        ids = [presigned(client) for _ in range(3)]
    with ApiClient(library.app) as client:
        first = client.get("/v1/assets?limit=2")
        cursor = first.json_body["next_cursor"]
        second = client.get(f"/v1/assets?limit=2&cursor={cursor}")

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
    with ApiClient(library.app) as client:
        response = client.get(f"/v1/assets?{query}")
    assert response.status_code == status
    assert "error" in response.json_body


def test_one_asset_and_a_missing_one(fakes: Fakes) -> None:
    with ApiClient(presign.app) as client:
        asset_id = presigned(client)
    with ApiClient(library.app) as client:
        found = client.get(f"/v1/assets/{asset_id}")
        missing = client.get(f"/v1/assets/{uuid.uuid4()}")
    assert found.status_code == 200 and found.json_body["asset_id"] == asset_id
    assert missing.status_code == 404


def test_health_is_200_when_every_dependency_answers(fakes: Fakes) -> None:
    with ApiClient(library.app) as client:
        response = client.get("/health")
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
    with ApiClient(library.app) as client:
        response = client.get("/health")
    assert response.status_code == 503
    assert response.json_body["checks"] == {
        "database": "database unavailable: connection refused", "storage": "ok", "queue": "ok"
    }


def test_health_reports_missing_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(library, "container", Container(Config.from_env({})))
    with ApiClient(library.app) as client:
        response = client.get("/health")
    assert response.status_code == 503
    assert response.json_body["checks"]["database"] == "DATABASE_URL is not set"


# --- auth, and the library routes ------------------------------------------------------------

def every_v1_route(*, path_id: str) -> list[tuple[types.ModuleType, str, str]]:
    """Each /v1 route of the HTTP functions that acts for an owner (all but the tiles a grant
    opens: tests/unit/test_tiles.py), its path ids filled with ``path_id``."""
    return [(module, method, re.sub(r"\{\w+\}", path_id, path))
            for module in (presign, upload_complete, library)
            for path, methods in module.app.routes.items()
            if path.startswith("/v1/") and not path.startswith("/v1/tiles/")
            for method in methods]


@pytest.mark.parametrize(("module", "method", "path"), every_v1_route(path_id=str(SAMPLE_ASSET)))
def test_a_request_that_reaches_a_view_without_an_owner_is_refused(
    fakes: Fakes, module: types.ModuleType, method: str, path: str
) -> None:
    sample_asset(fakes)
    response = ApiClient(module.app, owner=None).request(method, path, body={"name": "x"})
    assert response.status_code == 401
    assert response.json_body["error"]["code"] == "unauthorized"
    assert status_of(fakes, SAMPLE_ASSET) is Status.PENDING


@pytest.mark.parametrize(("module", "method", "path"), every_v1_route(path_id="not-an-id"))
def test_without_an_owner_nothing_of_the_request_is_read_first(
    fakes: Fakes, module: types.ModuleType, method: str, path: str
) -> None:
    # A malformed id, an unknown parameter and a body of unknown fields: each would be its own
    # 4xx, telling a stranger how the request is read. The caller is asked for first.
    response = ApiClient(module.app, owner=None).request(
        method, f"{path}?bogus=1", body={"name": "x", "bogus": 1})
    assert response.status_code == 401, response.body
    assert response.json_body["error"]["code"] == "unauthorized"


def test_projects_are_managed_through_the_listing_function(fakes: Fakes) -> None:
    with ApiClient(library.app) as client:
        created = client.post("/v1/projects", {"name": "Scans"})
        assert created.status_code == 201
        project_id = created.json_body["project_id"]
        assert client.post("/v1/projects", {"name": "scans"}).status_code == 409
        renamed = client.patch(f"/v1/projects/{project_id}", {"name": "Old scans"})
        assert renamed.json_body["name"] == "Old scans"
        assert [p["name"] for p in client.get("/v1/projects").json_body["items"]] == [
            "Old scans"]
        assert client.get(f"/v1/projects/{project_id}", owner="other").status_code == 404
        assert client.get("/v1/projects/not-a-uuid").json_body["error"]["code"] == (
            "project_not_found")
        asset_id = sample_asset(fakes)
        moved = client.patch(f"/v1/assets/{asset_id}", {"project_id": project_id})
        assert moved.status_code == 200 and moved.json_body["project_id"] == project_id
        refused = client.delete(f"/v1/projects/{project_id}")
        assert refused.status_code == 409
        assert client.delete(f"/v1/projects/{project_id}?cascade=maybe").status_code == 422
        assert client.delete(f"/v1/projects/{project_id}?force=true").status_code == 400
        deleted = client.delete(f"/v1/projects/{project_id}?cascade=true")
        assert deleted.status_code == 204 and deleted.body == ""
    # Its assets went to the trash, bytes kept.
    assert fakes.assets.assets[asset_id].shown_status is Status.TRASHED
    assert fakes.storage.objects != {}


def test_a_project_is_found_by_its_name_under_the_servers_rule(fakes: Fakes) -> None:
    with ApiClient(library.app) as client:
        street = client.post("/v1/projects", {"name": "Straße"}).json_body
        assert client.post("/v1/projects", {"name": "STRASSE"}).status_code == 409
        client.post("/v1/projects", {"name": "Strasbourg"})
        for name in ("STRASSE", " straße ", "strasse"):
            found = client.get(f"/v1/projects?name={quote(name)}").json_body["items"]
            assert found == [street], name
        assert client.get("/v1/projects?name=Str").json_body["items"] == []
        assert client.get("/v1/projects?name=Stra%C3%9Fe", owner="other").json_body == {
            "items": []}
        assert client.get("/v1/projects?nom=x").status_code == 400
        assert client.get("/v1/projects?name=").status_code == 422


def test_stats_show_the_service_queues_to_an_admin_only(fakes: Fakes) -> None:
    sample_asset(fakes)
    with ApiClient(library.app) as client:
        mine = client.get("/v1/stats").json_body
        assert mine["assets"]["pending"] == 1 and "queues" not in mine
    with ApiClient(library.app, admin=True) as operator:
        stats = operator.get("/v1/stats").json_body
        assert stats["assets"]["pending"] == 1  # still the caller's own library
        assert stats["queues"]["thumbnails_standard"] == {"waiting": 0, "in_flight": 0,
                                                          "delayed": 0}


def test_delete_and_stats_answer_for_the_callers_library_only(fakes: Fakes) -> None:
    asset_id = sample_asset(fakes)
    with ApiClient(library.app) as client:
        assert client.get("/v1/stats", owner="other").json_body["assets"]["pending"] == 0
        assert client.get("/v1/stats").json_body["assets"]["pending"] == 1
        assert client.delete(f"/v1/assets/{asset_id}", owner="other").status_code == 404
        assert client.delete(f"/v1/assets/{asset_id}").status_code == 204
        assert client.get(f"/v1/assets/{asset_id}").json_body["status"] == "trashed"
        assert client.get("/v1/stats").json_body["assets"]["trashed"] == 1
        assert client.post(f"/v1/assets/{asset_id}/restore", owner="other").status_code == 404
        assert client.delete("/v1/trash", owner="other").json_body == {"deleted": 0,
                                                                        "more": False}
        restored = client.post(f"/v1/assets/{asset_id}/restore")
        assert (restored.status_code, restored.json_body["status"]) == (200, "pending")
        assert client.delete(f"/v1/assets/{asset_id}?permanent=yes").status_code == 422
        assert client.delete(f"/v1/assets/{asset_id}?permanent=true", owner="other"
                             ).status_code == 404
        assert client.delete(f"/v1/assets/{asset_id}?permanent=true").status_code == 204
        assert client.get(f"/v1/assets/{asset_id}").status_code == 404
    assert status_of(fakes, asset_id) is Status.DELETED


def test_abort_and_retry_answer_through_upload_complete(fakes: Fakes) -> None:
    asset_id = sample_asset(fakes)
    with ApiClient(upload_complete.app) as client:
        assert client.post(f"/v1/assets/{asset_id}/retry").status_code == 409
        assert client.post(f"/v1/uploads/{asset_id}/abort", owner="other").status_code == 404
        assert client.post(f"/v1/uploads/{asset_id}/abort").status_code == 204
    assert status_of(fakes, asset_id) is Status.DELETED


# --- bounded answers -------------------------------------------------------------------------

# 2000 unknown names of 500 characters: a request of 1 MB.
HOSTILE_NAMES = [f"{n:04d}" + "x" * 496 for n in range(2000)]


def assert_bounded_naming(response: ApiResponse, total: int) -> None:
    """A small error that names a few of the ``total`` unknown names, cut short, and counts the
    rest."""
    assert response.status_code == 400 and response.json_body["error"]["code"] == "bad_request"
    assert len(response.body) < 1000
    message = response.json_body["error"]["message"]
    listed = [name for name in HOSTILE_NAMES if name[:8] in message]
    assert 1 <= len(listed) <= 5 and "x" * 100 not in message
    assert message.endswith(f"and {total - len(listed)} more")


def test_unknown_fields_of_a_huge_body_are_named_a_few_and_counted(fakes: Fakes) -> None:
    body = {name: 1 for name in HOSTILE_NAMES}
    with ApiClient(presign.app) as client:
        assert_bounded_naming(post_json(client, "/v1/uploads", upload_body(**body)), 2000)
    with ApiClient(library.app) as client:
        assert_bounded_naming(post_json(client, "/v1/projects", {"name": "a", **body}), 2000)
        sample_asset(fakes)
        response = client.patch(f"/v1/assets/{SAMPLE_ASSET}", raw_body=json.dumps(body).encode(),
                                headers={"Content-Type": "application/json"})
        assert_bounded_naming(response, 2000)


def test_unknown_query_parameters_are_named_a_few_and_counted(fakes: Fakes) -> None:
    query = "&".join(f"{name}=1" for name in HOSTILE_NAMES[:300])
    with ApiClient(library.app) as client:
        assert_bounded_naming(client.get(f"/v1/assets?{query}"), 300)
        assert_bounded_naming(client.delete(f"/v1/projects/{uuid.uuid4()}?{query}"), 300)


def test_no_error_message_grows_with_the_request(fakes: Fakes) -> None:
    with ApiClient(library.app) as client:
        response = client.get(f"/v1/assets/{'x' * 50_000}")
    assert response.status_code == 404
    assert len(response.body) < 1000
