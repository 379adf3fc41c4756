"""Adopting what a bucket holds, through the real composition root: PostgreSQL, and a moto
server's S3 and SQS (the import's pages and the backfill lane are real queues)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import threading
import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from lightbox.adapters.assets import PostgresAssetRepository
from lightbox.adapters.imports import PostgresImportRepository
from lightbox.adapters.postgres import Database
from lightbox.adapters.s3 import S3ObjectStore
from lightbox.config import Config
from lightbox.domain import (
    Declared,
    ImportJob,
    ImportRequest,
    ImportSource,
    ImportStatus,
    Location,
    NewAsset,
    Status,
    ThumbnailJob,
)
from lightbox.errors import Conflict, ObjectNotFound
from lightbox.services import imports
from lightbox.services.imports import Skip
from lightbox.values import StoredObject
from lightbox.wiring import Container
from tests.support import image_bytes

MIB = 1024 * 1024


@pytest.fixture
def container(aws_env: None, aws_endpoint: str, bucket: str, database_url: str,
              sqs_client: Any) -> Iterator[Container]:
    queues = {name: sqs_client.create_queue(QueueName=f"{name}-{uuid.uuid4().hex[:8]}")["QueueUrl"]
              for name in ("thumbnails", "backfill", "imports")}
    container = Container(Config.from_env({
        "LIGHTBOX_BUCKET": bucket, "AWS_ENDPOINT_URL": aws_endpoint,
        "DATABASE_URL": database_url, "LIGHTBOX_IMPORT_PAGE_SIZE": "3",
        "LIGHTBOX_THUMBNAIL_QUEUE_URL": queues["thumbnails"],
        "LIGHTBOX_BACKFILL_QUEUE_URL": queues["backfill"],
        "LIGHTBOX_IMPORT_QUEUE_URL": queues["imports"],
    }))
    yield container
    container.database.close()


def messages(sqs_client: Any, url: str) -> list[dict[str, Any]]:
    received = []
    while batch := sqs_client.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                              WaitTimeSeconds=0).get("Messages", []):
        for message in batch:
            sqs_client.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        received += batch
    return received


def run_import(container: Container, sqs_client: Any, owner: str,
               time_zone: str = "UTC") -> imports.ImportReport:
    """Start an import of the owner's imports/ prefix and act as the importer until it ends."""
    config = container.config
    source = ImportSource(config.require("bucket"), f"imports/{owner}/")
    report, _ = imports.start_import(owner, ImportRequest(source, time_zone=time_zone),
                                     imports=container.imports, queue=container.import_queue,
                                     projects=container.projects, policy=container.import_policy)
    while pages := messages(sqs_client, config.require("import_queue_url")):
        for message in pages:
            imports.import_page(ImportJob.from_json(message["Body"]), container.pipeline,
                                imports=container.imports, queue=container.import_queue,
                                projects=container.projects, open_source=container.import_source,
                                policy=container.import_policy, give_way=container.give_way)
    return imports.import_report(owner, report.run.id, imports=container.imports)


def test_a_prefix_is_adopted_page_by_page_and_a_second_run_adds_nothing(
    container: Container, s3_client: Any, sqs_client: Any, bucket: str, owner: str,
) -> None:
    photos = {f"imports/{owner}/2019/IMG_{n}.JPG": image_bytes("JPEG", (60 + n, 40))
              for n in range(5)}
    for key, data in photos.items():
        s3_client.put_object(Bucket=bucket, Key=key, Body=data)
    s3_client.put_object(Bucket=bucket, Key=f"imports/{owner}/2019/IMG_0.JPG.json", Body=b"{}")
    s3_client.put_object(Bucket=bucket, Key=f"imports/{owner}/notes", Body=b"not a photo")

    report = run_import(container, sqs_client, owner)

    assert report.run.status is ImportStatus.LISTED
    assert (report.run.listed, report.adopted) == (7, 5)
    assert report.run.skipped == {Skip.SIDECAR: 1, Skip.NOT_MEDIA: 1}
    assert report.assets == {Status.UPLOADED: 5}
    jobs = [ThumbnailJob.from_json(m["Body"]) for m in
            messages(sqs_client, container.config.require("backfill_queue_url"))]
    assert len(jobs) == 5
    assert messages(sqs_client, container.config.require("thumbnail_queue_url")) == []
    for job in jobs:
        asset = container.assets.get(owner, job.asset_id)
        assert asset is not None and asset.import_id == report.run.id
        copied = s3_client.get_object(Bucket=bucket, Key=asset.original_key)["Body"].read()
        assert copied == photos[f"imports/{owner}/2019/{asset.filename}"]

    second = run_import(container, sqs_client, owner)
    assert (second.run.listed, second.adopted) == (7, 0)
    assert second.run.skipped == {Skip.SIDECAR: 1, Skip.NOT_MEDIA: 1, Skip.ALREADY_IMPORTED: 5}
    assert messages(sqs_client, container.config.require("backfill_queue_url")) == []


