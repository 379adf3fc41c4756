"""All of Lightbox's settings: each declared once, in ``SETTINGS``, and read from there.

The names are the same on a laptop and in Lambda: the local runtime sets them from what
``template.yaml`` declares. boto3 reads its own variables (``AWS_REGION``,
``AWS_ENDPOINT_URL``, credentials), which is how one code base talks to AWS, LocalStack,
MinIO or the embedded moto server.

The declaration is also what ``docs/CONFIGURATION.md``'s table is written from
(``python -m infra.configuration``) and what tests hold ``template.yaml`` and every other
mention of a ``LIGHTBOX_*`` variable to.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from lightbox.domain import TILE_SIZE
from lightbox.errors import ConfigError

MIB = 1024**2
GIB = 1024**3
# S3's limits: an object of up to 5 TiB, in at most 10 000 parts of 5 MiB to 5 GiB.
S3_OBJECT_LIMIT = 5 * 1024 * GIB
S3_MIN_PART_BYTES = 5 * MIB
THUMBNAIL_FORMATS = ("jpeg", "webp")
THUMBNAIL_SIZE_RANGE = (16, 8192)
# Presigned URLs live at most a week (SigV4).
URL_TTL_LIMIT = 7 * 24 * 3600
# SQS postpones a message by at most 12 hours.
VISIBILITY_LIMIT = 43200


@dataclass(frozen=True)
class Text:
    """Any text; an empty variable counts as unset, as CloudFormation passes an empty
    parameter."""

    default: str | None = None

    def read(self, name: str, raw: str | None) -> str | None:
        return raw or self.default


@dataclass(frozen=True)
class Whole:
    """A whole number from ``minimum`` to ``maximum``; empty counts as unset."""

    default: int
    minimum: int = 1
    maximum: int | None = None

    def read(self, name: str, raw: str | None) -> int:
        if raw is None or raw == "":
            return self.default
        try:
            value = int(raw)
        except ValueError:
            raise ConfigError(f"{name} must be a whole number, not {raw!r}") from None
        if value < self.minimum or (self.maximum is not None and value > self.maximum):
            bound = f" and at most {self.maximum}" if self.maximum is not None else ""
            raise ConfigError(f"{name} must be at least {self.minimum}{bound}, not {value}")
        return value


@dataclass(frozen=True)
class Flag:
    """true, yes or 1; false, no or 0; empty counts as unset."""

    # None: another value decides (Config.from_env says how).
    default: bool | None

    def read(self, name: str, raw: str | None) -> bool | None:
        text = (raw or "").strip().lower()
        if text == "":
            return self.default
        if text in ("1", "true", "yes"):
            return True
        if text in ("0", "false", "no"):
            return False
        raise ConfigError(f"{name} must be true or false, not {text!r}")


@dataclass(frozen=True)
class Parsed:
    """Text in a form of its own, which ``parse`` turns into the value (or refuses with the
    variable's name). Only an unset variable takes the default; an empty one is parsed too."""

    default: str
    parse: Callable[[str, str], Any]

    def read(self, name: str, raw: str | None) -> Any:
        return self.parse(name, self.default if raw is None else raw)


@dataclass(frozen=True)
class Setting:
    name: str  # the environment variable
    field: str  # the Config attribute it fills
    kind: Text | Whole | Flag | Parsed  # how it is read, and its default
    doc: str  # one line: what it means
    used_by: str  # the functions that read it
    # template.yaml sets it; tests check that it does, and that it sets nothing undeclared.
    template: bool = False
    # What the default alone does not say: what an unset value means, or where it differs.
    default_note: str = ""


def _sizes(name: str, raw: str) -> tuple[int, ...]:
    smallest, largest = THUMBNAIL_SIZE_RANGE
    try:
        sizes = sorted({int(part) for part in raw.split(",") if part.strip()})
    except ValueError:
        raise ConfigError(f"{name} must be pixel sizes like 256,1280, not {raw!r}") from None
    if not sizes or sizes[0] < smallest or sizes[-1] > largest:
        raise ConfigError(f"{name} must list sizes between {smallest} and {largest} pixels")
    return tuple(sizes)


def _formats(name: str, raw: str) -> tuple[str, ...]:
    formats = tuple(dict.fromkeys(part.strip().lower() for part in raw.split(",") if part.strip()))
    if not formats or not set(formats) <= set(THUMBNAIL_FORMATS):
        choices = " and/or ".join(THUMBNAIL_FORMATS)
        raise ConfigError(f"{name} must list {choices}, not {raw!r}")
    return formats


def _issuer(name: str, raw: str) -> str | None:
    """Compared without its trailing slash, which issuers write either way."""
    return raw.rstrip("/") or None


def _import_sources(name: str, raw: str) -> tuple[str, ...]:
    """BUCKET/PREFIX patterns. A prefix is whole folders (empty, or ending in "/"), and
    ``{owner}`` a whole folder name: ``photos/{owner}`` would give owner ``al`` ``alice``'s."""
    sources = tuple(part.strip() for part in raw.split(",") if part.strip())
    for source in sources:
        bucket, slash, prefix = source.partition("/")
        folders = prefix.split("/")
        if not bucket or not slash or (prefix and not prefix.endswith("/")) or any(
                "{owner}" in folder and folder != "{owner}" for folder in folders):
            raise ConfigError(f"{name} must list BUCKET/PREFIX/ patterns of whole folders "
                              f"({{owner}} one of them), not {source!r}")
    return sources


_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LOG_FORMATS = ("json", "text")


def _arns(name: str, raw: str) -> tuple[str, ...]:
    arns = tuple(part.strip() for part in raw.split(",") if part.strip())
    for arn in arns:
        if not arn.startswith("arn:") or ":function:" not in arn:
            raise ConfigError(f"{name} must list Lambda function ARNs, not {arn!r}")
    return arns


def _level(name: str, raw: str) -> str:
    level = raw.strip().upper()
    if level not in _LEVELS:
        raise ConfigError(f"{name} must be one of {', '.join(_LEVELS)}, not {raw!r}")
    return level


def _log_format(name: str, raw: str) -> str:
    style = raw.strip().lower()
    if style not in LOG_FORMATS:
        raise ConfigError(f"{name} must be json or text, not {raw!r}")
    return style


SETTINGS = (
    Setting("DATABASE_URL", "database_url", Text(), "PostgreSQL URL", "all",
            template=True, default_note="required"),
    Setting("LIGHTBOX_DATABASE_IAM_AUTH", "database_iam_auth", Flag(False),
            "sign in with a fresh IAM token per connection instead of the URL's password (RDS "
            "Proxy; the template sets it when it creates the database)", "all", template=True),
    Setting("LIGHTBOX_BUCKET", "bucket", Text(), "the media bucket", "all",
            template=True, default_note="required"),
    Setting("LIGHTBOX_THUMBNAIL_QUEUE_URL", "thumbnail_queue_url", Text(),
            "where thumbnail jobs of the standard lane go",
            "upload-complete, reaper, library (`/health`, stats), admin (redrive, recover)",
            template=True),
    Setting("LIGHTBOX_LARGE_THUMBNAIL_QUEUE_URL", "large_thumbnail_queue_url", Text(),
            "where jobs of the large lane go",
            "upload-complete, reaper, library (`/health`, stats), admin (redrive, recover)",
            template=True, default_note="the standard queue"),
    Setting("LIGHTBOX_VIDEO_QUEUE_URL", "video_queue_url", Text(),
            "where jobs of the video lane go",
            "upload-complete, reaper, library (`/health`, stats), admin (redrive, recover)",
            template=True, default_note="clips wait, retried, until it is set"),
    Setting("LIGHTBOX_BACKFILL_QUEUE_URL", "backfill_queue_url", Text(),
            "where jobs of the backfill lane go: the renders of what imports adopt",
            "upload-complete, importer, reaper, library (`/health`, stats), admin (redrive, "
            "recover)", template=True, default_note="the standard queue"),
    Setting("LIGHTBOX_IMPORT_QUEUE_URL", "import_queue_url", Text(),
            "where imports' pages go, each listed and adopted by the importer",
            "library (`POST /v1/imports`), importer, reaper, admin (recover)", template=True,
            default_note="imports refused"),
    Setting("LIGHTBOX_IMPORT_SOURCES", "import_sources",
            Parsed("{bucket}/imports/{owner}/", _import_sources),
            "where owners may import from: `BUCKET/PREFIX` patterns, comma-separated; `{owner}` "
            "stands for the importing owner's id, `{bucket}` for the media bucket. A pattern "
            "without `{owner}` lets every owner import what is under it",
            "library (`POST /v1/imports`), importer", template=True,
            default_note="each owner's `imports/OWNER/` in the media bucket"),
    Setting("LIGHTBOX_IMPORT_PAGE_SIZE", "import_page_size", Whole(1000, maximum=1000),
            "source objects an importer run lists and adopts before it hands the rest on",
            "importer"),
    Setting("LIGHTBOX_IMPORT_BACKLOG", "import_backlog", Whole(1000, maximum=100_000),
            "backfill jobs waiting past which an import's next page waits for the lane to "
            "catch up", "importer"),
    Setting("LIGHTBOX_INGEST_QUEUE_URL", "ingest_queue_url", Text(),
            "the bucket events' queue, where redrive sends their dead letters back",
            "admin (redrive)", template=True),
    Setting("LIGHTBOX_INGEST_DEAD_LETTER_QUEUE_URL", "ingest_dead_letter_queue_url", Text(),
            "the bucket events' dead-letter queue", "admin (redrive)", template=True),
    Setting("LIGHTBOX_THUMBNAIL_DEAD_LETTER_QUEUE_URL", "thumbnail_dead_letter_queue_url",
            Text(), "the standard lane's dead-letter queue", "admin (redrive)", template=True),
    Setting("LIGHTBOX_LARGE_THUMBNAIL_DEAD_LETTER_QUEUE_URL",
            "large_thumbnail_dead_letter_queue_url", Text(),
            "the large lane's dead-letter queue", "admin (redrive)", template=True,
            default_note="the large lane's letters are not redriven"),
    Setting("LIGHTBOX_VIDEO_DEAD_LETTER_QUEUE_URL", "video_dead_letter_queue_url", Text(),
            "the video lane's dead-letter queue", "admin (redrive)", template=True,
            default_note="the video lane's letters are not redriven"),
    Setting("LIGHTBOX_BACKFILL_DEAD_LETTER_QUEUE_URL", "backfill_dead_letter_queue_url", Text(),
            "the backfill lane's dead-letter queue", "admin (redrive)", template=True,
            default_note="the backfill lane's letters are not redriven"),
    Setting("LIGHTBOX_WEBHOOK_TOKEN", "webhook_token", Text(),
            "the bearer token MinIO sends to `/hooks/minio`", "upload-complete",
            default_note="webhooks refused with 403"),
    Setting("LIGHTBOX_CORS_ORIGIN", "cors_origin", Text("*"),
            "`Access-Control-Allow-Origin` on every answer, errors included",
            "presign, upload-complete, library", template=True),
    Setting("LIGHTBOX_GALLERY_URL", "gallery_url", Text(),
            "where the web gallery is served: a share's link opens it there", "library",
            template=True, default_note="the API's own URL, where the local stack serves it"),
    Setting("LIGHTBOX_OIDC_ISSUER", "oidc_issuer", Parsed("", _issuer),
            "also accept JWTs of this issuer", "authorizer", template=True,
            default_note="API keys only"),
    Setting("LIGHTBOX_OIDC_AUDIENCE", "oidc_audience", Text(),
            "the client id tokens must carry (`aud`, or Cognito's `client_id`)", "authorizer",
            template=True, default_note="any"),
    Setting("LIGHTBOX_OIDC_JWKS_URL", "oidc_jwks_url", Text(), "where the issuer's keys are",
            "authorizer", template=True, default_note="`ISSUER/.well-known/jwks.json`"),
    Setting("LIGHTBOX_OIDC_OWNER_CLAIM", "oidc_owner_claim", Text("sub"),
            "the claim that names the owner", "authorizer"),
    Setting("LIGHTBOX_MAX_UPLOAD_BYTES", "max_upload_bytes",
            Whole(S3_OBJECT_LIMIT, maximum=S3_OBJECT_LIMIT), "largest original accepted",
            "presign", template=True, default_note="S3's limit"),
    Setting("LIGHTBOX_MULTIPART_THRESHOLD_BYTES", "multipart_threshold_bytes",
            Whole(64 * MIB, maximum=5 * GIB), "originals this large are uploaded in parts",
            "presign"),
    Setting("LIGHTBOX_MULTIPART_PART_BYTES", "multipart_part_bytes",
            Whole(16 * MIB, minimum=S3_MIN_PART_BYTES, maximum=5 * GIB),
            "part size; grows so that no upload needs more than 10 000 parts", "presign"),
    Setting("LIGHTBOX_MAX_PENDING_UPLOADS", "max_pending_uploads", Whole(1000),
            "uploads an owner may have begun and not finished", "presign"),
    Setting("LIGHTBOX_MAX_PROJECTS", "max_projects", Whole(1000), "projects per owner",
            "library"),
    Setting("LIGHTBOX_THUMBNAIL_SIZES", "thumbnail_sizes", Parsed("256,1280", _sizes),
            "longest side of each derivative, px, comma-separated "
            f"({THUMBNAIL_SIZE_RANGE[0]}–{THUMBNAIL_SIZE_RANGE[1]}); after a change, "
            "`lightbox admin rerender` brings ready assets up to date",
            "thumbnail, video, resize, library (rerender)", template=True),
    Setting("LIGHTBOX_THUMBNAIL_FORMATS", "thumbnail_formats", Parsed("jpeg", _formats),
            " and/or ".join(f"`{name}`" for name in THUMBNAIL_FORMATS) + ", comma-separated",
            "thumbnail, video, resize, library (rerender)"),
    Setting("LIGHTBOX_ON_DEMAND_SIZES", "on_demand_sizes",
            Parsed("64,128,512,640,1024,2048", _sizes),
            "further sizes (px) that `GET /v1/assets/{id}/thumbnails/{size}` renders on first "
            "request and keeps; any size on neither list is refused", "resize", template=True),
    Setting("LIGHTBOX_JPEG_QUALITY", "jpeg_quality", Whole(85, maximum=95),
            "JPEG quality of derivatives", "thumbnail, video, resize, library (rerender)"),
    Setting("LIGHTBOX_WEBP_QUALITY", "webp_quality", Whole(80, maximum=100),
            "WebP quality of derivatives", "thumbnail, video, resize, library (rerender)"),
    Setting("LIGHTBOX_UPLOAD_URL_TTL", "upload_url_ttl", Whole(900, maximum=URL_TTL_LIMIT),
            "seconds an upload URL stays valid", "presign"),
    Setting("LIGHTBOX_DOWNLOAD_URL_TTL", "download_url_ttl", Whole(3600, maximum=URL_TTL_LIMIT),
            "seconds a download URL stays valid", "library, resize"),
    Setting("LIGHTBOX_TILES_ABOVE_PIXELS", "tiles_above_pixels",
            Whole(4096, minimum=TILE_SIZE, maximum=1_000_000),
            "images whose longest side is longer than this (px) get deep-zoom tiles of their "
            f"first page ({TILE_SIZE} px, IIIF level 0), if their whole page is within "
            "`LIGHTBOX_MAX_IMAGE_PIXELS`; after a change, `lightbox admin rerender` brings ready "
            "assets up to date", "thumbnail, video, resize, library (rerender)"),
    Setting("LIGHTBOX_MAX_IMAGE_PIXELS", "max_image_pixels", Whole(250_000_000),
            "most pixels decoded at once (JPEG at its reduced scale); larger images fail",
            "thumbnail"),
    Setting("LIGHTBOX_MAX_STREAMED_PIXELS", "max_streamed_pixels", Whole(4_000_000_000),
            "most pixels of a TIFF page read strip by strip", "thumbnail"),
    Setting("LIGHTBOX_MAX_PAGES", "max_pages", Whole(100, maximum=10_000),
            "pages that get thumbnails; all are counted", "thumbnail"),
    Setting("LIGHTBOX_MAX_VIDEO_SECONDS", "max_video_seconds", Whole(12 * 3600),
            "longest clip accepted, by what its container claims", "video"),
    Setting("LIGHTBOX_PROCESSING_LEASE_SECONDS", "processing_lease_seconds", Whole(900),
            "after this a claim may be taken over; longer than the function's timeout, at most "
            "the queue's visibility timeout", "thumbnail, reaper", template=True,
            default_note="the template sets `1800` for the large lane and the reaper"),
    Setting("LIGHTBOX_MAX_ATTEMPTS", "max_attempts", Whole(5),
            "claims before an asset is given up as `failed`", "thumbnail"),
    Setting("LIGHTBOX_LARGE_UPLOAD_BYTES", "large_upload_bytes", Whole(50 * MIB),
            "originals this large take the large lane",
            "upload-complete, reaper, admin (redrive, recover)"),
    Setting("LIGHTBOX_LARGE_IMAGE_PIXELS", "large_image_pixels", Whole(100_000_000),
            "so do images with this many pixels",
            "upload-complete, reaper, admin (redrive, recover)"),
    Setting("LIGHTBOX_RETRY_BASE_SECONDS", "retry_base_seconds",
            Whole(30, maximum=VISIBILITY_LIMIT),
            "first backoff of a failed message, doubled per receive",
            "upload-complete, thumbnail"),
    Setting("LIGHTBOX_RETRY_MAX_SECONDS", "retry_max_seconds",
            Whole(900, maximum=VISIBILITY_LIMIT), "longest backoff", "upload-complete, thumbnail"),
    Setting("LIGHTBOX_REDRIVE_AFTER_SECONDS", "redrive_after_seconds", Whole(600),
            "an `uploaded` asset this old has lost its job", "reaper"),
    Setting("LIGHTBOX_PENDING_GRACE_SECONDS", "pending_grace_seconds", Whole(3600),
            "after the upload URL expires, how long a `pending` asset may still wait", "reaper"),
    Setting("LIGHTBOX_TRASH_DAYS", "trash_days", Whole(30, maximum=3650),
            "days an asset stays in the trash before the reaper deletes it for good", "reaper"),
    Setting("LIGHTBOX_GIVE_WAY_SECONDS", "give_way_seconds", Whole(0, minimum=0, maximum=60),
            "longest a background step (an import's objects, a backfill render) waits while a "
            "user's own upload is on its way (services/courtesy.py)", "importer, backfill",
            default_note="the local runtime sets `3` for its background functions"),
    Setting("LIGHTBOX_S3_PATH_STYLE", "s3_path_style", Flag(None),
            "path-style S3 URLs (LocalStack, MinIO, moto)", "all",
            default_note="`true` when `AWS_ENDPOINT_URL_S3` or `AWS_ENDPOINT_URL` is set"),
    Setting("LIGHTBOX_PAUSABLE_FUNCTIONS", "pausable_functions", Parsed("", _arns),
            "the ARNs of the functions that `lightbox admin pause` stops: those that work "
            "through a queue or run on a schedule", "library", template=True,
            default_note="none: pausing answers that there is nothing to pause"),
    Setting("LIGHTBOX_LOG_LEVEL", "log_level", Parsed("INFO", _level),
            "log level of `lightbox.*`", "all", template=True),
    Setting("LIGHTBOX_LOG_FORMAT", "log_format", Parsed("json", _log_format),
            "`json`: a JSON object per line, as CloudWatch Logs Insights reads them; `text`: a "
            "readable line with the same keys (asset_id, owner, request_id) after it", "all",
            default_note="the local runtime sets `text`"),
    Setting("LIGHTBOX_METRICS_NAMESPACE", "metrics_namespace", Text("Lightbox"),
            "the CloudWatch namespace of the functions' metrics (Embedded Metric Format)", "all",
            template=True),
    Setting("LIGHTBOX_MIGRATIONS_DIR", "migrations_dir", Text(), "where the SQL files are",
            "admin", default_note="`migrations/` in the package"),
)


@dataclass(frozen=True)
class Config:
    """The settings' values, typed: an attribute per ``SETTINGS`` entry, and the S3 endpoint
    that boto3 reads from its own variables."""

    database_url: str | None
    database_iam_auth: bool
    bucket: str | None
    thumbnail_queue_url: str | None
    large_thumbnail_queue_url: str | None
    video_queue_url: str | None
    backfill_queue_url: str | None
    import_queue_url: str | None
    import_sources: tuple[str, ...]
    import_page_size: int
    import_backlog: int
    ingest_queue_url: str | None
    ingest_dead_letter_queue_url: str | None
    thumbnail_dead_letter_queue_url: str | None
    large_thumbnail_dead_letter_queue_url: str | None
    video_dead_letter_queue_url: str | None
    backfill_dead_letter_queue_url: str | None
    webhook_token: str | None
    cors_origin: str
    gallery_url: str | None
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
    on_demand_sizes: tuple[int, ...]
    jpeg_quality: int
    webp_quality: int
    upload_url_ttl: int
    download_url_ttl: int
    tiles_above_pixels: int
    max_image_pixels: int
    max_streamed_pixels: int
    max_pages: int
    max_video_seconds: int
    processing_lease_seconds: int
    max_attempts: int
    large_upload_bytes: int
    large_image_pixels: int
    retry_base_seconds: int
    retry_max_seconds: int
    redrive_after_seconds: int
    pending_grace_seconds: int
    trash_days: int
    give_way_seconds: int
    s3_endpoint_url: str | None
    s3_path_style: bool
    pausable_functions: tuple[str, ...]
    log_level: str
    log_format: str
    metrics_namespace: str
    migrations_dir: str | None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Config:
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {
            setting.field: setting.kind.read(setting.name, env.get(setting.name))
            for setting in SETTINGS
        }
        # The defaults that follow other values. Cognito publishes its keys here; other
        # issuers may say where theirs are. A custom endpoint (LocalStack, MinIO, moto) wants
        # path-style URLs unless told otherwise.
        endpoint = env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL")
        issuer = values["oidc_issuer"]
        if values["oidc_jwks_url"] is None and issuer:
            values["oidc_jwks_url"] = f"{issuer}/.well-known/jwks.json"
        if values["s3_path_style"] is None:
            values["s3_path_style"] = endpoint is not None
        return cls(s3_endpoint_url=endpoint, **values)

    def require(self, name: str) -> str:
        """The value of an optional setting that this function cannot do without."""
        value = getattr(self, name)
        if not value:
            raise ConfigError(f"{_NAMES[name]} is not set")
        return str(value)


_NAMES = {setting.field: setting.name for setting in SETTINGS}
