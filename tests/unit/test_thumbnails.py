import hashlib
import uuid
from datetime import datetime
from pathlib import Path

import pytest
from PIL import Image

from lightbox.domain import (
    Declared,
    Lane,
    Location,
    RenderSpec,
    Rendition,
    Status,
    ThumbnailJob,
    original_key,
)
from lightbox.errors import Conflict, DatabaseUnavailable, StorageUnavailable
from lightbox.imaging.render import render
from lightbox.ports import Renderer
from lightbox.services.thumbnails import ProcessingPolicy, process_job
from lightbox.services.uploads import UploadRequest, complete_upload, create_upload
from tests.fakes import FakeLibrary, pipeline_of, upload_ports
from tests.support import decode, image_bytes

OWNER = "studio"
SPEC = RenderSpec(sizes=(64, 256), jpeg_quality=85, max_pixels=50_000_000)
POLICY = ProcessingPolicy(lease_seconds=900, max_attempts=3)


class Stack(FakeLibrary):
    def __init__(self) -> None:
        super().__init__(OWNER)

    def uploaded(self, data: bytes, *, sha256: str | None = None) -> uuid.UUID:
        ticket = create_upload(OWNER, UploadRequest("photo.jpg", "image/jpeg", len(data), sha256),
                               pipeline=pipeline_of(self.assets, self.storage),
                               **upload_ports(self.assets))
        self.storage.objects[original_key(OWNER, ticket.asset_id)] = data
        complete_upload(OWNER, ticket.asset_id, pipeline=self.pipeline)
        return ticket.asset_id

    def process(self, asset_id: uuid.UUID, *, renderer: Renderer = render) -> Status | None:
        return process_job(ThumbnailJob(asset_id, OWNER), pipeline=pipeline_of(self.assets, self.storage),
                           render=renderer, spec=SPEC, policy=POLICY)


def test_an_uploaded_image_becomes_ready_with_every_derivative() -> None:
    stack = Stack()
    data = image_bytes("JPEG", (1200, 800))
    asset_id = stack.uploaded(data)

    assert stack.process(asset_id) is Status.READY

    asset = stack.asset(asset_id)
    assert asset.sha256 == hashlib.sha256(data).hexdigest()
    assert asset.info is not None and (asset.info.width, asset.info.height) == (1200, 800)
    assert [(d.size, d.width, d.height) for d in asset.derivatives] == [(256, 256, 171), (64, 64, 43)]
    for derivative in asset.derivatives:
        assert derivative.key == f"derivatives/{OWNER}/{asset_id}/1-{derivative.size}.jpg"
        stored = stack.storage.objects[derivative.key]
        assert decode(stored).size == (derivative.width, derivative.height)
        assert derivative.bytes == len(stored)
        assert stack.storage.content_types[derivative.key] == "image/jpeg"


def test_a_second_job_for_the_same_asset_does_nothing() -> None:
    stack = Stack()
    asset_id = stack.uploaded(image_bytes("PNG"))
    stack.process(asset_id)
    written = dict(stack.storage.objects)

    assert stack.process(asset_id) is None
    assert stack.storage.objects == written
    assert stack.asset(asset_id).attempts == 1


def test_a_job_for_an_asset_another_worker_holds_does_nothing() -> None:
    stack = Stack()
    asset_id = stack.uploaded(image_bytes("PNG"))
    stack.assets.claim(OWNER, asset_id, POLICY.lease_seconds)

    assert stack.process(asset_id) is None
    assert stack.asset(asset_id).status is Status.PROCESSING


