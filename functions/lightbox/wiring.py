"""The composition root: each function's dependencies, built from config on first use.

A handler module creates one ``Container`` at import, which connects to nothing; each
dependency is a cached property, built the first time an invocation needs it and then kept as
long as the execution environment. A test replaces any of them by name, before first use:
``Container(config, storage=fake_storage)``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING, Any, cast

from botocore.config import Config as BotoConfig
from botocore.session import Session as BotoSession

from lightbox.adapters.api_keys import PostgresApiKeyRepository
from lightbox.adapters.assets import PostgresAssetRepository
from lightbox.adapters.imports import PostgresImportRepository
from lightbox.adapters.metrics import EmfMetrics, LoggedMetrics
from lightbox.adapters.postgres import Database
from lightbox.adapters.processing import EventSourceSwitch
from lightbox.adapters.projects import PostgresProjectRepository
from lightbox.adapters.rds import iam_auth_token
from lightbox.adapters.s3 import S3ObjectStore, S3SourceBucket, S3UrlSigner
from lightbox.adapters.shares import PostgresShareRepository
from lightbox.adapters.sqs import SqsDeadLetterQueue, SqsImportQueue, SqsJobQueue, SqsRedelivery
from lightbox.adapters.tile_grants import PostgresTileGrantKey
from lightbox.batch import Backoff
from lightbox.config import Config
from lightbox.domain import Lane, Lanes, RenderSpec
from lightbox.ports import (
    ApiKeyRepository,
    AssetRepository,
    ClipRenderer,
    DeadLetterQueue,
    ImportQueue,
    ImportRepository,
    JobQueue,
    Metrics,
    ObjectStore,
    Pipeline,
    ProcessingSwitch,
    ProjectRepository,
    Renderer,
    ShareRepository,
    SourceBucket,
    TileGrantKey,
)
from lightbox.services.auth import TokenVerifier
from lightbox.services.courtesy import GiveWay
from lightbox.services.imports import ImportPolicy
from lightbox.services.reaper import ReaperPolicy
from lightbox.services.resize import ResizePolicy
from lightbox.services.thumbnails import ProcessingPolicy
from lightbox.services.uploads import UploadPolicy
from lightbox.telemetry import start as start_telemetry

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sqs import SQSClient


_CONTROL_PLANE = BotoConfig(connect_timeout=3, read_timeout=10,
                            retries={"mode": "standard", "max_attempts": 1})


class Container:
    def __init__(self, config: Config | None = None, **replacements: object) -> None:
        if config is not None:
            replacements["config"] = config
        for name, value in replacements.items():
            if not isinstance(getattr(type(self), name, None), cached_property):
                raise TypeError(f"the container has no dependency {name!r}")
            self.__dict__[name] = value  # what a cached property would have cached

    @cached_property
    def config(self) -> Config:
        config = Config.from_env()
        start_telemetry(config.log_level, config.log_format)
        return config

    @cached_property
    def metrics(self) -> Metrics:
        if self.config.log_format == "text":
            return LoggedMetrics()
        return EmfMetrics(self.config.metrics_namespace)

    # The records: one connection per execution environment, shared by every repository.

    @cached_property
    def database(self) -> Database:
        return Database(self.config.require("database_url"), password=self.database_password)

    @cached_property
    def database_password(self) -> Callable[[], str] | None:
        """Where the database password comes from: the URL itself, or an IAM token."""
        if not self.config.database_iam_auth:
            return None
        return functools.partial(
            iam_auth_token, self.boto_session, self.config.require("database_url")
        )

    @cached_property
    def assets(self) -> AssetRepository:
        return PostgresAssetRepository(self.database)

    @cached_property
    def imports(self) -> ImportRepository:
        return PostgresImportRepository(self.database)

    @cached_property
    def projects(self) -> ProjectRepository:
        return PostgresProjectRepository(self.database)

    @cached_property
    def shares(self) -> ShareRepository:
        return PostgresShareRepository(self.database)

    @cached_property
    def tile_key(self) -> TileGrantKey:
        return PostgresTileGrantKey(lambda: self.database)

    @cached_property
    def api_keys(self) -> ApiKeyRepository:
        return PostgresApiKeyRepository(self.database)

    @cached_property
    def token_verifier(self) -> TokenVerifier | None:
        """JWTs of the configured OIDC issuer, or None: API keys only."""
        config = self.config
        if not (config.oidc_issuer and config.oidc_jwks_url):
            return None
        # Imported here: PyJWT and cryptography load only where tokens are checked.
        from lightbox.adapters.oidc import OidcTokenVerifier

        return OidcTokenVerifier(
            issuer=config.oidc_issuer, jwks_url=config.oidc_jwks_url,
            audience=config.oidc_audience, owner_claim=config.oidc_owner_claim,
        )

    # The bucket and the queues. Their clients are made when a call first needs them, not to
    # sign a URL: a presign answers without ever creating one.

    @cached_property
    def storage(self) -> ObjectStore:
        bucket = self.config.require("bucket")
        signer = S3UrlSigner(self.boto_session, bucket,
                             endpoint_url=self.config.s3_endpoint_url,
                             path_style=self.config.s3_path_style)
        return S3ObjectStore(lambda: self.s3_client, bucket, signer=signer)

    def import_source(self, bucket: str) -> SourceBucket:
        """A bucket an import reads, through the same client."""
        return S3SourceBucket(lambda: self.s3_client, bucket)

    @cached_property
    def jobs(self) -> JobQueue:
        return SqsJobQueue(lambda: self.sqs_client, self._thumbnail_queue_urls)

    @cached_property
    def import_queue(self) -> ImportQueue:
        # Its URL is required here, before an import is recorded: without a queue, a run
        # would be recorded that nothing ever lists.
        return SqsImportQueue(lambda: self.sqs_client, self.config.require("import_queue_url"))

    @cached_property
    def pipeline(self) -> Pipeline:
        return Pipeline(assets=self.assets, storage=self.storage, jobs=self.jobs,
                        lanes=self.lanes, tile_key=self.tile_key, metrics=self.metrics)

    @cached_property
    def ingest_dead_letters(self) -> DeadLetterQueue:
        return SqsDeadLetterQueue(self.sqs_client,
                                  self.config.require("ingest_dead_letter_queue_url"),
                                  self.config.require("ingest_queue_url"))

    @cached_property
    def job_dead_letters(self) -> list[DeadLetterQueue]:
        """Those of each thumbnail lane."""
        config = self.config
        letters: list[DeadLetterQueue] = [SqsDeadLetterQueue(
            self.sqs_client, config.require("thumbnail_dead_letter_queue_url"),
            config.require("thumbnail_queue_url"))]
        if config.large_thumbnail_dead_letter_queue_url and config.large_thumbnail_queue_url:
            letters.append(SqsDeadLetterQueue(
                self.sqs_client, config.large_thumbnail_dead_letter_queue_url,
                config.large_thumbnail_queue_url))
        if config.video_dead_letter_queue_url and config.video_queue_url:
            letters.append(SqsDeadLetterQueue(
                self.sqs_client, config.video_dead_letter_queue_url, config.video_queue_url))
        if config.backfill_dead_letter_queue_url and config.backfill_queue_url:
            letters.append(SqsDeadLetterQueue(
                self.sqs_client, config.backfill_dead_letter_queue_url,
                config.backfill_queue_url))
        return letters

    @cached_property
    def backoff(self) -> Backoff:
        return Backoff(
            postpone=SqsRedelivery(self.sqs_client).postpone,
            base_seconds=self.config.retry_base_seconds,
            max_seconds=self.config.retry_max_seconds,
        )

    # Rendering.

    @cached_property
    def render(self) -> Renderer:
        # Imported here: Pillow, numpy and tifffile load only in the thumbnail function.
        from lightbox.imaging.render import render

        return render

    @cached_property
    def render_clip(self) -> ClipRenderer:
        # Imported here: PyAV loads FFmpeg, and only the video function has it.
        from lightbox.video.render import render_clip

        return render_clip

    @cached_property
    def render_spec(self) -> RenderSpec:
        config = self.config
        return RenderSpec(
            sizes=config.thumbnail_sizes,
            formats=config.thumbnail_formats,
            jpeg_quality=config.jpeg_quality,
            webp_quality=config.webp_quality,
            max_pixels=config.max_image_pixels,
            max_streamed_pixels=config.max_streamed_pixels,
            max_pages=config.max_pages,
            max_video_seconds=config.max_video_seconds,
            tiles_above=config.tiles_above_pixels,
        )

    # The policies the services follow, from config.

    @cached_property
    def lanes(self) -> Lanes:
        return Lanes(large_bytes=self.config.large_upload_bytes,
                     large_pixels=self.config.large_image_pixels)

    @cached_property
    def upload_policy(self) -> UploadPolicy:
        config = self.config
        return UploadPolicy(
            url_ttl=config.upload_url_ttl, multipart_threshold=config.multipart_threshold_bytes,
            part_bytes=config.multipart_part_bytes, max_pending=config.max_pending_uploads,
        )

    @cached_property
    def give_way(self) -> GiveWay:
        return GiveWay(self.assets.live_upload_under_way,
                       longest_seconds=self.config.give_way_seconds)

    @cached_property
    def processing_policy(self) -> ProcessingPolicy:
        config = self.config
        return ProcessingPolicy(
            lease_seconds=config.processing_lease_seconds, max_attempts=config.max_attempts
        )

    @cached_property
    def resize_policy(self) -> ResizePolicy:
        return ResizePolicy(on_demand_sizes=self.config.on_demand_sizes,
                            url_ttl=self.config.download_url_ttl)

    @cached_property
    def import_policy(self) -> ImportPolicy:
        config = self.config
        return ImportPolicy(sources=config.import_sources, media_bucket=config.require("bucket"),
                            page_size=config.import_page_size,
                            backlog=config.import_backlog,
                            max_upload_bytes=config.max_upload_bytes,
                            max_projects=config.max_projects)

    @cached_property
    def reaper_policy(self) -> ReaperPolicy:
        config = self.config
        return ReaperPolicy(
            pending_seconds=config.upload_url_ttl + config.pending_grace_seconds,
            uploaded_seconds=config.redrive_after_seconds,
            processing_seconds=config.processing_lease_seconds,
            trash_days=config.trash_days,
        )

    # AWS clients, through botocore without boto3: boto3 would also import s3transfer, a
    # tenth of a cold start.

    @cached_property
    def boto_session(self) -> BotoSession:
        return BotoSession()

    @cached_property
    def sqs_client(self) -> SQSClient:
        return cast("SQSClient", self.boto_session.create_client(
            "sqs",
            config=BotoConfig(
                connect_timeout=5,
                read_timeout=30,
                retries={"mode": "standard", "max_attempts": 3},
            ),
        ))

    def _thumbnail_queue_urls(self) -> dict[Lane, str]:
        queue_urls = {Lane.STANDARD: self.config.require("thumbnail_queue_url")}
        if self.config.large_thumbnail_queue_url:
            queue_urls[Lane.LARGE] = self.config.large_thumbnail_queue_url
        if self.config.video_queue_url:
            queue_urls[Lane.VIDEO] = self.config.video_queue_url
        if self.config.backfill_queue_url:
            queue_urls[Lane.BACKFILL] = self.config.backfill_queue_url
        return queue_urls

    @cached_property
    def processing_switch(self) -> ProcessingSwitch:
        return EventSourceSwitch(lambda: self.lambda_client, lambda: self.events_client,
                                 self.config.pausable_functions)

    # One attempt, soon given up: from a VPC without a way out to Lambda's and EventBridge's
    # APIs, a pause answers a prompt 503 rather than API Gateway's timeout.

    @cached_property
    def lambda_client(self) -> Any:
        return self.boto_session.create_client("lambda", config=_CONTROL_PLANE)

    @cached_property
    def events_client(self) -> Any:
        return self.boto_session.create_client("events", config=_CONTROL_PLANE)

    @cached_property
    def s3_client(self) -> S3Client:
        return cast("S3Client", self.boto_session.create_client(
            "s3",
            config=BotoConfig(
                signature_version="s3v4",
                s3={"addressing_style": "path" if self.config.s3_path_style else "auto"},
                connect_timeout=5,
                read_timeout=60,
                retries={"mode": "standard", "max_attempts": 3},
            ),
        ))
