"""Organising a library: projects and their members, moving and renaming assets, the trash,
deleting, retrying.

A project is an album: an asset may be in any number of them (``add_to_project``). Its
``project_id`` is the one it was uploaded, adopted or moved into, and one of them.

Deleting an asset puts it in the trash (``trash_asset``): it keeps its bytes, its status and
its project, leaves listings, and comes back as it was when restored; what stays there longer
than the trash keeps things (``expire_trash``, the reaper) or is emptied out is deleted for
good. Deleting for good keeps the row as a tombstone (status ``deleted``) so that syncing
clients learn of it; its objects are deleted right away, and the reaper finishes what a failure
interrupted (``purge_deleted``). A duplicate has no bytes of its own: it shows those of the
asset it duplicates, which keeps them, deleted or not, as long as a live duplicate refers to it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from uuid import UUID, uuid4

from lightbox.domain import Asset, Project, Status
from lightbox.errors import (
    AssetNotFound,
    InvalidState,
    ProjectNotEmpty,
    ProjectNotFound,
)
from lightbox.ports import Pipeline, ProjectRepository
from lightbox.services.uploads import complete_upload

log = logging.getLogger(__name__)

# Assets moved per round of a cascading project deletion.
_CASCADE_BATCH = 200
# Assets deleted for good per request to empty the trash: the rest on the next.
EMPTIED_AT_ONCE = 500


@dataclass(frozen=True)
class Emptied:
    deleted: int
    more: bool  # the trash holds more: ask again


@dataclass(frozen=True)
class MembersChanged:
    project: Project
    changed: int  # how many assets came in (or left): those already in (or out) are no change


@dataclass(frozen=True)
class AssetChanges:
    filename: str | None = None
    move: bool = False
    project_id: UUID | None = None


def create_project(owner_id: str, name: str, *, projects: ProjectRepository,
                   max_projects: int) -> Project:
    return projects.add(owner_id, uuid4(), name, max_projects=max_projects)


def list_projects(owner_id: str, *, name: str | None,
                  projects: ProjectRepository) -> list[Project]:
    """The owner's projects; with ``name``, the one of that name (if any)."""
    if name is None:
        return projects.list(owner_id)
    found = projects.find_by_name(owner_id, name)
    return [found] if found is not None else []


def get_project(owner_id: str, project_id: UUID, *, projects: ProjectRepository) -> Project:
    project = projects.get(owner_id, project_id)
    if project is None:
        raise ProjectNotFound(f"no project {project_id}")
    return project


def rename_project(owner_id: str, project_id: UUID, name: str, *,
                   projects: ProjectRepository) -> Project:
    project = projects.rename(owner_id, project_id, name)
    if project is None:
        raise ProjectNotFound(f"no project {project_id}")
    return project


def delete_project(
    owner_id: str, project_id: UUID, pipeline: Pipeline, *, cascade: bool,
    projects: ProjectRepository,
) -> None:
    """Delete an empty project; with ``cascade``, its assets go to the trash first (and leave
    it: restored, they are in no project)."""
    get_project(owner_id, project_id, projects=projects)
    if cascade:
        while batch := pipeline.assets.in_project(owner_id, project_id, _CASCADE_BATCH):
            for asset in batch:
                pipeline.assets.trash(owner_id, asset.id)
    if projects.delete_if_empty(owner_id, project_id):
        return
    if projects.get(owner_id, project_id) is None:  # deleted by a concurrent request
        return
    raise ProjectNotEmpty(
        f"project {project_id} still has assets: take them out, move or delete them, or pass "
        "cascade=true"
    )


def add_to_project(owner_id: str, project_id: UUID, asset_ids: tuple[UUID, ...], *,
                   projects: ProjectRepository) -> MembersChanged:
    """Put live assets of the owner in the project, all or none."""
    added = projects.add_members(owner_id, project_id, asset_ids)
    if added is None:
        raise ProjectNotFound(f"no project {project_id}")
    return MembersChanged(get_project(owner_id, project_id, projects=projects), added)


def remove_from_project(owner_id: str, project_id: UUID, asset_ids: tuple[UUID, ...], *,
                        projects: ProjectRepository) -> MembersChanged:
    """Take assets out of the project; they stay in the library and their other projects."""
    removed = projects.remove_members(owner_id, project_id, asset_ids)
    if removed is None:
        raise ProjectNotFound(f"no project {project_id}")
    return MembersChanged(get_project(owner_id, project_id, projects=projects), removed)