def test_a_corrupt_file_fails_at_once_with_a_reason() -> None:
    stack = Stack()
    data = image_bytes("JPEG", (800, 600))
    asset_id = stack.uploaded(data[: len(data) // 3])

    assert stack.process(asset_id) is Status.FAILED
    asset = stack.asset(asset_id)
    assert asset.error is not None and asset.error.startswith("the image data is truncated")
    assert not any(key.startswith("derivatives/") for key in stack.storage.objects)


def test_bytes_that_do_not_match_the_declared_hash_fail() -> None:
    stack = Stack()
    data = image_bytes("PNG")
    asset_id = stack.uploaded(data, sha256="0" * 64)

    assert stack.process(asset_id) is Status.FAILED
    assert stack.asset(asset_id).error == (
        f"the uploaded bytes hash to {hashlib.sha256(data).hexdigest()}, not the declared {'0' * 64}"
    )


def test_the_second_copy_of_the_same_bytes_becomes_a_duplicate() -> None:
    stack = Stack()
    data = image_bytes("PNG")
    first, second = stack.uploaded(data), stack.uploaded(data)

    assert stack.process(first) is Status.READY
    assert stack.process(second) is Status.DUPLICATE

    duplicate = stack.asset(second)
    assert duplicate.duplicate_of == first
    assert original_key(OWNER, second) not in stack.storage.objects
    assert original_key(OWNER, first) in stack.storage.objects
    assert not any(str(second) in key for key in stack.storage.objects)


def test_a_retry_ends_a_duplicate_when_the_same_bytes_became_ready_meanwhile() -> None:
    stack = Stack()
    data = image_bytes("PNG")
    first = stack.uploaded(data)
    leftover = f"derivatives/{OWNER}/{first}/1-64.jpg"

    def lose_the_database(path: Path, spec: RenderSpec) -> Rendition:
        stack.storage.objects[leftover] = b"written by the failed attempt"
        raise DatabaseUnavailable("connection reset")

    with pytest.raises(DatabaseUnavailable):
        stack.process(first, renderer=lose_the_database)
    second = stack.uploaded(data)
    assert stack.process(second) is Status.READY

    assert stack.process(first) is Status.DUPLICATE
    duplicate = stack.asset(first)
    assert (duplicate.duplicate_of, duplicate.attempts) == (second, 2)
    assert not any(str(first) in key for key in stack.storage.objects)


def test_a_copy_whose_holder_is_deleted_while_it_hashes_is_retried_and_rendered(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stack = Stack()
    data = image_bytes("PNG")
    holder, copy = stack.uploaded(data), stack.uploaded(data)
    assert stack.process(holder) is Status.READY
    record_content = stack.assets.record_content

    def record_while_the_holder_is_deleted(owner_id: str, asset_id: uuid.UUID,
                                           sha256: str) -> uuid.UUID | None:
        found = record_content(owner_id, asset_id, sha256)
        stack.assets.delete(OWNER, holder)
        return found

    monkeypatch.setattr(stack.assets, "record_content", record_while_the_holder_is_deleted)
    with pytest.raises(Conflict):
        stack.process(copy)
    assert stack.asset(copy).status is Status.UPLOADED
    assert original_key(OWNER, copy) in stack.storage.objects

    monkeypatch.undo()
    assert stack.process(copy) is Status.READY


def test_a_transient_error_hands_the_asset_back_for_a_retry() -> None:
    stack = Stack()
    asset_id = stack.uploaded(image_bytes("PNG"))
    stack.storage.fail_with = StorageUnavailable("SlowDown")

    with pytest.raises(StorageUnavailable):
        stack.process(asset_id)
    asset = stack.asset(asset_id)
    assert asset.status is Status.UPLOADED
    assert asset.error == "attempt 1 failed: SlowDown"

    stack.storage.fail_with = None
    assert stack.process(asset_id) is Status.READY
    assert stack.asset(asset_id).error is None


def test_an_asset_that_keeps_failing_fails_on_its_last_attempt_and_the_error_still_raises() -> None:
    stack = Stack()
    asset_id = stack.uploaded(image_bytes("PNG"))

    def broken(path: Path, spec: RenderSpec) -> Rendition:
        raise RuntimeError("renderer bug")

    for attempt in range(1, POLICY.max_attempts):
        with pytest.raises(RuntimeError):
            stack.process(asset_id, renderer=broken)
        assert stack.asset(asset_id).status is Status.UPLOADED, attempt
    # Raised on the last attempt too: its message must reach the dead-letter queue.
    with pytest.raises(RuntimeError):
        stack.process(asset_id, renderer=broken)
    asset = stack.asset(asset_id)
    assert asset.status is Status.FAILED
    assert asset.error == "gave up after 3 attempts: renderer bug"


def test_an_asset_whose_workers_died_is_given_up_on_the_claim_after_max_attempts() -> None:
    stack = Stack()
    asset_id = stack.uploaded(image_bytes("PNG"))
    # Workers killed mid-render (out of memory, say) never release: each claim expires.
    for _ in range(POLICY.max_attempts):
        assert stack.assets.claim(OWNER, asset_id, POLICY.lease_seconds) is not None
        stack.assets.advance(POLICY.lease_seconds + 1)
    assert stack.process(asset_id) is Status.FAILED
    assert stack.asset(asset_id).error.startswith("gave up after 3 attempts")


def test_an_original_gone_from_the_bucket_fails_the_asset() -> None:
    stack = Stack()
    asset_id = stack.uploaded(image_bytes("PNG"))
    del stack.storage.objects[original_key(OWNER, asset_id)]

    assert stack.process(asset_id) is Status.FAILED
    assert stack.asset(asset_id).error == "the original is no longer in the bucket"


def test_webp_derivatives_are_stored_beside_the_jpeg_ones() -> None:
    stack = Stack()
    asset_id = stack.uploaded(image_bytes("PNG", (900, 600), "RGBA"))
    webp_spec = RenderSpec(sizes=(64, 256), jpeg_quality=85, max_pixels=50_000_000,
                           formats=("jpeg", "webp"))
    status = process_job(ThumbnailJob(asset_id, OWNER), pipeline=pipeline_of(stack.assets, stack.storage), render=render, spec=webp_spec, policy=POLICY)

    assert status is Status.READY
    asset = stack.asset(asset_id)
    assert sorted((d.size, d.format) for d in asset.derivatives) == [
        (64, "jpeg"), (64, "webp"), (256, "jpeg"), (256, "webp")
    ]
    for derivative in asset.derivatives:
        extension = {"jpeg": "jpg", "webp": "webp"}[derivative.format]
        assert derivative.key.endswith(f"/1-{derivative.size}.{extension}")
        assert stack.storage.content_types[derivative.key] == f"image/{derivative.format}"
    assert asset.placeholder is not None
    assert asset.perceptual_hash is not None


def test_every_page_of_a_multipage_tiff_is_stored() -> None:
    stack = Stack()
    asset_id = stack.uploaded(image_bytes("TIFF", (500, 400), pages=3))
    assert stack.process(asset_id) is Status.READY
    asset = stack.asset(asset_id)
    assert asset.info is not None and asset.info.pages == 3
    assert sorted(d.key.rsplit("/", 1)[1] for d in asset.derivatives) == [
        "1-256.jpg", "1-64.jpg", "2-256.jpg", "2-64.jpg", "3-256.jpg", "3-64.jpg"
    ]


def test_a_clip_takes_the_video_lane_and_becomes_ready_from_ranged_reads() -> None:
    from lightbox.services.thumbnails import ranged
    from lightbox.video.render import render_clip
    from tests.unit.test_imaging_jpeg import quadrants
    from tests.videos import clip

    stack = Stack()
    data = clip(quadrants(320, 240), seconds=2)
    jobs = stack.pipeline.jobs
    asset_id = stack.uploaded(data)
    assert jobs.lanes[-1] is Lane.VIDEO  # type: ignore[attr-defined]
    assert stack.asset(asset_id).content_type == "video/mp4"

    status = process_job(ThumbnailJob(asset_id, OWNER), pipeline=stack.pipeline,
                         render=render_clip, open_original=ranged, spec=SPEC, policy=POLICY)

    assert status is Status.READY
    asset = stack.asset(asset_id)
    assert asset.sha256 == hashlib.sha256(data).hexdigest()  # the whole clip, streamed past
    assert asset.info is not None and asset.info.codec == "h264"
    assert [(d.size, d.width, d.height) for d in asset.derivatives] == [(256, 256, 192),
                                                                        (64, 64, 48)]


def taken_exif(when: str) -> Image.Exif:
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9003] = when  # DateTimeOriginal
    return exif


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        # The original says nothing: what its client declared (a Takeout sidecar's date).
        (image_bytes("PNG", (64, 48)), datetime(2019, 7, 14, 16, 30, 5)),
        # The original says: its own date wins.
        (image_bytes("JPEG", (64, 48), exif=taken_exif("2021:05:01 09:00:00")),
         datetime(2021, 5, 1, 9, 0, 0)),
    ],
    ids=["png-without-a-date", "jpeg-with-exif"],
)
def test_a_declared_date_is_used_only_when_the_original_has_none_and_a_place_always(
    data: bytes, expected: datetime
) -> None:
    stack = Stack()
    ticket = create_upload(
        OWNER, UploadRequest("scan.png", "application/octet-stream", len(data),
                             declared=Declared(datetime(2019, 7, 14, 16, 30, 5),
                                               Location(48.86, 2.29), "Paris")),
        pipeline=pipeline_of(stack.assets, stack.storage), **upload_ports(stack.assets))
    stack.storage.objects[original_key(OWNER, ticket.asset_id)] = data
    complete_upload(OWNER, ticket.asset_id, pipeline=stack.pipeline)

    assert stack.process(ticket.asset_id) is Status.READY
    asset = stack.asset(ticket.asset_id)
    assert asset.info is not None and asset.info.taken_at == expected
    assert asset.info.has_location is True  # where its client said it was taken
    assert asset.declared.description == "Paris"


