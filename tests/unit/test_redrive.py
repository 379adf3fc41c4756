"""Redrive: dead letters sent back once the cause is mended, each to where it can succeed."""

import uuid

from lightbox.domain import Status, ThumbnailJob
from lightbox.services.redrive import Redriven, redrive
from tests.fakes import FakeDeadLetterQueue, FakeLibrary
from tests.support import image_bytes

OWNER = "studio"
JPEG = image_bytes("JPEG")
BUCKET_EVENT = '{"Records": [{"eventName": "ObjectCreated:Put"}]}'


class Library(FakeLibrary):
    def __init__(self) -> None:
        super().__init__(OWNER)

    def given_up(self) -> uuid.UUID:
        """An asset whose thumbnail job failed every attempt and went to the dead letters."""
        asset_id = self.pending(JPEG)
        self.assets.mark_uploaded(OWNER, asset_id, "image/jpeg")
        self.assets.claim(OWNER, asset_id, 900)
        self.assets.mark_failed(OWNER, asset_id, expected=Status.PROCESSING,
                                reason="gave up after 5 attempts: SlowDown")
        return asset_id

    def redrive(self, events: FakeDeadLetterQueue, *job_letters: FakeDeadLetterQueue,
                limit: int = 100) -> Redriven:
        return redrive(events=events, job_letters=job_letters, pipeline=self.pipeline,
                       limit=limit)


def job(asset_id: uuid.UUID) -> str:
    return ThumbnailJob(asset_id, OWNER).to_json()


def test_bucket_events_go_back_to_the_ingest_queue_as_they_were() -> None:
    library = Library()
    events = FakeDeadLetterQueue(BUCKET_EVENT, BUCKET_EVENT)
    assert library.redrive(events) == Redriven(events=2)
    assert events.sent_back == [BUCKET_EVENT, BUCKET_EVENT]
    assert events.waiting == []


def test_a_given_up_asset_is_verified_and_queued_again_with_its_attempts_reset() -> None:
    library = Library()
    asset_id = library.given_up()
    letters = FakeDeadLetterQueue(job(asset_id))

    assert library.redrive(FakeDeadLetterQueue(), letters) == Redriven(jobs=1)

    asset = library.asset(asset_id)
    assert (asset.status, asset.error, asset.attempts) == (Status.UPLOADED, None, 0)
    assert library.jobs.sent == [ThumbnailJob(asset_id, OWNER)]
    assert letters.discarded == [job(asset_id)] and letters.sent_back == []


def test_a_job_whose_asset_still_waits_is_sent_again() -> None:
    library = Library()
    asset_id = library.pending(JPEG)
    library.assets.mark_uploaded(OWNER, asset_id, "image/jpeg")

    assert library.redrive(FakeDeadLetterQueue(), FakeDeadLetterQueue(job(asset_id))) == \
        Redriven(jobs=1)
    assert library.jobs.sent == [ThumbnailJob(asset_id, OWNER)]


def test_letters_for_assets_that_moved_on_or_never_were_are_dropped() -> None:
    library = Library()
    deleted = library.given_up()
    library.assets.delete(OWNER, deleted)
    letters = FakeDeadLetterQueue(job(deleted), job(uuid.uuid4()), "not a job")

    assert library.redrive(FakeDeadLetterQueue(), letters) == Redriven(dropped=3)
    assert library.jobs.sent == []
    assert len(letters.discarded) == 3


def test_each_queue_gives_at_most_limit_letters_per_run() -> None:
    library = Library()
    events = FakeDeadLetterQueue(*[BUCKET_EVENT] * 5)
    assert library.redrive(events, limit=3) == Redriven(events=3)
    assert len(events.waiting) == 2
