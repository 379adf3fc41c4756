"""Load: N images from 8 concurrent clients through the local stack, on each S3 backend, then
the "nothing lost" audit (tests/audit.py). Throughput and the time from each PUT to ``ready``
are written to test-artifacts/load/ for docs/BENCHMARKS.md; nothing here asserts a timing.

    ./dev.sh test -m load --load-assets 1000     # alone, larger than CI's 300
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Iterator
from datetime import datetime

import pytest

from tests.audit import audit
from tests.conftest import REPO
from tests.e2e.conftest import BACKENDS, Stack, start_stack
from tests.uploader import Receipt, Uploader, photos, upload_all

pytestmark = pytest.mark.load

CLIENTS = 8
SETTLE_SECONDS = 900
RESULTS = REPO / "test-artifacts" / "load"


@pytest.fixture(scope="module", params=BACKENDS)
def stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[Stack]:
    running = start_stack(tmp_path_factory.mktemp(f"load-{request.param}") / "data",
                          request.param)
    yield running
    assert running.stop() == 0, running.log_tail()


def test_every_upload_of_concurrent_clients_ends_ready_and_nothing_is_lost(
    stack: Stack, request: pytest.FixtureRequest
) -> None:
    count: int = request.config.getoption("--load-assets")
    items = photos(count, copies=count // 30)

    receipts = upload_all(stack.api, stack.api_key, items, CLIENTS)
    owner = Uploader(stack.api, stack.api_key)
    counts = owner.wait_until_settled(len(items), SETTLE_SECONDS)

    copies = count // 30
    assert (counts.get("ready"), counts.get("duplicate")) == (len(items) - copies, copies), counts
    assert audit(stack.exports, [receipt.sent for receipt in receipts]) == []

    report = _measure(owner, receipts, backend=stack.backend)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{stack.backend}.json").write_text(json.dumps(report, indent=2))
    print(f"\nload on {stack.backend}: {json.dumps(report)}")


def _measure(owner: Uploader, receipts: list[Receipt], *, backend: str) -> dict[str, object]:
    """Uploads per second from the first presign to the last PUT, assets per second from the
    first presign to the last ``ready``, and each asset's time from the end of its PUT to its
    last change (``updated_at``: the moment it became ready)."""
    settled = {a["asset_id"]: datetime.fromisoformat(a["updated_at"]).timestamp()
               for a in owner.assets() if a["status"] == "ready"}
    latencies = sorted(settled[r.sent.asset_id] - r.put_done for r in receipts
                       if r.sent.asset_id in settled)
    started = min(r.started for r in receipts)
    elapsed = max(settled.values()) - started
    sending = max(r.put_done for r in receipts) - started
    return {
        "backend": backend, "clients": CLIENTS, "uploads": len(receipts),
        "ready": len(settled), "seconds": round(elapsed, 1),
        "sent_per_second": round(len(receipts) / sending, 1),
        "ready_per_second": round(len(settled) / elapsed, 1),
        "put_to_ready_p50_ms": round(statistics.median(latencies) * 1000),
        "put_to_ready_p99_ms": round(latencies[int(0.99 * (len(latencies) - 1))] * 1000),
        "put_to_ready_max_ms": round(latencies[-1] * 1000),
    }
