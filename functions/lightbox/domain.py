"""What Lightbox talks about: assets, their states, their derivatives, and where they live."""

from __future__ import annotations

import hashlib
import json
import math
import re
import unicodedata
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from uuid import UUID

from lightbox.errors import InvalidEvent

# The longest filename kept (characters), whether a client declares it or an import reads it.
MAX_FILENAME_CHARS = 255
MAX_PROJECT_NAME_CHARS = 200
ORIGINALS_PREFIX = "originals/"
DERIVATIVES_PREFIX = "derivatives/"
# An owner's id is part of every key of its objects: a short, safe name.
OWNER_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")  # whole strings only: fullmatch
_ORIGINAL_KEY = re.compile(r"originals/(?P<owner>[A-Za-z0-9_-]{1,64})/(?P<asset>[0-9a-f-]{36})")


def is_control(char: str) -> bool:
    """Whether a character is one no name or text the library keeps may hold as it is: a
    control character, or half of a surrogate pair."""
    return unicodedata.category(char) in ("Cc", "Cs")


def tidy_name(text: str, max_chars: int) -> str:
    """A name found in data (an object's key, an album's title) as the library keeps names:
    NFC, control characters shown as U+FFFD, cut to size. Names a client sends are refused
    instead when they break these rules: it can send another."""
    clean = "".join("\ufffd" if is_control(char) else char
                    for char in unicodedata.normalize("NFC", text))
    return clean[:max_chars]


class Status(StrEnum):
    PENDING = "pending"
    UPLOADED = "uploaded"
    PROCESSING = "processing"
    READY = "ready"
    FAILED = "failed"
    DUPLICATE = "duplicate"
    DELETED = "deleted"
    # How an asset in the trash is shown, whatever its status underneath, which it keeps and
    # comes back with when restored; never stored.
    TRASHED = "trashed"


class Lane(StrEnum):
    """Which thumbnail queue a job joins: a huge scan, a burst of clips or a library being
    imported must not hold up a burst of photos."""

    STANDARD = "standard"
    LARGE = "large"
    VIDEO = "video"
    BACKFILL = "backfill"


@dataclass(frozen=True)
class Lanes:
    """Video takes its own lane; background images (an import's, a rerender) the backfill
    lane; other images this large, in bytes or pixels, the large lane."""

    large_bytes: int
    large_pixels: int

    def of(self, size_bytes: int, dimensions: tuple[int, int] | None, *,
           video: bool = False, background: bool = False) -> Lane:
        if video:
            return Lane.VIDEO
        if background:
            return Lane.BACKFILL
        pixels = dimensions[0] * dimensions[1] if dimensions else 0
        large = size_bytes >= self.large_bytes or pixels >= self.large_pixels
        return Lane.LARGE if large else Lane.STANDARD


@dataclass(frozen=True)
class Location:
    """Where on Earth, in degrees (WGS 84)."""

    latitude: float
    longitude: float


@dataclass(frozen=True)
class Declared:
    """What a client says of an original that the original may not say itself (an importer,
    from a Google Takeout sidecar): when it was taken (wall-clock time, as EXIF's), where,
    and a description."""

    taken_at: datetime | None = None
    location: Location | None = None
    description: str | None = None

    def __bool__(self) -> bool:
        return any((self.taken_at, self.location, self.description))


@dataclass(frozen=True)
class ImageInfo:
    """What the imaging core learned about an original."""

    width: int
    height: int
    pages: int
    bit_depth: int
    color_mode: str
    taken_at: datetime | None = None
    camera_make: str | None = None
    camera_model: str | None = None
    orientation: int | None = None
    # Of an animation: its frames, and the seconds one loop plays. A still image has one frame
    # and no duration; None frames means an animation whose frames were not counted.
    frames: int | None = 1
    duration: float | None = None
    # Whether the original records where it was taken (EXIF GPS); None where it is not read.
    has_location: bool | None = None
    # Of a video: its codec (h264, hevc, vp9, av1), frames per second, and whether it has sound.
    codec: str | None = None
    frame_rate: float | None = None
    has_audio: bool | None = None


@dataclass(frozen=True)
class Derivative:
    """A rendered thumbnail stored in the bucket."""

    size: int
    page: int
    format: str
    width: int
    height: int
    key: str
    bytes: int


