"""The HTTP boundary of the functions behind API Gateway (REST API, proxy integration).

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
from lightbox.errors import AssetNotFound, LightboxError, RequestError, Unauthorized
from lightbox.services.listing import AssetPage, AssetView
from lightbox.services.uploads import UploadTicket

log = logging.getLogger(__name__)

P = ParamSpec("P")

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
            return error_response(exc.status, exc.code, exc.message)
        except Exception:
            log.exception("%s failed unexpectedly", view.__name__)
            return error_response(500, "internal", "an internal error occurred")

    return render


def error_response(status: int, code: str, message: str) -> Response:
    return json_response({"error": {"code": code, "message": message}}, status)


def json_response(body: dict[str, Any], status: int = 200) -> Response:
    return Response(body=json.dumps(body), status_code=status,
                    headers={"Content-Type": "application/json"})


def authenticate(request: Request, config: Config) -> str:
    """The owner on whose behalf a request acts. Until API keys exist: the configured one."""
    return config.owner_id


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
    except ValueError:
        raise RequestError("the request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise RequestError("the request body must be a JSON object")
    return body


def asset_id_param(raw: str) -> UUID:
    """A path's asset id; anything that is not a UUID names no asset."""
    try:
        return UUID(raw)
    except ValueError:
        raise AssetNotFound(f"no asset {raw}") from None


def query_params(request: Request) -> dict[str, str]:
    params: dict[str, str] = {}
    for name in request.query_params or {}:
        values = request.query_params.getlist(name) if request.query_params else []
        if len(values) != 1:
            raise RequestError(f"query parameter {name!r} was given more than once")
        params[name] = values[0]
    return params


def ticket_json(ticket: UploadTicket) -> dict[str, Any]:
    body: dict[str, Any] = {"asset_id": str(ticket.asset_id), "status": ticket.status.value}
    if ticket.upload is None:
        body["duplicate"] = True
        return body
    body["upload"] = {
        "method": ticket.upload.method,
        "url": ticket.upload.url,
        "headers": ticket.upload.headers,
        "expires_at": _timestamp(ticket.upload.expires_at),
    }
    if ticket.upload.fields is not None:
        body["upload"]["fields"] = ticket.upload.fields
    return body


def page_json(page: AssetPage) -> dict[str, Any]:
    return {"items": [asset_json(view) for view in page.items], "next_cursor": page.next_cursor}


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
        code = _FRAMEWORK_CODES.get(str(body["Code"]), "bad_request")
        reshaped = error_response(response.status_code, code, str(body["Message"]))
        reshaped.headers.update(
            {k: v for k, v in response.headers.items() if k.lower() != "content-type"}
        )
        return reshaped
    return response
