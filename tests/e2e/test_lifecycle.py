"""Starting, stopping and restarting the local stack on the same data directory."""

from __future__ import annotations

import signal
from pathlib import Path

import psutil
import pytest
import requests

from tests.e2e.conftest import Client, start_stack
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
    client = Client(stack.api)
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
        asset = Client(restarted.api).asset(asset_id)
        assert asset["status"] == "ready"
        for url in [asset["original_url"]] + [t["url"] for t in asset["thumbnails"]]:
            assert requests.get(url, timeout=30).status_code == 200
    finally:
        assert restarted.stop() == 0, restarted.log_tail()
