"""The reaper: what lost events and dead workers leave waiting, put right by age."""

import uuid

from lightbox.domain import Lane, Status, ThumbnailJob
from lightbox.services.reaper import Reaped, ReaperPolicy, Recovered, reap
from lightbox.services.reaper import recover as reaper_recover
from tests.fakes import FakeLibrary
from tests.support import image_bytes

OWNER = "studio"
JPEG = image_bytes("JPEG")
POLICY = ReaperPolicy(pending_seconds=4500, uploaded_seconds=600, processing_seconds=900, batch=50)


class Library(FakeLibrary):
    def __init__(self) -> None:
        super().__init__(OWNER)

    def uploaded(self) -> uuid.UUID:
        asset_id = self.pending(JPEG)
        self.assets.mark_uploaded(OWNER, asset_id, "image/jpeg")
        return asset_id

    def processing(self) -> uuid.UUID:
        asset_id = self.uploaded()
        self.assets.claim(OWNER, asset_id, POLICY.processing_seconds)
        return asset_id

    def reap(self) -> Reaped:
        return reap(pipeline=self.pipeline,
                    policy=POLICY)

    def status(self, asset_id: uuid.UUID) -> Status:
        return self.asset(asset_id).status

    def error(self, asset_id: uuid.UUID) -> str | None:
        return self.asset(asset_id).error


def test_nothing_young_is_touched() -> None:
    library = Library()
    ids = [library.pending(JPEG, uploaded=False), library.uploaded(), library.processing()]
    library.assets.advance(500)

    assert library.reap() == Reaped()
    assert [library.status(i) for i in ids] == [Status.PENDING, Status.UPLOADED, Status.PROCESSING]
    assert library.jobs.sent == []


def test_a_pending_upload_whose_event_was_lost_is_completed() -> None:
    library = Library()
    asset_id = library.pending(JPEG)
    library.assets.advance(POLICY.pending_seconds + 1)

    assert library.reap() == Reaped(completed=1)
    assert library.status(asset_id) is Status.UPLOADED
    assert library.jobs.sent == [ThumbnailJob(asset_id, OWNER)]


def test_a_pending_upload_that_never_arrived_expires_as_failed() -> None:
    library = Library()
    asset_id = library.pending(JPEG, uploaded=False)
    library.assets.advance(POLICY.pending_seconds + 1)

    assert library.reap() == Reaped(expired=1)
    assert library.status(asset_id) is Status.FAILED
    assert library.error(asset_id) == "no upload arrived before the upload URL expired"


def test_uploaded_assets_whose_job_was_lost_are_sent_again_in_their_lane() -> None:
    library = Library()
    asset_id = library.uploaded()
    library.assets.advance(POLICY.uploaded_seconds + 1)

    assert library.reap() == Reaped(redriven=1)
    assert library.jobs.sent == [ThumbnailJob(asset_id, OWNER)]
    assert library.jobs.lanes == [Lane.STANDARD]


def test_processing_past_its_lease_is_sent_again_and_the_next_claim_takes_over() -> None:
    library = Library()
    asset_id = library.processing()
    library.assets.advance(POLICY.uploaded_seconds + 1)
    assert library.reap() == Reaped()  # still inside its lease: the worker may be alive

    library.assets.advance(POLICY.processing_seconds)
    assert library.reap() == Reaped(redriven=1)
    taken = library.assets.claim(OWNER, asset_id, POLICY.processing_seconds)
    assert taken is not None and taken.attempts == 2


def test_settled_assets_are_never_touched() -> None:
    library = Library()
    failed = library.processing()
    library.assets.mark_failed(OWNER, failed, expected=Status.PROCESSING, reason="corrupt")
    deleted = library.uploaded()
    library.assets.mark_removed(OWNER, deleted)
    library.assets.advance(10 * POLICY.pending_seconds)

    assert library.reap() == Reaped()
    assert library.status(failed) is Status.FAILED and library.status(deleted) is Status.DELETED


def test_one_run_takes_at_most_a_batch_of_each_kind_oldest_first() -> None:
    library = Library()
    ids = []
    for _ in range(POLICY.batch + 5):
        ids.append(library.uploaded())
        library.assets.advance(1)
    library.assets.advance(POLICY.uploaded_seconds + 1)

    assert library.reap() == Reaped(redriven=POLICY.batch)
    assert [job.asset_id for job in library.jobs.sent] == ids[: POLICY.batch]


