"""Per-owner limits under real concurrency: callers that each have a connection of their own,
as concurrent Lambda execution environments do, all asking at once, never pass a limit.

Real PostgreSQL and a real S3 (moto server); the callers start together behind a barrier.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar
from uuid import UUID

import pytest

from lightbox.config import Config
from lightbox.domain import Status
from lightbox.errors import LimitReached
from lightbox.services import library
from lightbox.services.uploads import MultipartUpload, UploadRequest, create_upload
from lightbox.wiring import Container

LIMIT = 5
CALLERS = 16
T = TypeVar("T")


@pytest.fixture
def config(aws_env: None, aws_endpoint: str, bucket: str, database_url: str) -> Config:
    return Config.from_env({
        "LIGHTBOX_BUCKET": bucket, "AWS_ENDPOINT_URL": aws_endpoint,
        "DATABASE_URL": database_url,
        "LIGHTBOX_MAX_PENDING_UPLOADS": str(LIMIT), "LIGHTBOX_MAX_PROJECTS": str(LIMIT),
    })


def all_at_once(config: Config, call: Callable[[Container, int], T]) -> list[T | None]:
    """``call`` from CALLERS threads, each with its own container, released together;
    None for each call refused with LimitReached."""
    barrier = threading.Barrier(CALLERS)

    def one(n: int) -> T | None:
        container = Container(config)
        try:
            barrier.wait(timeout=60)
            return call(container, n)
        except LimitReached:
            return None
        finally:
            container.database.close()

    with ThreadPoolExecutor(CALLERS) as pool:
        return list(pool.map(one, range(CALLERS), timeout=120))


def test_concurrent_presigns_never_pass_the_pending_limit_nor_leave_uploads_open(
    config: Config, owner: str, s3_client: Any, bucket: str,
) -> None:
    def presign(container: Container, n: int) -> UUID:
        # Large enough to go in parts: the multipart upload starts before the limit is checked.
        request = UploadRequest(f"{n}.tif", "image/tiff", config.multipart_threshold_bytes)
        ticket = create_upload(owner, request, pipeline=container.pipeline,
                               projects=container.projects, policy=container.upload_policy)
        assert isinstance(ticket.upload, MultipartUpload)
        return ticket.asset_id

    created = [asset_id for asset_id in all_at_once(config, presign) if asset_id is not None]

    assert len(created) == LIMIT
    container = Container(config)
    try:
        assert container.assets.totals(owner)[Status.PENDING].count == LIMIT
    finally:
        container.database.close()
    # The refused callers aborted the multipart uploads they had started.
    open_uploads = s3_client.list_multipart_uploads(
        Bucket=bucket, Prefix=f"originals/{owner}/").get("Uploads", [])
    assert sorted(upload["Key"].rsplit("/", 1)[-1] for upload in open_uploads) == sorted(
        str(asset_id) for asset_id in created)


def test_concurrent_project_creations_never_pass_the_project_limit(
    config: Config, owner: str,
) -> None:
    def create(container: Container, n: int) -> UUID:
        return library.create_project(owner, f"Album {n}", projects=container.projects,
                                      max_projects=LIMIT).id

    created = [project_id for project_id in all_at_once(config, create) if project_id]

    assert len(created) == LIMIT
    container = Container(config)
    try:
        assert len(container.projects.list(owner)) == LIMIT
    finally:
        container.database.close()
