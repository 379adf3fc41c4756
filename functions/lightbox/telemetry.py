"""What a function tells its operator: one log line per event, structured, and which asset,
owner and invocation it was about.

Every ``lightbox.*`` logger propagates to the ``lightbox`` logger, which ``start`` hands to
Powertools for AWS Lambda's Logger: on Lambda each line is a JSON object that CloudWatch Logs
Insights can filter by ``asset_id`` (the correlation id), ``owner`` or ``request_id``, so one
photo can be followed from its presign to ``ready`` across the functions it passed through.
Powertools was chosen over a hand-written formatter because it already does what one would
have to get right (exceptions as fields, the root handler of Lambda's runtime kept from
printing each line twice, keys held per context), and its import adds some 6 ms to a cold start
that has paid for ``logging`` and ``json`` already.

The same keys print as ``key=value`` after a readable line where a person reads the log: the
local runtime sets ``LIGHTBOX_LOG_FORMAT=text``.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from aws_lambda_powertools.logging import Logger

LOGGER = "lightbox"
# What a line says before its keys; the rest of what Powertools gathers is either placed
# elsewhere in a readable line (the function, the exception) or left out (the location).
_LINE = ("timestamp", "level", "name", "message")
_NOT_SHOWN = ("location", "service", "sampling_rate", "exception_name", "stack_trace",
              "exception", "function")

_logger: Logger | None = None


def start(level: str, style: str) -> None:
    """Send every ``lightbox.*`` record through one structured handler, at ``level``: JSON
    lines, or readable ones when ``style`` is ``text``. Once per process; later calls only set
    the level."""
    global _logger  # noqa: PLW0603 - one handler per process, as logging's own state is
    if _logger is not None:
        _logger.setLevel(level)
        return
    readable = style == "text"
    _logger = Logger(
        service=LOGGER, level=level, utc=True, name="%(name)s",
        datefmt="%Y-%m-%d %H:%M:%S,%F" if readable else None,
        use_rfc3339=not readable,
        json_serializer=_readable_line if readable else _json_line,
        # A readable line goes where the runtime's own lines go, unbuffered; Lambda reads both.
        stream=sys.stderr if readable else sys.stdout,
        # The function's name tells which lane of a shared handler wrote the line.
        function=os.environ.get("AWS_LAMBDA_FUNCTION_NAME"),
    )


@contextmanager
def invocation(request_id: str | None) -> Iterator[None]:
    """Everything logged until it ends carries this invocation's request id (Lambda's, which
    its REPORT line and API Gateway's access log also carry)."""
    with _keys(request_id=request_id):
        yield


@contextmanager
def about(*, asset_id: object = None, owner: str | None = None) -> Iterator[None]:
    """Everything logged until it ends is about this asset of this owner."""
    with _keys(asset_id=None if asset_id is None else str(asset_id), owner=owner):
        yield


@contextmanager
def _keys(**keys: str | None) -> Iterator[None]:
    if _logger is None:  # not started: a test, or a command that prints its own way
        yield
        return
    given = {name: value for name, value in keys.items() if value is not None}
    before = {name: value for name, value in _logger.get_current_keys().items() if name in given}
    _logger.append_keys(**given)
    try:
        yield
    finally:
        _logger.remove_keys([name for name in given if name not in before])
        _logger.append_keys(**before)


def _json_line(record: Mapping[str, Any]) -> str:
    return json.dumps(record, default=str, separators=(",", ":"))


def _readable_line(record: Mapping[str, Any]) -> str:
    """``2026-12-05 10:00:00,123 ThumbnailFunction INFO lightbox.services.thumbnails: asset …
    ready  asset_id=… owner=…``, then the traceback, if any."""
    keys = " ".join(f"{name}={value}" for name, value in record.items()
                    if name not in _LINE and name not in _NOT_SHOWN)
    function = record.get("function")
    line = " ".join(str(part) for part in (
        record["timestamp"], function, record["level"], f"{record['name']}:", record["message"],
    ) if part is not None)
    if keys:
        line += f"  {keys}"
    if "exception" in record:
        line += f"\n{record['exception']}"
    return line
