"""The CLI's HTTP client against a server on loopback that answers what each test scripts."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from lightbox_cli import client as client_module
from lightbox_cli.client import ApiError, LightboxClient, TransferError
from lightbox_cli.uploads import FileResult, LocalFile, Outcome, Uploader

SLOW_DOWN = (503, "application/xml",
             b"<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>")


@dataclass
class Script:
    """Answers to give, in order (the last one repeats), and what each request brought."""

    answers: list[tuple[int, str, bytes]]
    requests: list[tuple[str, str, dict[str, str], bytes]] = field(default_factory=list)


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Script]]:
    monkeypatch.setattr(client_module, "backoff", lambda attempt: 0.01)
    script = Script([])

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            script.requests.append((self.command, self.path, dict(self.headers), body))
            index = min(len(script.requests), len(script.answers)) - 1
            status, kind, payload = script.answers[index]
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_PUT = do_POST = do_GET

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", script
    httpd.shutdown()
    httpd.server_close()


def test_a_put_the_bucket_slows_down_is_sent_again_whole_and_progress_ends_at_its_size(
        server: tuple[str, Script], tmp_path: Path) -> None:
    url, script = server
    script.answers = [SLOW_DOWN, SLOW_DOWN, (200, "text/plain", b"")]
    path = tmp_path / "scan.tif"
    path.write_bytes(bytes(range(256)) * 10_000)
    progress: list[int] = []

    with LightboxClient(url, "lbk_secret") as client:
        client.put_file(f"{url}/bucket/key?X-Amz-Signature=s", {"Content-Type": "image/tiff"}, path,
                        offset=1000, length=2_000_000, progress=progress.append)

    assert len(script.requests) == 3
    for method, _, headers, body in script.requests:
        assert method == "PUT" and body == path.read_bytes()[1000:2_001_000]
        assert headers["Content-Length"] == "2000000" and headers["Content-Type"] == "image/tiff"
        assert "Authorization" not in headers  # the API key never goes to the bucket
    assert sum(progress) == 2_000_000 and min(progress) < 0  # failed attempts taken back


def test_a_put_whose_lost_answer_is_followed_by_a_412_has_landed(
        server: tuple[str, Script], tmp_path: Path) -> None:
    url, script = server
    precondition_failed = (412, "application/xml",
                           b"<Error><Code>PreconditionFailed</Code><Message>At least one of the "
                           b"pre-conditions you specified did not hold</Message></Error>")
    script.answers = [(500, "application/xml", b"<Error><Code>InternalError</Code></Error>"),
                      precondition_failed]
    path = tmp_path / "a.jpg"
    path.write_bytes(b"x" * 1000)
    progress: list[int] = []

    with LightboxClient(url, "lbk_secret") as client:
        client.put_file(url, {"If-None-Match": "*"}, path, offset=0, length=1000,
                        progress=progress.append)
    assert len(script.requests) == 2 and sum(progress) == 1000

    script.requests.clear()
    script.answers = [precondition_failed]  # at the first attempt: the key was already taken
    with LightboxClient(url, "lbk_secret") as client, pytest.raises(
            TransferError, match="412 PreconditionFailed"):
        client.put_file(url, {"If-None-Match": "*"}, path, offset=0, length=1000,
                        progress=lambda n: None)


def test_a_put_the_bucket_refuses_fails_at_once_with_its_reason(server: tuple[str, Script],
                                                                tmp_path: Path) -> None:
    url, script = server
    script.answers = [(403, "application/xml",
                       b"<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>")]
    path = tmp_path / "a.jpg"
    path.write_bytes(b"x" * 10)

    with LightboxClient(url, "lbk_secret") as client, pytest.raises(
            TransferError, match="403 AccessDenied: Request has expired"):
        client.put_file(url, {}, path, offset=0, length=10, progress=lambda n: None)
    assert len(script.requests) == 1


def test_api_errors_keep_their_code_and_only_safe_requests_are_tried_again(
        server: tuple[str, Script]) -> None:
    url, script = server
    busy = (503, "application/json", json.dumps(
        {"error": {"code": "unavailable", "message": "try later"}}).encode())
    script.answers = [busy]

    with LightboxClient(url, "lbk_secret") as client:
        with pytest.raises(ApiError) as presign:
            client.presign("a.jpg", "image/jpeg", 10, "0" * 64)
        assert (presign.value.status, presign.value.code) == (503, "unavailable")
        assert len(script.requests) == 1  # a lost answer would leave a second asset behind
        assert script.requests[0][2]["Authorization"] == "Bearer lbk_secret"

        script.answers = [busy, (200, "application/json", b'{"assets": {}, "queues": {}}')]
        script.requests.clear()
        assert client.stats() == {"assets": {}, "queues": {}}
        assert len(script.requests) == 2


def test_an_answer_that_is_not_the_apis_says_who_answered_what(server: tuple[str, Script]) -> None:
    url, script = server
    script.answers = [(404, "text/html", b"<html>Not Found</html>")]

    with LightboxClient(url, "k") as client, pytest.raises(ApiError, match="unexpected_answer") as error:
        client.asset("0a6f3b1e-0000-4000-8000-000000000000")
    assert "GET " in error.value.message and "Not Found" in error.value.message


class Quiet:
    def started(self, file: LocalFile) -> None:
        pass

    def sent(self, file: LocalFile, count: int) -> None:
        pass

    def finished(self, result: FileResult) -> None:
        pass


def test_a_multipart_upload_asks_for_the_part_urls_its_ticket_lacks(
        server: tuple[str, Script], tmp_path: Path) -> None:
    url, script = server
    data = b"0123456789"
    path = tmp_path / "scan.tif"
    path.write_bytes(data)
    expires = "2999-01-01T00:00:00+00:00"

    def part(number: int, size: int) -> dict[str, object]:
        return {"part_number": number, "size_bytes": size, "url": f"{url}/bucket/part{number}"}

    ticket = {"asset_id": "a1", "status": "pending", "upload": {
        "method": "PUT", "part_size": 4, "part_count": 3, "parts": [part(1, 4), part(2, 4)],
        "headers": {}, "expires_at": expires}}
    more = {"asset_id": "a1", "part_size": 4, "part_count": 3, "parts": [part(3, 2)],
            "expires_at": expires}
    ok = (200, "application/xml", b"")
    script.answers = [(201, "application/json", json.dumps(ticket).encode()), ok, ok,
                      (200, "application/json", json.dumps(more).encode()), ok,
                      (202, "application/json", b'{"asset_id": "a1", "status": "uploaded"}')]
    with LightboxClient(url, "key") as client:
        uploader = Uploader(client, Quiet())
        (result,) = uploader.upload([LocalFile(path, "image/tiff", len(data))])

    assert result.outcome is Outcome.UPLOADED, result.detail
    assert uploader.sent_bytes == len(data)
    sent = [(method, target, body) for method, target, _, body in script.requests]
    assert sent == [
        ("POST", "/v1/uploads", script.requests[0][3]),
        ("PUT", "/bucket/part1", b"0123"), ("PUT", "/bucket/part2", b"4567"),
        ("GET", "/v1/uploads/a1/parts?first=3", b""),
        ("PUT", "/bucket/part3", b"89"),
        ("POST", "/v1/uploads/a1/complete", b""),
    ]
    # Each part goes with exactly the length its URL is signed for.
    assert [int(headers["Content-Length"]) for method, _, headers, _ in script.requests
            if method == "PUT"] == [4, 4, 2]


def test_part_urls_about_to_expire_are_asked_for_again(
        server: tuple[str, Script], tmp_path: Path) -> None:
    url, script = server
    path = tmp_path / "scan.tif"
    path.write_bytes(b"01234567")
    ticket = {"asset_id": "a1", "status": "pending", "upload": {
        "method": "PUT", "part_size": 4, "part_count": 2, "headers": {},
        "parts": [{"part_number": n, "size_bytes": 4, "url": f"{url}/bucket/old{n}"} for n in (1, 2)],
        "expires_at": "2000-01-01T00:00:00+00:00"}}
    more = {"asset_id": "a1", "part_size": 4, "part_count": 2,
            "parts": [{"part_number": 2, "size_bytes": 4, "url": f"{url}/bucket/new2"}],
            "expires_at": "2999-01-01T00:00:00+00:00"}
    ok = (200, "application/xml", b"")
    # The first URL is used as it is (a presign's URLs are fresh: only the clocks disagree).
    script.answers = [(201, "application/json", json.dumps(ticket).encode()), ok,
                      (200, "application/json", json.dumps(more).encode()), ok,
                      (202, "application/json", b'{"asset_id": "a1", "status": "uploaded"}')]
    with LightboxClient(url, "key") as client:
        (result,) = Uploader(client, Quiet()).upload([LocalFile(path, "image/tiff", 8)])
    assert result.outcome is Outcome.UPLOADED, result.detail
    assert [target for _, target, _, _ in script.requests] == [
        "/v1/uploads", "/bucket/old1", "/v1/uploads/a1/parts?first=2", "/bucket/new2",
        "/v1/uploads/a1/complete"]


# --- the uploader against a stack that renders before complete answers ---------------------

class FastStack:
    """Each image is rendered before ``complete`` answers, as small ones can be."""

    def __init__(self, settled: dict[str, Any]) -> None:
        self.settled = settled

    def presign(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return {"asset_id": "a1", "status": "pending",
                "upload": {"method": "PUT", "url": "http://127.0.0.1:9/x", "headers": {}}}

    def put_file(self, *args: Any, **kwargs: Any) -> None:
        pass

    def complete(self, asset_id: str) -> dict[str, Any]:
        return {"asset_id": asset_id, "status": self.settled["status"]}

    def asset(self, asset_id: str) -> dict[str, Any]:
        return {"asset_id": asset_id, **self.settled}


def upload_one(tmp_path: Path, settled: dict[str, Any]) -> FileResult:
    path = tmp_path / "photo.jpg"
    path.write_bytes(b"\xff\xd8 a photo")
    uploader = Uploader(FastStack(settled), Quiet())  # type: ignore[arg-type]
    [result] = uploader.upload([LocalFile(path, "image/jpeg", path.stat().st_size)])
    return result


def test_an_asset_ready_before_complete_answers_counts_as_ready(tmp_path: Path) -> None:
    result = upload_one(tmp_path, {"status": "ready"})
    assert (result.outcome, result.status) == (Outcome.READY, "ready")


def test_a_duplicate_found_before_complete_answers_says_of_what(tmp_path: Path) -> None:
    result = upload_one(tmp_path, {"status": "duplicate", "duplicate_of": "a0"})
    assert result.outcome is Outcome.SKIPPED
    assert result.detail == "already in the library as a0"


def test_what_a_takeout_sidecar_said_goes_with_the_presign_and_nothing_unsaid_does(
        server: tuple[str, Script]) -> None:
    url, script = server
    script.answers = [(200, "application/json", b'{"asset_id": "a1", "status": "ready", '
                                                b'"duplicate": true}')]
    with LightboxClient(url, "key") as client:
        client.presign("IMG.png", "image/png", 10, "ab" * 32,
                       taken_at=datetime(2019, 7, 14, 16, 30, 5, tzinfo=UTC),
                       place=(43.3, 5.37), description="Harbour")
        client.presign("scan.png", "image/png", 10, "cd" * 32)

    dated, plain = (json.loads(body) for _, _, _, body in script.requests)
    assert dated == {"filename": "IMG.png", "content_type": "image/png", "size_bytes": 10,
                     "sha256": "ab" * 32, "project_id": None,
                     "taken_at": "2019-07-14T16:30:05Z",
                     "location": {"latitude": 43.3, "longitude": 5.37},
                     "description": "Harbour"}
    # A server older than these fields refuses any it does not know, even empty.
    assert set(plain) == {"filename", "content_type", "size_bytes", "sha256", "project_id"}
