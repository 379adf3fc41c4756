"""Rerendering ready assets with the current spec, and thumbnails made on first request, over
the fakes and the real imaging core."""

import uuid
from dataclasses import replace
from pathlib import Path

import pytest

from lightbox.domain import (
    Lane,
    Principal,
    RenderSpec,
    Rendition,
    Status,
    ThumbnailJob,
    original_key,
)
from lightbox.errors import (
    AssetNotFound,
    Forbidden,
    InvalidEvent,
    InvalidField,
    InvalidState,
    RequestError,
)
from lightbox.imaging.render import render
from lightbox.services import library, rerender, resize
from lightbox.services.ingest import remove_asset
from lightbox.services.thumbnails import ProcessingPolicy, process_job, rerender_job
from lightbox.services.uploads import UploadRequest, complete_upload, create_upload
from tests.fakes import FakeLibrary, pipeline_of, upload_ports
from tests.support import decode, image_bytes

OWNER = "studio"
OLD = RenderSpec(sizes=(64, 256), jpeg_quality=85, max_pixels=50_000_000)
NEW = replace(OLD, sizes=(128, 256), formats=("jpeg", "webp"))
POLICY = ProcessingPolicy(lease_seconds=900, max_attempts=3)
ADMIN = Principal("ops", admin=True)
ON_DEMAND = resize.ResizePolicy(on_demand_sizes=(100, 640), url_ttl=600)


class Stack(FakeLibrary):
    def __init__(self) -> None:
        super().__init__(OWNER)

    def ready(self, data: bytes | None = None, *, spec: RenderSpec = OLD,
              content_type: str = "image/jpeg") -> uuid.UUID:
        data = data or image_bytes("JPEG", (1200, 800))
        ticket = create_upload(OWNER, UploadRequest("photo.jpg", content_type, len(data), None),
                               pipeline=pipeline_of(self.assets, self.storage),
                               **upload_ports(self.assets))
        self.storage.objects[original_key(OWNER, ticket.asset_id)] = data
        complete_upload(OWNER, ticket.asset_id, pipeline=self.pipeline)
        assert process_job(ThumbnailJob(ticket.asset_id, OWNER), self.pipeline, render=render,
                           spec=spec, policy=POLICY) is Status.READY
        return ticket.asset_id

    def rerender(self, asset_id: uuid.UUID, spec: RenderSpec = NEW) -> bool:
        return rerender_job(ThumbnailJob(asset_id, OWNER, rerender=True), self.pipeline,
                            render=render, spec=spec, policy=POLICY)

    def thumbnail(self, asset_id: uuid.UUID, size: int, **wanted: object) -> str:
        return resize.thumbnail_url(OWNER, asset_id, resize.ThumbnailRequest(size, **wanted),  # type: ignore[arg-type]
                                    self.pipeline, render=render, spec=OLD, policy=ON_DEMAND)


def test_a_rerender_job_says_so_and_an_old_message_still_parses() -> None:
    job = ThumbnailJob(uuid.uuid4(), OWNER, rerender=True)
    assert ThumbnailJob.from_json(job.to_json()) == job
    old = f'{{"asset_id": "{job.asset_id}", "owner_id": "{OWNER}"}}'
    assert ThumbnailJob.from_json(old) == replace(job, rerender=False)
    assert ThumbnailJob(job.asset_id, OWNER).to_json() == old
    with pytest.raises(InvalidEvent):
        ThumbnailJob.from_json(old[:-1] + ', "rerender": "yes"}')


def test_the_fingerprint_follows_what_derivatives_look_like_only() -> None:
    assert OLD.fingerprint != NEW.fingerprint
    assert OLD.fingerprint != replace(OLD, jpeg_quality=80).fingerprint
    assert OLD.fingerprint == replace(OLD, sizes=(256, 64), max_pixels=1, max_pages=2).fingerprint


def test_a_rerender_replaces_the_derivatives_and_deletes_the_keys_no_longer_listed() -> None:
    stack = Stack()
    asset_id = stack.ready()
    before = stack.asset(asset_id)
    assert before.render_spec == OLD.fingerprint
    original = stack.storage.objects[before.original_key]

    assert stack.rerender(asset_id)

    after = stack.asset(asset_id)
    assert after.status is Status.READY and after.render_spec == NEW.fingerprint
    assert sorted((d.size, d.format) for d in after.derivatives) == [
        (128, "jpeg"), (128, "webp"), (256, "jpeg"), (256, "webp")]
    assert after.sha256 == before.sha256 and after.change_seq == before.change_seq + 1
    assert {k for k in stack.storage.objects if k.startswith(after.derivatives_prefix)} == {
        d.key for d in after.derivatives}  # 1-64.jpg is gone
    assert stack.storage.objects[after.original_key] == original
    assert decode(stack.storage.objects[after.derivatives[0].key]).size[0] in (128, 256)
    assert not stack.rerender(asset_id)  # up to date: nothing to do


def test_an_asset_rendered_before_perceptual_hashes_gets_one_from_its_rerender() -> None:
    stack = Stack()
    asset_id = stack.ready()
    hashed = stack.asset(asset_id).perceptual_hash
    assert hashed is not None
    stack.assets.change(asset_id, perceptual_hash=None)  # as migration 0012 found it
    assert stack.rerender(asset_id)
    assert stack.asset(asset_id).perceptual_hash == hashed


