"""What a request says, read into the values the services take.

Everything a client sends is checked here, once, before a service runs: the body's JSON and
its fields (an unknown field is refused by name, not ignored), query parameters, path ids, and
who is calling. Services receive typed values and never see JSON.
"""

from __future__ import annotations

import hmac
import json
import re
import unicodedata
from collections.abc import Collection, Mapping
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from chalice.app import Request

from lightbox import filetypes
from lightbox.config import THUMBNAIL_FORMATS, THUMBNAIL_SIZE_RANGE
from lightbox.domain import (
    MAX_FILENAME_CHARS,
    MAX_PROJECT_NAME_CHARS,
    Declared,
    ImportRequest,
    ImportSource,
    Location,
    Principal,
    Status,
    is_control,
)
from lightbox.errors import (
    AssetNotFound,
    ImportNotFound,
    InvalidField,
    NotFound,
    PayloadTooLarge,
    ProjectNotFound,
    RequestError,
    ShareNotFound,
    Unauthorized,
    unknown_names,
)
from lightbox.services.library import AssetChanges
from lightbox.services.listing import (
    DEFAULT_PAGE_SIZE,
    DEFAULT_SIMILAR_DISTANCE,
    DEFAULT_SIMILAR_LIMIT,
    MAX_PAGE_SIZE,
    MAX_SIMILAR_DISTANCE,
    MAX_SIMILAR_LIMIT,
    GroupsQuery,
    ListQuery,
    SimilarQuery,
    decode_change_cursor,
    decode_groups_cursor,
    decode_page_cursor,
)
from lightbox.services.rerender import MAX_PAGE_SIZE as MAX_RERENDER_PAGE
from lightbox.services.rerender import PAGE_SIZE as RERENDER_PAGE
from lightbox.services.rerender import RerenderCursor
from lightbox.services.resize import ThumbnailRequest
from lightbox.services.sharing import SHARED_ORDER, TOKEN_BYTES, SharedQuery, ShareRequest
from lightbox.services.uploads import MAX_PARTS, MAX_PARTS_PER_ANSWER, PartsQuery, UploadRequest
from lightbox.values import AssetFilter, SortOrder

MAX_DESCRIPTION_CHARS = 2000
# Photographs exist since the 1820s; a date past the next century is a mistake.
EARLIEST_TAKEN, LATEST_TAKEN = 1826, 2200
_RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?(Z|[+-]\d\d:\d\d)")
_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")
# secrets.token_urlsafe: unpadded URL-safe base64 of TOKEN_BYTES bytes.
_SHARE_TOKEN = re.compile(rf"[A-Za-z0-9_-]{{{-(-TOKEN_BYTES * 4 // 3)}}}")
_S3_URI = re.compile(r"s3://(?P<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:/(?P<prefix>.*))?",
                     re.DOTALL)
MAX_KEY_BYTES = 1024  # S3's longest key
MAX_TIME_ZONE_CHARS = 64  # the longest IANA name is 32
# A Host header as API Gateway and browsers send it: a name or an IPv4 or IPv6 address, and a
# port. Anything else is left out of the URLs the API writes.
_HOST = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:[0-9]{1,5})?")
_FILTERS = {"status", "project_id", "content_type", "taken_from", "taken_until", "kind",
            "camera", "q", "sort"}
MAX_SEARCH_CHARS = 200
# Assets put in or taken out of a project by one request, as many as a page of the gallery.
MAX_MEMBERS_AT_ONCE = 500


def owner_of(request: Request) -> str:
    """The owner on whose behalf a request acts, as the authorizer established it."""
    return principal_of(request).owner_id


def principal_of(request: Request) -> Principal:
    """The owner, and whether the key is an admin's, as the authorizer established them."""
    authorizer = (request.context or {}).get("authorizer") or {}
    owner = authorizer.get("owner_id")
    if not isinstance(owner, str) or not owner:
        raise Unauthorized("send 'Authorization: Bearer <API key or token>'")
    # API Gateway hands the authorizer's context values on as strings ("true"); the local
    # gateway as they were returned. Anything else is no admin.
    return Principal(owner, admin=authorizer.get("admin") in (True, "true"))


