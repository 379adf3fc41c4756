"""What bucket events do to assets: creations, removals, and everything to ignore."""

import logging
import uuid

import pytest

from lightbox.domain import Derivative, ImageInfo, Status, original_key
from lightbox.errors import StorageUnavailable
from lightbox.events import Action, ObjectEvent
from lightbox.services.ingest import handle_object_event
from tests.fakes import FakeLibrary
from tests.support import image_bytes

BUCKET = "media"
OWNER = "studio"
JPEG = image_bytes("JPEG")


class Bucket(FakeLibrary):
    def __init__(self) -> None:
        super().__init__(OWNER)

    def ready(self) -> uuid.UUID:
        """An asset with its derivatives stored, as the thumbnail function leaves it."""
        asset_id = self.pending(JPEG)
        self.assets.mark_uploaded(OWNER, asset_id, "image/jpeg")
        self.assets.claim(OWNER, asset_id, 60)
        derivatives = []
        for size in (256, 1280):
            key = f"derivatives/{OWNER}/{asset_id}/1-{size}.jpg"
            self.storage.objects[key] = b"thumbnail"
            derivatives.append(Derivative(size=size, page=1, format="jpeg", width=size,
                                          height=size, key=key, bytes=9))
        self.assets.mark_ready(OWNER, asset_id, ImageInfo(1280, 1280, 1, 8, "RGB"),
                               tuple(derivatives), None)
        return asset_id

    def event(self, action: Action, key: str, bucket: str = BUCKET) -> Status | None:
        return handle_object_event(
            ObjectEvent(bucket, key, action), expected_bucket=BUCKET, pipeline=self.pipeline,
        )

    def created(self, asset_id: uuid.UUID) -> Status | None:
        return self.event(Action.CREATED, original_key(OWNER, asset_id))

    def removed(self, asset_id: uuid.UUID) -> Status | None:
        return self.event(Action.REMOVED, original_key(OWNER, asset_id))

    def status(self, asset_id: uuid.UUID) -> Status:
        return self.asset(asset_id).status


def test_a_created_original_completes_its_upload() -> None:
    bucket = Bucket()
    asset_id = bucket.pending(JPEG)
    assert bucket.created(asset_id) is Status.UPLOADED
    assert [job.asset_id for job in bucket.jobs.sent] == [asset_id]


@pytest.mark.parametrize(
    ("bucket_name", "key", "action"),
    [
        ("other-bucket", f"originals/{OWNER}/9b2c7a5e-3f4d-4e1a-8c7b-2d1e0f9a8b7c", Action.CREATED),
        (BUCKET, f"derivatives/{OWNER}/9b2c7a5e-3f4d-4e1a-8c7b-2d1e0f9a8b7c/1-256.jpg",
         Action.CREATED),
        (BUCKET, f"originals/{OWNER}/holiday.jpg", Action.CREATED),
        (BUCKET, f"originals/{OWNER}/9b2c7a5e-3f4d-4e1a-8c7b-2d1e0f9a8b7c/extra", Action.CREATED),
        (BUCKET, "originals/9b2c7a5e-3f4d-4e1a-8c7b-2d1e0f9a8b7c", Action.REMOVED),
        (BUCKET, "", Action.CREATED),
        (BUCKET, f"originals/{OWNER}/9b2c7a5e-3f4d-4e1a-8c7b-2d1e0f9a8b7c", Action.CREATED),
        (BUCKET, f"originals/{OWNER}/9b2c7a5e-3f4d-4e1a-8c7b-2d1e0f9a8b7c", Action.REMOVED),
    ],
)
def test_events_for_anything_but_a_known_original_are_acknowledged_and_ignored(
    bucket_name: str, key: str, action: Action, caplog: pytest.LogCaptureFixture
) -> None:
    bucket = Bucket()
    with caplog.at_level(logging.INFO):
        assert bucket.event(action, key, bucket_name) is None
    assert bucket.jobs.sent == []
    assert "ignoring" in caplog.text


def test_other_actions_on_an_original_are_ignored() -> None:
    bucket = Bucket()
    asset_id = bucket.pending(JPEG)
    assert bucket.event(Action.OTHER, original_key(OWNER, asset_id)) is None
    assert bucket.status(asset_id) is Status.PENDING


def test_a_creation_event_for_a_non_image_fails_the_asset_once() -> None:
    bucket = Bucket()
    asset_id = bucket.pending(JPEG)
    bucket.storage.objects[original_key(OWNER, asset_id)] = b"BM" + bytes(len(JPEG) - 2)
    assert bucket.created(asset_id) is Status.FAILED
    assert bucket.created(asset_id) is Status.FAILED
    assert bucket.jobs.sent == []


def test_a_removed_original_deletes_the_asset_and_its_derivatives() -> None:
    bucket = Bucket()
    asset_id = bucket.ready()
    del bucket.storage.objects[original_key(OWNER, asset_id)]

    assert bucket.removed(asset_id) is Status.DELETED
    assert bucket.status(asset_id) is Status.DELETED
    assert bucket.storage.objects == {}


def test_a_repeated_removal_finishes_what_a_failed_one_began() -> None:
    bucket = Bucket()
    asset_id = bucket.ready()
    del bucket.storage.objects[original_key(OWNER, asset_id)]
    bucket.assets.mark_removed(OWNER, asset_id)  # the first attempt died before the cleanup

    assert bucket.removed(asset_id) is Status.DELETED
    assert bucket.storage.objects == {}


