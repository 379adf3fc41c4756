"""lightbox admin rerender against real PostgreSQL and a moto S3 and SQS: the repository's
lease, replacement and search for what is out of date, and a rerender of a few assets end to
end in-process, from the admin's pages through the backfill queue to the new derivatives."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from lightbox.adapters.assets import PostgresAssetRepository
from lightbox.adapters.migrations import apply_migrations
from lightbox.adapters.postgres import Database
from lightbox.config import Config
from lightbox.domain import Derivative, ImageInfo, NewAsset, Principal, Status, ThumbnailJob
from lightbox.services import rerender
from lightbox.services.thumbnails import process_job, rerender_job
from lightbox.wiring import Container
from tests.conftest import REPO, database_of_its_own
from tests.support import image_bytes, unique_owner

ADMIN = Principal("ops", admin=True)


@pytest.fixture
def own_url(postgres_url: str) -> Iterator[str]:
    """A database of its own: the search for what is out of date spans every owner."""
    with database_of_its_own(postgres_url) as url:
        apply_migrations(url, REPO / "migrations")
        yield url


@pytest.fixture
def catalog(own_url: str) -> Iterator[PostgresAssetRepository]:
    database = Database(own_url)
    yield PostgresAssetRepository(database)
    database.close()


def ready(repo: PostgresAssetRepository, owner: str, render_spec: str,
          derivatives: tuple[Derivative, ...] = ()) -> uuid.UUID:
    asset = repo.add(NewAsset(id=uuid.uuid4(), owner_id=owner, filename="a.jpg",
                              content_type="image/jpeg", size_bytes=10, declared_sha256=None,
                              project_id=None), max_pending=100)
    assert repo.mark_uploaded(owner, asset.id, "image/jpeg")
    assert repo.claim(owner, asset.id, 900)
    assert repo.mark_ready(owner, asset.id, ImageInfo(4, 3, 1, 8, "RGB"), derivatives, None,
                           render_spec=render_spec)
    return asset.id


def derivative(owner: str, asset_id: uuid.UUID, size: int) -> Derivative:
    return Derivative(size=size, page=1, format="jpeg", width=size, height=size,
                      key=f"derivatives/{owner}/{asset_id}/1-{size}.jpg", bytes=1)


def test_the_outdated_are_found_on_either_side_of_the_current_spec_page_by_page(
        catalog: PostgresAssetRepository) -> None:
    owner = unique_owner()
    older = sorted(ready(catalog, owner, "") for _ in range(3))
    current = ready(catalog, owner, "m")
    newer = ready(catalog, owner, "z")
    found, after = [], None
    while page := catalog.outdated("m", after=after, limit=2):
        found += [asset.id for asset in page]
        after = (page[-1].render_spec, page[-1].id)
    assert found == [*older, newer] and current not in found
    assert catalog.count_outdated("m") == 4
    assert catalog.count_outdated("z") == 4


def test_a_lease_is_taken_once_replaces_once_and_changes_the_feed_once(
        catalog: PostgresAssetRepository) -> None:
    owner = unique_owner()
    asset_id = ready(catalog, owner, "old", (derivative(owner, uuid.uuid4(), 64),))
    before = catalog.get(owner, asset_id)
    assert before is not None
    lease = catalog.take_rerender(owner, asset_id, "new", 900)
    assert lease is not None and lease.asset.id == asset_id
    assert catalog.take_rerender(owner, asset_id, "new", 900) is None  # held
    assert catalog.take_rerender(owner, asset_id, "old", 900) is None  # up to date
    taken = catalog.get(owner, asset_id)
    assert taken is not None and taken.change_seq == before.change_seq  # a lease is no change
    # A size made on demand meanwhile is in the list replaced, so that it is deleted too.
    made = derivative(owner, asset_id, 640)
    assert catalog.add_derivative(owner, asset_id, made)
    assert not catalog.add_derivative(owner, asset_id, made)  # listed once
    new = (derivative(owner, asset_id, 128),)
    replaced = catalog.replace_derivatives(lease, new, "hash", "new")
    assert replaced == (*before.derivatives, made)
    after = catalog.get(owner, asset_id)
    assert after is not None and after.derivatives == new and after.render_spec == "new"
    assert after.status is Status.READY and after.change_seq == before.change_seq + 2
    assert catalog.replace_derivatives(lease, (), None, "new") is None  # the lease is over


def test_a_lease_taken_over_or_a_deleted_asset_replaces_nothing(
        catalog: PostgresAssetRepository, own_url: str) -> None:
    owner = unique_owner()
    asset_id = ready(catalog, owner, "old")
    stale = catalog.take_rerender(owner, asset_id, "new", 900)
    assert stale is not None
    with psycopg.connect(own_url, autocommit=True) as connection:  # its worker stopped long ago
        connection.execute("UPDATE rerender_leases SET leased_at = leased_at - interval '1 hour'")
    fresh = catalog.take_rerender(owner, asset_id, "new", 900)
    assert fresh is not None and fresh.taken_at != stale.taken_at
    assert catalog.replace_derivatives(stale, (), None, "new") is None
    assert catalog.delete(owner, asset_id)
    assert catalog.replace_derivatives(fresh, (), None, "new") is None
    assert not catalog.add_derivative(owner, asset_id, derivative(owner, asset_id, 640))
    gone = catalog.get(owner, asset_id)
    assert gone is not None and gone.render_spec == "old"


@pytest.fixture
def settings(aws_env: None, aws_endpoint: str, bucket: str, own_url: str,
             sqs_client: Any) -> dict[str, str]:
    queues = {name: sqs_client.create_queue(QueueName=f"{name}-{uuid.uuid4().hex[:8]}")["QueueUrl"]
              for name in ("thumbnails", "backfill", "video")}
    return {"LIGHTBOX_BUCKET": bucket, "AWS_ENDPOINT_URL": aws_endpoint, "DATABASE_URL": own_url,
            "LIGHTBOX_THUMBNAIL_QUEUE_URL": queues["thumbnails"],
            "LIGHTBOX_BACKFILL_QUEUE_URL": queues["backfill"],
            "LIGHTBOX_VIDEO_QUEUE_URL": queues["video"], "LIGHTBOX_THUMBNAIL_SIZES": "64,256"}


def test_a_rerender_brings_every_ready_asset_to_new_sizes_in_the_backfill_lane(
        settings: dict[str, str], s3_client: Any, sqs_client: Any) -> None:
    before = Container(Config.from_env(settings))
    owner = unique_owner()
    assets = []
    for n in range(3):
        asset = before.assets.add(NewAsset(
            id=uuid.uuid4(), owner_id=owner, filename=f"{n}.png", content_type="image/png",
            size_bytes=1, declared_sha256=None, project_id=None), max_pending=100)
        s3_client.put_object(Bucket=settings["LIGHTBOX_BUCKET"], Key=asset.original_key,
                             Body=image_bytes("PNG", (900 + n, 600)))
        assert before.assets.mark_uploaded(owner, asset.id, "image/png")
        assert process_job(ThumbnailJob(asset.id, owner), before.pipeline, render=before.render,
                           spec=before.render_spec,
                           policy=before.processing_policy) is Status.READY
        assets.append(asset.id)
    originals = {key: s3_client.head_object(Bucket=settings["LIGHTBOX_BUCKET"], Key=key)["ETag"]
                 for key in (f"originals/{owner}/{asset_id}" for asset_id in assets)}

    after = Container(Config.from_env({**settings, "LIGHTBOX_THUMBNAIL_SIZES": "128,256",
                                       "LIGHTBOX_THUMBNAIL_FORMATS": "jpeg,webp"}))
    spec = after.render_spec.fingerprint
    page = rerender.send_page(ADMIN, after.pipeline, render_spec=spec, after=None, limit=2)
    assert (page.progress.outdated, page.sent) == (3, 2)
    last = rerender.send_page(ADMIN, after.pipeline, render_spec=spec, after=page.next_cursor,
                              limit=2)
    assert last.sent == 1 and last.next_cursor is None
    received = sqs_client.receive_message(QueueUrl=settings["LIGHTBOX_BACKFILL_QUEUE_URL"],
                                          MaxNumberOfMessages=10)["Messages"]
    jobs = [ThumbnailJob.from_json(message["Body"]) for message in received]
    assert sorted(job.asset_id for job in jobs) == sorted(assets)
    assert all(json.loads(message["Body"])["rerender"] for message in received)
    for job in jobs:
        assert rerender_job(job, after.pipeline, render=after.render, spec=after.render_spec,
                            policy=after.processing_policy)
        assert not rerender_job(job, after.pipeline, render=after.render,
                                spec=after.render_spec, policy=after.processing_policy)

    assert rerender.progress(ADMIN, after.pipeline, render_spec=spec).outdated == 0
    for asset_id in assets:
        asset = after.assets.get(owner, asset_id)
        assert asset is not None and asset.status is Status.READY
        assert sorted((d.size, d.format) for d in asset.derivatives) == [
            (128, "jpeg"), (128, "webp"), (256, "jpeg"), (256, "webp")]
        stored = s3_client.list_objects_v2(Bucket=settings["LIGHTBOX_BUCKET"],
                                           Prefix=asset.derivatives_prefix)["Contents"]
        assert {o["Key"] for o in stored} == {d.key for d in asset.derivatives}
    assert originals == {key: s3_client.head_object(Bucket=settings["LIGHTBOX_BUCKET"],
                                                    Key=key)["ETag"] for key in originals}
    after.database.close()
    before.database.close()