def test_a_takeout_in_the_bucket_keeps_its_sidecars_dates_places_and_captions(
    container: Container, s3_client: Any, sqs_client: Any, bucket: str, owner: str,
) -> None:
    folder = f"imports/{owner}/Takeout/Google Photos/Photos from 2019/"
    # Five keys over pages of three: IMG_1's sidecar is on the page after its photo.
    objects = {
        "IMG_0.JPG": image_bytes("JPEG", (60, 40)),
        "IMG_0.JPG.json": b'{"title": "IMG_0.JPG", "photoTakenTime": {"timestamp": "1563121805"}}',
        "IMG_1.JPG": image_bytes("JPEG", (61, 40)),
        "IMG_1.JPG.supplemental-metadata.json": json.dumps({
            "title": "IMG_1.JPG", "photoTakenTime": {"timestamp": "1563121805"},
            "description": "Low tide", "geoData": {"latitude": -33.8568, "longitude": 151.2153},
        }).encode(),
        "trip.jpg": image_bytes("JPEG", (62, 40)),
    }
    for name, data in objects.items():
        s3_client.put_object(Bucket=bucket, Key=folder + name, Body=data)

    report = run_import(container, sqs_client, owner, time_zone="Australia/Sydney")

    assert report.run.time_zone == "Australia/Sydney"
    assert (report.adopted, report.run.skipped) == (3, {Skip.SIDECAR: 2})
    sydney = datetime(2019, 7, 15, 2, 30, 5)  # 16:30:05 UTC at +10:00
    found = {asset.filename: asset.declared for asset in
             (container.assets.get(owner, ThumbnailJob.from_json(m["Body"]).asset_id)
              for m in messages(sqs_client, container.config.require("backfill_queue_url")))
             if asset is not None}
    assert found == {
        "IMG_0.JPG": Declared(taken_at=sydney),
        "IMG_1.JPG": Declared(taken_at=sydney, location=Location(-33.8568, 151.2153),
                              description="Low tide"),
        "trip.jpg": Declared(),
    }


def test_an_album_met_pages_after_its_photos_takes_them_and_only_them(
    container: Container, s3_client: Any, sqs_client: Any, bucket: str, owner: str,
) -> None:
    takeout = f"imports/{owner}/Takeout/"
    taken = b'"photoTakenTime": {"timestamp": "1563121805"}'
    objects = {
        # A folder whose name is a LIKE pattern of the album's, were "_" not escaped.
        "aXb/IMG_7.JPG": image_bytes("JPEG", (70, 40)),
        "aXb/IMG_7.JPG.json": b'{"title": "IMG_7.JPG", ' + taken + b"}",
        **{f"a_b/IMG_{n}.JPG": image_bytes("JPEG", (60 + n, 40)) for n in range(4)},
        **{f"a_b/IMG_{n}.JPG.json": b'{"title": "IMG_%d.JPG", ' % n + taken + b"}"
           for n in range(4)},
        "a_b/below/IMG_8.JPG": image_bytes("JPEG", (80, 40)),
        "a_b/metadata.json": b'{"title": "50% of a summer", "description": ""}',
    }
    for name, data in objects.items():
        s3_client.put_object(Bucket=bucket, Key=takeout + name, Body=data)

    report = run_import(container, sqs_client, owner)

    assert report.adopted == 6
    [project] = container.projects.list(owner)
    assert project.name == "50% of a summer"
    jobs = [ThumbnailJob.from_json(m["Body"]) for m in
            messages(sqs_client, container.config.require("backfill_queue_url"))]
    in_album = {asset.filename for asset in (container.assets.get(owner, job.asset_id)
                                             for job in jobs)
                if asset is not None and asset.project_id == project.id}
    assert in_album == {"IMG_0.JPG", "IMG_1.JPG", "IMG_2.JPG", "IMG_3.JPG"}


def test_a_page_waits_on_the_real_queue_while_the_backfill_lane_is_behind(
    container: Container, s3_client: Any, sqs_client: Any, bucket: str, owner: str,
) -> None:
    behind = Container(dataclasses.replace(container.config, import_backlog=2))
    for n in range(7):
        s3_client.put_object(Bucket=bucket, Key=f"imports/{owner}/IMG_{n}.JPG",
                             Body=image_bytes("JPEG", (60 + n, 40)))
    report, _ = imports.start_import(
        owner, ImportRequest(ImportSource(bucket, f"imports/{owner}/")),
        imports=behind.imports, queue=behind.import_queue, projects=behind.projects,
        policy=behind.import_policy)
    import_url = container.config.require("import_queue_url")
    for _ in range(2):  # the first page; then the second finds 3 jobs waiting, past 2
        [message] = messages(sqs_client, import_url)
        imports.import_page(ImportJob.from_json(message["Body"]), behind.pipeline,
                            imports=behind.imports, queue=behind.import_queue,
                            projects=behind.projects, open_source=behind.import_source,
                            policy=behind.import_policy, give_way=behind.give_way)

    run = behind.imports.get(owner, report.run.id)
    assert run is not None and (run.listed, run.status) == (3, ImportStatus.LISTING)
    waiting = sqs_client.get_queue_attributes(
        QueueUrl=import_url, AttributeNames=["All"])["Attributes"]
    assert (waiting["ApproximateNumberOfMessages"],
            waiting["ApproximateNumberOfMessagesDelayed"]) == ("0", "1")
    behind.database.close()


