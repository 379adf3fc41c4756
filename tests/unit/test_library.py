"""Organising a library: projects, renaming and moving, the trash, deleting, aborting,
retrying."""

from __future__ import annotations

import hashlib
import uuid

import pytest

from lightbox.domain import Derivative, Status
from lightbox.errors import (
    AssetNotFound,
    InvalidField,
    InvalidState,
    LimitReached,
    ProjectExists,
    ProjectNotEmpty,
    ProjectNotFound,
    RequestError,
    StorageUnavailable,
)
from lightbox.http import inputs
from lightbox.services import library
from lightbox.services.uploads import UploadPolicy, UploadRequest, create_upload
from tests.fakes import FakeLibrary
from tests.support import image_bytes

JPEG = image_bytes("JPEG", (320, 240))
UPLOAD_POLICY = UploadPolicy(url_ttl=900, multipart_threshold=1 << 30, part_bytes=1 << 24,
                             max_pending=10)


def ready(lib: FakeLibrary) -> uuid.UUID:
    """A ready asset with its original and one derivative in the bucket."""
    asset_id = lib.pending(JPEG)
    key = f"derivatives/{lib.owner}/{asset_id}/1-256.jpeg"
    lib.storage.objects[key] = b"thumb"
    lib.assets.change(asset_id, status=Status.READY,
                      derivatives=(Derivative(256, 1, "jpeg", 256, 192, key, 5),))
    return asset_id


def test_names_are_checked_and_normalised() -> None:
    assert inputs.parse_project_name({"name": "  Été  "}) == "Été"
    for body, error in [({}, InvalidField), ({"name": ""}, InvalidField),
                        ({"name": "x" * 201}, InvalidField), ({"name": "a\nb"}, InvalidField),
                        ({"name": 7}, InvalidField), ({"name": "a", "x": 1}, RequestError)]:
        with pytest.raises(error):
            inputs.parse_project_name(body)


def test_asset_changes_tell_a_move_to_no_project_from_no_move() -> None:
    project = uuid.uuid4()
    assert inputs.parse_asset_changes({"project_id": None}) == library.AssetChanges(move=True)
    assert inputs.parse_asset_changes({"filename": " b.jpg "}) == library.AssetChanges(
        filename="b.jpg")
    assert inputs.parse_asset_changes({"project_id": str(project)}).project_id == project
    for body in ({}, {"filename": 3}, {"project_id": "nope"}, {"owner_id": "x"}):
        with pytest.raises((InvalidField, RequestError)):
            inputs.parse_asset_changes(body)


def test_projects_are_limited_per_owner_and_unique_by_name() -> None:
    lib = FakeLibrary()
    library.create_project(lib.owner, "One", projects=lib.projects, max_projects=2)
    with pytest.raises(ProjectExists):
        library.create_project(lib.owner, "ONE", projects=lib.projects, max_projects=2)
    library.create_project(lib.owner, "Two", projects=lib.projects, max_projects=2)
    with pytest.raises(LimitReached):
        library.create_project(lib.owner, "Three", projects=lib.projects, max_projects=2)
    library.create_project("other", "Three", projects=lib.projects, max_projects=2)


def test_moving_into_a_project_needs_a_project_of_the_same_owner() -> None:
    lib = FakeLibrary()
    asset_id = lib.pending(JPEG)
    theirs = library.create_project("other", "Theirs", projects=lib.projects, max_projects=9)
    with pytest.raises(ProjectNotFound):
        library.update_asset(lib.owner, asset_id, library.AssetChanges(
            move=True, project_id=theirs.id), pipeline=lib.pipeline, projects=lib.projects)
    mine = library.create_project(lib.owner, "Mine", projects=lib.projects, max_projects=9)
    moved = library.update_asset(lib.owner, asset_id, library.AssetChanges(
        move=True, project_id=mine.id), pipeline=lib.pipeline, projects=lib.projects)
    assert moved.project_id == mine.id
    with pytest.raises(AssetNotFound):
        library.update_asset("other", asset_id, library.AssetChanges(filename="x.jpg"),
                             pipeline=lib.pipeline, projects=lib.projects)