def test_what_is_declared_of_bytes_the_library_has_goes_to_the_asset_holding_them() -> None:
    stack = Stack()
    data = image_bytes("PNG", (64, 48))  # says nothing of when or where
    first = stack.uploaded(data, sha256=hashlib.sha256(data).hexdigest())
    assert stack.process(first) is Status.READY
    declared = Declared(datetime(2019, 7, 14, 16, 30, 5), Location(48.86, 2.29), "Paris")
    ports = upload_ports(stack.assets)
    album = ports["projects"].add(OWNER, uuid.uuid4(), "Summer", max_projects=10).id

    # The same bytes again, now with their Takeout sidecar's date, place and caption, to an
    # album: nothing is uploaded; the holder learns what it lacked; the album's copy keeps its
    # caption.
    ticket = create_upload(
        OWNER, UploadRequest("scan.png", "image/png", len(data), hashlib.sha256(data).hexdigest(),
                             project_id=album, declared=declared),
        pipeline=stack.pipeline, **ports)

    assert ticket.upload is None and ticket.status is Status.DUPLICATE
    holder = stack.asset(first)
    assert holder.info is not None
    assert (holder.info.taken_at, holder.info.has_location) == (declared.taken_at, True)
    assert holder.declared == declared
    assert stack.asset(ticket.asset_id).declared.description == "Paris"
