"""The HTTP boundary of the functions behind API Gateway (REST API, proxy integration).

Who is calling is decided before a view runs: API Gateway's authorizer (the authorizer
function; locally the gateway runs it the same way) puts the owner into the request context.
A request that reaches a ``/v1`` view without one is refused, so nothing is ever served on
a missing authorizer.

Views raise Lightbox errors; ``json_errors`` renders them, and anything unexpected, as
``{"error": {"code", "message"}}`` with the error's status. Chalice turns a view's
exceptions into responses before middleware runs, so rendering has to be a view decorator;
the middleware only reshapes the errors Chalice produces itself (405, unknown routes).
"""

from __future__ import annotations

import functools
import hmac
import json
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any, ParamSpec
from uuid import UUID

from chalice.app import Chalice, Request, Response

from lightbox.config import Config
from lightbox.domain import Principal, Project
from lightbox.errors import (
    AssetNotFound,
    InvalidField,
    LightboxError,
    NotFound,
    ProjectNotFound,
    RequestError,
    Unauthorized,
    unknown_names,
)
from lightbox.services.listing import AssetPage, AssetView, Stats
from lightbox.services.uploads import MultipartUpload, UploadTicket

log = logging.getLogger(__name__)

P = ParamSpec("P")

MAX_MESSAGE_CHARS = 300

# Chalice's own error names, in Lightbox's vocabulary.
_FRAMEWORK_CODES = {
    "MethodNotAllowedError": "method_not_allowed",
    "UnsupportedMediaType": "unsupported_media_type",
    "BadRequest": "bad_request",
    "BadRequestError": "bad_request",
}


def create_app(name: str, config: Callable[[], Config]) -> Chalice:
    """``config`` is asked at the first request, so that importing a handler reads nothing."""
    app = Chalice(app_name=name)
    app.debug = False  # a traceback is never a response
    app.register_middleware(_reshape_framework_errors, "http")
    app.register_middleware(functools.partial(_allow_origin, config), "http")
    return app


def json_errors(view: Callable[P, Response]) -> Callable[P, Response]:
    @functools.wraps(view)
    def render(*args: P.args, **kwargs: P.kwargs) -> Response:
        try:
            return view(*args, **kwargs)
        except LightboxError as exc:
            if exc.status >= 500:
                log.exception("%s failed", view.__name__)
            response = error_response(exc.status, exc.code, exc.message)
            if isinstance(exc, Unauthorized):
                response.headers["WWW-Authenticate"] = "Bearer"
            return response
        except Exception:
            log.exception("%s failed unexpectedly", view.__name__)
            return error_response(500, "internal", "an internal error occurred")

    return render


def error_response(status: int, code: str, message: str) -> Response:
    # A message may quote the request (a path, a name); the answer stays small all the same.
    if len(message) > MAX_MESSAGE_CHARS:
        message = message[:MAX_MESSAGE_CHARS] + "…"
    return json_response({"error": {"code": code, "message": message}}, status)


def json_response(body: dict[str, Any], status: int = 200) -> Response:
    return Response(body=json.dumps(body), status_code=status,
                    headers={"Content-Type": "application/json"})


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


def no_content() -> Response:
    return Response(body="", status_code=204)


def current_request(app: Chalice) -> Request:
    request = app.current_request
    assert request is not None, "Chalice sets the request before it calls a view"
    return request


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


def asset_id_param(raw: str) -> UUID:
    """A path's asset id; anything that is not a UUID names no asset."""
    return _id_param(raw, AssetNotFound, "asset")


def project_id_param(raw: str) -> UUID:
    return _id_param(raw, ProjectNotFound, "project")


def _id_param(raw: str, error: type[NotFound], kind: str) -> UUID:
    try:
        return UUID(raw)
    except ValueError:
        raise error(f"no {kind} {raw}") from None


def flag_param(params: dict[str, str], name: str) -> bool:
    raw = params.pop(name, "false").lower()
    if raw not in ("true", "false"):
        raise InvalidField(f"{name} must be true or false")
    return raw == "true"


def query_params(request: Request) -> dict[str, str]:
    params: dict[str, str] = {}
    for name in request.query_params or {}:
        values = request.query_params.getlist(name) if request.query_params else []
        if len(values) != 1:
            raise RequestError(f"query parameter {name!r} was given more than once")
        params[name] = values[0]
    return params


def refuse_unknown(params: dict[str, str]) -> None:
    if params:
        raise unknown_names("query parameters", params)