def test_a_redriven_job_is_sent_again_only_after_another_full_period() -> None:
    library = Library()
    library.uploaded()
    library.assets.advance(POLICY.uploaded_seconds + 1)

    assert library.reap() == Reaped(redriven=1)
    assert library.reap() == Reaped()  # the next run, minutes later: still queued, leave it
    library.assets.advance(POLICY.uploaded_seconds + 1)
    assert library.reap() == Reaped(redriven=1)
    assert len(library.jobs.sent) == 2


# --- recovery after a restart that lost the queues ----------------------------------------


def recover(library: Library, *, batch: int = 50) -> Recovered:
    return reaper_recover(pipeline=library.pipeline, before=library.assets.now, batch=batch)


def test_recovery_moves_on_everything_left_waiting_whatever_its_age() -> None:
    library = Library()
    arrived = library.pending(JPEG)
    never_came = library.pending(JPEG, uploaded=False)
    uploaded, processing = library.uploaded(), library.processing()
    library.assets.advance(1)  # the restart comes after all of them, however young

    assert recover(library) == Recovered(completed=1, requeued=2)
    assert library.status(arrived) is Status.UPLOADED
    assert library.status(never_came) is Status.PENDING  # its URL may still be used
    assert library.status(processing) is Status.UPLOADED  # its worker died with the stack
    assert sorted(job.asset_id for job in library.jobs.sent) == sorted(
        [arrived, uploaded, processing])


def test_recovery_leaves_what_changed_after_the_restart() -> None:
    library = Library()
    library.uploaded()
    library.assets.advance(1)
    before = library.assets.now
    library.assets.advance(1)
    library.processing()  # claimed by a worker of the new run

    assert reaper_recover(pipeline=library.pipeline, before=before) == Recovered(requeued=1)


def test_recovery_pages_through_more_than_a_batch() -> None:
    library = Library()
    ids = [library.uploaded() for _ in range(7)]
    never_came = [library.pending(JPEG, uploaded=False) for _ in range(5)]
    library.assets.advance(1)

    assert recover(library, batch=2) == Recovered(requeued=7)
    assert sorted(job.asset_id for job in library.jobs.sent) == sorted(ids)
    assert {library.status(i) for i in never_came} == {Status.PENDING}


def test_one_asset_that_cannot_be_recovered_does_not_stop_the_others() -> None:
    library = Library()
    first, second = library.uploaded(), library.uploaded()
    library.assets.advance(1)
    send = library.jobs.send

    def send_but_not_first(job: ThumbnailJob, lane: Lane) -> None:
        if job.asset_id == first:
            raise ConnectionError("the queue is unreachable")
        send(job, lane)

    library.jobs.send = send_but_not_first  # type: ignore[method-assign]

    assert recover(library) == Recovered(requeued=1, errors=1)
    assert [job.asset_id for job in library.jobs.sent] == [second]

def test_one_assets_failure_neither_stops_the_run_nor_the_next_one() -> None:
    library = Library()
    missing = library.uploaded()
    del library.storage.objects[library.asset(missing).original_key]  # its original is gone
    broken = library.pending(JPEG, uploaded=False)
    library.storage.objects[library.asset(broken).original_key] = JPEG
    library.storage.fail_on.add(library.asset(broken).original_key)
    library.assets.advance(1)
    fine = library.uploaded()
    library.assets.advance(POLICY.pending_seconds + 1)

    assert library.reap() == Reaped(redriven=1, errors=2)
    assert library.jobs.sent == [ThumbnailJob(fine, OWNER)]
    # A missing original can never be rendered: the asset fails, saying why, and the user
    # can retry or delete it. The other fault may pass: it is tried again next run.
    assert library.status(missing) is Status.FAILED
    assert "original is missing" in (library.error(missing) or "")
    assert library.status(broken) is Status.PENDING


def test_parts_refused_after_their_urls_expired_abort_the_upload_and_fail_the_asset() -> None:
    library = Library()
    asset_id = library.pending(JPEG, uploaded=False)
    upload_id = library.storage.start_multipart("k", content_type="image/jpeg")
    library.assets.change(asset_id, multipart_upload_id=upload_id)
    library.storage.uploads[upload_id].update({1: JPEG[:10], 2: JPEG[10:]})
    library.assets.advance(POLICY.pending_seconds + 1)

    assert library.reap() == Reaped(expired=1)
    assert library.status(asset_id) is Status.FAILED
    assert "refused the parts" in (library.error(asset_id) or "")
    assert upload_id in library.storage.aborted
