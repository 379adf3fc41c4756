"""A Lambda runtime executor that runs functions as processes on this host, without Docker.

LocalStack's own executor starts a container per execution environment; without Docker it
cannot run a function at all. This one starts each execution environment as a process
(``runtime.py``) under the Python of the function's runtime, from the package LocalStack
unzipped, with the environment LocalStack computed from the function's configuration:
Invoke, event source mappings and API Gateway's Lambda integrations then run the deployed
code itself. A function's timeout is enforced here, as Lambda enforces it; its logs go to
LocalStack's log and, per invocation, to CloudWatch Logs.

Selected with LAMBDA_RUNTIME_EXECUTOR=host. The interpreter is LIGHTBOX_LAMBDA_PYTHON
(``python3.12`` from PATH when it is not set): it must be the runtime's version, as the
packages hold compiled modules for it.
"""

from __future__ import annotations

import collections
import contextlib
import json
import logging
import os
import queue
import signal
import subprocess
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from localstack.services.lambda_.invocation.lambda_models import FunctionVersion, InvocationResult
from localstack.services.lambda_.invocation.plugins import RuntimeExecutorPlugin
from localstack.services.lambda_.invocation.runtime_executor import (
    LambdaRuntimeException,
    RuntimeExecutor,
)

LOG = logging.getLogger("localstack.lightbox.lambda")
RUNTIME = Path(__file__).with_name("runtime.py")
# Lambda gives a function's initialisation 10 s; a first import from a cold disk takes longer.
STARTUP_SECONDS = 60
# Log lines an execution environment keeps for get_logs.
KEPT_LOG_LINES = 10_000


class HostRuntimeExecutor(RuntimeExecutor):
    def __init__(self, id: str, function_version: FunctionVersion) -> None:
        super().__init__(id, function_version)
        self._environment: dict[str, str] = {}
        self._process: subprocess.Popen[str] | None = None
        self._replies: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._logs: collections.deque[str] = collections.deque(maxlen=KEPT_LOG_LINES)
        self._invocation_logs: list[str] | None = None  # of the invocation under way
        self._lock = threading.Lock()

    # --- the execution environment ---------------------------------------------------------

    def start(self, env_vars: dict[str, str]) -> None:
        config = self.function_version.config
        if not (config.runtime or "").startswith("python"):
            raise LambdaRuntimeException(
                f"the host executor runs Python functions, not {config.runtime or 'images'}")
        assert config.code is not None
        self._environment = {
            **{name: str(value) for name, value in env_vars.items()},
            "LAMBDA_TASK_ROOT": str(config.code.get_unzipped_code_location()),
            "PATH": os.environ.get("PATH", ""),
            "LANG": "C.UTF-8",
        }
        with self._lock:
            self._spawn()

    def stop(self) -> None:
        # Not behind the lock: an invocation under way ends with the process, not after it.
        self._kill()

    def invoke(self, payload: dict[str, str]) -> InvocationResult:
        request_id = payload["invoke-id"]
        timeout = float(self.function_version.config.timeout)
        with self._lock:
            if self._process is None or self._process.poll() is not None:
                self._spawn()  # after a timeout or a crash, as Lambda starts a fresh one
            assert self._process is not None and self._process.stdin is not None
            self._invocation_logs = invocation_logs = []
            request = {"request_id": request_id, "payload": payload["payload"],
                       "function_arn": payload["invoked-function-arn"],
                       "deadline": time.time() + timeout}
            timed_out = False
            try:
                self._process.stdin.write(json.dumps(request) + "\n")
                self._process.stdin.flush()
                reply = self._replies.get(timeout=timeout)  # None: the process is gone
            except BrokenPipeError:
                reply = None
            except queue.Empty:
                reply, timed_out = None, True
            if reply is None:
                self._kill()
                message = (f"Task timed out after {timeout:.2f} seconds" if timed_out else
                           "the execution environment exited")
                reply = {"ok": False, "payload": json.dumps({
                    "errorMessage": f"{_now()} {request_id} {message}",
                    "errorType": "Sandbox.Timedout" if timed_out else "Runtime.ExitError"})}
            else:
                _wait_for_report(invocation_logs, request_id)
            self._invocation_logs = None
        return InvocationResult(request_id=request_id, payload=reply["payload"].encode(),
                                is_error=not reply["ok"], logs="".join(invocation_logs),
                                executed_version=self.function_version.id.qualifier)

    def _spawn(self) -> None:
        python = os.environ.get("LIGHTBOX_LAMBDA_PYTHON") or "python3.12"
        self._replies = queue.Queue()
        self._process = subprocess.Popen(
            [python, "-I", "-S", str(RUNTIME)], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1,
            env=self._environment, cwd=self._environment["LAMBDA_TASK_ROOT"],
            start_new_session=True,
        )
        threading.Thread(target=self._read_replies, args=(self._process.stdout, self._replies),
                         daemon=True, name=f"{self.id}-replies").start()
        threading.Thread(target=self._read_logs, args=(self._process.stderr,), daemon=True,
                         name=f"{self.id}-logs").start()
        try:
            ready = self._replies.get(timeout=STARTUP_SECONDS)
        except queue.Empty:
            ready = None
        if not ready:
            self._kill()
            raise LambdaRuntimeException(
                f"{self._function_name}: the execution environment exited or was not ready "
                f"within {STARTUP_SECONDS} s: {''.join(list(self._logs)[-20:])}")

    def _kill(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        # The handler's children too (a PDF renderer, say), as Lambda ends a sandbox whole.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()

    def _read_replies(self, stream: IO[str], replies: queue.Queue[dict[str, Any] | None]) -> None:
        for line in stream:
            replies.put(json.loads(line))
        replies.put(None)  # the process is gone

    def _read_logs(self, stream: IO[str]) -> None:
        for line in stream:
            self._logs.append(line)
            if (current := self._invocation_logs) is not None:
                current.append(line)
            LOG.info("%s %s", self._function_name, line.rstrip("\n"))

    @property
    def _function_name(self) -> str:
        return self.function_version.id.function_name

    # --- what LocalStack asks of every executor ---------------------------------------------

    def get_address(self) -> str:
        return "127.0.0.1"

    def get_endpoint_from_executor(self) -> str:
        return "127.0.0.1"

    def get_runtime_endpoint(self) -> str:
        return ""  # the runtime answers on its pipe, not through LocalStack's endpoint

    def get_logs(self) -> str:
        return "".join(self._logs)

    @classmethod
    def prepare_version(cls, function_version: FunctionVersion) -> None:
        if function_version.config.code:
            function_version.config.code.prepare_for_execution()

    @classmethod
    def cleanup_version(cls, function_version: FunctionVersion) -> None:
        pass  # LocalStack removes a version's unzipped code itself


def _wait_for_report(logs: list[str], request_id: str) -> None:
    """The runtime writes its REPORT line before its reply; its reader may still be behind."""
    deadline = time.monotonic() + 1
    while not any(line.startswith(f"REPORT RequestId: {request_id}") for line in logs[-3:]):
        if time.monotonic() > deadline:
            return
        time.sleep(0.005)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class HostExecutorPlugin(RuntimeExecutorPlugin):
    name = "host"

    def load(self, *args: object, **kwargs: object) -> type[RuntimeExecutor]:
        return HostRuntimeExecutor
