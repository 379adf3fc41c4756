"""All of Lightbox's settings, read from the environment in this one place.

The names are the same on a laptop and in Lambda: the local runtime sets them from what
``template.yaml`` declares. boto3 reads its own variables (``AWS_REGION``,
``AWS_ENDPOINT_URL``, credentials), which is how one code base talks to AWS, LocalStack,
MinIO or the embedded moto server.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from lightbox.errors import ConfigError

MIB = 1024**2
GIB = 1024**3
# S3's limits: an object of up to 5 TiB, in at most 10 000 parts of 5 MiB to 5 GiB.
S3_OBJECT_LIMIT = 5 * 1024 * GIB
S3_MIN_PART_BYTES = 5 * MIB
THUMBNAIL_FORMATS = ("jpeg", "webp")


@dataclass(frozen=True)
class Config:
    database_url: str | None
    database_iam_auth: bool
    bucket: str | None
    thumbnail_queue_url: str | None
    large_thumbnail_queue_url: str | None
    ingest_queue_url: str | None
    ingest_dead_letter_queue_url: str | None
    thumbnail_dead_letter_queue_url: str | None
    large_thumbnail_dead_letter_queue_url: str | None
    webhook_token: str | None
    cors_origin: str
    oidc_issuer: str | None
    oidc_audience: str | None
    oidc_jwks_url: str | None
    oidc_owner_claim: str
    max_upload_bytes: int
    multipart_threshold_bytes: int
    multipart_part_bytes: int
    max_pending_uploads: int
    max_projects: int
    thumbnail_sizes: tuple[int, ...]
    thumbnail_formats: tuple[str, ...]
    jpeg_quality: int
    webp_quality: int
    upload_url_ttl: int
    download_url_ttl: int
    max_image_pixels: int
    max_streamed_pixels: int
    max_pages: int
    processing_lease_seconds: int
    max_attempts: int
    large_upload_bytes: int
    large_image_pixels: int
    retry_base_seconds: int
    retry_max_seconds: int
    redrive_after_seconds: int
    pending_grace_seconds: int
    s3_endpoint_url: str | None
    s3_path_style: bool
    log_level: str
    migrations_dir: str | None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Config:
        env = os.environ if environ is None else environ
        endpoint = env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL")
        oidc_issuer = (env.get("LIGHTBOX_OIDC_ISSUER") or "").rstrip("/") or None
        return cls(
            database_url=env.get("DATABASE_URL") or None,
            database_iam_auth=_bool(env, "LIGHTBOX_DATABASE_IAM_AUTH", default=False),
            bucket=env.get("LIGHTBOX_BUCKET") or None,
            thumbnail_queue_url=env.get("LIGHTBOX_THUMBNAIL_QUEUE_URL") or None,
            large_thumbnail_queue_url=env.get("LIGHTBOX_LARGE_THUMBNAIL_QUEUE_URL") or None,
            ingest_queue_url=env.get("LIGHTBOX_INGEST_QUEUE_URL") or None,
            ingest_dead_letter_queue_url=env.get("LIGHTBOX_INGEST_DEAD_LETTER_QUEUE_URL") or None,
            thumbnail_dead_letter_queue_url=(
                env.get("LIGHTBOX_THUMBNAIL_DEAD_LETTER_QUEUE_URL") or None),
            large_thumbnail_dead_letter_queue_url=(
                env.get("LIGHTBOX_LARGE_THUMBNAIL_DEAD_LETTER_QUEUE_URL") or None),
            webhook_token=env.get("LIGHTBOX_WEBHOOK_TOKEN") or None,
            cors_origin=env.get("LIGHTBOX_CORS_ORIGIN") or "*",
            oidc_issuer=oidc_issuer,
            oidc_audience=env.get("LIGHTBOX_OIDC_AUDIENCE") or None,
            # Cognito publishes its keys here; other issuers may say where theirs are.
            oidc_jwks_url=env.get("LIGHTBOX_OIDC_JWKS_URL")
            or (f"{oidc_issuer}/.well-known/jwks.json" if oidc_issuer else None),
            oidc_owner_claim=env.get("LIGHTBOX_OIDC_OWNER_CLAIM") or "sub",
            max_upload_bytes=_int(env, "LIGHTBOX_MAX_UPLOAD_BYTES", S3_OBJECT_LIMIT,
                                  maximum=S3_OBJECT_LIMIT),
            multipart_threshold_bytes=_int(env, "LIGHTBOX_MULTIPART_THRESHOLD_BYTES", 64 * MIB,
                                           maximum=5 * GIB),
            multipart_part_bytes=_int(env, "LIGHTBOX_MULTIPART_PART_BYTES", 16 * MIB,
                                      minimum=S3_MIN_PART_BYTES, maximum=5 * GIB),
            max_pending_uploads=_int(env, "LIGHTBOX_MAX_PENDING_UPLOADS", 1000),
            max_projects=_int(env, "LIGHTBOX_MAX_PROJECTS", 1000),
            thumbnail_sizes=_sizes(env.get("LIGHTBOX_THUMBNAIL_SIZES", "256,1280")),
            thumbnail_formats=_formats(env.get("LIGHTBOX_THUMBNAIL_FORMATS", "jpeg")),
            jpeg_quality=_int(env, "LIGHTBOX_JPEG_QUALITY", 85, maximum=95),
            webp_quality=_int(env, "LIGHTBOX_WEBP_QUALITY", 80, maximum=100),
            upload_url_ttl=_int(env, "LIGHTBOX_UPLOAD_URL_TTL", 900, maximum=7 * 24 * 3600),
            download_url_ttl=_int(env, "LIGHTBOX_DOWNLOAD_URL_TTL", 3600, maximum=7 * 24 * 3600),
            max_image_pixels=_int(env, "LIGHTBOX_MAX_IMAGE_PIXELS", 250_000_000),
            max_streamed_pixels=_int(env, "LIGHTBOX_MAX_STREAMED_PIXELS", 4_000_000_000),
            max_pages=_int(env, "LIGHTBOX_MAX_PAGES", 100, maximum=10_000),
            processing_lease_seconds=_int(env, "LIGHTBOX_PROCESSING_LEASE_SECONDS", 900),
            max_attempts=_int(env, "LIGHTBOX_MAX_ATTEMPTS", 5),
            large_upload_bytes=_int(env, "LIGHTBOX_LARGE_UPLOAD_BYTES", 50 * 1024**2),
            large_image_pixels=_int(env, "LIGHTBOX_LARGE_IMAGE_PIXELS", 100_000_000),
            retry_base_seconds=_int(env, "LIGHTBOX_RETRY_BASE_SECONDS", 30, maximum=43200),
            retry_max_seconds=_int(env, "LIGHTBOX_RETRY_MAX_SECONDS", 900, maximum=43200),
            redrive_after_seconds=_int(env, "LIGHTBOX_REDRIVE_AFTER_SECONDS", 600),
            pending_grace_seconds=_int(env, "LIGHTBOX_PENDING_GRACE_SECONDS", 3600),
            s3_endpoint_url=endpoint,
            s3_path_style=_bool(env, "LIGHTBOX_S3_PATH_STYLE", default=endpoint is not None),
            log_level=env.get("LIGHTBOX_LOG_LEVEL", "INFO").upper(),
            migrations_dir=env.get("LIGHTBOX_MIGRATIONS_DIR") or None,
        )

    def require(self, name: str) -> str:
        """The value of an optional setting that this function cannot do without."""
        value = getattr(self, name)
        if not value:
            raise ConfigError(f"{_ENV_NAMES[name]} is not set")
        return str(value)


_ENV_NAMES = {
    "database_url": "DATABASE_URL",
    "bucket": "LIGHTBOX_BUCKET",
    "thumbnail_queue_url": "LIGHTBOX_THUMBNAIL_QUEUE_URL",
    "ingest_queue_url": "LIGHTBOX_INGEST_QUEUE_URL",
    "ingest_dead_letter_queue_url": "LIGHTBOX_INGEST_DEAD_LETTER_QUEUE_URL",
    "thumbnail_dead_letter_queue_url": "LIGHTBOX_THUMBNAIL_DEAD_LETTER_QUEUE_URL",
}


def _int(env: Mapping[str, str], name: str, default: int, *, minimum: int = 1,
         maximum: int | None = None) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from None
    if value < minimum or (maximum is not None and value > maximum):
        bound = f" and at most {maximum}" if maximum is not None else ""
        raise ConfigError(f"{name} must be at least {minimum}{bound}, not {value}")
    return value


def _bool(env: Mapping[str, str], name: str, *, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if raw == "":
        return default
    if raw in ("1", "true", "yes"):
        return True
    if raw in ("0", "false", "no"):
        return False
    raise ConfigError(f"{name} must be true or false, not {raw!r}")


def _formats(raw: str) -> tuple[str, ...]:
    formats = tuple(dict.fromkeys(part.strip().lower() for part in raw.split(",") if part.strip()))
    if not formats or not set(formats) <= set(THUMBNAIL_FORMATS):
        choices = " and/or ".join(THUMBNAIL_FORMATS)
        raise ConfigError(f"LIGHTBOX_THUMBNAIL_FORMATS must list {choices}, not {raw!r}")
    return formats


def _sizes(raw: str) -> tuple[int, ...]:
    try:
        sizes = sorted({int(part) for part in raw.split(",") if part.strip()})
    except ValueError:
        raise ConfigError(
            f"LIGHTBOX_THUMBNAIL_SIZES must be pixel sizes like 256,1280, not {raw!r}"
        ) from None
    if not sizes or sizes[0] < 16 or sizes[-1] > 8192:
        raise ConfigError("LIGHTBOX_THUMBNAIL_SIZES must list sizes between 16 and 8192 pixels")
    return tuple(sizes)
