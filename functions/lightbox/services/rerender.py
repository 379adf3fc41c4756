"""Bringing ready assets' derivatives up to the current render spec (``lightbox admin
rerender``), in the backfill lane.

Each call sends one page of jobs: the ready assets whose derivatives another spec made, in
(render_spec, id) order from the caller's cursor, one ``rerender`` job each (clips to the
video lane, whose function has the video core). The caller goes on with the cursor returned
until there is none; a run stopped anywhere is started again from the beginning, and finds
only what is still out of date. A job sent twice, by overlapping runs or a repeated page,
finds the asset up to date or leased and does nothing (``thumbnails.rerender_job``).

A page per call rather than a run that queues its own next page: a million assets is a few
thousand calls of well under a second each, no request ever waits on the whole run, and
nothing but the assets' own fingerprints records where a run stands, so there is no run
state to go stale or to resume.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from lightbox import filetypes
from lightbox.domain import Asset, Principal, ThumbnailJob
from lightbox.errors import Forbidden
from lightbox.ports import Pipeline

# Jobs sent per call: each is one SQS request, and a call stays well within the gateway's
# 29 seconds.
PAGE_SIZE = 200
MAX_PAGE_SIZE = 1000


@dataclass(frozen=True)
class RerenderCursor:
    """Where a run's next page starts: just after this (render_spec, id)."""

    render_spec: str
    asset_id: UUID


@dataclass(frozen=True)
class RerenderProgress:
    """The current spec's fingerprint, and how many ready assets another spec made."""

    render_spec: str
    outdated: int


@dataclass(frozen=True)
class RerenderPage:
    progress: RerenderProgress  # counted before this page's jobs ran
    sent: int
    next_cursor: RerenderCursor | None  # None: this was the last page


def send_page(principal: Principal, pipeline: Pipeline, *, render_spec: str,
              after: RerenderCursor | None, limit: int = PAGE_SIZE) -> RerenderPage:
    """Send the rerender jobs of the next page of out-of-date assets, of every owner."""
    _require_admin(principal)
    progress = RerenderProgress(render_spec, pipeline.assets.count_outdated(render_spec))
    page = pipeline.assets.outdated(
        render_spec, after=(after.render_spec, after.asset_id) if after else None, limit=limit)
    for asset in page:
        _send(asset, pipeline)
    last = page[-1] if len(page) == limit else None
    return RerenderPage(progress=progress, sent=len(page),
                        next_cursor=RerenderCursor(last.render_spec, last.id) if last else None)


def progress(principal: Principal, pipeline: Pipeline, *, render_spec: str) -> RerenderProgress:
    _require_admin(principal)
    return RerenderProgress(render_spec, pipeline.assets.count_outdated(render_spec))


def _send(asset: Asset, pipeline: Pipeline) -> None:
    # A clip is rendered by the video function, every other original in the backfill lane,
    # however large: the lane exists so that a rerender never delays users' own uploads.
    lane = pipeline.lanes.of(asset.size_bytes, None,
                             video=asset.content_type in filetypes.VIDEO, background=True)
    pipeline.jobs.send(ThumbnailJob(asset.id, asset.owner_id, rerender=True), lane)


def _require_admin(principal: Principal) -> None:
    if not principal.admin:
        raise Forbidden("only an admin's key may rerender the service's derivatives")
