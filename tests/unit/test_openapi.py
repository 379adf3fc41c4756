"""The OpenAPI document: valid, in step with template.yaml and the errors, served as it is,
and describing what the handlers really answer (the checker in tests/contract.py, proven to
catch what is off contract)."""

from __future__ import annotations

import hashlib
import inspect
import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import library
import presign
import pytest
import thumbnails_api
import upload_complete
from openapi_spec_validator import validate

from infra.template import Template
from lightbox import errors
from lightbox.config import Config
from lightbox.domain import Derivative, ImageInfo, Status, original_key
from lightbox.errors import StorageUnavailable
from lightbox.wiring import Container
from tests.conftest import REPO
from tests.contract import CONTRACT, DOCUMENT
from tests.fakes import (
    FakeAssetRepository,
    FakeJobQueue,
    FakeObjectStore,
    FakeProjectRepository,
)
from tests.support import ApiClient, ApiResponse, image_bytes

OPENAPI: dict[str, Any] = json.loads(DOCUMENT.read_text())
TEMPLATE = Template.load(REPO / "template.yaml")
METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
GATEWAY_CODES = {"unauthorized", "forbidden", "not_found", "method_not_allowed", "too_large",
                 "bad_gateway"}
JPEG = image_bytes("JPEG", (64, 48))