@dataclass(frozen=True)
class Asset:
    id: UUID
    owner_id: str
    status: Status
    filename: str
    content_type: str
    size_bytes: int
    created_at: datetime
    updated_at: datetime
    project_id: UUID | None = None
    declared_sha256: str | None = None
    sha256: str | None = None
    duplicate_of: UUID | None = None
    info: ImageInfo | None = None
    derivatives: tuple[Derivative, ...] = field(default=())
    error: str | None = None
    attempts: int = 0
    claimed_at: datetime | None = None
    placeholder: str | None = None
    multipart_upload_id: str | None = None
    # What its client said of it (an importer, from a Takeout sidecar).
    declared: Declared = field(default_factory=Declared)
    # The import that adopted it from an object already in a bucket.
    import_id: UUID | None = None
    # Where the asset's latest change sits in the change feed (a transaction id).
    change_seq: int = 0
    # The 64-bit perceptual hash of what it shows, unsigned; None until rendered with one.
    perceptual_hash: int | None = None
    # The fingerprint of the render spec its derivatives were made with ("" before any).
    render_spec: str = ""
    # When its owner put it in the trash (None: it is not there).
    trashed_at: datetime | None = None
    # Every project (album) it is in: its project_id first, then the others as they were
    # added (migration 0016).
    project_ids: tuple[UUID, ...] = ()
    # The deep-zoom tiles of its first page, when it is large enough to have them.
    tiles: Pyramid | None = None

    @property
    def shown_status(self) -> Status:
        """Its status as its owner sees it: trashed while in the trash."""
        return Status.TRASHED if self.trashed_at is not None else self.status

    @property
    def original_key(self) -> str:
        return original_key(self.owner_id, self.id)

    @property
    def derivatives_prefix(self) -> str:
        return f"{DERIVATIVES_PREFIX}{self.owner_id}/{self.id}/"

    @property
    def taken_sort(self) -> datetime:
        """When the photo was taken, else when it was uploaded: UTC wall-clock time."""
        if self.info is not None and self.info.taken_at is not None:
            return self.info.taken_at
        return self.created_at.astimezone(UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class NewAsset:
    """An asset as presign creates it: declared, not yet uploaded."""

    id: UUID
    owner_id: str
    filename: str
    content_type: str
    size_bytes: int
    declared_sha256: str | None
    project_id: UUID | None
    multipart_upload_id: str | None = None
    declared: Declared = field(default_factory=Declared)


class ImportStatus(StrEnum):
    LISTING = "listing"  # its source is still being listed and adopted, page by page
    LISTED = "listed"  # every object was adopted or skipped; their renders may still run
    FAILED = "failed"  # the source could not be listed (the error says why)


@dataclass(frozen=True)
class ImportSource:
    """Where an import adopts objects from: a bucket and a key prefix."""

    bucket: str
    prefix: str

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"


@dataclass(frozen=True)
class ImportRequest:
    source: ImportSource
    project_id: UUID | None = None
    time_zone: str = "UTC"  # an IANA name: where the photos' wall clocks were


@dataclass(frozen=True)
class Import:
    """A run adopting what a bucket holds under a prefix, and how far it has come."""

    id: UUID
    owner_id: str
    source: ImportSource
    project_id: UUID | None
    status: ImportStatus
    created_at: datetime
    updated_at: datetime
    time_zone: str = "UTC"  # where a Takeout sidecar's instants are read as wall clocks
    after_key: str | None = None  # the last source key handled: a resumed run goes on after it
    listed: int = 0
    skipped: dict[str, int] = field(default_factory=dict)  # by reason
    error: str | None = None


@dataclass(frozen=True)
class ImportJob:
    """The message that has the importer list and adopt an import's next page."""

    import_id: UUID
    owner_id: str

    def to_json(self) -> str:
        return json.dumps({"import_id": str(self.import_id), "owner_id": self.owner_id})

    @classmethod
    def from_json(cls, body: str) -> ImportJob:
        try:
            data = json.loads(body)
            return cls(import_id=UUID(data["import_id"]), owner_id=str(data["owner_id"]))
        except (ValueError, TypeError, KeyError) as exc:
            raise InvalidEvent(f"not an import job: {body[:200]!r}") from exc


@dataclass(frozen=True)
class Project:
    """An album: it holds any number of assets, and an asset may be in several."""

    id: UUID
    owner_id: str
    name: str
    created_at: datetime
    updated_at: datetime
    asset_count: int = 0


@dataclass(frozen=True)
class Share:
    """A read-only link to a project, as stored: never its token, only the token's hash."""

    id: UUID
    owner_id: str
    project_id: UUID
    allow_original: bool
    created_at: datetime
    expires_at: datetime | None = None
    revoked_at: datetime | None = None


@dataclass(frozen=True)
class ApiKey:
    """An API key as stored: never the key itself, only what tells it apart."""

    id: UUID
    owner_id: str
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None
    # An admin key also sees figures about the whole service, not only its owner's library.
    admin: bool = False
    # A rotated key works until then (None: until revoked).
    expires_at: datetime | None = None

    def usable_at(self, moment: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > moment)


@dataclass(frozen=True)
class Principal:
    """Who a request acts for: an owner, and whether the credentials are an admin's."""

    owner_id: str
    admin: bool = False


@dataclass(frozen=True)
class ThumbnailJob:
    """The message upload-complete sends to the thumbnail queue; ``rerender`` asks instead
    that a ready asset's derivatives be made again with the current render spec."""

    asset_id: UUID
    owner_id: str
    rerender: bool = False
    # When upload-complete accepted the upload (seconds since the epoch), on its first job
    # only: the render reports the time from there to ready. Not part of what the job is.
    accepted_at: float | None = field(default=None, compare=False)

    def to_json(self) -> str:
        body: dict[str, object] = {"asset_id": str(self.asset_id), "owner_id": self.owner_id}
        if self.rerender:  # written only when set: a first render's message is as it was
            body["rerender"] = True
        if self.accepted_at is not None:
            body["accepted_at"] = round(self.accepted_at, 3)
        return json.dumps(body)

    @classmethod
    def from_json(cls, body: str) -> ThumbnailJob:
        try:
            data = json.loads(body)
            rerender = data.get("rerender", False)
            if not isinstance(rerender, bool):
                raise ValueError("rerender must be true or false")
            accepted_at = data.get("accepted_at")
            if accepted_at is not None and (isinstance(accepted_at, bool) or not isinstance(
                    accepted_at, int | float) or not math.isfinite(accepted_at)):
                raise ValueError("accepted_at must be a time in seconds")
            return cls(asset_id=UUID(data["asset_id"]), owner_id=str(data["owner_id"]),
                       rerender=rerender, accepted_at=accepted_at)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise InvalidEvent(f"not a thumbnail job: {body[:200]!r}") from exc


def original_key(owner_id: str, asset_id: UUID) -> str:
    return f"{ORIGINALS_PREFIX}{owner_id}/{asset_id}"


def parse_original_key(key: str) -> tuple[str, UUID] | None:
    """The owner and asset of a key under ``originals/``, or None for any other key."""
    match = _ORIGINAL_KEY.fullmatch(key)
    if match is None:
        return None
    try:
        return match["owner"], UUID(match["asset"])
    except ValueError:
        return None


def derivative_key(owner_id: str, asset_id: UUID, page: int, size: int, fmt: str) -> str:
    return f"{DERIVATIVES_PREFIX}{owner_id}/{asset_id}/{page}-{size}.{fmt}"


def tile_key(owner_id: str, asset_id: UUID, tile: Tile) -> str:
    """Where a tile is stored: its IIIF path under the asset's derivatives, so that whatever
    deletes those deletes it too."""
    return f"{DERIVATIVES_PREFIX}{owner_id}/{asset_id}/iiif/{tile.path}"


# Deep-zoom tiles are this many pixels square (the last row and column smaller).
TILE_SIZE = 512
# IIIF regions and sizes as Tile.path writes them: numbers without signs or leading zeros.
_REGION = re.compile(r"(0|[1-9][0-9]{0,8}),(0|[1-9][0-9]{0,8}),[1-9][0-9]{0,8},[1-9][0-9]{0,8}")
_SIZE = re.compile(r"[1-9][0-9]{0,8},[1-9][0-9]{0,8}")


@dataclass(frozen=True)
class Tile:
    """One tile of a pyramid, as IIIF Image API 3.0 names it: the ``region`` of the full image
    it shows (x, y, w, h in full-resolution pixels) at 1/``scale`` of its size, ``size``."""

    scale: int
    region: tuple[int, int, int, int]
    size: tuple[int, int]
    full: bool  # the region is the whole image, which IIIF calls "full"

    @property
    def path(self) -> str:
        """``{region}/{size}/0/default.jpg``, in IIIF's canonical form."""
        region = "full" if self.full else ",".join(map(str, self.region))
        return f"{region}/{self.size[0]},{self.size[1]}/0/default.jpg"


@dataclass(frozen=True)
class Pyramid:
    """The tiles of an image of ``width``×``height`` pixels: at scale factors 1, 2, 4, … until
    the whole image fits one tile, each level cut into ``tile_size`` squares from its top left
    (the last row and column smaller). A level at scale factor s is ceil(width / s) ×
    ceil(height / s) pixels: what IIIF's level-0 viewers (OpenSeadragon) ask for."""

    width: int
    height: int
    tile_size: int = TILE_SIZE

    @property
    def scale_factors(self) -> tuple[int, ...]:
        factors = [1]
        while -(-max(self.width, self.height) // factors[-1]) > self.tile_size:
            factors.append(factors[-1] * 2)
        return tuple(factors)

    def level_size(self, scale: int) -> tuple[int, int]:
        return -(-self.width // scale), -(-self.height // scale)

    def level(self, scale: int) -> Iterator[Tile]:
        """The tiles of one level, row by row."""
        span = self.tile_size * scale
        for y in range(0, self.height, span):
            for x in range(0, self.width, span):
                yield self._tile_at(scale, x, y)

    def tiles(self) -> Iterator[Tile]:
        for scale in self.scale_factors:
            yield from self.level(scale)

    def count(self) -> int:
        """How many tiles ``tiles`` yields, without making them."""
        return sum(-(-self.width // (self.tile_size * scale))
                   * -(-self.height // (self.tile_size * scale))
                   for scale in self.scale_factors)

    def find(self, region: str, size: str) -> Tile | None:
        """The tile a request names by its IIIF region and size, written exactly as
        ``Tile.path`` writes them; None for anything else, however close."""
        if _SIZE.fullmatch(size) is None:
            return None
        if region == "full":
            x = y = 0
        else:
            position = _REGION.fullmatch(region)
            if position is None:
                return None
            x, y = int(position[1]), int(position[2])
        path = f"{region}/{size}/0/default.jpg"
        for scale in self.scale_factors:
            span = self.tile_size * scale
            if x % span == 0 and y % span == 0 and x < self.width and y < self.height:
                tile = self._tile_at(scale, x, y)
                if tile.path == path:
                    return tile
        return None

    def _tile_at(self, scale: int, x: int, y: int) -> Tile:
        span = self.tile_size * scale
        w, h = min(span, self.width - x), min(span, self.height - y)
        return Tile(scale=scale, region=(x, y, w, h), size=(-(-w // scale), -(-h // scale)),
                    full=(w, h) == (self.width, self.height))


# Bumped whenever rendering itself changes what the same spec makes of an original (another
# resampling filter, colour handling, encoder settings): every asset is then out of date.
RENDER_VERSION = 1


@dataclass(frozen=True)
class RenderSpec:
    """What the thumbnail function asks of the imaging core."""

    sizes: tuple[int, ...]
    jpeg_quality: int
    max_pixels: int
    formats: tuple[str, ...] = ("jpeg",)
    webp_quality: int = 80
    max_streamed_pixels: int = 4_000_000_000
    max_pages: int = 100
    max_video_seconds: int = 12 * 3600
    # Images whose longest side is longer than this get deep-zoom tiles of their first page.
    tiles_above: int = 4096

    @property
    def fingerprint(self) -> str:
        """Names what this spec makes of an original: its sizes, formats and qualities, which
        images get tiles, and the renderer's version. The limits (pixels, pages, seconds) are
        left out: they decide whether an original can be rendered, not what its derivatives
        look like."""
        made = json.dumps([RENDER_VERSION, sorted(self.sizes), sorted(self.formats),
                           self.jpeg_quality, self.webp_quality, self.tiles_above, TILE_SIZE])
        return hashlib.sha256(made.encode()).hexdigest()[:16]

    def pyramid(self, width: int, height: int) -> Pyramid | None:
        """The tiles an image of this size gets, if it is large enough for them."""
        return Pyramid(width, height) if max(width, height) > self.tiles_above else None


@dataclass(frozen=True)
class RenderedImage:
    size: int
    page: int
    format: str
    width: int
    height: int
    data: bytes


@dataclass(frozen=True)
class Rendition:
    """Everything the imaging core made of one original."""

    info: ImageInfo
    images: tuple[RenderedImage, ...]
    # A ThumbHash of the first page, base64: a blurred preview in about 30 bytes.
    placeholder: str | None = None
    # The first page's 64-bit perceptual hash (``imaging.perceptual``), unsigned.
    perceptual_hash: int | None = None
    # The first page's deep-zoom tiles, when it is large enough to have them.
    tiles: RenderedTiles | None = None


@dataclass(frozen=True)
class RenderedTiles:
    """The first page's deep-zoom tiles, made when asked, while the original is still at hand:
    ``make`` decodes the page at full size and returns its pyramid, as large as the page
    decoded (a RAW's sensor data decodes at half size), and its tiles as JPEG, each made when
    it is read; None when the page as decoded is too small for tiles."""

    make: Callable[[], tuple[Pyramid, Generator[tuple[Tile, bytes]]] | None]
