"""The whole embedded stack killed without warning, restarted on the same data directory, and
audited: nothing whose upload was acknowledged may be lost.

    ./dev.sh test -m crash                      (LIGHTBOX_CRASH_ROUNDS=N for more rounds)

A crash here is SIGKILL of every process at once — the runtime, its workers, the object
store, the queues and PostgreSQL — as a power cut or an out-of-memory kill leaves them.
Each round kills the stack at a random moment while clients upload; the seed is printed, so
a failing round can be replayed with LIGHTBOX_CRASH_SEED.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import random
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pytest
import requests

from tests.audit import Sent, audit
from tests.e2e.conftest import Stack, start_stack
from tests.uploader import Upload, Uploader, photos

pytestmark = pytest.mark.crash

# Short timings, so that recovery shows within seconds: the reaper runs every 3 s, an upload
# URL lives 30 s.
SETTINGS = {
    "LIGHTBOX_PROCESSING_LEASE_SECONDS": "10",
    "LIGHTBOX_REDRIVE_AFTER_SECONDS": "15",
    "LIGHTBOX_UPLOAD_URL_TTL": "30",
    "LIGHTBOX_PENDING_GRACE_SECONDS": "5",
}
REAPER_EVERY_SECONDS = 3
ROUNDS = int(os.environ.get("LIGHTBOX_CRASH_ROUNDS", "3"))
SEED = int(os.environ.get("LIGHTBOX_CRASH_SEED", str(random.randrange(1 << 30))))
CLIENTS = 4
SETTLE_SECONDS = 180
REPORT = Path(__file__).resolve().parents[2] / "test-artifacts" / "crash.json"


def up(data_dir: Path) -> Stack:
    return start_stack(data_dir, "embedded", "--schedule-seconds", str(REAPER_EVERY_SECONDS),
                       **SETTINGS)


def crash(stack: Stack) -> int:
    """SIGKILL every process of the stack at once; how many there were."""
    runtime = psutil.Process(stack.process.pid)
    processes = [runtime, *runtime.children(recursive=True)]
    # PostgreSQL daemonizes away from the runtime: it is found by its own pid file.
    postmaster = stack.data_dir / "postgres" / "postmaster.pid"
    server = psutil.Process(int(postmaster.read_text().split("\n", 1)[0]))
    processes += [server, *server.children(recursive=True)]
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.send_signal(signal.SIGKILL)
    psutil.wait_procs(processes, timeout=30)
    stack.process.wait(timeout=30)
    return len(processes)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


def test_twelve_ready_photos_and_an_upload_url_survive_a_crash(data_dir: Path) -> None:
    stack = up(data_dir)
    client = stack.api_client()
    items = photos(13, seed=12)
    later = items.pop()
    ids = [client.upload(item.filename, item.content_type, item.data) for item in items]
    assert [client.wait_until_settled(i)["status"] for i in ids] == ["ready"] * 12
    ticket = client.presign(later.filename, later.content_type, later.data).json()

    crash(stack)
    restarted = up(data_dir)
    try:
        client = restarted.api_client()
        # An upload URL handed out before the crash still works after it.
        upload = ticket["upload"]
        assert requests.put(upload["url"], data=later.data, headers=upload["headers"],
                            timeout=30).status_code == 200
        assert client.wait_until_settled(ticket["asset_id"])["status"] == "ready"
        for asset_id, item in zip(ids, items, strict=True):
            asset = client.asset(asset_id)
            assert asset["status"] == "ready"
            original = requests.get(asset["original_url"], timeout=30)
            assert original.status_code == 200
            assert hashlib.sha256(original.content).digest() == hashlib.sha256(item.data).digest()
            for thumbnail in asset["thumbnails"]:
                assert requests.get(thumbnail["url"], timeout=30).status_code == 200
    finally:
        assert restarted.stop() == 0, restarted.log_tail()


def test_an_import_killed_half_way_goes_on_after_the_restart_and_adds_nothing_twice(
    data_dir: Path,
) -> None:
    stack = start_stack(data_dir, "embedded", LIGHTBOX_IMPORT_PAGE_SIZE="5", **SETTINGS)
    s3, bucket = stack.client("s3"), stack.exports["LIGHTBOX_BUCKET"]
    items = photos(60, seed=60)
    for item in items:
        s3.put_object(Bucket=bucket, Key=f"imports/local/{item.filename}", Body=item.data)
    http = stack.api_client().http
    started = http.post(f"{stack.api}/v1/imports",
                        json={"source": f"s3://{bucket}/imports/local/"}, timeout=30)
    assert started.status_code == 202, started.text
    run_path = f"/v1/imports/{started.json()['import_id']}"
    deadline = time.monotonic() + 120
    while (before := http.get(stack.api + run_path, timeout=30).json())["listed"] < 10:
        assert time.monotonic() < deadline, stack.log_tail()
        time.sleep(0.05)

    crash(stack)
    assert before["status"] == "listing", before  # killed half-way, not after
    restarted = up(data_dir)  # its start-up recovery sends the run's next page again
    try:
        http = restarted.api_client().http
        deadline = time.monotonic() + SETTLE_SECONDS
        while True:
            run = http.get(restarted.api + run_path, timeout=30).json()
            if run["status"] != "listing" and run["assets"].get("ready") == 60:
                break
            assert time.monotonic() < deadline, (run, restarted.log_tail())
            time.sleep(0.5)
        assert (run["listed"], run["adopted"], run["skipped"]) == (60, 60, {})
        assets = http.get(f"{restarted.api}/v1/assets?limit=200", timeout=30).json()["items"]
        assert sorted(a["sha256"] for a in assets) == sorted(
            hashlib.sha256(item.data).hexdigest() for item in items)
    finally:
        assert restarted.stop() == 0, restarted.log_tail()


@dataclass
class Clients:
    """Clients uploading without pause until the stack dies under them."""

    stack: Stack
    items: list[Upload]
    acknowledged: list[Sent] = field(default_factory=list)
    unacknowledged: list[Sent] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # presigns answered with an error
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def run(self) -> list[threading.Thread]:
        threads = [threading.Thread(target=self._send, args=(self.items[n::CLIENTS],))
                   for n in range(CLIENTS)]
        for thread in threads:
            thread.start()
        return threads

    def _send(self, share: list[Upload]) -> None:
        uploader = Uploader(self.stack.api, self.stack.api_key)
        for item in share:
            try:
                response = uploader.http.post(f"{self.stack.api}/v1/uploads", json={
                    "filename": item.filename, "content_type": item.content_type,
                    "size_bytes": len(item.data)}, timeout=10)
            except requests.RequestException:
                return  # the stack is gone: nothing was handed out
            if response.status_code != 201:
                with self._lock:
                    self.refused.append(f"{response.status_code} {response.text[:200]}")
                return
            ticket = response.json()
            sent = Sent(ticket["asset_id"], hashlib.sha256(item.data).hexdigest())
            upload = ticket["upload"]
            try:
                put = requests.put(upload["url"], data=item.data, headers=upload["headers"],
                                   timeout=10)
                acknowledged = put.status_code == 200
            except requests.RequestException:
                acknowledged = False
            with self._lock:
                (self.acknowledged if acknowledged else self.unacknowledged).append(sent)
            if not acknowledged:
                return


def test_random_crashes_during_uploads_lose_nothing(data_dir: Path) -> None:
    rng = random.Random(SEED)
    print(f"crash rounds: {ROUNDS}, seed {SEED}")
    acknowledged: list[Sent] = []
    unacknowledged: list[Sent] = []
    rounds = []
    for number in range(ROUNDS):
        stack = up(data_dir)
        clients = Clients(stack, photos(80, seed=1000 + number))
        threads = clients.run()
        after = rng.uniform(1.0, 6.0)
        time.sleep(after)
        killed = crash(stack)
        for thread in threads:
            thread.join(timeout=60)
        acknowledged += clients.acknowledged
        unacknowledged += clients.unacknowledged
        rounds.append({"killed_after_seconds": round(after, 2), "processes_killed": killed,
                       "acknowledged": len(clients.acknowledged),
                       "unacknowledged": len(clients.unacknowledged),
                       "refused": clients.refused[:3]})

    restarted_at = time.monotonic()
    stack = up(data_dir)
    try:
        owner = stack.api_client()
        settled = {}
        for item in acknowledged:
            settled[item.asset_id] = owner.wait_until_settled(item.asset_id, SETTLE_SECONDS)
        all_ready_seconds = time.monotonic() - restarted_at
        for item in unacknowledged:
            owner.wait_until_settled(item.asset_id, SETTLE_SECONDS)
        problems = audit(stack.exports, acknowledged, unacknowledged, crashed=True)
        ready = sum(asset["status"] == "ready" for asset in settled.values())
        REPORT.parent.mkdir(exist_ok=True)
        REPORT.write_text(json.dumps({
            "seed": SEED, "rounds": rounds, "acknowledged": len(acknowledged),
            "acknowledged_ready": ready, "unacknowledged": len(unacknowledged),
            "seconds_from_restart_to_all_acknowledged_ready": round(all_ready_seconds, 1),
            "problems": problems,
        }, indent=2))
        assert problems == []
        assert ready == len(acknowledged)
    finally:
        assert stack.stop() == 0, stack.log_tail()