def operations() -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in OPENAPI["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield method.upper(), path, operation


def error_codes() -> set[str]:
    return {cls.code for _, cls in inspect.getmembers(errors, inspect.isclass)
            if issubclass(cls, errors.LightboxError)}


# --- the document --------------------------------------------------------------------------

def test_the_document_is_valid_openapi_3_1() -> None:
    validate(OPENAPI)
    assert OPENAPI["openapi"] == "3.1.0"
    assert OPENAPI["info"]["title"] == "Lightbox" and OPENAPI["info"]["version"] == "1"


def test_the_document_is_json_with_a_two_space_indent() -> None:
    assert DOCUMENT.read_text() == json.dumps(OPENAPI, indent=2, ensure_ascii=False) + "\n"


def test_the_document_has_exactly_the_routes_of_the_template() -> None:
    documented = {(method, path) for method, path, _ in operations()}
    assert documented == {(route.method, route.path) for route in TEMPLATE.routes}


def test_exactly_the_routes_without_the_authorizer_need_no_credentials() -> None:
    assert OPENAPI["security"] == [{"bearerAuth": []}]
    scheme = OPENAPI["components"]["securitySchemes"]["bearerAuth"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    public = {(method, path) for method, path, operation in operations()
              if operation.get("security") == []}
    assert public == {(route.method, route.path) for route in TEMPLATE.routes
                      if route.authorizer is None}
    # The others inherit the document's security: none sets its own.
    assert all("security" not in operation or operation["security"] == []
               for _, _, operation in operations())


def test_the_library_function_serves_the_document() -> None:
    response = ApiClient(library.app, owner=None).get("/openapi.json")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.json_body == OPENAPI
    CONTRACT.check("GET", "/openapi.json", response.status_code, response.body)


@pytest.mark.parametrize("code", sorted(error_codes() | GATEWAY_CODES))
def test_every_error_code_is_in_the_document(code: str) -> None:
    error_schema = OPENAPI["components"]["schemas"]["Error"]
    assert code in error_schema["properties"]["error"]["properties"]["code"]["enum"]
    assert f"`{code}`" in error_schema["properties"]["error"]["properties"]["code"]["description"]


def test_every_operation_documents_the_errors_every_route_can_get() -> None:
    for method, path, operation in operations():
        statuses = set(operation["responses"])
        assert {"413", "415", "500", "502"} <= statuses, (method, path)
        if path.startswith("/v1/"):
            assert "503" in statuses, (method, path)
            # Every /v1 route but the tiles a grant opens asks for credentials.
            assert ("401" in statuses) is (operation.get("security") != []), (method, path)
        if "requestBody" in operation:
            assert "400" in statuses, (method, path)
        if "{" in path:
            assert "404" in statuses, (method, path)


def test_path_parameters_are_uuids() -> None:
    parameters = OPENAPI["components"]["parameters"]
    assert parameters["AssetId"]["schema"] == {"type": "string", "format": "uuid"}
    assert parameters["ProjectId"]["schema"] == {"type": "string", "format": "uuid"}
    for path, item in OPENAPI["paths"].items():
        if "{" in path:
            assert item["parameters"], path


# --- the checker catches what is off contract ------------------------------------------------

ASSET_ID = uuid.UUID("9b2c7a5e-3f4d-4e1a-8c7b-2d1e0f9a8b7c")


def pending_asset() -> dict[str, Any]:
    return {
        "asset_id": str(ASSET_ID), "status": "pending", "filename": "a.jpg",
        "content_type": "image/jpeg", "size_bytes": 10, "sha256": None, "project_id": None,
        "duplicate_of": None, "width": None, "height": None, "pages": None, "bit_depth": None,
        "color_mode": None, "taken_at": None, "camera_make": None, "camera_model": None,
        "orientation": None, "frames": None, "duration": None,
        "has_location": None, "codec": None, "frame_rate": None, "has_audio": None,
        "description": None,
        "placeholder": None,
        "created_at": "2026-01-01T00:00:00+00:00", "updated_at": "2026-01-01T00:00:00+00:00",
        "trashed_at": None, "error": None, "original_url": None,
        "thumbnails": [], "tiles": None,
    }


def test_a_body_on_contract_passes() -> None:
    CONTRACT.check("GET", f"/v1/assets/{ASSET_ID}", 200, json.dumps(pending_asset()))
    CONTRACT.check("GET", f"http://127.0.0.1:1234/v1/assets/{ASSET_ID}?x=1", 200,
                   json.dumps(pending_asset()).encode())


@pytest.mark.parametrize("change", [
    lambda body: body.pop("placeholder"),
    lambda body: body.update(extra="field"),
    lambda body: body.update(size_bytes="10"),
    lambda body: body.update(status="gone"),
    lambda body: body.update(asset_id="not-a-uuid"),
    lambda body: body.update(created_at="yesterday"),
    lambda body: body.update(original_url="https://bucket.test/x"),  # pending: no original
], ids=["missing", "undocumented", "type", "enum", "uuid", "date-time", "conditional"])
def test_an_asset_off_contract_is_caught(change: Any) -> None:
    body = pending_asset()
    change(body)
    with pytest.raises(AssertionError, match=f"GET /v1/assets/{ASSET_ID} -> 200"):
        CONTRACT.check("GET", f"/v1/assets/{ASSET_ID}", 200, json.dumps(body))


def test_an_undocumented_status_is_caught() -> None:
    with pytest.raises(AssertionError, match=re.escape(
            "status 418 is not documented for GET /v1/assets/{asset_id}")):
        CONTRACT.check("GET", f"/v1/assets/{ASSET_ID}", 418, json.dumps(pending_asset()))
    with pytest.raises(AssertionError, match="status 409 is not documented"):
        CONTRACT.check("GET", "/v1/stats", 409, '{"error": {"code": "conflict", "message": ""}}')


def test_errors_must_have_the_error_shape_and_a_documented_code() -> None:
    path = f"/v1/assets/{ASSET_ID}"
    CONTRACT.check("GET", path, 404, '{"error": {"code": "asset_not_found", "message": "no"}}')
    with pytest.raises(AssertionError, match="not one of asset_not_found"):
        CONTRACT.check("GET", path, 404, '{"error": {"code": "not_found", "message": "no"}}')
    with pytest.raises(AssertionError, match="does not match"):
        CONTRACT.check("GET", path, 404, '{"error": "asset_not_found"}')
    with pytest.raises(AssertionError, match="does not match"):
        CONTRACT.check("GET", path, 404,
                       '{"error": {"code": "asset_not_found", "message": "", "x": 1}}')
    with pytest.raises(AssertionError, match="not JSON"):
        CONTRACT.check("GET", path, 404, "Not Found")


def test_no_content_means_an_empty_body() -> None:
    CONTRACT.check("DELETE", f"/v1/assets/{ASSET_ID}", 204, b"")
    with pytest.raises(AssertionError, match="has no body"):
        CONTRACT.check("DELETE", f"/v1/assets/{ASSET_ID}", 204, "{}")


def test_undocumented_api_paths_must_get_the_gateways_answer() -> None:
    not_found = '{"error": {"code": "not_found", "message": "no route"}}'
    not_allowed = '{"error": {"code": "method_not_allowed", "message": "PUT"}}'
    CONTRACT.check("GET", "/v1/nothing", 404, not_found)
    CONTRACT.check("GET", "/health/deep", 404, not_found)
    CONTRACT.check("PUT", f"/v1/assets/{ASSET_ID}", 405, not_allowed)
    CONTRACT.check("HEAD", "/health", 405, b"")
    with pytest.raises(AssertionError, match="not in the contract"):
        CONTRACT.check("GET", "/v1/nothing", 200, "{}")
    with pytest.raises(AssertionError, match="not in the contract"):
        CONTRACT.check("PUT", f"/v1/assets/{ASSET_ID}", 404, not_found)
    with pytest.raises(AssertionError, match="not one of"):
        CONTRACT.check("GET", "/v1/nothing", 404, not_allowed)


def test_urls_that_are_not_the_apis_are_not_checked() -> None:
    CONTRACT.check("PUT", "https://bucket.test/originals/local/x?X-Amz-Signature=1", 200, "")
    CONTRACT.check("GET", "http://localhost:4566/_localstack/health", 200, "whatever")


@dataclass
class _Request:
    method: str
    url: str


@dataclass
class _Response:
    request: _Request
    status_code: int
    content: bytes


def test_the_hook_checks_a_requests_response_and_returns_none() -> None:
    good = _Response(_Request("GET", f"http://api.test/v1/assets/{ASSET_ID}"), 200,
                     json.dumps(pending_asset()).encode())
    assert CONTRACT.check_response(good, timeout=30) is None  # type: ignore[arg-type,func-returns-value]
    bad = _Response(_Request("GET", "http://api.test/v1/stats"), 200, b"{}")
    with pytest.raises(AssertionError, match="GET /v1/stats -> 200"):
        CONTRACT.check_response(bad)  # type: ignore[arg-type]


# --- the handlers answer as documented -------------------------------------------------------

CONFIG = Config.from_env({"LIGHTBOX_BUCKET": "lightbox-test", "LIGHTBOX_MULTIPART_THRESHOLD_BYTES":
                          str(8 * 1024 * 1024), "LIGHTBOX_MULTIPART_PART_BYTES": str(5 * 1024 * 1024),
                          "LIGHTBOX_WEBHOOK_TOKEN": "secret"})


class Checked:
    """Calls a Chalice app and checks every answer against the contract."""

    def __init__(self, app: Any, owner: str | None = "local", *, admin: bool = False) -> None:
        self._client = ApiClient(app, owner=owner, admin=admin)

    def __call__(self, method: str, path: str, body: Any = None, **kwargs: Any) -> ApiResponse:
        response = self._client.request(method, path, body=body, **kwargs)
        CONTRACT.check(method, path, response.status_code, response.body)
        return response


@dataclass
class Api:
    assets: FakeAssetRepository
    storage: FakeObjectStore
    uploads: Checked
    completes: Checked
    library: Checked


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> Api:
    assets, storage, jobs = FakeAssetRepository(), FakeObjectStore(), FakeJobQueue()
    projects = FakeProjectRepository(assets)
    for module in (presign, upload_complete, library):
        monkeypatch.setattr(module, "container", Container(
            CONFIG, assets=assets, storage=storage, jobs=jobs, projects=projects))
    return Api(assets, storage, Checked(presign.app), Checked(upload_complete.app),
               Checked(library.app))


def upload(api: Api, data: bytes = JPEG, **extra: Any) -> str:
    response = api.uploads("POST", "/v1/uploads", {
        "filename": "a.jpg", "content_type": "image/jpeg", "size_bytes": len(data), **extra})
    assert response.status_code == 201, response.body
    asset_id: str = response.json_body["asset_id"]
    api.storage.objects[original_key("local", uuid.UUID(asset_id))] = data
    return asset_id


def test_an_upload_is_presigned_completed_listed_trashed_and_deleted_on_contract(
    api: Api,
) -> None:
    asset_id = upload(api, project_id=None)
    assert api.completes("POST", f"/v1/uploads/{asset_id}/complete").status_code == 202
    assert api.completes("POST", f"/v1/uploads/{asset_id}/complete").status_code == 202
    ready = api.assets.change(
        uuid.UUID(asset_id), status=Status.READY, sha256=hashlib.sha256(JPEG).hexdigest(),
        placeholder="3OcRJYB4d3h/iIeHeEh3eIhw+j3A",
        info=ImageInfo(width=64, height=48, pages=1, bit_depth=8, color_mode="RGB",
                       taken_at=datetime(2024, 5, 31, 14, 3), camera_make="Make",
                       camera_model="Model", orientation=1),
        derivatives=(Derivative(size=256, page=1, format="jpeg", width=64, height=48,
                                key=f"derivatives/local/{asset_id}/1-256.jpeg", bytes=100),))
    assert ready.status is Status.READY
    first = api.library("GET", "/v1/assets?limit=1")
    assert first.json_body["items"][0]["thumbnails"]
    duplicate = api.uploads("POST", "/v1/uploads", {
        "filename": "b.jpg", "content_type": "image/jpeg", "size_bytes": len(JPEG),
        "sha256": hashlib.sha256(JPEG).hexdigest()})
    assert duplicate.status_code == 200 and duplicate.json_body["duplicate"] is True
    upload(api)
    sync = api.library("GET", "/v1/assets?limit=1&sort=created").json_body["sync_cursor"]
    assert api.library("GET", f"/v1/assets/{asset_id}").status_code == 200
    assert api.library("PATCH", f"/v1/assets/{asset_id}", {"filename": "c.jpg"}).status_code == 200
    assert api.library("DELETE", f"/v1/assets/{asset_id}").status_code == 204
    changes = api.library("GET", f"/v1/assets?changed_since={sync}")
    assert changes.json_body["items"][-1]["status"] == "trashed"
    assert api.library("GET", "/v1/assets?status=trashed").json_body["items"]
    assert api.library("POST", f"/v1/assets/{asset_id}/restore").json_body["status"] == "ready"
    assert api.library("DELETE", f"/v1/assets/{asset_id}").status_code == 204
    assert api.library("DELETE", "/v1/trash").json_body == {"deleted": 1, "more": False}
    changes = api.library("GET", f"/v1/assets?changed_since={sync}")
    assert changes.json_body["items"][-1]["status"] == "deleted"
    assert api.library("GET", "/v1/assets?status=deleted").json_body["items"]
    assert api.library("GET", f"/v1/assets/{asset_id}").status_code == 404
    assert api.library("GET", "/v1/stats").status_code == 200


def test_a_large_upload_in_parts_is_on_contract(api: Api) -> None:
    response = api.uploads("POST", "/v1/uploads", {
        "filename": "scan.tif", "content_type": "image/tiff", "size_bytes": 12 * 1024 * 1024})
    assert response.status_code == 201
    assert len(response.json_body["upload"]["parts"]) == 3
    asset_id = response.json_body["asset_id"]
    assert api.completes("POST", f"/v1/uploads/{asset_id}/complete").status_code == 409
    assert api.completes("POST", f"/v1/uploads/{asset_id}/abort").status_code == 204
    assert api.completes("POST", f"/v1/uploads/{asset_id}/abort").status_code == 404


def test_a_failed_asset_is_retried_on_contract(api: Api) -> None:
    asset_id = upload(api, data=b"\0" * len(JPEG))
    assert api.completes("POST", f"/v1/uploads/{asset_id}/complete").json_body["status"] == "failed"
    failed = api.library("GET", f"/v1/assets/{asset_id}").json_body
    assert failed["error"] and failed["original_url"]
    api.storage.objects[original_key("local", uuid.UUID(asset_id))] = JPEG
    retried = api.completes("POST", f"/v1/assets/{asset_id}/retry")
    assert retried.status_code == 202 and retried.json_body["status"] == "uploaded"
    assert api.completes("POST", f"/v1/assets/{asset_id}/retry").status_code == 409


def test_projects_are_on_contract(api: Api) -> None:
    created = api.library("POST", "/v1/projects", {"name": "Trip"})
    assert created.status_code == 201
    project_id = created.json_body["project_id"]
    assert api.library("POST", "/v1/projects", {"name": "trip"}).status_code == 409
    asset_id = upload(api, project_id=project_id)
    assert api.library("GET", "/v1/projects").json_body["items"][0]["asset_count"] == 1
    assert api.library("PATCH", f"/v1/projects/{project_id}", {"name": "Tour"}).status_code == 200
    assert api.library("GET", f"/v1/projects/{project_id}").status_code == 200
    assert api.library("DELETE", f"/v1/projects/{project_id}").status_code == 409
    assert api.library("DELETE", f"/v1/projects/{project_id}?cascade=maybe").status_code == 422
    moved = api.library("PATCH", f"/v1/assets/{asset_id}", {"project_id": None})
    assert moved.json_body["project_id"] is None
    assert api.library("DELETE", f"/v1/projects/{project_id}?cascade=true").status_code == 204
    assert api.library("GET", f"/v1/projects/{project_id}").status_code == 404
    assert api.library("GET", "/v1/projects/not-a-uuid").status_code == 404


@pytest.mark.parametrize(("function", "method", "path", "body", "status"), [
    ("presign", "POST", "/v1/uploads", {"filename": "a.jpg", "content_type": "image/jpeg",
                                        "size_bytes": -1}, 422),
    ("presign", "POST", "/v1/uploads", {"filename": "a.jpg", "content_type": "image/bmp",
                                        "size_bytes": 1}, 415),
    ("presign", "POST", "/v1/uploads", {"filename": "a.jpg", "content_type": "image/jpeg",
                                        "size_bytes": 6 * 1024**4}, 413),
    ("presign", "POST", "/v1/uploads", {"filename": "a.jpg", "content_type": "image/jpeg",
                                        "size_bytes": 1, "project_id": str(ASSET_ID)}, 404),
    ("presign", "POST", "/v1/uploads", [1], 400),
    ("library", "GET", "/v1/assets?limit=0", None, 422),
    ("library", "GET", "/v1/assets?sort=size", None, 422),
    ("library", "GET", "/v1/assets?cursor=nonsense", None, 422),
    ("library", "GET", "/v1/assets?changed_since=x&status=ready", None, 422),
    ("library", "GET", "/v1/assets?colour=red", None, 400),
    ("library", "PATCH", f"/v1/assets/{ASSET_ID}", {}, 422),
    ("library", "PATCH", f"/v1/assets/{ASSET_ID}", {"name": "x"}, 400),
    ("library", "PATCH", f"/v1/assets/{ASSET_ID}", {"filename": "x"}, 404),
    ("library", "POST", "/v1/projects", {"name": ""}, 422),
    ("presign", "GET", f"/v1/uploads/{ASSET_ID}/parts", None, 404),
    ("presign", "GET", f"/v1/uploads/{ASSET_ID}/parts?limit=0", None, 422),
    ("presign", "GET", f"/v1/uploads/{ASSET_ID}/parts?page=2", None, 400),
    ("upload_complete", "POST", f"/v1/uploads/{ASSET_ID}/complete", None, 404),
    ("upload_complete", "POST", f"/v1/assets/{ASSET_ID}/retry", None, 404),
    ("upload_complete", "POST", "/v1/uploads/nope/abort", None, 404),
])
def test_refusals_are_on_contract(api: Api, function: str, method: str, path: str, body: Any,
                                  status: int) -> None:
    checked = {"presign": api.uploads, "upload_complete": api.completes,
               "library": api.library}[function]
    assert checked(method, path, body).status_code == status


def test_thumbnails_of_every_size_are_on_contract(
        api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(thumbnails_api, "container", Container(
        CONFIG, assets=api.assets, storage=api.storage, jobs=FakeJobQueue()))
    thumbnails = Checked(thumbnails_api.app)
    asset_id = upload(api, data=image_bytes("JPEG", size=(900, 600)))
    assert thumbnails("GET", f"/v1/assets/{asset_id}/thumbnails/640").status_code == 409
    api.assets.change(uuid.UUID(asset_id), status=Status.READY,
                      info=ImageInfo(width=900, height=600, pages=1, bit_depth=8,
                                     color_mode="RGB"))
    made = thumbnails("GET", f"/v1/assets/{asset_id}/thumbnails/640?format=webp")
    assert made.status_code == 302 and made.headers["Location"]
    assert thumbnails("GET", f"/v1/assets/{asset_id}/thumbnails/333").status_code == 400
    assert thumbnails("GET", f"/v1/assets/{asset_id}/thumbnails/640?page=2").status_code == 422
    assert thumbnails("GET", f"/v1/assets/{asset_id}/thumbnails/640?format=gif").status_code \
        == 422
    assert thumbnails("GET", f"/v1/assets/{ASSET_ID}/thumbnails/640").status_code == 404
    assert Checked(thumbnails_api.app, owner="stranger")(
        "GET", f"/v1/assets/{asset_id}/thumbnails/640").status_code == 404


def test_a_rerender_is_on_contract_for_an_admin_only(api: Api) -> None:
    assert api.library("POST", "/v1/admin/rerender", {}).status_code == 403
    assert api.library("GET", "/v1/admin/rerender").status_code == 403
    admin = Checked(library.app, admin=True)
    asset_id = upload(api)
    api.assets.change(uuid.UUID(asset_id), status=Status.READY)
    started = admin("POST", "/v1/admin/rerender", {"limit": 1})
    assert started.status_code == 202
    assert started.json_body["sent"] == 1 and started.json_body["next_cursor"]
    last = admin("POST", "/v1/admin/rerender", {"cursor": started.json_body["next_cursor"]})
    assert last.json_body == {**last.json_body, "sent": 0, "next_cursor": None}
    assert admin("POST", "/v1/admin/rerender", {"cursor": "x"}).status_code == 422
    assert admin("GET", "/v1/admin/rerender").json_body["outdated"] == 1


def test_without_the_authorizer_every_v1_route_is_a_401_on_contract(api: Api) -> None:
    for method, path, operation in operations():
        if not path.startswith("/v1/") or operation.get("security") == []:
            continue
        app = {"POST /v1/uploads": presign.app,
               "GET /v1/uploads/{asset_id}/parts": presign.app}.get(f"{method} {path}")
        if app is None and "/thumbnails/" in path:
            app = thumbnails_api.app
        if app is None:
            app = upload_complete.app if path.endswith(("complete", "abort", "retry")) \
                else library.app
        concrete = path.format(asset_id=ASSET_ID, project_id=ASSET_ID, import_id=ASSET_ID,
                               size=256)
        response = Checked(app, owner=None)(method, concrete)
        assert response.status_code == 401, (method, path)


def test_a_non_json_content_type_is_a_415_on_contract(api: Api) -> None:
    response = api.library("GET", "/v1/stats", headers={"Content-Type": "text/plain"})
    assert response.status_code == 415


def test_health_and_a_failing_dependency_are_on_contract(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert api.library("GET", "/health").json_body["status"] == "ok"

    def down(*args: object, **kwargs: object) -> None:
        raise StorageUnavailable("the bucket is down")

    monkeypatch.setattr(api.storage, "ping", down)
    monkeypatch.setattr(api.storage, "presign_get", down)
    assert api.library("GET", "/health").status_code == 503
    asset_id = upload(api)
    api.completes("POST", f"/v1/uploads/{asset_id}/complete")
    assert api.library("GET", f"/v1/assets/{asset_id}").status_code == 503


def test_the_minio_webhook_is_on_contract(api: Api) -> None:
    hooks = Checked(upload_complete.app, owner=None)
    asset_id = upload(api)
    event = {"EventName": "s3:ObjectCreated:Put", "Key": f"lightbox-test/originals/local/{asset_id}",
             "Records": [{"eventSource": "minio:s3", "eventName": "s3:ObjectCreated:Put",
                          "s3": {"bucket": {"name": "lightbox-test"},
                                 "object": {"key": f"originals/local/{asset_id}"}}}]}
    secret = {"Authorization": "Bearer secret"}
    answer = hooks("POST", "/hooks/minio", event, headers=secret)
    assert answer.json_body["events"][0]["status"] == "uploaded"
    assert hooks("POST", "/hooks/minio", event).status_code == 401
    assert hooks("POST", "/hooks/minio", {"no": "event"}, headers=secret).status_code == 400
