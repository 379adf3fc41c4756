"""What the local gateway gives a browser: the gallery's files beside the API routes, and the
bucket CORS rules of the template that let the gallery upload straight to the bucket."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
from botocore.stub import Stubber

from infra.local.gateway import Gateway
from infra.local.resources import LOCAL_ACCOUNT, _put_cors, cors_rules
from infra.template import Resolver, Route, Template
from tests.conftest import REPO

TEMPLATE = Template.load(REPO / "template.yaml")


class FakeFunction:
    """Answers every invocation as a function behind the route would."""

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        return {"statusCode": 200, "headers": {"Content-Type": "application/json"},
                "body": json.dumps({"function": event["resource"]})}


@pytest.fixture(scope="module")
def gallery(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp_path = tmp_path_factory.mktemp("site")
    root = tmp_path / "gallery"
    (root / "lib").mkdir(parents=True)
    (root / "index.html").write_text("<!doctype html><title>Lightbox</title>")
    (root / "main.js").write_text("export {};")
    (root / "lib" / "grid.js").write_text("export {};")
    (root / "health").write_text("a file named like a route")
    (root / "empty").mkdir()
    (tmp_path / "secret.txt").write_text("outside the gallery")
    (root / "link.txt").symlink_to(tmp_path / "secret.txt")
    return root


# One for the module: a gateway takes half a second to stop (its server polls for shutdown).
@pytest.fixture(scope="module")
def gateway(gallery: Path) -> Iterator[Gateway]:
    routes = [Route("GET", "/health", "Health"), Route("POST", "/v1/uploads", "Presign")]
    functions: dict[str, Any] = {"Health": FakeFunction(), "Presign": FakeFunction()}
    running = Gateway(routes, functions, gallery=gallery, cors={"Access-Control-Allow-Origin": "*"})
    running.start()
    yield running
    running.close()


def request(gateway: Gateway, method: str, path: str) -> tuple[int, dict[str, str], bytes]:
    """Sends ``path`` exactly as written (no client normalising ``..`` away)."""
    connection = http.client.HTTPConnection(urlsplit(gateway.url).netloc, timeout=10)
    try:
        connection.request(method, path)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


# --- the gallery --------------------------------------------------------------------------------

def test_the_root_is_the_gallerys_index_revalidated_at_every_load(gateway: Gateway) -> None:
    status, headers, body = request(gateway, "GET", "/")
    assert status == 200
    assert body == b"<!doctype html><title>Lightbox</title>"
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert headers["Cache-Control"] == "no-cache"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert request(gateway, "GET", "/index.html")[2] == body


@pytest.mark.parametrize("path", ["/main.js", "/lib/grid.js", "/main.js?v=2"])
def test_modules_are_served_as_javascript_wherever_they_are(gateway: Gateway, path: str) -> None:
    status, headers, body = request(gateway, "GET", path)
    assert (status, body) == (200, b"export {};")
    # Browsers refuse to run a module of any other type.
    assert headers["Content-Type"] == "text/javascript; charset=utf-8"


def test_a_head_request_has_the_headers_and_no_body(gateway: Gateway) -> None:
    status, headers, body = request(gateway, "HEAD", "/main.js")
    assert status == 200 and body == b""
    assert headers["Content-Length"] == str(len(b"export {};"))


@pytest.mark.parametrize("path", [
    "/../secret.txt", "/%2e%2e/secret.txt", "/lib/../../secret.txt", "/%2E%2E%2Fsecret.txt",
    "/link.txt", "//etc/passwd", "/main.js%00.html", "/missing.js", "/empty/", "/v1/anything",
])
def test_nothing_outside_the_gallery_or_missing_is_served(gateway: Gateway, path: str) -> None:
    status, headers, body = request(gateway, "GET", path)
    assert status == 404
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body)["error"]["code"] == "not_found"
    assert b"outside the gallery" not in body


def test_routes_come_before_files(gateway: Gateway) -> None:
    status, _, body = request(gateway, "GET", "/health")
    assert status == 200 and json.loads(body) == {"function": "/health"}
    # A route's path asked with another method is still the API's 405, never a file.
    assert request(gateway, "GET", "/v1/uploads")[0] == 405


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
def test_files_are_only_read(gateway: Gateway, method: str) -> None:
    assert request(gateway, method, "/index.html")[0] == 404


def test_without_a_gallery_the_gateway_serves_no_files() -> None:
    bare = Gateway([], {})
    bare.start()
    try:
        assert request(bare, "GET", "/")[0] == 404
    finally:
        bare.close()


# --- the bucket's CORS rules --------------------------------------------------------------

def resolver(**parameters: str) -> Resolver:
    return Resolver(TEMPLATE, parameters=parameters, refs={}, arns={},
                    pseudo={"AWS::AccountId": LOCAL_ACCOUNT, "AWS::Region": "us-east-1"})


def test_the_bucket_gets_the_templates_cors_rules_in_the_s3_apis_terms() -> None:
    assert cors_rules(TEMPLATE, resolver()) == [{
        "AllowedOrigins": ["*"],
        "AllowedMethods": ["PUT", "POST", "GET", "HEAD"],
        "AllowedHeaders": ["*"],
        "ExposeHeaders": ["ETag"],
        "MaxAgeSeconds": 3600,
    }]


def test_the_allowed_origin_follows_the_templates_parameter() -> None:
    (rule,) = cors_rules(TEMPLATE, resolver(CorsAllowOrigin="https://photos.example"))
    assert rule["AllowedOrigins"] == ["https://photos.example"]


def test_a_backend_that_refuses_bucket_cors_is_logged_not_fatal(caplog: pytest.LogCaptureFixture) -> None:
    s3 = boto3.client("s3", region_name="us-east-1", aws_access_key_id="test",
                      aws_secret_access_key="test")
    with Stubber(s3) as stubber:
        # MinIO keeps CORS in its server settings, not per bucket.
        stubber.add_client_error("put_bucket_cors", service_error_code="NotImplemented",
                                 http_status_code=501)
        _put_cors(s3, "media", cors_rules(TEMPLATE, resolver()))
        stubber.assert_no_pending_responses()
    assert "CORS rules were not applied" in caplog.text and "NotImplemented" in caplog.text
