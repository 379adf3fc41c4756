"""One execution environment of a function, on the host: the process the host executor starts.

Run as ``python -I -S runtime.py`` with the function's environment (``LAMBDA_TASK_ROOT`` is its
unzipped package, ``_HANDLER`` its handler), so that only the package and the standard library
are importable, as on Lambda. It imports the handler once (the cold start) and then serves
one invocation at a time: a request is a JSON line on stdin, its reply a JSON line on the
descriptor that was stdout. The handler's own output, and anything a library writes to
descriptor 1, goes to stderr with the logs.

It imports nothing of LocalStack: it runs under the function's Python, not LocalStack's.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
import traceback
from dataclasses import dataclass
from typing import Any, TextIO


@dataclass(frozen=True)
class LambdaContext:
    """The attributes of Lambda's context object."""

    function_name: str
    function_version: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    aws_request_id: str
    log_group_name: str
    log_stream_name: str
    deadline: float
    identity: None = None
    client_context: None = None

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.time()) * 1000))


def main() -> None:
    replies = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # descriptor 1 is the logs from here on
    sys.stdout = sys.stderr
    sys.path.insert(0, os.environ["LAMBDA_TASK_ROOT"])
    name = os.environ["_HANDLER"]
    try:
        handler = _import(name)
    except Exception as exc:
        # As Lambda answers: every invocation fails with Runtime.ImportModuleError.
        traceback.print_exc()
        init_error = {**_error(exc), "errorType": "Runtime.ImportModuleError",
                      "errorMessage": f"Unable to import module '{name}': {exc}"}
        handler = None
    _send(replies, {"ready": True})
    for line in sys.stdin:
        request = json.loads(line)
        _send(replies, _invoke(handler, request) if handler else
              {"ok": False, "payload": json.dumps(init_error)})


def _import(name: str) -> Any:
    module, attribute = name.rsplit(".", 1)
    return getattr(importlib.import_module(module), attribute)


def _invoke(handler: Any, request: dict[str, Any]) -> dict[str, Any]:
    request_id = request["request_id"]
    context = LambdaContext(
        function_name=os.environ["AWS_LAMBDA_FUNCTION_NAME"],
        function_version=os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
        invoked_function_arn=request["function_arn"],
        memory_limit_in_mb=int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")),
        aws_request_id=request_id,
        log_group_name=os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", ""),
        log_stream_name=os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", ""),
        deadline=request["deadline"],
    )
    print(f"START RequestId: {request_id} Version: {context.function_version}", file=sys.stderr)
    started = time.monotonic()
    try:
        reply = {"ok": True, "payload": json.dumps(handler(json.loads(request["payload"]),
                                                           context))}
    except Exception as exc:
        traceback.print_exc()
        reply = {"ok": False, "payload": json.dumps(_error(exc))}
    elapsed = (time.monotonic() - started) * 1000
    print(f"END RequestId: {request_id}", file=sys.stderr)
    print(f"REPORT RequestId: {request_id}\tDuration: {elapsed:.2f} ms", file=sys.stderr,
          flush=True)
    return reply


def _error(exc: BaseException) -> dict[str, Any]:
    """What Lambda answers for an unhandled exception."""
    return {"errorMessage": str(exc), "errorType": type(exc).__name__,
            "stackTrace": traceback.format_tb(exc.__traceback__)}


def _send(replies: TextIO, message: dict[str, Any]) -> None:
    replies.write(json.dumps(message) + "\n")


if __name__ == "__main__":
    main()
