"""reaper: every few minutes, puts right what lost events and dead workers left waiting."""

from dataclasses import asdict
from typing import Any

from chalice.app import Chalice, CloudWatchEvent

from lightbox.services import reaper
from lightbox.wiring import Container

app = Chalice(app_name="lightbox-reaper")
container = Container()


@app.schedule("rate(5 minutes)")
def reap_waiting_assets(event: CloudWatchEvent) -> dict[str, Any]:
    report = reaper.reap(
        assets=container.assets, storage=container.storage, jobs=container.jobs,
        lanes=container.lanes, policy=container.reaper_policy,
    )
    return asdict(report)
