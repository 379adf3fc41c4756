"""The composition root: each function's adapters, built from config on first use.

A handler module creates one ``Container`` at import, which connects to nothing; each
adapter is built the first time an invocation needs it and then lives as long as the
execution environment. Tests pass fakes (or a prepared ``Config``) to the constructor.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, cast

from botocore.config import Config as BotoConfig
from botocore.session import Session as BotoSession

from lightbox.adapters.api_keys import PostgresApiKeyRepository
from lightbox.adapters.catalog import PostgresCatalog, PostgresProjectRepository
from lightbox.adapters.postgres import Database, PostgresAssetRepository
from lightbox.adapters.rds import iam_auth_token
from lightbox.adapters.s3 import S3ObjectStore, S3UrlSigner
from lightbox.adapters.sqs import SqsDeadLetterQueue, SqsJobQueue, SqsRedelivery
from lightbox.batch import Backoff
from lightbox.config import Config
from lightbox.domain import Lane, RenderSpec
from lightbox.ports import (
    ApiKeyRepository,
    AssetRepository,
    Catalog,
    DeadLetterQueue,
    JobQueue,
    ObjectStore,
    ProjectRepository,
    Renderer,
)
from lightbox.services.auth import TokenVerifier
from lightbox.services.reaper import ReaperPolicy
from lightbox.services.thumbnails import ProcessingPolicy
from lightbox.services.uploads import Lanes, UploadPolicy

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sqs import SQSClient


class Container:
    def __init__(
        self,
        config: Config | None = None,
        *,
        assets: AssetRepository | None = None,
        storage: ObjectStore | None = None,
        jobs: JobQueue | None = None,
        render: Renderer | None = None,
        backoff: Backoff | None = None,
        catalog: Catalog | None = None,
        projects: ProjectRepository | None = None,
        api_keys: ApiKeyRepository | None = None,
    ) -> None:
        self._config = config
        self._database: Database | None = None
        self._assets = assets
        self._catalog = catalog
        self._projects = projects
        self._api_keys = api_keys
        self._token_verifier: TokenVerifier | None = None
        self._storage = storage
        self._jobs = jobs
        self._render = render
        self._backoff = backoff
        self._session: BotoSession | None = None
        self._sqs: SQSClient | None = None

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = Config.from_env()
            logging.getLogger("lightbox").setLevel(self._config.log_level)
        return self._config

    @property
    def assets(self) -> AssetRepository:
        if self._assets is None:
            self._assets = PostgresAssetRepository(self.database)
        return self._assets

    @property
    def catalog(self) -> Catalog:
        if self._catalog is None:
            self._catalog = PostgresCatalog(self.database)
        return self._catalog

    @property
    def projects(self) -> ProjectRepository:
        if self._projects is None:
            self._projects = PostgresProjectRepository(self.database)
        return self._projects

    @property
    def api_keys(self) -> ApiKeyRepository:
        if self._api_keys is None:
            self._api_keys = PostgresApiKeyRepository(self.database)
        return self._api_keys

    @property
    def token_verifier(self) -> TokenVerifier | None:
        """JWTs of the configured OIDC issuer, or None: API keys only."""
        config = self.config
        if self._token_verifier is None and config.oidc_issuer and config.oidc_jwks_url:
            # Imported here: PyJWT and cryptography load only where tokens are checked.
            from lightbox.adapters.oidc import OidcTokenVerifier

            self._token_verifier = OidcTokenVerifier(
                issuer=config.oidc_issuer, jwks_url=config.oidc_jwks_url,
                audience=config.oidc_audience, owner_claim=config.oidc_owner_claim,
            )
        return self._token_verifier

    @property
    def database(self) -> Database:
        """One connection per execution environment, shared by every repository."""
        if self._database is None:
            self._database = Database(self.config.require("database_url"),
                                      password=self.database_password)
        return self._database

    @property
    def database_password(self) -> Callable[[], str] | None:
        """Where the database password comes from: the URL itself, or an IAM token."""
        if not self.config.database_iam_auth:
            return None
        return functools.partial(
            iam_auth_token, self._boto_session(), self.config.require("database_url")
        )

    @property
    def storage(self) -> ObjectStore:
        if self._storage is None:
            bucket = self.config.require("bucket")
            signer = S3UrlSigner(self._boto_session(), bucket,
                                 endpoint_url=self.config.s3_endpoint_url,
                                 path_style=self.config.s3_path_style)
            # The client itself is made when a call first needs S3, not to sign a URL.
            self._storage = S3ObjectStore(self._s3_client, bucket, signer=signer)
        return self._storage

    @property
    def jobs(self) -> JobQueue:
        if self._jobs is None:
            queue_urls = {Lane.STANDARD: self.config.require("thumbnail_queue_url")}
            if self.config.large_thumbnail_queue_url:
                queue_urls[Lane.LARGE] = self.config.large_thumbnail_queue_url
            self._jobs = SqsJobQueue(self._sqs_client(), queue_urls)
        return self._jobs

    def dead_letters(self) -> tuple[DeadLetterQueue, list[DeadLetterQueue]]:
        """The ingest queue's dead letters, and those of each thumbnail lane."""
        config, client = self.config, self._sqs_client()
        events = SqsDeadLetterQueue(client, config.require("ingest_dead_letter_queue_url"),
                                    config.require("ingest_queue_url"))
        job_letters: list[DeadLetterQueue] = [SqsDeadLetterQueue(
            client, config.require("thumbnail_dead_letter_queue_url"),
            config.require("thumbnail_queue_url"))]
        if config.large_thumbnail_dead_letter_queue_url and config.large_thumbnail_queue_url:
            job_letters.append(SqsDeadLetterQueue(
                client, config.large_thumbnail_dead_letter_queue_url,
                config.large_thumbnail_queue_url))
        return events, job_letters

    @property
    def reaper_policy(self) -> ReaperPolicy:
        config = self.config
        return ReaperPolicy(
            pending_seconds=config.upload_url_ttl + config.pending_grace_seconds,
            uploaded_seconds=config.redrive_after_seconds,
            processing_seconds=config.processing_lease_seconds,
        )

    @property
    def upload_policy(self) -> UploadPolicy:
        config = self.config
        return UploadPolicy(
            url_ttl=config.upload_url_ttl, multipart_threshold=config.multipart_threshold_bytes,
            part_bytes=config.multipart_part_bytes, max_pending=config.max_pending_uploads,
        )

    @property
    def lanes(self) -> Lanes:
        return Lanes(large_bytes=self.config.large_upload_bytes,
                     large_pixels=self.config.large_image_pixels)

    @property
    def backoff(self) -> Backoff:
        if self._backoff is None:
            self._backoff = Backoff(
                postpone=SqsRedelivery(self._sqs_client()).postpone,
                base_seconds=self.config.retry_base_seconds,
                max_seconds=self.config.retry_max_seconds,
            )
        return self._backoff

    @property
    def render(self) -> Renderer:
        if self._render is None:
            # Imported here: Pillow, numpy and tifffile load only in the thumbnail function.
            from lightbox.imaging import render

            self._render = render
        return self._render

    @property
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
        )

    @property
    def processing_policy(self) -> ProcessingPolicy:
        config = self.config
        return ProcessingPolicy(
            lease_seconds=config.processing_lease_seconds, max_attempts=config.max_attempts
        )

    def _boto_session(self) -> BotoSession:
        # botocore without boto3: boto3 would also import s3transfer, a tenth of a cold start.
        if self._session is None:
            self._session = BotoSession()
        return self._session

    def _s3_client(self) -> S3Client:
        return cast("S3Client", self._boto_session().create_client(
            "s3",
            config=BotoConfig(
                signature_version="s3v4",
                s3={"addressing_style": "path" if self.config.s3_path_style else "auto"},
                connect_timeout=5,
                read_timeout=60,
                retries={"mode": "standard", "max_attempts": 3},
            ),
        ))

    def _sqs_client(self) -> SQSClient:
        if self._sqs is None:
            self._sqs = cast("SQSClient", self._boto_session().create_client(
                "sqs",
                config=BotoConfig(
                    connect_timeout=5,
                    read_timeout=30,
                    retries={"mode": "standard", "max_attempts": 3},
                ),
            ))
        return self._sqs
