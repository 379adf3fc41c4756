"""Each Lambda function as worker processes, invoked as Lambda invokes it.

A worker process is one execution environment: it starts with only its function's
environment variables, imports the handler once (the cold start) and then serves one
invocation at a time, like Lambda. Workers are spawned, never forked, so that no state of
the runtime leaks into a function. Each is a process pool of its own: one that dies (a
decoder's crash, the kernel's OOM killer) fails its own invocation and is replaced, while
the others' invocations go on, as Lambda's sandboxes do. A pool shared by all would fail
every invocation in flight with it, and leave their messages for a visibility timeout.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib
import logging
import multiprocessing
import os
import queue
import signal
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)


class InvocationError(Exception):
    """The handler raised, or its execution environment died."""

    def __init__(self, message: str, *, error_message: str = "") -> None:
        super().__init__(message)
        # What Lambda reports as errorMessage: str() of what the handler raised.
        self.error_message = error_message


@dataclass(frozen=True)
class LambdaContext:
    """The attributes of Lambda's context object that handlers read."""

    function_name: str
    memory_limit_in_mb: int
    invoked_function_arn: str
    aws_request_id: str
    deadline: float
    function_version: str = "$LATEST"
    log_group_name: str = "local"
    log_stream_name: str = "local"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.time()) * 1000))


def function_arn(name: str) -> str:
    """The ARN a local function has, in its context and in the template's ``!GetAtt``."""
    return f"arn:aws:lambda:local:000000000000:function:{name}"


class LocalFunction:
    def __init__(
        self,
        name: str,
        *,
        handler: str,
        code_uri: str,
        environment: Mapping[str, str],
        timeout: int,
        memory: int,
        concurrency: int,
        niceness: int = 0,
    ) -> None:
        if concurrency < 1:
            raise ValueError(f"{name}: a concurrency of {concurrency} would never invoke it")
        self.name = name
        self._handler = handler
        self._code_uri = code_uri
        self._environment = dict(environment)
        self._timeout = timeout
        self._memory = memory
        self._niceness = niceness
        # Idle environments, the last used first: a warm one serves the next invocation, and
        # the others start only when invocations overlap. More than ``concurrency`` at once
        # wait for one.
        self._idle: queue.LifoQueue[ProcessPoolExecutor] = queue.LifoQueue()
        self._lock = threading.Lock()
        self._closed = False
        self._environments = {self._new_environment() for _ in range(concurrency)}
        for idle in self._environments:
            self._idle.put(idle)

    def invoke(self, event: Mapping[str, Any]) -> Any:
        context = LambdaContext(
            function_name=self.name,
            memory_limit_in_mb=self._memory,
            invoked_function_arn=function_arn(self.name),
            aws_request_id=str(uuid.uuid4()),
            deadline=time.time() + self._timeout,
        )
        environment = self._idle.get()
        try:
            if self._closed:
                raise InvocationError(f"{self.name}: the runtime is stopping")
            ok, result = environment.submit(_invoke, dict(event), context).result()
        except BrokenProcessPool as exc:
            environment = self._replace(environment)
            raise InvocationError(f"{self.name}: the execution environment died") from exc
        finally:
            self._idle.put(environment)
        if not ok:
            error_message, trace = result
            raise InvocationError(f"{self.name} raised:\n{trace}", error_message=error_message)
        return result

    def close(self) -> None:
        with self._lock:
            self._closed = True
            environments = list(self._environments)
        for environment in environments:
            environment.shutdown(wait=True, cancel_futures=True)

    def _new_environment(self) -> ProcessPoolExecutor:
        # Its process starts at its first invocation.
        return ProcessPoolExecutor(
            max_workers=1,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_environment,
            initargs=(self._code_uri, self._handler, self._environment, self._niceness),
        )

    def _replace(self, dead: ProcessPoolExecutor) -> ProcessPoolExecutor:
        log.error("%s: an execution environment died; starting another", self.name)
        dead.shutdown(wait=False, cancel_futures=True)
        with self._lock:
            self._environments.discard(dead)
            if self._closed:
                return dead  # nothing starts after close(), which would not stop it
            fresh = self._new_environment()
            self._environments.add(fresh)
        return fresh


# --- inside a worker process --------------------------------------------------------------

_handler: Callable[[Any, Any], Any] | None = None
_PR_SET_NAME = 15  # prctl(2)


def _start_environment(code_uri: str, handler: str, environment: dict[str, str],
                       niceness: int) -> None:
    # The runtime stops its workers itself; a Ctrl-C in the terminal is not for them.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.nice(niceness)
    os.environ.clear()
    os.environ.update(environment)
    sys.path.insert(0, code_uri)
    # Named by function: both thumbnail lanes run the same handler.
    name = environment.get("AWS_LAMBDA_FUNCTION_NAME", handler)
    _show_in_process_list(name.removesuffix("Function"))
    # Libraries' warnings; Lightbox's own lines go through its telemetry (lightbox/telemetry.py),
    # in the same shape, once the handler reads its configuration.
    logging.basicConfig(
        level=logging.WARNING, format=f"%(asctime)s {name} %(levelname)s %(name)s: %(message)s"
    )
    module, attribute = handler.rsplit(".", 1)
    global _handler  # noqa: PLW0603 - one handler per execution environment, as in Lambda
    _handler = getattr(importlib.import_module(module), attribute)


def _show_in_process_list(name: str) -> None:
    """Name the process after its function in ps, top and /proc/PID/comm, where every worker
    would otherwise be one more "python" (Linux only; the kernel keeps 15 bytes)."""
    with contextlib.suppress(OSError, AttributeError):  # not Linux: left as it was
        ctypes.CDLL(None).prctl(_PR_SET_NAME, name.encode()[:15], 0, 0, 0)


def _invoke(event: dict[str, Any], context: LambdaContext) -> tuple[bool, Any]:
    assert _handler is not None
    try:
        return True, _handler(event, context)
    except Exception as exc:
        return False, (str(exc), traceback.format_exc())
