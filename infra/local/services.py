"""The embedded services: PostgreSQL from the pgserver wheel and S3 + SQS from moto."""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import IO, Any

log = logging.getLogger(__name__)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        # As the HTTP server will: connections lingering in TIME_WAIT do not hold the port.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def wait_for_port(port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"nothing answered on 127.0.0.1:{port}") from None
            time.sleep(0.1)


class EmbeddedPostgres:
    """PostgreSQL 16 in ``data_dir``, listening on a unix socket there."""

    def __init__(self, data_dir: Path) -> None:
        self._data_dir = data_dir
        self._server: Any = None

    def start(self) -> str:
        with warnings.catch_warnings():
            # platformdirs warns when XDG_RUNTIME_DIR is unset; pgserver then uses /tmp.
            warnings.simplefilter("ignore", UserWarning)
            from pgserver.postgres_server import get_server  # the runtime's, not the functions'

        self._data_dir.mkdir(parents=True, exist_ok=True)
        self._server = get_server(self._data_dir, cleanup_mode="stop")
        url: str = self._server.get_uri()
        log.info("PostgreSQL running in %s", self._data_dir)
        return url

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()
            self._server = None


class MotoServer:
    """S3 and SQS in memory, on 127.0.0.1, in a child process of its own."""

    def __init__(self, log_path: Path, port: int = 0) -> None:
        self._log_path = log_path
        self._port = port or free_port()
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    def start(self) -> str:
        self._log = self._log_path.open("ab")
        self._process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self._port)],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            # Its own session: a Ctrl-C in the terminal reaches the runtime, which stops it.
            start_new_session=True,
            # The account LocalStack and CloudFormation's local pseudo parameters use; CORS
            # as the bucket's rules say, as in S3 (moto otherwise allows every origin).
            env={**os.environ, "MOTO_ACCOUNT_ID": "000000000000",
                 "MOTO_DISABLE_GLOBAL_CORS": "1"},
        )
        wait_for_port(self._port, timeout=30)
        log.info("moto server (S3 + SQS) on %s, pid %d", self.endpoint, self._process.pid)
        return self.endpoint

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def stop(self) -> None:
        if self._process is not None:
            _terminate(self._process)
            self._process = None
        if self._log is not None:
            self._log.close()
            self._log = None


class LocalStackServer:
    """LocalStack (community) without Docker, from its own venv, on 127.0.0.1."""

    def __init__(
        self, python: Path, data_dir: Path, log_path: Path, port: int = 0,
        services: tuple[str, ...] = ("s3", "sqs"),
    ) -> None:
        self._python = python
        self._services = services
        self._data_dir = data_dir
        self._log_path = log_path
        self._port = port or free_port()
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    def start(self, timeout: float = 120) -> str:
        if not self._python.exists():
            raise FileNotFoundError(
                f"LocalStack is not installed in {self._python.parents[1].name}; "
                "./dev.sh up --s3 localstack installs it"
            )
        # LocalStack empties its temporary directory when it starts: give it its own.
        for directory in ("tmp", "fs"):
            (self._data_dir / directory).mkdir(parents=True, exist_ok=True)
        address = f"127.0.0.1:{self._port}"
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": os.environ.get("HOME", str(self._data_dir)),
            "GATEWAY_SERVER": "hypercorn",
            "GATEWAY_LISTEN": address,
            "LOCALSTACK_HOST": address,
            "SQS_ENDPOINT_STRATEGY": "path",
            "DISABLE_EVENTS": "1",
            "SERVICES": ",".join(self._services),
            # Functions deployed to it are stored, never run (infra/local/localstack_plugin).
            "LAMBDA_RUNTIME_EXECUTOR": "inert",
            # The newer engine resolves !GetAtt of resources whose condition is false even in
            # the untaken branch of an !If, and so refuses template.yaml; this one does not.
            "PROVIDER_OVERRIDE_CLOUDFORMATION": "engine-legacy",
            # Check presigned URLs as S3 does (signature, expiry, signed headers such as
            # Content-Length): LocalStack accepts any by default.
            "S3_SKIP_SIGNATURE_VALIDATION": "0",
            "TMPDIR": str(self._data_dir / "tmp"),
            "FILESYSTEM_ROOT": str(self._data_dir / "fs"),
        }
        start = self._log_path.stat().st_size if self._log_path.exists() else 0
        with self._log_path.open("ab") as output:
            self._process = subprocess.Popen(
                [str(self._python), "-m", "localstack.runtime.main"], stdout=output,
                stderr=subprocess.STDOUT, start_new_session=True, env=env,
            )
        deadline = time.monotonic() + timeout
        while b"Ready." not in self._log_path.read_bytes()[start:]:
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise ChildProcessError(f"LocalStack did not start; see {self._log_path}")
            time.sleep(0.5)
        log.info("LocalStack (%s) on %s, pid %d", ", ".join(self._services), self.endpoint,
                 self._process.pid)
        return self.endpoint

    def stop(self) -> None:
        if self._process is not None:
            _terminate(self._process)
            self._process = None


def _terminate(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
