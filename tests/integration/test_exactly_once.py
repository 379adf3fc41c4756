"""At-least-once in, exactly-once out: bucket events replayed, concurrent and out of order.

Real PostgreSQL, a real S3 (moto server) reached through presigned PUTs, the real imaging
core; every worker thread has its own container, so its own database connection and S3
client, as each concurrent Lambda execution environment does.
"""

from __future__ import annotations

import random
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import psycopg
import pytest
import requests

from lightbox.adapters.assets import PostgresAssetRepository
from lightbox.adapters.migrations import apply_migrations
from lightbox.adapters.postgres import Database
from lightbox.adapters.projects import PostgresProjectRepository
from lightbox.config import Config
from lightbox.domain import Asset, RenderSpec, Rendition, Status, ThumbnailJob, original_key
from lightbox.errors import DatabaseUnavailable
from lightbox.events import Action, ObjectEvent
from lightbox.services import ingest, thumbnails
from lightbox.services import library as library_service
from lightbox.services.reaper import ReaperPolicy, reap
from lightbox.services.uploads import UploadRequest, create_upload
from lightbox.values import PresignedUpload
from lightbox.wiring import Container
from tests.conftest import REPO
from tests.fakes import FakeJobQueue
from tests.support import image_bytes, unique_owner

WORKERS = 8
T = TypeVar("T")


class Library:
    """One owner's corner of a real bucket and database, driven through the services."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.owner = unique_owner()
        self.jobs = FakeJobQueue()  # the jobs sent, to be run by hand
        self._databases: list[Database] = []
        self._uploads = 0
        self._local = threading.local()

    def container(self) -> Container:
        """This thread's container, built on first use."""
        if not hasattr(self._local, "container"):
            database = Database(self.config.require("database_url"))
            self._databases.append(database)
            self._local.database = database
            self._local.container = Container(
                self.config, assets=PostgresAssetRepository(database),
                projects=PostgresProjectRepository(database), jobs=self.jobs)
        container: Container = self._local.container
        return container

    def close(self) -> None:
        for database in self._databases:
            database.close()

    def upload(self, data: bytes | None = None) -> uuid.UUID:
        self._uploads += 1  # different bytes each time: the same bytes would be a duplicate
        data = data or image_bytes("JPEG", (800, 600), quality=90 - self._uploads)
        container = self.container()
        ticket = create_upload(
            self.owner, UploadRequest("photo.jpg", "image/jpeg", len(data)),
            pipeline=container.pipeline, projects=container.projects,
            policy=container.upload_policy,
        )
        assert isinstance(ticket.upload, PresignedUpload)
        response = requests.put(ticket.upload.url, data=data, headers=ticket.upload.headers,
                                timeout=10)
        response.raise_for_status()
        return ticket.asset_id

    def event(self, asset_id: uuid.UUID, action: Action) -> ObjectEvent:
        return ObjectEvent(self.config.require("bucket"), original_key(self.owner, asset_id),
                           action)

    def deliver(self, event: ObjectEvent) -> Status | None:
        container = self.container()
        return ingest.handle_object_event(
            event, expected_bucket=self.config.require("bucket"), pipeline=container.pipeline,
        )

    def run_job(self, job: ThumbnailJob, render: Callable[[Path, RenderSpec], Rendition] | None = None
                ) -> Status | None:
        container = self.container()
        return thumbnails.process_job(
            job, pipeline=container.pipeline,
            render=render or container.render, spec=container.render_spec,
            policy=container.processing_policy,
        )

    def delete_original(self, asset_id: uuid.UUID) -> None:
        self.container().storage.delete([original_key(self.owner, asset_id)])

    def status(self, asset_id: uuid.UUID) -> Status:
        asset = self.container().assets.get(self.owner, asset_id)
        assert asset is not None
        return asset.status

    def get(self, asset_id: uuid.UUID) -> Asset:
        asset = self.container().assets.get(self.owner, asset_id)
        assert asset is not None
        return asset

    def cut_connection(self) -> None:
        """End this thread's database session from outside, as a failover or a proxy would."""
        self.container()
        database: Database = self._local.database
        with database.cursor() as cur:
            cur.execute("SELECT pg_backend_pid() AS pid")
            row = cur.fetchone()
        assert row is not None
        with psycopg.connect(self.config.require("database_url"), autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (row["pid"],))

    def keys(self, s3_client: Any) -> list[str]:
        listed = s3_client.list_objects_v2(Bucket=self.config.require("bucket"),
                                           Prefix=f"derivatives/{self.owner}/")
        return sorted(item["Key"] for item in listed.get("Contents", []))


def concurrently(calls: Iterable[Callable[[], T]]) -> list[T]:
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        return list(pool.map(lambda call: call(), list(calls)))


