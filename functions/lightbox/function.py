"""The Lambda entry points: every invocation starts the function's telemetry (by reading its
configuration) and logs under its request id.

A Chalice app does it in a middleware for every kind of event it takes; a plain handler (the
authorizer, the admin function) is wrapped by ``entry_point``.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable
from typing import Any, TypeVar

from chalice.app import Chalice

from lightbox import telemetry
from lightbox.config import Config
from lightbox.errors import ConfigError

Handler = TypeVar("Handler", bound=Callable[[Any, Any], Any])


class Function(Chalice):
    def __init__(self, name: str, config: Callable[[], Config]) -> None:
        super().__init__(app_name=name)
        # ``config`` is asked at the first invocation, so that importing a handler reads
        # nothing.
        self.register_middleware(functools.partial(_invocation, config), "all")


def _invocation(config: Callable[[], Config], event: Any,
                get_response: Callable[[Any], Any]) -> Any:
    _start(config)
    # An HTTP request carries the context as ``lambda_context``, other events as ``context``.
    context = getattr(event, "lambda_context", None) or getattr(event, "context", None)
    with telemetry.invocation(getattr(context, "aws_request_id", None)):
        return get_response(event)


def entry_point(config: Callable[[], Config]) -> Callable[[Handler], Handler]:
    def wrap(handler: Handler) -> Handler:
        @functools.wraps(handler)
        def invoke(event: Any, context: Any) -> Any:
            _start(config)
            with telemetry.invocation(getattr(context, "aws_request_id", None)):
                return handler(event, context)

        return invoke  # type: ignore[return-value]

    return wrap


def _start(config: Callable[[], Config]) -> None:
    # A configuration that does not read is the handler's to report, as its own error
    # answer or a failed record: it reads the configuration too, and fails the same way.
    with contextlib.suppress(ConfigError):
        config()