def test_a_held_lease_keeps_a_second_worker_off_until_it_expires() -> None:
    stack = Stack()
    asset_id = stack.ready()
    lease = stack.assets.take_rerender(OWNER, asset_id, NEW.fingerprint, POLICY.lease_seconds)
    assert lease is not None
    assert not stack.rerender(asset_id)
    assert stack.asset(asset_id).render_spec == OLD.fingerprint
    stack.assets.advance(POLICY.lease_seconds + 1)
    assert stack.rerender(asset_id)
    # The first worker's lease was taken over: its late result replaces nothing.
    assert stack.assets.replace_derivatives(lease, [], None, "stale") is None


def test_an_asset_deleted_while_rerendering_keeps_nothing_written_for_it() -> None:
    stack = Stack()
    asset_id = stack.ready()

    def delete_meanwhile(path: Path, spec: RenderSpec) -> Rendition:
        library.delete_asset(OWNER, asset_id, stack.pipeline)
        return render(path, spec)

    assert not rerender_job(ThumbnailJob(asset_id, OWNER, rerender=True), stack.pipeline,
                            render=delete_meanwhile, spec=NEW, policy=POLICY)
    assert not [key for key in stack.storage.objects if key.startswith("derivatives/")]
    assert not stack.rerender(asset_id)  # deleted: nothing to take


def test_a_page_sends_one_job_per_outdated_asset_to_its_lane_and_a_cursor() -> None:
    stack = Stack()
    photos = sorted([stack.ready(), stack.ready(image_bytes("PNG"))])
    current = stack.ready(image_bytes("JPEG", (500, 400)), spec=NEW)
    clip = stack.ready(image_bytes("JPEG", (1000, 700)))
    stack.assets.change(clip, content_type="video/mp4")
    stack.jobs.sent.clear()  # the uploads' own jobs
    stack.jobs.lanes.clear()

    first = rerender.send_page(ADMIN, stack.pipeline, render_spec=NEW.fingerprint, after=None,
                               limit=2)
    assert first.progress.outdated == 3 and first.sent == 2 and first.next_cursor is not None
    rest = rerender.send_page(ADMIN, stack.pipeline, render_spec=NEW.fingerprint,
                              after=first.next_cursor, limit=2)
    assert rest.sent == 1 and rest.next_cursor is None
    sent = dict(zip((job.asset_id for job in stack.jobs.sent), stack.jobs.lanes, strict=True))
    assert sent == {**dict.fromkeys(photos, Lane.BACKFILL), clip: Lane.VIDEO}
    assert current not in sent and all(job.rerender for job in stack.jobs.sent)
    for asset_id in photos:
        stack.rerender(asset_id)
    assert rerender.progress(ADMIN, stack.pipeline, render_spec=NEW.fingerprint).outdated == 1


def test_only_an_admin_may_rerender() -> None:
    stack = Stack()
    with pytest.raises(Forbidden):
        rerender.send_page(Principal(OWNER), stack.pipeline, render_spec="x", after=None)
    with pytest.raises(Forbidden):
        rerender.progress(Principal(OWNER), stack.pipeline, render_spec="x")


def test_an_on_demand_size_is_made_once_recorded_and_deleted_with_the_asset() -> None:
    stack = Stack()
    asset_id = stack.ready(image_bytes("JPEG", (1200, 800)))
    url = stack.thumbnail(asset_id, 640)
    made = [d for d in stack.asset(asset_id).derivatives if d.size == 640]
    assert len(made) == 1 and made[0].key in url
    assert decode(stack.storage.objects[made[0].key]).size == (640, 427)
    changes = stack.asset(asset_id).change_seq
    assert stack.thumbnail(asset_id, 640) == url
    assert stack.asset(asset_id).change_seq == changes  # served, not made again
    assert "1-100.webp" in stack.thumbnail(asset_id, 100, format="webp")
    # The original removed from the bucket: the derivatives listed go with it.
    del stack.storage.objects[original_key(OWNER, asset_id)]
    assert remove_asset(OWNER, asset_id, stack.pipeline) is Status.DELETED
    assert not [k for k in stack.storage.objects if k.startswith("derivatives/")]


def test_a_size_rendered_ahead_is_served_and_others_are_refused() -> None:
    stack = Stack()
    asset_id = stack.ready()
    listed = {d.size: d.key for d in stack.asset(asset_id).derivatives}
    assert listed[256] in stack.thumbnail(asset_id, 256)
    with pytest.raises(RequestError, match="64, 100, 256, 640") as refused:
        stack.thumbnail(asset_id, 333)
    assert refused.value.status == 400
    with pytest.raises(InvalidField):
        stack.thumbnail(asset_id, 256, page=2)
    with pytest.raises(AssetNotFound):
        resize.thumbnail_url("stranger", asset_id, resize.ThumbnailRequest(256), stack.pipeline,
                             render=render, spec=OLD, policy=ON_DEMAND)


def test_an_asset_not_ready_has_no_thumbnails_to_make() -> None:
    stack = Stack()
    asset_id = stack.pending(image_bytes("JPEG"))
    with pytest.raises(InvalidState):
        stack.thumbnail(asset_id, 640)
    assert not stack.storage.objects.keys() - {original_key(OWNER, asset_id)}