def test_deleting_an_asset_removes_its_objects_and_keeps_a_tombstone() -> None:
    lib = FakeLibrary()
    asset_id = ready(lib)
    with pytest.raises(AssetNotFound):
        library.delete_asset("other", asset_id, pipeline=lib.pipeline)
    library.delete_asset(lib.owner, asset_id, pipeline=lib.pipeline)
    assert lib.storage.objects == {}
    assert lib.asset(asset_id).status is Status.DELETED and asset_id in lib.assets.purged
    with pytest.raises(AssetNotFound):
        library.delete_asset(lib.owner, asset_id, pipeline=lib.pipeline)


def test_a_deletion_cut_short_by_the_bucket_is_finished_by_the_purge() -> None:
    lib = FakeLibrary()
    asset_id = ready(lib)
    lib.storage.fail_with = StorageUnavailable("SlowDown")
    with pytest.raises(StorageUnavailable):
        library.delete_asset(lib.owner, asset_id, pipeline=lib.pipeline)
    assert lib.asset(asset_id).status is Status.DELETED  # gone for the client already
    lib.storage.fail_with = None
    assert library.purge_deleted(pipeline=lib.pipeline,
                                 older_than_seconds=60, limit=10) == 0  # too recent
    lib.assets.advance(61)
    assert library.purge_deleted(pipeline=lib.pipeline,
                                 older_than_seconds=60, limit=10) == 1
    assert lib.storage.objects == {}
    assert library.purge_deleted(pipeline=lib.pipeline,
                                 older_than_seconds=60, limit=10) == 0


def duplicate_of(lib: FakeLibrary, holder: uuid.UUID) -> uuid.UUID:
    copy = lib.pending(JPEG, uploaded=False)
    lib.assets.change(copy, status=Status.DUPLICATE, duplicate_of=holder)
    return copy


def test_a_holder_keeps_its_bytes_while_a_live_duplicate_shows_them() -> None:
    lib = FakeLibrary()
    holder = ready(lib)
    first, second = duplicate_of(lib, holder), duplicate_of(lib, holder)
    kept = set(lib.storage.objects)

    library.delete_asset(lib.owner, holder, pipeline=lib.pipeline)
    library.delete_asset(lib.owner, first, pipeline=lib.pipeline)
    lib.assets.advance(61)
    library.purge_deleted(pipeline=lib.pipeline, older_than_seconds=60,
                          limit=10)
    assert set(lib.storage.objects) == kept and holder not in lib.assets.purged

    library.delete_asset(lib.owner, second, pipeline=lib.pipeline)
    assert lib.storage.objects == {} and holder in lib.assets.purged


def test_deleting_a_duplicate_leaves_its_live_holder_alone() -> None:
    lib = FakeLibrary()
    holder = ready(lib)
    kept = set(lib.storage.objects)
    library.delete_asset(lib.owner, duplicate_of(lib, holder), pipeline=lib.pipeline)
    assert set(lib.storage.objects) == kept and lib.asset(holder).status is Status.READY


def test_a_project_is_deleted_when_empty_or_with_its_assets_to_the_trash_on_cascade() -> None:
    lib = FakeLibrary()
    project = library.create_project(lib.owner, "Trip", projects=lib.projects, max_projects=9)
    assets = [ready(lib) for _ in range(3)]
    for asset_id in assets:
        lib.assets.change(asset_id, project_id=project.id)
    outside = ready(lib)
    with pytest.raises(ProjectNotEmpty):
        library.delete_project(lib.owner, project.id, cascade=False, projects=lib.projects,
                               pipeline=lib.pipeline)
    with pytest.raises(ProjectNotFound):
        library.delete_project("other", project.id, cascade=True, projects=lib.projects,
                               pipeline=lib.pipeline)
    library.delete_project(lib.owner, project.id, cascade=True, projects=lib.projects,
                           pipeline=lib.pipeline)
    assert lib.projects.get(lib.owner, project.id) is None
    # In the trash, bytes kept, in no project once restored.
    assert all(lib.asset(a).shown_status is Status.TRASHED for a in assets)
    assert all(lib.asset(a).project_id is None for a in assets)
    assert lib.asset(outside).status is Status.READY
    assert len(lib.storage.objects) == 2 * 4
    restored = library.restore_asset(lib.owner, assets[0], lib.pipeline)
    assert (restored.shown_status, restored.project_id) == (Status.READY, None)


