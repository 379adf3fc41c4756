"""What the local runtime's own HTTP servers (the gateway, the control plane) share."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler


class LoopbackHandler(BaseHTTPRequestHandler):
    """A keep-alive HTTP/1.1 handler that sends each answer at once.

    The standard handler writes an answer's headers and then its body. With Nagle's
    algorithm on, the body waits for the client to acknowledge the headers, and a client on
    a kept-alive connection delays that acknowledgement by up to 40 ms: every request after a
    connection's first took some 44 ms instead of under one.
    """

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