@pytest.fixture
def library(aws_env: None, aws_endpoint: str, database_url: str,
            bucket: str) -> Iterator[Library]:
    library = library_on(database_url, bucket, aws_endpoint)
    yield library
    library.close()


def library_on(database_url: str, bucket: str, aws_endpoint: str) -> Library:
    return Library(Config.from_env({
        "DATABASE_URL": database_url, "LIGHTBOX_BUCKET": bucket,
        "LIGHTBOX_THUMBNAIL_SIZES": "64,256", "AWS_ENDPOINT_URL": aws_endpoint,
    }))


def test_one_creation_delivered_many_times_at_once_makes_one_asset_and_one_set(
    library: Library, s3_client: Any
) -> None:
    asset_id = library.upload()
    created = library.event(asset_id, Action.CREATED)

    statuses = concurrently([lambda: library.deliver(created)] * 16)

    assert set(statuses) == {Status.UPLOADED}
    jobs = list(library.jobs.sent)
    assert jobs and {job.asset_id for job in jobs} == {asset_id}

    # Every job that was sent, and each of them twice more, run at the same time.
    results = concurrently([lambda job=job: library.run_job(job) for job in jobs * 3])

    assert results.count(Status.READY) == 1
    assert set(results) <= {Status.READY, None}
    assert library.status(asset_id) is Status.READY
    assert library.keys(s3_client) == [
        f"derivatives/{library.owner}/{asset_id}/1-256.jpg",
        f"derivatives/{library.owner}/{asset_id}/1-64.jpg",
    ]
    asset = library.container().assets.get(library.owner, asset_id)
    assert asset is not None and asset.attempts == 1 and len(asset.derivatives) == 2


def test_a_removal_delivered_before_its_creation_renders_nothing_and_loses_nothing(
    library: Library, s3_client: Any
) -> None:
    asset_id = library.upload()
    library.delete_original(asset_id)

    # S3 sent "created" then "removed"; they arrive the other way round. A removal of an
    # asset still pending is ignored (it may be forged, and the upload still coming); the
    # creation finds no bytes, so the asset waits, and the reaper fails it once its URL expires.
    assert library.deliver(library.event(asset_id, Action.REMOVED)) is Status.PENDING
    assert library.deliver(library.event(asset_id, Action.CREATED)) is None
    assert library.status(asset_id) is Status.PENDING
    assert library.jobs.sent == []
    assert library.keys(s3_client) == []


def test_a_stale_removal_of_an_original_that_is_there_changes_nothing(library: Library) -> None:
    asset_id = library.upload()
    library.deliver(library.event(asset_id, Action.CREATED))
    library.run_job(library.jobs.sent[0])

    assert library.deliver(library.event(asset_id, Action.REMOVED)) is Status.READY
    assert library.status(asset_id) is Status.READY


@pytest.mark.parametrize("seed", range(3))
def test_a_whole_history_replayed_in_any_order_ends_in_the_same_place(
    library: Library, s3_client: Any, seed: int
) -> None:
    kept, removed = library.upload(), library.upload()
    for asset_id in (kept, removed):
        library.deliver(library.event(asset_id, Action.CREATED))
    for job in list(library.jobs.sent):
        library.run_job(job)
    library.delete_original(removed)
    history = [library.event(kept, Action.CREATED), library.event(removed, Action.CREATED),
               library.event(removed, Action.REMOVED)]

    deliveries = history * 4
    random.Random(seed).shuffle(deliveries)
    concurrently([lambda event=event: library.deliver(event) for event in deliveries])
    for job in list(library.jobs.sent):  # whatever the replays queued
        library.run_job(job)

    assert library.status(kept) is Status.READY
    assert library.status(removed) is Status.DELETED
    assert library.keys(s3_client) == [
        f"derivatives/{library.owner}/{kept}/1-256.jpg",
        f"derivatives/{library.owner}/{kept}/1-64.jpg",
    ]


def test_an_asset_deleted_while_it_renders_leaves_no_derivatives_behind(
    library: Library, s3_client: Any
) -> None:
    asset_id = library.upload()
    library.deliver(library.event(asset_id, Action.CREATED))
    render = library.container().render

    def render_while_the_original_is_deleted(path: Path, spec: RenderSpec) -> Rendition:
        library.delete_original(asset_id)
        assert library.deliver(library.event(asset_id, Action.REMOVED)) is Status.DELETED
        return render(path, spec)

    assert library.run_job(library.jobs.sent[0], render_while_the_original_is_deleted) is None
    assert library.status(asset_id) is Status.DELETED
    assert library.keys(s3_client) == []


