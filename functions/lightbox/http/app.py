"""The HTTP boundary of the functions behind API Gateway (REST API, proxy integration).

Who is calling is decided before a view runs: API Gateway's authorizer (the authorizer
function; locally the gateway runs it the same way) puts the owner into the request context,
and ``inputs.owner_of`` refuses a ``/v1`` request without one, so nothing is ever served on a
missing authorizer.

Views raise Lightbox errors; every route of an ``Api`` renders them, and anything unexpected,
as ``{"error": {"code", "message"}}`` with the error's status. Chalice turns a view's
exceptions into responses before middleware runs, so the mapping wraps each view as its route
is declared; the middleware only reshapes the errors Chalice produces itself (405, unknown
routes) and adds CORS to every answer.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from chalice.app import Request, Response

from lightbox.config import Config
from lightbox.errors import LightboxError, Unauthorized
from lightbox.function import Function
from lightbox.http.outputs import error_response

log = logging.getLogger(__name__)

View = Callable[..., Response]

# Chalice's own error names, in Lightbox's vocabulary.
_FRAMEWORK_CODES = {
    "MethodNotAllowedError": "method_not_allowed",
    "UnsupportedMediaType": "unsupported_media_type",
    "BadRequest": "bad_request",
    "BadRequestError": "bad_request",
}


class Api(Function):
    """A function's Chalice app whose every route maps errors to Lightbox's error answers."""

    def __init__(self, name: str, config: Callable[[], Config]) -> None:
        super().__init__(name, config)
        self.debug = False  # a traceback is never a response
        self.register_middleware(_reshape_framework_errors, "http")
        self.register_middleware(functools.partial(_allow_origin, config), "http")

    def route(self, path: str, **kwargs: Any) -> Callable[[View], Any]:
        register = super().route(path, **kwargs)

        def declare(view: View) -> Any:
            return register(maps_errors(view))

        return declare

    @property
    def request(self) -> Request:
        request = self.current_request
        assert request is not None, "Chalice sets the request before it calls a view"
        return request


def maps_errors(view: View) -> View:
    @functools.wraps(view)
    def render(*args: Any, **kwargs: Any) -> Response:
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

    render.maps_errors = True  # type: ignore[attr-defined]  # what tests/unit/test_routes.py checks
    return render


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
