import uuid

import pytest

from lightbox.domain import ThumbnailJob, derivative_key, original_key, parse_original_key
from lightbox.errors import InvalidEvent


def test_original_keys_round_trip() -> None:
    asset_id = uuid.uuid4()
    assert parse_original_key(original_key("studio-7", asset_id)) == ("studio-7", asset_id)


@pytest.mark.parametrize(
    "key",
    [
        "derivatives/local/9b2c7a5e-3f4d-4e1a-8c7b-2d1e0f9a8b7c/1-256.jpg",
        "originals/local/not-a-uuid",
        "originals/local/9b2c7a5e-3f4d-4e1a-8c7b-2d1e0f9a8b7c/extra",
        "originals/../9b2c7a5e-3f4d-4e1a-8c7b-2d1e0f9a8b7c",
        "originals/9b2c7a5e-3f4d-4e1a-8c7b-2d1e0f9a8b7c",
        "originals/local/------------------------------------",
        "originals/local/9b2c7a5e-3f4d-4e1a-8c7b-2d1e0f9a8b7c\n",
        "",
    ],
)
def test_other_keys_are_not_originals(key: str) -> None:
    assert parse_original_key(key) is None


def test_derivative_keys_live_under_their_asset() -> None:
    asset_id = uuid.uuid4()
    assert derivative_key("local", asset_id, 2, 256, "jpg") == f"derivatives/local/{asset_id}/2-256.jpg"


def test_thumbnail_jobs_round_trip_through_json() -> None:
    job = ThumbnailJob(uuid.uuid4(), "local")
    assert ThumbnailJob.from_json(job.to_json()) == job


@pytest.mark.parametrize("body", ["", "[]", "{}", '{"asset_id": "x", "owner_id": "o"}', "null"])
def test_a_body_that_is_no_job_is_an_invalid_event(body: str) -> None:
    with pytest.raises(InvalidEvent):
        ThumbnailJob.from_json(body)
