"""A local stand-in for API Gateway's REST API with Lambda proxy integration.

Routes come from ``template.yaml``. Each request becomes the proxy event API Gateway would
send (``resource``, ``pathParameters``, ``multiValueQueryStringParameters``,
``requestContext.resourcePath`` ...), the function's response becomes the HTTP response.
A route behind a Lambda authorizer first invokes it with the REQUEST authorizer event, and
answers 401 or 403 as API Gateway does, or passes its context on in
``requestContext.authorizer``. (API Gateway caches an authorizer's answers; this gateway asks
every time, so that a revoked key stops working at once.) CORS as the template's ``Cors``
declares it: the gateway answers preflight ``OPTIONS`` itself and puts
``Access-Control-Allow-Origin`` on its own answers, as API Gateway's gateway responses do.

Locally it also serves the web gallery: a GET or HEAD of a path that no route matches is
answered from the gallery's directory (``/`` is its ``index.html``), so that the page and the
API share one origin. In AWS the gallery is static files hosted anywhere.

A request's body is read as a real HTTP server reads it (RFC 9112, section 6): a
``Content-Length`` of digits, or ``Transfer-Encoding: chunked`` decoded, never both; anything
ambiguous or malformed is a 400 and closes the connection, because where the next request
starts is then unknown.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import mimetypes
import re
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email.message import Message
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from infra.local.functions import InvocationError, LocalFunction
from infra.local.loopback import LoopbackHandler
from infra.template import Resolver, Route, Template

log = logging.getLogger(__name__)

# API Gateway refuses request payloads over 10 MB.
MAX_BODY_BYTES = 10 * 1024 * 1024
# The longest chunk-size line (size, extensions) or trailer line a chunked body may carry.
MAX_CHUNK_LINE = 4096
# Browsers run ES modules only when served with a JavaScript type; the system's MIME table
# (which mimetypes reads) varies between machines, so the gallery's own types are fixed here.
STATIC_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
}


@dataclass(frozen=True)
class _CompiledRoute:
    route: Route
    pattern: re.Pattern[str]

    @classmethod
    def of(cls, route: Route) -> _CompiledRoute:
        regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(route.path))
        return cls(route, re.compile(f"^{regex}$"))


class Gateway:
    def __init__(
        self,
        routes: Sequence[Route],
        functions: Mapping[str, LocalFunction],
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        stage: str = "local",
        cors: Mapping[str, str] | None = None,
        gallery: Path | None = None,
    ) -> None:
        self._routes = [_CompiledRoute.of(route) for route in routes]
        self._functions = functions
        self.stage = stage
        self.gallery = gallery.resolve() if gallery is not None else None
        # The preflight answer's headers; the origin alone goes on the gateway's own answers.
        self.cors = dict(cors or {})
        self._server = _Server((host, port), _RequestHandler, self)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        self._thread = threading.Thread(target=self._server.serve_forever, name="gateway",
                                        daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | list[str]:
        """The route and its path parameters, or the methods the path allows (maybe none)."""
        allowed = []
        for compiled in self._routes:
            found = compiled.pattern.match(path)
            if found is None:
                continue
            if compiled.route.method == method:
                return compiled.route, {k: unquote(v) for k, v in found.groupdict().items()}
            allowed.append(compiled.route.method)
        return allowed

    def static_file(self, path: str) -> Path | None:
        """The gallery's file for a URL path, or None: never anything outside its directory."""
        if self.gallery is None:
            return None
        relative = unquote(path).lstrip("/")
        if "\0" in relative:  # no file has one, and the OS calls below would raise
            return None
        candidate = (self.gallery / relative).resolve()
        if not candidate.is_relative_to(self.gallery):
            return None
        if candidate.is_dir():
            candidate = candidate / "index.html"
        return candidate if candidate.is_file() else None

    def authorize(self, route: Route, event: dict[str, Any]) -> dict[str, Any]:
        """The authorizer's context for a request; raises Refused like API Gateway would."""
        assert route.authorizer is not None
        arn = (f"arn:aws:execute-api:local:000000000000:local/{self.stage}/"
               f"{event['httpMethod']}{event['path']}")
        request = {"type": "REQUEST", "methodArn": arn, **event}
        try:
            answer = self._functions[route.authorizer].invoke(request)
        except InvocationError as exc:
            if exc.error_message == "Unauthorized":
                raise Refused(401, "unauthorized", "Unauthorized") from None
            # API Gateway's AUTHORIZER_FAILURE, which template.yaml answers with 503.
            log.error("%s", exc)
            raise Refused(503, "unavailable", "the authorizer failed; retry later") from None
        statements = answer.get("policyDocument", {}).get("Statement", [])
        if not any(statement.get("Effect") == "Allow" for statement in statements):
            raise Refused(403, "forbidden", "User is not authorized to access this resource")
        return {**answer.get("context", {}), "principalId": answer.get("principalId")}

    def invoke(self, route: Route, event: dict[str, Any]) -> dict[str, Any]:
        result = self._functions[route.function].invoke(event)
        if not isinstance(result, dict) or "statusCode" not in result:
            raise InvocationError(f"{route.function} returned no proxy response")
        return result