# --- the trash --------------------------------------------------------------------------------

def test_an_asset_in_the_trash_keeps_everything_and_comes_back_as_it_was() -> None:
    lib = FakeLibrary()
    project = library.create_project(lib.owner, "Trip", projects=lib.projects, max_projects=9)
    asset_id = ready(lib)
    lib.assets.change(asset_id, project_id=project.id)
    before = lib.asset(asset_id)
    kept = dict(lib.storage.objects)

    trashed = library.trash_asset(lib.owner, asset_id, lib.pipeline)
    assert trashed.shown_status is Status.TRASHED and trashed.status is Status.READY
    assert lib.storage.objects == kept
    again = library.trash_asset(lib.owner, asset_id, lib.pipeline)  # a second time: no change
    assert again.trashed_at == trashed.trashed_at
    assert lib.projects.get(lib.owner, project.id).asset_count == 0  # type: ignore[union-attr]

    restored = library.restore_asset(lib.owner, asset_id, lib.pipeline)
    assert restored.shown_status is Status.READY and restored.trashed_at is None
    assert (restored.project_id, restored.derivatives, restored.sha256) == (
        before.project_id, before.derivatives, before.sha256)
    assert lib.storage.objects == kept
    assert restored.change_seq > trashed.change_seq > before.change_seq  # the feed says each


def test_only_the_owner_moves_an_asset_to_and_from_the_trash() -> None:
    lib = FakeLibrary()
    asset_id = ready(lib)
    for move in (library.trash_asset, library.restore_asset):
        with pytest.raises(AssetNotFound):
            move("other", asset_id, lib.pipeline)
        with pytest.raises(AssetNotFound):
            move(lib.owner, uuid.uuid4(), lib.pipeline)
    library.delete_asset(lib.owner, asset_id, pipeline=lib.pipeline)
    for move in (library.trash_asset, library.restore_asset):
        with pytest.raises(AssetNotFound):  # deleted for good: nothing to move
            move(lib.owner, asset_id, lib.pipeline)


def test_emptying_the_trash_deletes_for_good_what_it_holds_and_nothing_else() -> None:
    lib = FakeLibrary()
    trashed = [ready(lib) for _ in range(3)]
    kept = ready(lib)
    other = FakeLibrary("other")
    other.assets, other.storage = lib.assets, lib.storage
    theirs = ready(other)
    for asset_id in trashed:
        library.trash_asset(lib.owner, asset_id, lib.pipeline)
    library.trash_asset("other", theirs, lib.pipeline)
    lib.assets.advance(1)

    assert library.empty_trash(lib.owner, lib.pipeline) == library.Emptied(deleted=3, more=False)
    assert all(lib.asset(a).status is Status.DELETED for a in trashed)
    assert lib.asset(kept).status is Status.READY
    assert other.asset(theirs).shown_status is Status.TRASHED
    assert set(lib.storage.objects) == {
        key for asset_id in (kept, theirs) for key in (
            lib.assets.assets[asset_id].original_key,
            f"derivatives/{lib.assets.assets[asset_id].owner_id}/{asset_id}/1-256.jpeg")}