def update_asset(
    owner_id: str, asset_id: UUID, changes: AssetChanges, pipeline: Pipeline, *,
    projects: ProjectRepository,
) -> Asset:
    if changes.project_id is not None:
        get_project(owner_id, changes.project_id, projects=projects)
    updated = pipeline.assets.update(owner_id, asset_id, filename=changes.filename,
                                     move=changes.move, project_id=changes.project_id)
    if updated is None:
        raise AssetNotFound(f"no asset {asset_id}")
    return updated


def trash_asset(owner_id: str, asset_id: UUID, pipeline: Pipeline) -> Asset:
    trashed = pipeline.assets.trash(owner_id, asset_id)
    if trashed is None:
        raise AssetNotFound(f"no asset {asset_id}")
    return trashed


def restore_asset(owner_id: str, asset_id: UUID, pipeline: Pipeline) -> Asset:
    restored = pipeline.assets.restore(owner_id, asset_id)
    if restored is None:
        raise AssetNotFound(f"no asset {asset_id}")
    return restored


def delete_asset(owner_id: str, asset_id: UUID, pipeline: Pipeline) -> None:
    """Delete for good, from the trash or not."""
    if not _delete(owner_id, asset_id, pipeline):
        raise AssetNotFound(f"no asset {asset_id}")


def empty_trash(owner_id: str, pipeline: Pipeline) -> Emptied:
    """Delete for good what the owner's trash holds, up to ``EMPTIED_AT_ONCE``; what is
    restored meanwhile stays."""
    batch = pipeline.assets.trashed(owner_id, older_than_seconds=0, limit=EMPTIED_AT_ONCE + 1)
    deleted = sum(_delete(owner_id, asset.id, pipeline, trashed_for_seconds=0)
                  for asset in batch[:EMPTIED_AT_ONCE])
    return Emptied(deleted=deleted, more=len(batch) > EMPTIED_AT_ONCE)


def expire_trash(pipeline: Pipeline, *, kept_days: int, limit: int) -> int:
    """Delete for good, of every owner, what has been in the trash longer than ``kept_days``;
    how many."""
    kept = kept_days * 86_400
    return sum(_delete(asset.owner_id, asset.id, pipeline, trashed_for_seconds=kept)
               for asset in pipeline.assets.trashed(None, older_than_seconds=kept, limit=limit))


def abort_upload(owner_id: str, asset_id: UUID, pipeline: Pipeline) -> None:
    """Give up an upload that has not completed: its parts are dropped, its row tombstoned."""
    asset = pipeline.assets.get(owner_id, asset_id)
    if asset is None or asset.status is Status.DELETED:
        raise AssetNotFound(f"no asset {asset_id}")
    if asset.status is not Status.PENDING:
        raise InvalidState(f"only a pending upload can be aborted; this one is {asset.status}")
    _delete(owner_id, asset_id, pipeline)


def retry_asset(owner_id: str, asset_id: UUID, pipeline: Pipeline) -> Status:
    """Run a failed asset through verification and rendering again."""
    asset = pipeline.assets.get(owner_id, asset_id)
    if asset is None or asset.status is Status.DELETED:
        raise AssetNotFound(f"no asset {asset_id}")
    if not pipeline.assets.reset_failed(owner_id, asset_id):
        raise InvalidState(f"only a failed asset can be retried; this one is {asset.status}")
    return complete_upload(owner_id, asset_id, pipeline)


def purge_deleted(pipeline: Pipeline, *, older_than_seconds: int, limit: int) -> int:
    """Delete the objects of deleted assets whose deletion was interrupted; returns how many."""
    purged = 0
    for asset in pipeline.assets.unpurged(older_than_seconds, limit):
        _purge(asset, pipeline)
        purged += 1
    return purged


def _delete(owner_id: str, asset_id: UUID, pipeline: Pipeline, *,
            trashed_for_seconds: int | None = None) -> bool:
    # The tombstone first: a thumbnail worker that finishes afterwards cannot mark it ready
    # and removes what it wrote; a failure below leaves the purge to the reaper.
    deleted = pipeline.assets.delete(owner_id, asset_id, trashed_for_seconds=trashed_for_seconds)
    if deleted is None:
        return False
    # A holder's bytes stay while a live duplicate shows them; the last duplicate to go takes
    # a deleted holder's with it. What a race leaves unpurged, the reaper finishes.
    for candidate in (deleted.id, deleted.duplicate_of):
        if candidate is not None and (asset := pipeline.assets.purgeable(owner_id, candidate)):
            _purge(asset, pipeline)
    return True


def _purge(asset: Asset, pipeline: Pipeline) -> None:
    storage = pipeline.storage
    if asset.multipart_upload_id is not None:
        storage.abort_multipart(asset.original_key, asset.multipart_upload_id)
    storage.delete([asset.original_key])
    storage.delete_prefix(asset.derivatives_prefix)
    pipeline.assets.mark_purged(asset.owner_id, asset.id)
