"""reaper: every few minutes, puts right what lost events, dead workers and interrupted
deletions left behind."""

from dataclasses import asdict
from typing import Any

from chalice.app import Chalice, CloudWatchEvent

from lightbox.services import library, reaper
from lightbox.wiring import Container

app = Chalice(app_name="lightbox-reaper")
container = Container()


@app.schedule("rate(5 minutes)")
def reap_waiting_assets(event: CloudWatchEvent) -> dict[str, Any]:
    report = reaper.reap(
        assets=container.assets, storage=container.storage, jobs=container.jobs,
        lanes=container.lanes, policy=container.reaper_policy,
    )
    # Deletions that failed half-way: their tombstones are written, some objects remain.
    purged = library.purge_deleted(
        catalog=container.catalog, storage=container.storage,
        older_than_seconds=container.reaper_policy.purge_after_seconds,
        limit=container.reaper_policy.batch,
    )
    return {**asdict(report), "purged": purged}