def api_url(request: Request) -> str:
    """The API's root as the client called it: the scheme and host it reached (API Gateway's
    ``X-Forwarded-Proto`` and ``Host``), then whatever precedes the route in the path it asked
    for (a stage, a custom domain's base path). Without a usable host, the root's path alone.
    """
    headers = request.headers
    route_path = str(request.to_original_event().get("path") or "")
    called = str(request.context.get("path") or route_path)
    prefix = called.removesuffix(route_path) if route_path and called.endswith(route_path) else ""
    host = headers.get("host", "")
    if not _HOST.fullmatch(host):
        return prefix
    scheme = headers.get("x-forwarded-proto", "http").split(",")[0].strip().lower()
    return f"{'https' if scheme == 'https' else 'http'}://{host}{prefix}"


def require_bearer(request: Request, token: str) -> None:
    """Refuse a request without ``Authorization: Bearer <token>``."""
    presented = request.headers.get("authorization", "")
    scheme, _, credentials = presented.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(credentials.strip().encode(),
                                                             token.encode()):
        raise Unauthorized("a valid 'Authorization: Bearer' token is required")


def read_json_object(request: Request) -> dict[str, Any]:
    # Chalice has already refused a Content-Type other than application/json (415).
    try:
        body = json.loads(request.raw_body or b"null")
    except (ValueError, RecursionError):  # RecursionError: nested deeper than json goes
        raise RequestError("the request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise RequestError("the request body must be a JSON object")
    return body


def query_params(request: Request) -> dict[str, str]:
    params: dict[str, str] = {}
    for name in request.query_params or {}:
        values = request.query_params.getlist(name) if request.query_params else []
        if len(values) != 1:
            raise RequestError(f"query parameter {name!r} was given more than once")
        params[name] = values[0]
    return params


def parse_project_query(params: Mapping[str, str]) -> str | None:
    """``GET /v1/projects``: the one name asked for, if any."""
    _refuse_unknown(params, {"name"}, "query parameters")
    return parse_name(params["name"]) if "name" in params else None


def parse_cascade_query(params: Mapping[str, str]) -> bool:
    """``DELETE /v1/projects/{id}``: whether its assets go (to the trash) too."""
    _refuse_unknown(params, {"cascade"}, "query parameters")
    return _flag(params, "cascade")


def parse_delete_query(params: Mapping[str, str]) -> bool:
    """``DELETE /v1/assets/{id}``: whether it is deleted for good rather than trashed."""
    _refuse_unknown(params, {"permanent"}, "query parameters")
    return _flag(params, "permanent")


def _flag(params: Mapping[str, str], name: str) -> bool:
    raw = params.get(name, "false").lower()
    if raw not in ("true", "false"):
        raise InvalidField(f"{name} must be true or false")
    return raw == "true"


def _refuse_unknown(given: Mapping[str, object], known: Collection[str], kind: str) -> None:
    """An unknown name is refused, by name: a misspelt one must not be silently ignored."""
    unknown = set(given) - set(known)
    if unknown:
        raise unknown_names(kind, unknown)


def asset_id_param(raw: str) -> UUID:
    """A path's asset id; anything that is not a UUID names no asset."""
    return _id_param(raw, AssetNotFound, "asset")


def project_id_param(raw: str) -> UUID:
    return _id_param(raw, ProjectNotFound, "project")


def share_id_param(raw: str) -> UUID:
    return _id_param(raw, ShareNotFound, "share")


def share_token_param(raw: str) -> str:
    """A share's token from its link: anything not shaped like one opens nothing."""
    if not _SHARE_TOKEN.fullmatch(raw):
        raise ShareNotFound("no such share: it may have been revoked or have expired")
    return raw


def import_id_param(raw: str) -> UUID:
    return _id_param(raw, ImportNotFound, "import")


def parse_import_request(body: Mapping[str, Any]) -> ImportRequest:
    """``{"source": "s3://BUCKET/PREFIX", "project_id": UUID?, "time_zone": IANA name?}``."""
    _refuse_unknown(body, {"source", "project_id", "time_zone"}, "fields")
    uri = _text(body, "source")
    match = _S3_URI.fullmatch(uri)
    if match is None:
        raise InvalidField("source must be s3://BUCKET/PREFIX, with a bucket name of 3 to 63 "
                           "lower-case letters, digits, dots and hyphens")
    prefix = match["prefix"] or ""
    if len(prefix.encode()) > MAX_KEY_BYTES or any(
            map(is_control, prefix)):
        raise InvalidField(f"the source's prefix must be at most {MAX_KEY_BYTES} bytes, without "
                           "control characters")
    return ImportRequest(ImportSource(match["bucket"], prefix),
                         project_id=parse_uuid(body.get("project_id"), "project_id"),
                         time_zone=_time_zone(body.get("time_zone", "UTC")))


def _time_zone(value: Any) -> str:
    # Imported here: zoneinfo is for imports alone, not every cold start of presign and listing.
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if isinstance(value, str) and 0 < len(value) <= MAX_TIME_ZONE_CHARS:
        try:
            ZoneInfo(value)
        except (ValueError, ZoneInfoNotFoundError):  # a path, or no such zone
            pass
        else:
            return value
    raise InvalidField("time_zone must be a time zone's IANA name, as Europe/Paris or UTC")


def parse_thumbnail_request(size: str, params: Mapping[str, str]) -> ThumbnailRequest:
    """``GET /v1/assets/{id}/thumbnails/{size}?format=jpeg|webp&page=N``; whether the size is
    one the service makes is the service's to say."""
    _refuse_unknown(params, {"format", "page"}, "query parameters")
    fmt = params.get("format")
    if fmt is not None and fmt not in THUMBNAIL_FORMATS:
        raise InvalidField(f"format must be one of {', '.join(THUMBNAIL_FORMATS)}")
    return ThumbnailRequest(size=parse_whole(size, "size", 0, THUMBNAIL_SIZE_RANGE[1]),
                            format=fmt, page=parse_whole(params.get("page"), "page", 1, 10_000))


def parse_rerender_request(body: Mapping[str, Any]) -> tuple[RerenderCursor | None, int]:
    """``{"cursor": the last answer's next_cursor?, "limit": N?}``."""
    _refuse_unknown(body, {"cursor", "limit"}, "fields")
    limit = body.get("limit", RERENDER_PAGE)
    if isinstance(limit, bool) or not isinstance(limit, int) \
            or not 1 <= limit <= MAX_RERENDER_PAGE:
        raise InvalidField(f"limit must be a whole number from 1 to {MAX_RERENDER_PAGE}")
    cursor = body.get("cursor")
    if cursor is None:
        return None, limit
    if not isinstance(cursor, str):
        raise InvalidField("cursor must be the next_cursor of the previous answer")
    render_spec, _, asset_id = cursor.rpartition(".")
    try:
        return RerenderCursor(render_spec, UUID(asset_id)), limit
    except ValueError:
        raise InvalidField("cursor must be the next_cursor of the previous answer") from None


def parse_processing_request(body: Mapping[str, Any]) -> bool:
    """``{"paused": true|false}``: whether to pause or resume."""
    _refuse_unknown(body, {"paused"}, "fields")
    paused = body.get("paused")
    if not isinstance(paused, bool):
        raise InvalidField("paused must be true (pause) or false (resume)")
    return paused


def _id_param(raw: str, error: type[NotFound], kind: str) -> UUID:
    try:
        return UUID(raw)
    except ValueError:
        raise error(f"no {kind} {raw}") from None


def parse_upload_request(body: Mapping[str, Any], *, max_upload_bytes: int) -> UploadRequest:
    _refuse_unknown(body, {"filename", "content_type", "size_bytes", "sha256", "project_id",
                           "taken_at", "location", "description"}, "fields")
    return UploadRequest(
        filename=parse_filename(_text(body, "filename")),
        content_type=filetypes.normalise_content_type(_text(body, "content_type")),
        size_bytes=_size(body.get("size_bytes"), max_upload_bytes),
        sha256=_sha256(body.get("sha256")),
        project_id=parse_uuid(body.get("project_id"), "project_id"),
        declared=Declared(taken_at=_taken_at(body.get("taken_at")),
                          location=_location(body.get("location")),
                          description=_description(body.get("description"))),
    )


def parse_parts_query(params: Mapping[str, str]) -> PartsQuery:
    _refuse_unknown(params, {"first", "limit"}, "query parameters")
    return PartsQuery(first=parse_whole(params.get("first"), "first", 1, MAX_PARTS),
                      limit=parse_whole(params.get("limit"), "limit", MAX_PARTS_PER_ANSWER,
                                   MAX_PARTS_PER_ANSWER))


def _text(body: Mapping[str, Any], name: str) -> str:
    value = body.get(name)
    if value is None:
        raise InvalidField(f"{name} is required")
    if not isinstance(value, str):
        raise InvalidField(f"{name} must be a string")
    return value


def parse_filename(value: str) -> str:
    # Stored as data and never part of a key; still, no control characters in a name.
    name = unicodedata.normalize("NFC", value).strip()
    if not name:
        raise InvalidField("filename must not be empty")
    if len(name) > MAX_FILENAME_CHARS:
        raise InvalidField(f"filename must be at most {MAX_FILENAME_CHARS} characters")
    if any(map(is_control, name)):
        raise InvalidField("filename must not contain control characters")
    return name


def _size(value: Any, max_upload_bytes: int) -> int:
    if value is None:
        raise InvalidField("size_bytes is required")
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidField("size_bytes must be a whole number of bytes")
    if value < 1:
        raise InvalidField("size_bytes must be at least 1")
    if value > max_upload_bytes:
        # Not echoed: it may be hundreds of digits long, and answers stay small.
        raise PayloadTooLarge(f"size_bytes is over the limit of {max_upload_bytes} bytes")
    return value


def parse_whole(raw: str | None, name: str, default: int, maximum: int) -> int:
    """A whole number from 1 to ``maximum`` in a query parameter; ``default`` when absent."""
    if raw is None:
        return default
    # Bounded before int(), which refuses strings of over 4300 digits with a ValueError.
    if not (raw.isascii() and raw.isdigit() and len(raw) <= len(str(maximum))) \
            or not 1 <= int(raw) <= maximum:
        raise InvalidField(f"{name} must be a whole number from 1 to {maximum}")
    return int(raw)


def _sha256(value: Any) -> str | None:
    if value is None:
        return None
    # fullmatch: with match, "$" also matches before a trailing newline.
    if not isinstance(value, str) or not _SHA256.fullmatch(value):
        raise InvalidField("sha256 must be 64 hexadecimal characters")
    return value.lower()


def parse_uuid(value: Any, name: str) -> UUID | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            return UUID(value)
        except ValueError:
            pass
    raise InvalidField(f"{name} must be a UUID")


def parse_project_name(body: Mapping[str, Any]) -> str:
    _refuse_unknown(body, {"name"}, "fields")
    name = body.get("name")
    if not isinstance(name, str):
        raise InvalidField("name is required and must be a string")
    return parse_name(name)


def parse_name(value: str) -> str:
    """A project's name as given, tidied and checked; which names are the same name is the
    database's rule alone (ProjectRepository.find_by_name)."""
    name = unicodedata.normalize("NFC", value).strip()
    if not 1 <= len(name) <= MAX_PROJECT_NAME_CHARS:
        raise InvalidField(f"name must be 1 to {MAX_PROJECT_NAME_CHARS} characters")
    if any(map(is_control, name)):
        raise InvalidField("name must not contain control characters")
    return name


def parse_members(body: Mapping[str, Any]) -> tuple[UUID, ...]:
    """``{"asset_ids": [...]}``: 1 to MAX_MEMBERS_AT_ONCE assets, each once, in order."""
    _refuse_unknown(body, {"asset_ids"}, "fields")
    given = body.get("asset_ids")
    if not isinstance(given, list) or not 1 <= len(given) <= MAX_MEMBERS_AT_ONCE:
        raise InvalidField(f"asset_ids must be a list of 1 to {MAX_MEMBERS_AT_ONCE} asset ids")
    if None in given:  # parse_uuid takes None for "not given"
        raise InvalidField("each of asset_ids must be a UUID")
    ids = (parse_uuid(value, "each of asset_ids") for value in given)
    return tuple(dict.fromkeys(asset_id for asset_id in ids if asset_id is not None))


def parse_share_request(body: Mapping[str, Any]) -> ShareRequest:
    _refuse_unknown(body, {"expires_at", "allow_original"}, "fields")
    allow_original = body.get("allow_original", False)
    if not isinstance(allow_original, bool):
        raise InvalidField("allow_original must be true or false")
    expiry = _rfc3339(body.get("expires_at"), "expires_at")
    if expiry is not None and expiry <= datetime.now(UTC):
        raise InvalidField("expires_at must be in the future")
    return ShareRequest(expires_at=expiry, allow_original=allow_original)


def parse_shared_query(params: Mapping[str, str]) -> SharedQuery:
    """``GET /v1/shared/{token}``: a page of the shared album."""
    _refuse_unknown(params, {"limit", "cursor"}, "query parameters")
    return SharedQuery(
        limit=parse_whole(params.get("limit"), "limit", DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE),
        cursor=decode_page_cursor(params["cursor"], SHARED_ORDER) if "cursor" in params else None,
    )


def parse_asset_changes(body: Mapping[str, Any]) -> AssetChanges:
    _refuse_unknown(body, {"filename", "project_id"}, "fields")
    if not body:
        raise InvalidField("send filename and/or project_id")
    filename = body.get("filename")
    if "filename" in body and not isinstance(filename, str):
        raise InvalidField("filename must be a string")
    return AssetChanges(
        filename=parse_filename(filename) if isinstance(filename, str) else None,
        move="project_id" in body,
        project_id=parse_uuid(body.get("project_id"), "project_id"),
    )


def parse_list_query(params: Mapping[str, str]) -> ListQuery:
    _refuse_unknown(params, _FILTERS | {"limit", "cursor", "changed_since"}, "query parameters")
    limit = parse_whole(params.get("limit"), "limit", DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
    if "changed_since" in params:
        if set(params) & (_FILTERS | {"cursor"}):
            raise InvalidField("changed_since takes no filters, sort or cursor: it returns "
                               "every change of the library")
        return ListQuery(limit=limit, changed_since=decode_change_cursor(params["changed_since"]))
    sort = _sort(params.get("sort"))
    return ListQuery(
        limit=limit,
        cursor=decode_page_cursor(params["cursor"], sort) if "cursor" in params else None,
        sort=sort,
        filters=_asset_filter(params),
    )


def parse_timeline_query(params: Mapping[str, str]) -> AssetFilter:
    """``GET /v1/timeline``: the filters of a listing, whose months it counts."""
    _refuse_unknown(params, _FILTERS - {"sort"}, "query parameters")
    return _asset_filter(params)


def _asset_filter(params: Mapping[str, str]) -> AssetFilter:
    return AssetFilter(
        status=_status(params.get("status")),
        project_id=parse_uuid(params.get("project_id"), "project_id"),
        content_type=_content_type(params.get("content_type")),
        taken_from=_time(params.get("taken_from"), "taken_from"),
        taken_until=_time(params.get("taken_until"), "taken_until"),
        content_types=_kind(params.get("kind")),
        camera=_search(params.get("camera"), "camera"),
        text=_search(params.get("q"), "q"),
    )


def parse_similar_query(params: Mapping[str, str]) -> SimilarQuery:
    """``GET /v1/assets/{id}/similar``: how near, and how many."""
    _refuse_unknown(params, {"distance", "limit"}, "query parameters")
    return SimilarQuery(distance=_distance(params.get("distance")),
                        limit=parse_whole(params.get("limit"), "limit", DEFAULT_SIMILAR_LIMIT,
                                          MAX_SIMILAR_LIMIT))


def parse_groups_query(params: Mapping[str, str]) -> GroupsQuery:
    """``GET /v1/similar``: how near, in which project, and from where the walk goes on."""
    _refuse_unknown(params, {"distance", "project_id", "cursor"}, "query parameters")
    distance = _distance(params.get("distance"))
    return GroupsQuery(
        distance=distance,
        after=decode_groups_cursor(params["cursor"], distance) if "cursor" in params else None,
        project_id=parse_uuid(params.get("project_id"), "project_id"),
    )


def _distance(raw: str | None) -> int:
    """Bits in which perceptual hashes may differ: 0 (the same hash) to the most the index
    answers quickly; a larger distance finds unrelated pictures anyway."""
    if raw is None:
        return DEFAULT_SIMILAR_DISTANCE
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 2) \
            or int(raw) > MAX_SIMILAR_DISTANCE:
        raise InvalidField(f"distance must be a whole number of bits from 0 to "
                           f"{MAX_SIMILAR_DISTANCE}")
    return int(raw)


def _status(raw: str | None) -> Status | None:
    if raw is None:
        return None
    try:
        return Status(raw)
    except ValueError:
        raise InvalidField(
            f"status must be one of {', '.join(s.value for s in Status)}"
        ) from None


def _sort(raw: str | None) -> SortOrder:
    if raw is None:
        return SortOrder.NEWEST
    try:
        return SortOrder(raw)
    except ValueError:
        raise InvalidField(
            f"sort must be one of {', '.join(s.value for s in SortOrder)}"
        ) from None


def _kind(raw: str | None) -> tuple[str, ...] | None:
    if raw is None:
        return None
    if raw not in filetypes.KINDS:
        raise InvalidField(f"kind must be one of {', '.join(filetypes.KINDS)}")
    return filetypes.KINDS[raw]


def _search(raw: str | None, name: str) -> str | None:
    """Text looked for as typed (NFC, no spaces around); at most MAX_SEARCH_CHARS."""
    if raw is None:
        return None
    text = unicodedata.normalize("NFC", raw).strip()
    if not 1 <= len(text) <= MAX_SEARCH_CHARS or any(
            map(is_control, text)):
        raise InvalidField(f"{name} must be 1 to {MAX_SEARCH_CHARS} characters of text")
    return text


def _content_type(raw: str | None) -> str | None:
    if raw is None:
        return None
    if raw not in filetypes.SUPPORTED:
        raise InvalidField(f"content_type must be one of {', '.join(filetypes.SUPPORTED)}")
    return raw


def _rfc3339(value: Any, name: str) -> datetime | None:
    """A date and time with its offset (RFC 3339), or None when not given."""
    if value is None:
        return None
    if not isinstance(value, str) or not _RFC3339.fullmatch(value):
        raise InvalidField(f"{name} must be a date and time with its offset, as "
                           "2024-05-31T14:00:12+02:00 or 2024-05-31T12:00:12Z")
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise InvalidField(f"{name} {value!r} is not a real date and time") from None


def _taken_at(value: Any) -> datetime | None:
    """A date and time with its offset (RFC 3339), kept as the wall clock at that offset: what
    EXIF dates are."""
    taken = _rfc3339(value, "taken_at")
    if taken is None:
        return None
    if not EARLIEST_TAKEN <= taken.year <= LATEST_TAKEN:
        raise InvalidField(f"taken_at must lie between the years {EARLIEST_TAKEN} and "
                           f"{LATEST_TAKEN}")
    return taken.replace(tzinfo=None)


def _location(value: Any) -> Location | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise InvalidField('location must be an object: {"latitude": …, "longitude": …}')
    _refuse_unknown(value, {"latitude", "longitude"}, "location fields")
    latitude = _degrees(value.get("latitude"), "latitude", 90)
    longitude = _degrees(value.get("longitude"), "longitude", 180)
    return Location(latitude, longitude)


def _degrees(value: Any, name: str, bound: int) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidField(f"location.{name} is required, a number of degrees")
    if not -bound <= value <= bound:
        raise InvalidField(f"location.{name} must lie between -{bound} and {bound}")
    return float(value)


def _description(value: Any) -> str | None:
    """Text of at most MAX_DESCRIPTION_CHARS, NFC, without control characters but line breaks
    (stored as LF) and tabs; empty is none."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidField("description must be a string")
    lines = value.replace("\r\n", "\n").replace("\r", "\n")  # line breaks as LF, whoever wrote them
    text = unicodedata.normalize("NFC", lines).strip()
    if len(text) > MAX_DESCRIPTION_CHARS:
        raise InvalidField(f"description must be at most {MAX_DESCRIPTION_CHARS} characters")
    if any(is_control(c) and c not in "\n\t" for c in text):
        raise InvalidField("description must not contain control characters")
    return text or None


def _time(raw: str | None, name: str) -> datetime | None:
    """A date or a date and time, in the camera's wall-clock time (EXIF has no zone)."""
    if raw is None:
        return None
    try:
        if len(raw) == 10:
            return datetime.combine(date.fromisoformat(raw), datetime.min.time())
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise InvalidField(f"{name} must be a date (2024-05-31) or a date and time") from None
    return value.replace(tzinfo=None)