def test_a_retry_after_a_database_fault_ends_a_duplicate_when_the_bytes_came_again_meanwhile(
    library: Library, s3_client: Any
) -> None:
    data = image_bytes("JPEG", (800, 600))
    first = library.upload(data)
    library.deliver(library.event(first, Action.CREATED))
    render = library.container().render

    def render_and_lose_the_database(path: Path, spec: RenderSpec) -> Rendition:
        # The connection breaks after the hash is recorded, before the asset is marked ready.
        library.cut_connection()
        return render(path, spec)

    with pytest.raises(DatabaseUnavailable):
        library.run_job(library.jobs.sent[0], render_and_lose_the_database)
    assert library.status(first) is Status.UPLOADED  # handed back for the retry
    assert library.keys(s3_client) != []  # what the failed attempt wrote

    second = library.upload(data)
    library.deliver(library.event(second, Action.CREATED))
    assert library.run_job(library.jobs.sent[-1]) is Status.READY

    # The queue's retry of the first job.
    assert library.run_job(library.jobs.sent[0]) is Status.DUPLICATE
    duplicate = library.get(first)
    assert (duplicate.status, duplicate.duplicate_of, duplicate.attempts) == (
        Status.DUPLICATE, second, 2)
    assert all(f"/{first}/" not in key for key in library.keys(s3_client))
    assert library.keys(s3_client) == sorted(d.key for d in library.get(second).derivatives)


@pytest.fixture
def library_alone(aws_env: None, aws_endpoint: str, fresh_database: str,
                  bucket: str) -> Iterator[Library]:
    """A library with a database of its own: the reaper looks at every owner's assets."""
    apply_migrations(fresh_database, REPO / "migrations")
    library = library_on(fresh_database, bucket, aws_endpoint)
    yield library
    library.close()


def test_the_reaper_settles_an_asset_an_earlier_release_left_holding_a_colliding_hash(
    library_alone: Library,
) -> None:
    library = library_alone
    data = image_bytes("JPEG", (800, 600))
    stuck, held = library.upload(data), library.upload(data)
    for asset_id in (stuck, held):
        library.deliver(library.event(asset_id, Action.CREATED))
    assert library.run_job(library.jobs.sent[-1]) is Status.READY
    # What a release used to leave: back in uploaded, still carrying the hash it computed.
    with psycopg.connect(library.config.require("database_url"), autocommit=True) as admin:
        admin.execute("UPDATE assets SET sha256 = %s, attempts = 1 WHERE id = %s",
                      (library.get(held).sha256, stuck))

    container = library.container()
    reap(pipeline=container.pipeline,
         policy=ReaperPolicy(pending_seconds=3600, uploaded_seconds=0, processing_seconds=900))
    assert library.jobs.sent[-1] == ThumbnailJob(stuck, library.owner)
    assert library.run_job(library.jobs.sent[-1]) is Status.DUPLICATE
    assert library.get(stuck).duplicate_of == held


def held_and_duplicate(library: Library) -> tuple[uuid.UUID, uuid.UUID]:
    """Two uploads of the same bytes: the first holds them, the second is its duplicate."""
    data = image_bytes("JPEG", (640, 480))
    holder, copy = library.upload(data), library.upload(data)
    for asset_id in (holder, copy):
        library.deliver(library.event(asset_id, Action.CREATED))
        library.run_job(library.jobs.sent[-1])
    assert library.get(copy).duplicate_of == holder
    return holder, copy


def test_deleting_an_asset_keeps_the_bytes_a_live_duplicate_uses_until_the_last_one_goes(
    library: Library, s3_client: Any
) -> None:
    holder, copy = held_and_duplicate(library)
    held = library.get(holder)
    container = library.container()
    stored = [held.original_key, *(d.key for d in held.derivatives)]

    library_service.delete_asset(library.owner, holder, pipeline=container.pipeline)
    library_service.purge_deleted(pipeline=container.pipeline,
                                  older_than_seconds=0, limit=1000)
    assert all(container.storage.head(key) is not None for key in stored)

    library_service.delete_asset(library.owner, copy, pipeline=container.pipeline)
    assert all(container.storage.head(key) is None for key in stored)
    assert holder not in {a.id for a in container.assets.unpurged(0, 1000)}


def test_emptying_a_cascaded_project_from_the_trash_keeps_the_bytes_a_duplicate_uses(
    library: Library
) -> None:
    holder, copy = held_and_duplicate(library)
    container = library.container()
    project = container.projects.add(library.owner, uuid.uuid4(), "Trip", max_projects=100)
    container.assets.update(library.owner, holder, filename=None, move=True,
                            project_id=project.id)

    library_service.delete_project(library.owner, project.id, cascade=True,
                                   projects=container.projects, pipeline=container.pipeline)
    assert library.get(holder).shown_status is Status.TRASHED  # first to the trash
    assert library_service.empty_trash(library.owner, container.pipeline).deleted == 1
    assert library.status(holder) is Status.DELETED
    assert library.status(copy) is Status.DUPLICATE
    assert container.storage.head(library.get(holder).original_key) is not None
