"""A fault-injecting HTTP proxy on loopback, in front of the S3 + SQS endpoint.

Everything that talks to S3 — the functions through boto3, clients through presigned URLs —
goes through it. While a fault is set, the S3 requests it matches are answered with an S3
error (500 InternalError, 503 SlowDown, ...) instead of being forwarded; SQS requests (they
carry ``X-Amz-Target``) always pass, so that only the storage misbehaves.
"""

from __future__ import annotations

import http.client
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import ThreadingHTTPServer
from urllib.parse import urlsplit

from infra.local.loopback import LoopbackHandler

# Hop-by-hop headers, and the length the proxy sets itself.
_NOT_FORWARDED = frozenset({"connection", "keep-alive", "transfer-encoding", "content-length"})


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]


@dataclass(frozen=True)
class Fault:
    status: int
    code: str
    share: float = 1.0  # of the matching requests
    matches: Callable[[Request], bool] = lambda request: True


class FaultProxy:
    def __init__(self, upstream: str, *, seed: int = 8) -> None:
        target = urlsplit(upstream)
        self._upstream = (target.hostname or "127.0.0.1", target.port or 80)
        self._faults: list[Fault] = []
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self.injected = 0
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> FaultProxy:
        self._thread.start()
        return self

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def inject(self, *faults: Fault) -> None:
        with self._lock:
            self._faults = list(faults)

    def heal(self) -> None:
        self.inject()

    def _fault_for(self, request: Request) -> Fault | None:
        if "x-amz-target" in request.headers:
            return None  # SQS
        with self._lock:
            for fault in self._faults:
                if fault.matches(request) and self._random.random() < fault.share:
                    self.injected += 1
                    return fault
        return None

    def _handler(self) -> type[LoopbackHandler]:
        proxy = self

        class Handler(LoopbackHandler):

            def do_request(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                request = Request(self.command, self.path,
                                  {k.lower(): v for k, v in self.headers.items()})
                fault = proxy._fault_for(request)
                if fault is not None:
                    self._answer(fault.status, {"Content-Type": "application/xml"},
                                 f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{fault.code}"
                                 f"</Code><Message>injected by the test</Message></Error>"
                                 .encode())
                    return
                upstream = http.client.HTTPConnection(*proxy._upstream, timeout=120)
                try:
                    headers = {k: v for k, v in self.headers.items()
                               if k.lower() not in _NOT_FORWARDED}
                    upstream.request(self.command, self.path, body=body, headers=headers)
                    response = upstream.getresponse()
                    data = response.read()
                    headers = {k: v for k, v in response.getheaders()
                               if k.lower() not in _NOT_FORWARDED}
                    if self.command == "HEAD":  # the length of what a GET would send
                        headers["Content-Length"] = response.getheader("Content-Length", "0")
                    self._answer(response.status, headers, data)
                finally:
                    upstream.close()

            def _answer(self, status: int, headers: dict[str, str], data: bytes) -> None:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                if "Content-Length" not in headers:
                    self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_request

            def log_message(self, format: str, *args: object) -> None:
                pass  # a line per request would drown the test's output

        return Handler
