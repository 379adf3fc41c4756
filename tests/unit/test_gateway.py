"""What the local gateway gives a browser: the gallery's files beside the API routes, and the
bucket CORS rules of the template that let the gallery upload straight to the bucket; and how it
reads a request's body: framed as a real HTTP server demands, or refused."""

from __future__ import annotations

import http.client
import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
from botocore.stub import Stubber

from infra.local.control import ControlPlane
from infra.local.gateway import Gateway
from infra.local.loopback import LoopbackHandler
from infra.local.resources import LOCAL_ACCOUNT, _put_cors, cors_rules
from infra.template import Resolver, Route, Template
from tests.conftest import REPO

TEMPLATE = Template.load(REPO / "template.yaml")


class FakeFunction:
    """Answers every invocation as a function behind the route would."""

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        return {"statusCode": 200, "headers": {"Content-Type": "application/json"},
                "body": json.dumps({"function": event["resource"], "body": event["body"]})}


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


# --- answers on a kept-alive connection ---------------------------------------------------------


@pytest.fixture
def nodelay_of_connections(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """TCP_NODELAY on the server's side of each connection the local servers take from now on."""
    taken: list[int] = []
    setup = LoopbackHandler.setup

    def recorded(handler: LoopbackHandler) -> None:
        setup(handler)
        taken.append(handler.connection.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))

    monkeypatch.setattr(LoopbackHandler, "setup", recorded)
    return taken


def test_the_gateway_and_the_control_plane_send_each_answer_without_waiting(
        gateway: Gateway, tmp_path: Path, nodelay_of_connections: list[int]) -> None:
    # Nagle's algorithm would hold an answer's body until the client acknowledged its
    # headers, which a client on a kept-alive connection delays by up to 40 ms.
    control = ControlPlane([], [], function_arns={}, queue_arns={},
                           state_file=tmp_path / "processing.json")
    control.start()
    try:
        for url in (gateway.url, control.url):
            connection = http.client.HTTPConnection(urlsplit(url).netloc, timeout=10)
            for _ in range(2):
                connection.request("GET", "/2015-03-31/event-source-mappings/?FunctionName=f")
                connection.getresponse().read()
            connection.close()
    finally:
        control.close()
    assert len(nodelay_of_connections) == 2 and all(nodelay_of_connections)


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
    assert status == 200 and json.loads(body) == {"function": "/health", "body": None}
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


# --- request framing ----------------------------------------------------------------------

HEAD = b"POST /v1/uploads HTTP/1.1\r\nHost: 127.0.0.1\r\n"


def send_raw(gateway: Gateway, data: bytes, *, then_close: bool = False) -> bytes:
    """Sends bytes as they are and reads the answer until the gateway closes the connection; a
    gateway that waits for bytes that never come fails the test in 5 s. ``then_close`` ends the
    request's side of the connection, as a client that stops half-way does. (Each request ends
    where the gateway stops reading: bytes left unread when it closes would reset the
    connection, and the answer could be lost.)"""
    host, port = urlsplit(gateway.url).netloc.split(":")
    with socket.create_connection((host, int(port)), timeout=5) as raw:
        raw.sendall(data)
        if then_close:
            raw.shutdown(socket.SHUT_WR)
        received = b""
        while chunk := raw.recv(65536):
            received += chunk
    return received


def exchange(gateway: Gateway, head: str, body: bytes = b"") -> tuple[int, bytes]:
    """The status and body of the answer to ``POST /v1/uploads`` with these header lines."""
    received = send_raw(gateway, HEAD + (head + "\r\n").encode("latin-1") + body)
    status_line, _, rest = received.partition(b"\r\n")
    return int(status_line.split()[1]), rest.partition(b"\r\n\r\n")[2]


def error_code(answer: bytes) -> str:
    return str(json.loads(answer)["error"]["code"])


@pytest.mark.parametrize("head", [
    "Content-Length: -1\r\n",
    "Content-Length: abc\r\n",
    "Content-Length: +3\r\n",
    "Content-Length: 0x3\r\n",
    "Content-Length: 1_0\r\n",
    "Content-Length: \r\n",
    "Content-Length: 3\r\nContent-Length: 4\r\n",
    "Content-Length: 3, 4\r\n",
    "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n",
    "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n",
    "Transfer-Encoding: chunked, chunked\r\n",
    "Transfer-Encoding: \r\n",
])
def test_ambiguous_or_malformed_framing_is_a_400(gateway: Gateway, head: str) -> None:
    status, answer = exchange(gateway, head)
    assert status == 400 and error_code(answer) == "bad_request"


def test_identical_repeated_lengths_are_one_length(gateway: Gateway) -> None:
    status, answer = exchange(gateway, "Content-Length: 3, 3\r\nConnection: close\r\n", b"abc")
    assert status == 200 and json.loads(answer)["body"] == "abc"


@pytest.mark.parametrize("coding", ["gzip", "gzip, chunked", "identity", "chunked, gzip"])
def test_a_transfer_coding_other_than_chunked_is_not_implemented(gateway: Gateway, coding: str) -> None:
    status, answer = exchange(gateway, f"Transfer-Encoding: {coding}\r\n")
    assert status == 501 and error_code(answer) == "not_implemented"


def test_a_chunked_body_reaches_the_function_decoded(gateway: Gateway) -> None:
    body = b"4;ext=1\r\n{\"a\"\r\nA\r\n: \"0123456\r\n2\r\n\"}\r\n0\r\nX-Trailer: yes\r\n\r\n"
    status, answer = exchange(gateway, "Transfer-Encoding: Chunked\r\nConnection: close\r\n", body)
    assert status == 200
    assert json.loads(answer)["body"] == '{"a": "0123456"}'


@pytest.mark.parametrize("body", [
    b"3\r\nabcde",                      # more bytes than the chunk's size
    b"z\r\n",                          # not a hexadecimal size
    b"-3\r\n",
    b"+3\r\n",
    b"0x3\r\n",
    b"\r\n",                           # no size at all
    b"3\r\nab",                        # the connection ends inside a chunk
    b"3\r\nabc\r\n",                   # ... or before the last chunk
])
def test_a_malformed_chunked_body_is_a_400(gateway: Gateway, body: bytes) -> None:
    received = send_raw(gateway, HEAD + b"Transfer-Encoding: chunked\r\n\r\n" + body,
                        then_close=True)
    assert received.startswith(b"HTTP/1.1 400 ")


def test_a_chunked_body_over_10_mb_is_a_413_before_it_is_all_read(gateway: Gateway) -> None:
    # One chunk that announces more than API Gateway accepts: refused on its size line alone.
    status, answer = exchange(gateway, "Transfer-Encoding: chunked\r\n", b"A00001\r\n")
    assert status == 413 and error_code(answer) == "too_large"


def test_many_small_chunks_count_towards_the_10_mb_limit(gateway: Gateway) -> None:
    chunk = b"100000\r\n" + b"x" * 0x100000 + b"\r\n"  # 1 MiB each
    received = send_raw(gateway, HEAD + b"Transfer-Encoding: chunked\r\n\r\n" + chunk * 10
                        + b"1\r\n")
    assert received.startswith(b"HTTP/1.1 413 ")


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
