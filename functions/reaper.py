"""reaper: every few minutes, puts right what lost events, dead workers, interrupted
deletions and stopped imports left behind."""

from dataclasses import asdict
from typing import Any

from chalice.app import CloudWatchEvent

from lightbox.function import Function
from lightbox.services import imports, library, reaper
from lightbox.wiring import Container

container = Container()
app = Function("lightbox-reaper", lambda: container.config)


@app.schedule("rate(5 minutes)")
def reap_waiting_assets(event: CloudWatchEvent) -> dict[str, Any]:
    policy = container.reaper_policy
    report = reaper.reap(container.pipeline, policy)
    # Deletions that failed half-way: their tombstones are written, some objects remain.
    purged = library.purge_deleted(container.pipeline,
                                   older_than_seconds=policy.purge_after_seconds,
                                   limit=policy.batch)
    expired = library.expire_trash(container.pipeline, kept_days=policy.trash_days,
                                   limit=policy.batch)
    resumed = imports.resume_stalled(
        imports=container.imports, queue=container.import_queue,
        older_than_seconds=policy.import_seconds, limit=policy.batch,
    ) if container.config.import_queue_url else 0
    return {**asdict(report), "purged": purged, "trash_expired": expired,
            "imports_resumed": resumed}