def test_a_large_trash_is_emptied_a_batch_a_request(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(library, "EMPTIED_AT_ONCE", 2)
    lib = FakeLibrary()
    for _ in range(5):
        library.trash_asset(lib.owner, ready(lib), lib.pipeline)
    lib.assets.advance(1)
    assert [library.empty_trash(lib.owner, lib.pipeline) for _ in range(3)] == [
        library.Emptied(2, True), library.Emptied(2, True), library.Emptied(1, False)]


def test_what_is_restored_while_the_trash_is_emptied_stays() -> None:
    lib = FakeLibrary()
    asset_id = ready(lib)
    library.trash_asset(lib.owner, asset_id, lib.pipeline)
    lib.assets.advance(1)
    listed = lib.assets.trashed

    def restored_once_listed(*args: object, **kwargs: object) -> list[object]:
        found = listed(*args, **kwargs)  # type: ignore[arg-type]
        library.restore_asset(lib.owner, asset_id, lib.pipeline)
        return found  # type: ignore[return-value]

    lib.assets.trashed = restored_once_listed  # type: ignore[method-assign]
    assert library.empty_trash(lib.owner, lib.pipeline).deleted == 0
    assert lib.asset(asset_id).shown_status is Status.READY


def test_the_reaper_deletes_for_good_what_stayed_in_the_trash_its_days() -> None:
    lib = FakeLibrary()
    old, recent = ready(lib), ready(lib)
    library.trash_asset(lib.owner, old, lib.pipeline)
    lib.assets.advance(29 * 86400)
    library.trash_asset(lib.owner, recent, lib.pipeline)
    assert library.expire_trash(lib.pipeline, kept_days=30, limit=10) == 0
    lib.assets.advance(86400 + 1)
    assert library.expire_trash(lib.pipeline, kept_days=30, limit=10) == 1
    assert lib.asset(old).status is Status.DELETED
    assert lib.asset(recent).shown_status is Status.TRASHED


def test_uploading_bytes_that_are_in_the_trash_brings_them_back() -> None:
    lib = FakeLibrary()
    asset_id = ready(lib)
    lib.assets.change(asset_id, sha256=hashlib.sha256(JPEG).hexdigest())
    library.trash_asset(lib.owner, asset_id, lib.pipeline)
    ticket = create_upload(
        lib.owner, UploadRequest(filename="again.jpg", content_type="image/jpeg",
                                 size_bytes=len(JPEG), sha256=hashlib.sha256(JPEG).hexdigest()),
        lib.pipeline, projects=lib.projects, policy=UPLOAD_POLICY)
    assert (ticket.asset_id, ticket.upload) == (asset_id, None)
    assert lib.asset(asset_id).shown_status is Status.READY


def test_abort_drops_the_parts_of_a_pending_upload_only() -> None:
    lib = FakeLibrary()
    upload_id = lib.storage.start_multipart("k", content_type="image/tiff")
    asset_id = lib.pending(JPEG, uploaded=False)
    lib.assets.change(asset_id, multipart_upload_id=upload_id)
    library.abort_upload(lib.owner, asset_id, pipeline=lib.pipeline)
    assert lib.storage.aborted == [upload_id] and lib.asset(asset_id).status is Status.DELETED
    with pytest.raises(AssetNotFound):
        library.abort_upload(lib.owner, asset_id, pipeline=lib.pipeline)
    with pytest.raises(InvalidState):
        library.abort_upload(lib.owner, ready(lib), pipeline=lib.pipeline)


def test_retry_verifies_a_failed_asset_again_and_refuses_any_other() -> None:
    lib = FakeLibrary()
    asset_id = lib.pending(JPEG)
    lib.assets.change(asset_id, status=Status.FAILED, error="thumbnail gave up", attempts=5)
    status = library.retry_asset(lib.owner, asset_id, pipeline=lib.pipeline)
    assert status is Status.UPLOADED and len(lib.jobs.sent) == 1
    assert lib.asset(asset_id).attempts == 0 and lib.asset(asset_id).error is None
    with pytest.raises(InvalidState, match="only a failed asset"):
        library.retry_asset(lib.owner, asset_id, pipeline=lib.pipeline)
    with pytest.raises(AssetNotFound):
        library.retry_asset("other", asset_id, pipeline=lib.pipeline)