def test_a_removal_whose_original_is_back_is_stale_and_changes_nothing() -> None:
    bucket = Bucket()
    asset_id = bucket.ready()  # the original is in the bucket
    assert bucket.removed(asset_id) is Status.READY
    assert len(bucket.storage.objects) == 3


def test_a_forged_removal_of_an_upload_still_on_its_way_changes_nothing() -> None:
    bucket = Bucket()
    asset_id = bucket.pending(JPEG, uploaded=False)  # presigned; the bytes have not come yet

    assert bucket.removed(asset_id) is Status.PENDING
    bucket.storage.objects[original_key(OWNER, asset_id)] = JPEG
    assert bucket.created(asset_id) is Status.UPLOADED


def test_a_duplicate_keeps_its_record_when_its_redundant_copy_is_removed() -> None:
    bucket = Bucket()
    original, copy = bucket.ready(), bucket.pending(JPEG)
    bucket.assets.mark_uploaded(OWNER, copy, "image/jpeg")
    bucket.assets.claim(OWNER, copy, 60)
    bucket.assets.mark_duplicate(OWNER, copy, original)
    del bucket.storage.objects[original_key(OWNER, copy)]

    assert bucket.removed(copy) is Status.DUPLICATE
    assert bucket.status(original) is Status.READY


def test_a_removal_that_cannot_reach_the_bucket_is_retried_not_guessed() -> None:
    bucket = Bucket()
    asset_id = bucket.ready()
    bucket.storage.fail_with = StorageUnavailable("SlowDown")
    with pytest.raises(StorageUnavailable):
        bucket.removed(asset_id)
    assert bucket.status(asset_id) is Status.READY


# --- replays and disorder ----------------------------------------------------------------------

def test_a_replayed_creation_changes_nothing_after_the_first() -> None:
    bucket = Bucket()
    asset_id = bucket.pending(JPEG)
    statuses = {bucket.created(asset_id) for _ in range(20)}
    assert statuses == {Status.UPLOADED}
    assert len(bucket.assets.assets) == 1
    # Each replay may send the job again; the thumbnail claim makes the extras no-ops.
    assert {job.asset_id for job in bucket.jobs.sent} == {asset_id}


def test_a_creation_arriving_after_its_removal_does_not_bring_the_asset_back() -> None:
    bucket = Bucket()
    asset_id = bucket.ready()
    del bucket.storage.objects[original_key(OWNER, asset_id)]
    sent = len(bucket.jobs.sent)

    # Delivered in reverse order: the removal first, then the creation it followed.
    assert bucket.removed(asset_id) is Status.DELETED
    assert bucket.created(asset_id) is Status.DELETED
    assert bucket.status(asset_id) is Status.DELETED
    assert len(bucket.jobs.sent) == sent


def test_bytes_written_again_to_a_removed_original_key_are_removed_too() -> None:
    bucket = Bucket()
    deleted, original, copy = bucket.ready(), bucket.ready(), bucket.pending(JPEG)
    bucket.assets.mark_uploaded(OWNER, copy, "image/jpeg")
    bucket.assets.claim(OWNER, copy, 60)
    bucket.assets.mark_duplicate(OWNER, copy, original)
    bucket.assets.delete(OWNER, deleted)
    # Their upload URLs, still valid, write the freed keys once more (If-None-Match allows it).
    for asset_id in (deleted, copy):
        bucket.storage.objects[original_key(OWNER, asset_id)] = JPEG

    assert bucket.created(deleted) is Status.DELETED
    assert bucket.created(copy) is Status.DUPLICATE
    assert original_key(OWNER, deleted) not in bucket.storage.objects
    assert original_key(OWNER, copy) not in bucket.storage.objects
    assert bucket.status(original) is Status.READY
    assert original_key(OWNER, original) in bucket.storage.objects


def test_a_creation_arriving_after_the_thumbnails_changes_nothing() -> None:
    bucket = Bucket()
    asset_id = bucket.ready()
    assert bucket.created(asset_id) is Status.READY
    assert bucket.jobs.sent == []


def test_a_render_that_finishes_during_the_removal_leaves_no_derivatives() -> None:
    bucket = Bucket()
    asset_id = bucket.pending(JPEG)
    bucket.assets.mark_uploaded(OWNER, asset_id, "image/jpeg")
    bucket.assets.claim(OWNER, asset_id, 60)
    del bucket.storage.objects[original_key(OWNER, asset_id)]
    key = f"derivatives/{OWNER}/{asset_id}/1-256.jpg"

    original_head = bucket.storage.head

    def head_while_the_render_finishes(k: str) -> object:
        # Between the removal's first read (processing, no derivatives) and its update.
        bucket.storage.objects[key] = b"thumbnail"
        bucket.assets.mark_ready(OWNER, asset_id, ImageInfo(256, 256, 1, 8, "RGB"), (
            Derivative(size=256, page=1, format="jpeg", width=256, height=256, key=key,
                       bytes=9),), None)
        return original_head(k)

    bucket.storage.head = head_while_the_render_finishes  # type: ignore[method-assign]

    assert bucket.removed(asset_id) is Status.DELETED
    assert key not in bucket.storage.objects
