"""Starting, stopping and restarting the local stack on the same data directory."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import psutil
import pytest
import requests

from tests.conftest import REPO
from tests.e2e.conftest import Stack, start_stack
from tests.support import image_bytes

pytestmark = pytest.mark.e2e


def descendants(pid: int) -> list[psutil.Process]:
    return psutil.Process(pid).children(recursive=True)


def postgres_of(data_dir: Path) -> list[psutil.Process]:
    """pgserver's PostgreSQL daemonizes away from the stack's process tree."""
    return [p for p in psutil.process_iter(["name", "cmdline"])
            if p.info["name"] == "postgres" and str(data_dir) in " ".join(p.info["cmdline"] or [])]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_stop_signal_ends_every_process_and_a_restart_keeps_the_library(
    tmp_path: Path, signum: int
) -> None:
    data_dir = tmp_path / "data"
    stack = start_stack(data_dir)
    client = stack.api_client()
    asset_id = client.upload("keep.png", "image/png", image_bytes("PNG", (900, 600)))
    assert client.wait_until_settled(asset_id)["status"] == "ready"
    children = descendants(stack.process.pid) + postgres_of(data_dir)
    assert len(children) >= 3  # postgres, the moto server, function workers

    assert stack.stop(signum) == 0, stack.log_tail()

    _, alive = psutil.wait_procs(children, timeout=15)
    assert alive == [], [p.pid for p in alive]
    assert not (data_dir / "stack.json").exists()

    restarted = start_stack(data_dir)
    try:
        asset = restarted.api_client().asset(asset_id)
        assert asset["status"] == "ready"
        for url in [asset["original_url"]] + [t["url"] for t in asset["thumbnails"]]:
            assert requests.get(url, timeout=30).status_code == 200
    finally:
        assert restarted.stop() == 0, restarted.log_tail()


def run_up(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "infra.local", "up", *args], check=False, cwd=REPO,
                          capture_output=True, text=True, timeout=60)


def test_a_second_stack_on_the_same_data_is_refused(stack: Stack) -> None:
    result = run_up("--port", "0", "--data", str(stack.data_dir))
    assert result.returncode == 1
    assert "a stack is already running on" in result.stderr


def test_a_port_in_use_is_refused_before_anything_starts(stack: Stack, tmp_path: Path) -> None:
    port = urlsplit(stack.api).port
    result = run_up("--port", str(port), "--data", str(tmp_path / "data"))
    assert result.returncode == 1
    assert f"port {port} is in use" in result.stderr
    assert not (tmp_path / "data" / "postgres").exists()


def test_the_stack_serves_s3_and_sqs_from_the_backend_it_was_asked_for(stack: Stack) -> None:
    port = urlsplit(stack.exports["AWS_ENDPOINT_URL_S3"]).port
    listeners = [psutil.Process(c.pid) for c in psutil.net_connections("tcp")
                 if c.laddr and c.laddr.port == port and c.status == psutil.CONN_LISTEN and c.pid]
    assert listeners, f"nothing listens on {port}"
    command = " ".join(listeners[0].cmdline())
    expected = {"embedded": "weed mini", "localstack": "localstack.runtime.main"}[stack.backend]
    assert expected in command
    # The embedded queues are a moto server's; LocalStack serves both.
    sharing = stack.exports["AWS_ENDPOINT_URL_SQS"] == stack.exports["AWS_ENDPOINT_URL_S3"]
    assert sharing is (stack.backend == "localstack")


def test_a_library_stays_with_the_backend_that_holds_its_objects(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    unreachable = run_up("--port", "0", "--data", str(data_dir), "--s3", "http://127.0.0.1:1")
    assert unreachable.returncode == 1

    refused = run_up("--port", "0", "--data", str(data_dir))
    assert refused.returncode == 1
    assert "whose objects are in http://127.0.0.1:1, not embedded" in refused.stderr


def test_a_backup_restored_into_a_new_directory_is_the_same_library(tmp_path: Path) -> None:
    """The restore drill: a library backed up, restored elsewhere, and found whole there."""
    data_dir, restored_dir = tmp_path / "data", tmp_path / "restored"
    stack = start_stack(data_dir)
    client = stack.api_client()
    originals = {client.upload(f"{n}.jpg", "image/jpeg", image_bytes("JPEG", (640 + n, 480))):
                 image_bytes("JPEG", (640 + n, 480)) for n in range(3)}
    assert all(client.wait_until_settled(a)["status"] == "ready" for a in originals)
    refused = dev("backup", "--to", str(tmp_path / "running.tar"), "--data", str(data_dir))
    assert refused.returncode == 1 and "stop it first" in refused.stderr
    assert stack.stop() == 0, stack.log_tail()

    archive = tmp_path / "library.tar"
    assert dev("backup", "--to", str(archive), "--data", str(data_dir)).returncode == 0
    assert dev("restore", "--from", str(archive), "--data", str(data_dir)).returncode == 1
    assert dev("restore", "--from", str(archive), "--data", str(restored_dir)).returncode == 0

    restored = start_stack(restored_dir)
    try:
        assert restored.api_key == stack.api_key  # the keys came back with the library
        again = restored.api_client()
        for asset_id, data in originals.items():
            asset = again.asset(asset_id)
            assert asset["status"] == "ready"
            assert requests.get(asset["original_url"], timeout=30).content == data
            for thumbnail in asset["thumbnails"]:
                assert requests.get(thumbnail["url"], timeout=30).status_code == 200
        added = again.upload("after.png", "image/png", image_bytes("PNG", (300, 200)))
        assert again.wait_until_settled(added)["status"] == "ready"
    finally:
        assert restored.stop() == 0, restored.log_tail()


def dev(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "infra.local", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=300, check=False)