def cors_headers(template: Template, resolver: Resolver) -> dict[str, str]:
    """The headers API Gateway's preflight answer carries, from the template's Cors."""
    names = {"AllowOrigin": "Access-Control-Allow-Origin",
             "AllowHeaders": "Access-Control-Allow-Headers",
             "AllowMethods": "Access-Control-Allow-Methods", "MaxAge": "Access-Control-Max-Age"}
    # Each value is a quoted string literal, as API Gateway's header mappings want it.
    return {header: resolver.resolve(template.cors[name]).strip("'")
            for name, header in names.items() if name in template.cors}


class Refused(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def read_body(headers: Message, stream: io.BufferedIOBase) -> bytes:
    """The request's body, framed by its headers; raises Refused (400, 413 or 501)."""
    lengths = headers.get_all("Content-Length") or []
    codings = headers.get_all("Transfer-Encoding") or []
    if lengths and codings:
        # Which of the two frames the body is where request smuggling begins: refuse both.
        raise _bad_framing("Content-Length together with Transfer-Encoding")
    if codings:
        names = [name.strip().lower() for value in codings for name in value.split(",")]
        if any(name not in ("", "chunked") for name in names):
            raise Refused(501, "not_implemented", "only the chunked transfer coding is supported")
        if names != ["chunked"]:
            raise _bad_framing("Transfer-Encoding must be chunked, once")
        return _read_chunked(stream)
    if not lengths:
        return b""
    # Repeats of one value are one length (RFC 9112, 6.3); differing ones frame nothing.
    values = {value.strip() for header in lengths for value in header.split(",")}
    if len(values) != 1 or not (value := values.pop()).isascii() or not value.isdigit():
        raise _bad_framing("Content-Length must be one decimal number")
    length = int(value)
    if length > MAX_BODY_BYTES:
        raise _too_large()
    body = stream.read(length)
    if len(body) != length:
        raise _bad_framing("the body ended before its Content-Length")
    return body


def _read_chunked(stream: io.BufferedIOBase) -> bytes:
    body = bytearray()
    while True:
        size_field = _read_line(stream).partition(b";")[0].strip()
        # int() would also take a sign, underscores or a 0x prefix: a chunk size is hex digits.
        if not size_field or size_field.strip(b"0123456789abcdefABCDEF"):
            raise _bad_framing("a chunk size must be hexadecimal digits")
        size = int(size_field, 16)
        if len(body) + size > MAX_BODY_BYTES:
            raise _too_large()
        if size == 0:
            break
        chunk = stream.read(size)
        if len(chunk) != size or stream.read(2) != b"\r\n":
            raise _bad_framing("a chunk does not end where its size says")
        body += chunk
    # The trailer section: read to its blank line, its fields dropped as API Gateway drops them.
    while _read_line(stream):
        pass
    return bytes(body)


def _read_line(stream: io.BufferedIOBase) -> bytes:
    line = stream.readline(MAX_CHUNK_LINE + 1)
    if not line.endswith(b"\n") or len(line) > MAX_CHUNK_LINE:
        raise _bad_framing("a chunked body's line is cut or too long")
    return line.rstrip(b"\r\n")


def _bad_framing(message: str) -> Refused:
    return Refused(400, "bad_request", message)


def _too_large() -> Refused:
    return Refused(413, "too_large", "request body over 10 MB")


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type[LoopbackHandler],
                 gateway: Gateway) -> None:
        self.gateway = gateway
        super().__init__(address, handler)


