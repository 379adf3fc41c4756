"""The local stack, started as a developer starts it, and driven over HTTP like a client.

Every end-to-end test runs once per S3 + SQS backend: the embedded one (SeaweedFS and moto's
SQS) and a real LocalStack (``LIGHTBOX_E2E_BACKENDS=embedded`` runs the first alone).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from infra.local.stack import client_of
from tests.conftest import REPO
from tests.contract import CONTRACT

STARTUP_SECONDS = 180
BACKENDS = os.environ.get("LIGHTBOX_E2E_BACKENDS", "embedded,localstack").split(",")
# What a failed test reports of the stack's log: its warnings and errors while the test ran,
# the last of them (the whole log stays in the test's temporary directory).
REPORTED_LOG_LINES = 40
_LOG_START = pytest.StashKey[int]()


@dataclass
class Stack:
    process: subprocess.Popen[bytes]
    data_dir: Path
    log_path: Path
    exports: dict[str, str]
    backend: str = "embedded"

    @property
    def api(self) -> str:
        return self.exports["LIGHTBOX_URL"]

    @property
    def api_key(self) -> str:
        """The owner ``local``'s key, which ``./dev.sh up`` created."""
        return self.exports["LIGHTBOX_API_KEY"]

    def api_client(self, api_key: str | None = None) -> Client:
        return Client(self.api, api_key or self.api_key)

    def create_key(self, owner: str) -> str:
        """``./dev.sh key create``: the new key is on the last line."""
        return self.key_command("create", "--owner", owner).splitlines()[-1]

    def key_command(self, *args: str) -> str:
        """``./dev.sh key ...`` against this stack; its output."""
        done = subprocess.run(
            ["./dev.sh", "key", *args, "--data", str(self.data_dir)],
            cwd=REPO, capture_output=True, text=True, timeout=60, check=False,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    def client(self, service: str) -> Any:
        """A boto3 client for the stack's S3 or SQS, as ``eval "$(./dev.sh env)"`` sets up."""
        return client_of(self.exports, service)

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def log_size(self) -> int:
        return self.log_path.stat().st_size

    def troubles_since(self, offset: int) -> list[str]:
        """The warnings, errors and tracebacks the stack logged after ``offset``."""
        try:
            with self.log_path.open("rb") as log:
                log.seek(offset)
                lines = log.read().decode(errors="replace").splitlines()
        except OSError as exc:  # the report of the failure must still be made
            return [f"the log could not be read: {exc}"]
        return [line for line in lines
                if " WARNING " in line or " ERROR " in line or not line[:4].isdigit()]

    def stop(self, signum: int = signal.SIGTERM) -> int:
        self.process.send_signal(signum)
        try:
            return self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()  # its children may outlive it: the test fails, saying so
            self.process.wait()
            raise


def start_stack(data_dir: Path, backend: str = "embedded", *args: str,
                **settings: str) -> Stack:
    """``./dev.sh up`` on ``data_dir``; ``settings`` are LIGHTBOX_* variables for the functions."""
    log_path = data_dir.with_suffix(".log")
    # The stack takes its settings from template.yaml, not from whatever this shell exports.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LIGHTBOX_", "AWS_"))}
    env.update(settings)
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "infra.local", "up", "--port", "0", "--data", str(data_dir),
             "--s3", backend, *args],
            cwd=REPO, stdout=log, stderr=subprocess.STDOUT, env=env,
        )
    stack = Stack(process, data_dir, log_path, {}, backend)
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the stack exited with {process.returncode}:\n{stack.log_tail()}")
        try:
            stack.exports = json.loads((data_dir / "stack.json").read_text())["exports"]
            if requests.get(f"{stack.api}/health", timeout=5).status_code == 200:
                return stack
        except (FileNotFoundError, ValueError, KeyError, requests.ConnectionError):
            pass
        time.sleep(0.2)
    stack.stop()  # a stop signal, so that it stops what it started
    raise RuntimeError(f"the stack did not become healthy:\n{stack.log_tail()}")


# Originals of 200 kB and more take the large lane, so that the tests see both lanes work.
LARGE_UPLOAD_BYTES = 200_000


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    stack = getattr(item, "funcargs", {}).get("stack")
    if isinstance(stack, Stack):
        item.stash[_LOG_START] = stack.log_size()
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]
                              ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    stack = getattr(item, "funcargs", {}).get("stack")
    if report.failed and call.when == "call" and isinstance(stack, Stack):
        troubles = stack.troubles_since(item.stash.get(_LOG_START, 0))
        report.sections.append((
            f"what the stack logged of trouble during the test ({len(troubles)} lines, "
            f"the last {REPORTED_LOG_LINES}; all of it in {stack.log_path.name})",
            "\n".join(troubles[-REPORTED_LOG_LINES:]) or "nothing",
        ))
    return report


@pytest.fixture(scope="session", params=BACKENDS)
def stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[Stack]:
    backend: str = request.param
    running = start_stack(tmp_path_factory.mktemp(f"stack-{backend}") / "data", backend,
                          LIGHTBOX_LARGE_UPLOAD_BYTES=str(LARGE_UPLOAD_BYTES))
    yield running
    assert running.stop() == 0, running.log_tail()


class Client:
    """What an app does: JSON to the API with its key, bytes straight to the presigned URLs.

    Every API answer it receives is checked against the OpenAPI document.
    """

    def __init__(self, api: str, api_key: str) -> None:
        self.api = api
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {api_key}"
        self.http.hooks["response"].append(CONTRACT.check_response)

    def presign(self, filename: str, content_type: str, data: bytes, **extra: Any) -> requests.Response:
        return self.http.post(f"{self.api}/v1/uploads", json={
            "filename": filename, "content_type": content_type, "size_bytes": len(data), **extra,
        }, timeout=30)

    def upload(self, filename: str, content_type: str, data: bytes, **extra: Any) -> str:
        """Presign and PUT the bytes (in parts when the answer asks for them, then complete)."""
        response = self.presign(filename, content_type, data, **extra)
        assert response.status_code == 201, response.text
        ticket = response.json()
        upload = ticket["upload"]
        if "parts" in upload:
            self.put_parts(upload, data, upload["parts"])
            completed = self.complete(ticket["asset_id"])
            assert completed.status_code == 202, completed.text
        else:
            put = requests.request(upload["method"], upload["url"], data=data,
                                   headers=upload["headers"], timeout=60)
            assert put.status_code == 200, put.text
        asset_id: str = ticket["asset_id"]
        return asset_id

    @staticmethod
    def put_parts(upload: dict[str, Any], data: bytes, parts: list[dict[str, Any]]) -> None:
        """PUT these parts of a multipart upload, each its slice of the bytes."""
        for part in parts:
            start = (part["part_number"] - 1) * upload["part_size"]
            put = requests.put(part["url"], data=data[start : start + part["size_bytes"]],
                               timeout=120)
            assert put.status_code == 200, put.text

    def complete(self, asset_id: str) -> requests.Response:
        return self.http.post(f"{self.api}/v1/uploads/{asset_id}/complete", timeout=120)

    def asset(self, asset_id: str) -> dict[str, Any]:
        response = self.http.get(f"{self.api}/v1/assets/{asset_id}", timeout=30)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def wait_until_settled(self, asset_id: str, timeout: float = 90) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            asset = self.asset(asset_id)
            if asset["status"] not in ("pending", "uploaded", "processing"):
                return asset
            if time.monotonic() > deadline:
                raise AssertionError(f"asset {asset_id} still {asset['status']} after {timeout}s")
            time.sleep(0.2)


@pytest.fixture
def client(stack: Stack) -> Client:
    return stack.api_client()