def ticket_json(ticket: UploadTicket) -> dict[str, Any]:
    body: dict[str, Any] = {"asset_id": str(ticket.asset_id), "status": ticket.status.value}
    upload = ticket.upload
    if upload is None:
        body["duplicate"] = True
    elif isinstance(upload, MultipartUpload):
        body["upload"] = {"method": "PUT", **_parts_json(upload), "headers": {}}
    else:
        body["upload"] = {
            "method": upload.method,
            "url": upload.url,
            "headers": upload.headers,
            "expires_at": _timestamp(upload.expires_at),
        }
        if upload.fields is not None:
            body["upload"]["fields"] = upload.fields
    return body


def parts_json(asset_id: UUID, upload: MultipartUpload) -> dict[str, Any]:
    return {"asset_id": str(asset_id), **_parts_json(upload)}


def _parts_json(upload: MultipartUpload) -> dict[str, Any]:
    return {
        "part_size": upload.part_size,
        "part_count": upload.part_count,
        "parts": [{"part_number": part.number, "size_bytes": part.size, "url": part.url}
                  for part in upload.parts],
        "expires_at": _timestamp(upload.expires_at),
    }


def page_json(page: AssetPage) -> dict[str, Any]:
    return {"items": [asset_json(view) for view in page.items], "next_cursor": page.next_cursor,
            "sync_cursor": page.sync_cursor}


def project_json(project: Project) -> dict[str, Any]:
    return {
        "project_id": str(project.id),
        "name": project.name,
        "asset_count": project.asset_count,
        "created_at": _timestamp(project.created_at),
        "updated_at": _timestamp(project.updated_at),
    }


def stats_json(stats: Stats) -> dict[str, Any]:
    body: dict[str, Any] = {
        "assets": {status.value: count for status, count in stats.counts.items()},
        "stored_bytes": stats.stored_bytes,
        "waiting": {"assets": stats.waiting, "oldest_since": _timestamp(stats.oldest_waiting)},
    }
    if stats.queues is not None:
        body["queues"] = {
            f"thumbnails_{lane.value}": {"waiting": depth.waiting, "in_flight": depth.in_flight,
                                         "delayed": depth.delayed}
            for lane, depth in stats.queues.items()
        }
    return body


def asset_json(view: AssetView) -> dict[str, Any]:
    asset, info = view.asset, view.asset.info
    return {
        "asset_id": str(asset.id),
        "status": asset.status.value,
        "filename": asset.filename,
        "content_type": asset.content_type,
        "size_bytes": asset.size_bytes,
        "sha256": asset.sha256,
        "project_id": _optional_str(asset.project_id),
        "duplicate_of": _optional_str(asset.duplicate_of),
        "width": info.width if info else None,
        "height": info.height if info else None,
        "pages": info.pages if info else None,
        "bit_depth": info.bit_depth if info else None,
        "color_mode": info.color_mode if info else None,
        "taken_at": _timestamp(info.taken_at) if info else None,
        "camera_make": info.camera_make if info else None,
        "camera_model": info.camera_model if info else None,
        "orientation": info.orientation if info else None,
        "placeholder": asset.placeholder,
        "created_at": _timestamp(asset.created_at),
        "updated_at": _timestamp(asset.updated_at),
        "error": asset.error,
        "original_url": view.original_url,
        "thumbnails": [
            {"size": t.size, "page": t.page, "format": t.format, "width": t.width,
             "height": t.height, "url": t.url}
            for t in view.thumbnails
        ],
    }


def _timestamp(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _optional_str(value: object | None) -> str | None:
    return str(value) if value is not None else None


def _allow_origin(
    config: Callable[[], Config], request: Request, get_response: Callable[[Request], Response]
) -> Response:
    """CORS on every answer, errors included, so that a browser can read why it failed
    (API Gateway answers the preflight OPTIONS itself)."""
    response = get_response(request)
    origin = config().cors_origin
    response.headers["Access-Control-Allow-Origin"] = origin
    if origin != "*":
        response.headers["Vary"] = "Origin"
    return response


def _reshape_framework_errors(
    request: Request, get_response: Callable[[Request], Response]
) -> Response:
    try:
        response = get_response(request)
    except Exception:
        log.exception("request to %s failed outside a view", request.path)
        return error_response(500, "internal", "an internal error occurred")
    body = response.body
    if isinstance(body, dict) and set(body) == {"Code", "Message"}:
        fallback = "bad_request" if response.status_code < 500 else "internal"
        code = _FRAMEWORK_CODES.get(str(body["Code"]), fallback)
        reshaped = error_response(response.status_code, code, str(body["Message"]))
        reshaped.headers.update(
            {k: v for k, v in response.headers.items() if k.lower() != "content-type"}
        )
        return reshaped
    return response