class _RequestHandler(LoopbackHandler):
    server: _Server

    def do_GET(self) -> None:
        self._dispatch()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        log.debug(format, *args)

    def _dispatch(self) -> None:
        started = time.monotonic()
        gateway = self.server.gateway
        url = urlsplit(self.path)
        try:
            body = read_body(self.headers, self.rfile)
        except Refused as refused:
            # The body is left unread, or unreadable: this connection cannot carry another
            # request.
            self.close_connection = True
            self._error(refused.status, refused.code, refused.message)
            return
        found = gateway.match(self.command, url.path)
        if isinstance(found, list) and self.command == "OPTIONS" and found and gateway.cors:
            self._send({"statusCode": 200, "headers": gateway.cors, "body": ""})
            return
        if found == [] and self.command in ("GET", "HEAD"):
            static = gateway.static_file(url.path)
            if static is not None:
                self._send_file(static)
                return
        if isinstance(found, list):
            if found:
                self._error(405, "method_not_allowed", f"{self.command} is not allowed here",
                            {"Allow": ", ".join(found)})
            else:
                self._error(404, "not_found", f"no route for {self.command} {url.path}")
            return
        route, path_parameters = found
        event = self._proxy_event(route, url.path, url.query, path_parameters, body)
        if route.authorizer is not None:
            try:
                event["requestContext"]["authorizer"] = gateway.authorize(route, event)
            except Refused as refused:
                headers = {"WWW-Authenticate": "Bearer"} if refused.status == 401 else {}
                self._error(refused.status, refused.code, refused.message, headers)
                return
        try:
            response = gateway.invoke(route, event)
        except InvocationError as exc:
            log.error("%s", exc)
            self._error(502, "bad_gateway", "the function failed; see the stack's log")
            return
        self._send(response)
        log.info("%s %s %s %.0fms", self.command, self.path, response["statusCode"],
                 (time.monotonic() - started) * 1000)

    def _proxy_event(self, route: Route, path: str, query: str, path_parameters: dict[str, str],
                     body: bytes) -> dict[str, Any]:
        headers: dict[str, str] = {}
        multi_headers: dict[str, list[str]] = {}
        for name, value in self.headers.items():
            headers[name] = value
            multi_headers.setdefault(name, []).append(value)
        params: dict[str, str] = {}
        multi_params: dict[str, list[str]] = {}
        for name, value in parse_qsl(query, keep_blank_values=True):
            params[name] = value
            multi_params.setdefault(name, []).append(value)
        try:
            text, encoded = (body.decode("utf-8"), False) if body else (None, False)
        except UnicodeDecodeError:
            text, encoded = base64.b64encode(body).decode("ascii"), True
        stage = self.server.gateway.stage
        return {
            "resource": route.path,
            "path": path,
            "httpMethod": self.command,
            "headers": headers,
            "multiValueHeaders": multi_headers,
            "queryStringParameters": params or None,
            "multiValueQueryStringParameters": multi_params or None,
            "pathParameters": path_parameters or None,
            "stageVariables": None,
            "requestContext": {
                "resourcePath": route.path,
                "httpMethod": self.command,
                # The path as the client asked for it, which API Gateway gives here (with the
                # stage of an execute-api URL): this gateway serves the stage at its root.
                "path": path,
                "stage": stage,
                "requestId": str(uuid.uuid4()),
                "requestTimeEpoch": int(time.time() * 1000),
                "accountId": "000000000000",
                "apiId": "local",
                "resourceId": "local",
                "protocol": self.request_version,
                "identity": {
                    "sourceIp": self.client_address[0],
                    "userAgent": self.headers.get("User-Agent"),
                },
            },
            "body": text,
            "isBase64Encoded": encoded,
        }

    def _send(self, response: dict[str, Any]) -> None:
        body = response.get("body") or ""
        data = base64.b64decode(body) if response.get("isBase64Encoded") else body.encode()
        headers = [(name, str(value)) for name, value in (response.get("headers") or {}).items()]
        headers += [(name, str(value))
                    for name, values in (response.get("multiValueHeaders") or {}).items()
                    for value in values]
        self._write(int(response["statusCode"]), headers, data)

    def _send_file(self, path: Path) -> None:
        content_type = (STATIC_TYPES.get(path.suffix.lower())
                        or mimetypes.guess_type(path.name)[0] or "application/octet-stream")
        self._write(200, [("Content-Type", content_type),
                          # Always revalidated: an edited file shows at the next reload.
                          ("Cache-Control", "no-cache"),
                          ("X-Content-Type-Options", "nosniff")], path.read_bytes())

    def _write(self, status: int, headers: Sequence[tuple[str, str]], data: bytes) -> None:
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _error(self, status: int, code: str, message: str,
               headers: Mapping[str, str] | None = None) -> None:
        origin = self.server.gateway.cors.get("Access-Control-Allow-Origin")
        self._send({
            "statusCode": status,
            "headers": {"Content-Type": "application/json",
                        **({"Access-Control-Allow-Origin": origin} if origin else {}),
                        **(headers or {})},
            "body": json.dumps({"error": {"code": code, "message": message}}),
        })
