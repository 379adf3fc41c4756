"""Faults, each followed by recovery and the "nothing lost" audit (tests/audit.py).

    ./dev.sh test -m faults
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor

import pytest

from tests.audit import audit, dead_letters
from tests.faults.conftest import World
from tests.faults.proxy import Fault, Request
from tests.uploader import Receipt, photos, upload_all

pytestmark = pytest.mark.faults

CLIENTS = 8
PHOTOS = 48
SETTLE_SECONDS = 240


def wait_for_ready(world: World, at_least: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while world.owner.counts().get("ready", 0) < at_least:
        assert time.monotonic() < deadline, f"fewer than {at_least} ready: {world.owner.counts()}"
        time.sleep(0.2)


def settle_and_audit(world: World, receipts: list[Receipt]) -> dict[str, int]:
    counts = world.owner.wait_until_settled(len(receipts), SETTLE_SECONDS)
    assert counts.get("ready") == len(receipts), counts
    assert audit(world.stack.exports, [receipt.sent for receipt in receipts]) == []
    return counts


def test_a_stack_killed_mid_batch_and_restarted_loses_nothing(world: World) -> None:
    receipts = upload_all(world.stack.api, world.stack.api_key, photos(PHOTOS), CLIENTS)
    wait_for_ready(world, PHOTOS // 4)
    assert world.owner.counts().get("ready", 0) < PHOTOS, "finished before it could be killed"

    world.kill_stack()  # gateway, event bridge, scheduler and workers, mid-batch
    world.restart_stack()

    settle_and_audit(world, receipts)


def test_execution_environments_killed_mid_render_are_replaced_and_lose_nothing(
    world: World,
) -> None:
    receipts = upload_all(world.stack.api, world.stack.api_key, photos(PHOTOS), CLIENTS)
    wait_for_ready(world, PHOTOS // 4)
    killed = 0
    for _ in range(3):  # the replacements too, while they work
        killed += world.kill_workers()
        time.sleep(1.5)
    assert killed > 0

    settle_and_audit(world, receipts)
    assert "an execution environment died; starting another" in world.stack.log_tail(2000)


def test_postgres_restarted_while_uploads_and_renders_are_in_flight_loses_nothing(
    world: World,
) -> None:
    with ThreadPoolExecutor(1) as pool:
        uploading: Future[list[Receipt]] = pool.submit(
            upload_all, world.stack.api, world.stack.api_key, photos(PHOTOS), CLIENTS)
        wait_for_ready(world, 4)
        world.postgres.stop()
        time.sleep(3)  # requests and renders meet a database that is gone
        world.restart_postgres()
        receipts = uploading.result()

    settle_and_audit(world, receipts)


def test_s3_failing_half_its_requests_for_a_while_delays_but_loses_nothing(
    world: World,
) -> None:
    world.proxy.inject(Fault(500, "InternalError", share=0.25),
                       Fault(503, "SlowDown", share=0.35))
    healing = threading.Timer(15, world.proxy.heal)
    healing.start()
    try:
        receipts = upload_all(world.stack.api, world.stack.api_key, photos(PHOTOS), CLIENTS)
    finally:
        healing.join()
    assert world.proxy.injected > 50

    settle_and_audit(world, receipts)


def downloads_of(key: str) -> Fault:
    """Every whole-object GET of one key fails: the thumbnail function's download, not the
    ranged read upload-complete sniffs the type with."""
    def matches(request: Request) -> bool:
        return (request.method == "GET" and request.path.split("?")[0].endswith(key)
                and "range" not in request.headers)
    return Fault(500, "InternalError", matches=matches)


@pytest.mark.parametrize("world", [{"LIGHTBOX_REDRIVE_AFTER_SECONDS": "3600"}], indirect=True)
def test_a_job_that_always_fails_ends_in_the_dead_letter_queue_and_redrive_recovers_it(
    world: World,
) -> None:
    items = photos(6)
    receipts = upload_all(world.stack.api, world.stack.api_key, items[:5], 1)
    settle_and_audit(world, receipts)
    doomed = world.owner
    ticket = doomed.presign(items[5])
    world.proxy.inject(downloads_of(ticket["asset_id"]))
    sent = doomed.put(ticket, items[5])

    asset = world.stack.api_client().wait_until_settled(ticket["asset_id"], timeout=180)
    assert asset["status"] == "failed"
    assert asset["error"].startswith("gave up after 5 attempts: "), asset["error"]
    deadline = time.monotonic() + 60
    while dead_letters(world.stack.exports)["LIGHTBOX_THUMBNAIL_DEAD_LETTER_QUEUE_URL"] != 1:
        assert time.monotonic() < deadline, dead_letters(world.stack.exports)
        time.sleep(0.5)

    world.proxy.heal()  # the cause mended, an operator re-drives
    assert '"jobs": 1' in world.redrive()

    asset = world.stack.api_client().wait_until_settled(ticket["asset_id"], timeout=60)
    assert asset["status"] == "ready", asset
    assert audit(world.stack.exports, [*(r.sent for r in receipts), sent]) == []