@pytest.fixture
def runs(database: Database) -> PostgresImportRepository:
    return PostgresImportRepository(database)


def test_one_source_object_becomes_one_asset_however_many_adopt_it_at_once(
    database_url: str, runs: PostgresImportRepository, owner: str,
) -> None:
    run = runs.start(owner, uuid.uuid4(), ImportSource("b", "p/"), None, "UTC")[0]
    listed = StoredObject("p/IMG_1.JPG", 1234, '"abc"')
    results: list[tuple[Any, bool] | Exception] = []
    barrier = threading.Barrier(8)

    def adopt() -> None:
        database = Database(database_url)
        try:
            barrier.wait()
            results.append(PostgresAssetRepository(database).add_adopted(
                NewAsset(id=uuid.uuid4(), owner_id=owner, filename="IMG_1.JPG",
                         content_type="image/jpeg", size_bytes=1234, declared_sha256=None,
                         project_id=None),
                import_id=run.id, source_bucket="b", source=listed))
        except Conflict as exc:  # added by another between this one's check and its read
            results.append(exc)
        finally:
            database.close()

    threads = [threading.Thread(target=adopt) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    adopted = [result for result in results if isinstance(result, tuple)]
    assert sum(added for _, added in adopted) == 1
    assert len({asset.id for asset, _ in adopted}) == 1
    assert runs.asset_totals(owner, run.id) == {Status.PENDING: 1}


def test_a_second_start_of_a_source_being_listed_joins_it(runs: PostgresImportRepository,
                                                          owner: str) -> None:
    repo = runs
    first, started = repo.start(owner, uuid.uuid4(), ImportSource("b", "p/"), None, "UTC")
    second, again = repo.start(owner, uuid.uuid4(), ImportSource("b", "p/"), None, "UTC")
    other, elsewhere = repo.start(owner, uuid.uuid4(), ImportSource("b", "q/"), None, "UTC")
    assert (started, again, elsewhere) == (True, False, True)
    assert second.id == first.id and other.id != first.id
    assert repo.advance(first, after_key=None, listed=0, skipped={}, done=True)
    assert not repo.advance(first, after_key=None, listed=0, skipped={}, done=True)
    third, anew = repo.start(owner, uuid.uuid4(), ImportSource("b", "p/"), None, "UTC")
    assert anew and third.id != first.id  # the first one has finished listing


@pytest.mark.parametrize("limit", [64 * MIB, MIB], ids=["one request", "in parts"])
def test_a_copy_stays_inside_the_server_in_one_request_or_in_parts(
    container: Container, s3_client: Any, bucket: str, limit: int,
) -> None:
    data = bytes(range(256)) * (11 * MIB // 256)
    s3_client.put_object(Bucket=bucket, Key="source/scan.tif", Body=data)
    [listed] = container.import_source(bucket).list_page("source/", after=None, limit=10).objects
    store = S3ObjectStore(lambda: container.s3_client, bucket, signer=container.storage._signer,  # type: ignore[attr-defined]
                          copy_limit=limit, copy_part_bytes=5 * MIB)

    store.copy_in(bucket, listed, "originals/x/copy", content_type="image/tiff")
    copied = s3_client.get_object(Bucket=bucket, Key="originals/x/copy")
    assert hashlib.sha256(copied["Body"].read()).digest() == hashlib.sha256(data).digest()
    assert copied["ContentType"] == "image/tiff"

    # moto ignores the copy's If-Match on the listed ETag; test_embedded_store.py shows a
    # replaced source refused by SeaweedFS.
    s3_client.delete_object(Bucket=bucket, Key="source/scan.tif")
    with pytest.raises(ObjectNotFound):
        store.copy_in(bucket, listed, "originals/x/other", content_type="image/tiff")
    assert "Contents" not in s3_client.list_objects_v2(Bucket=bucket, Prefix="originals/x/other")
    assert s3_client.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def test_a_source_is_listed_in_key_order_after_a_key_and_a_missing_bucket_is_named(
    container: Container, s3_client: Any, bucket: str,
) -> None:
    for key in ("a/3", "a/1", "a/2", "b/1"):
        s3_client.put_object(Bucket=bucket, Key=key, Body=b"x")
    source = container.import_source(bucket)
    first = source.list_page("a/", after=None, limit=2)
    assert ([o.key for o in first.objects], first.more) == (["a/1", "a/2"], True)
    last = source.list_page("a/", after="a/2", limit=2)
    assert ([o.key for o in last.objects], last.more) == (["a/3"], False)
    with pytest.raises(ObjectNotFound, match="no bucket"):
        container.import_source(f"missing-{uuid.uuid4().hex[:8]}").list_page("", after=None,
                                                                              limit=1)
