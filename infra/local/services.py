"""The embedded services (PostgreSQL from the pgserver wheel, SQS from moto, LocalStack),
and the record of the servers a stack started, kept in its data directory."""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import psutil

log = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[2]


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
        _clear_stale_postmaster(self._data_dir)
        self._server = get_server(self._data_dir, cleanup_mode="stop")
        url: str = self._server.get_uri()
        log.info("PostgreSQL running in %s", self._data_dir)
        return url

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()
            self._server = None


def _clear_stale_postmaster(pgdata: Path) -> None:
    """Stop a PostgreSQL a crashed stack left running on ``pgdata``, or forget its pid file.

    pgserver reuses any live process named in ``postmaster.pid``, even one that only got the
    dead server's pid, and stops a server only when no handle it recorded remains: both go
    wrong after a crash. The pid is checked against the process's command line (never found
    by name), the server stopped as ``pg_ctl stop -m fast`` would, and the records cleared.
    """
    pid_file = pgdata / "postmaster.pid"
    try:
        pid = int(pid_file.read_text().split("\n", 1)[0])
    except (FileNotFoundError, ValueError):
        pid = None
    if pid is not None:
        process = _process_on(pid, str(pgdata))
        if process is not None:
            log.warning("stopping the PostgreSQL (pid %d) an earlier run left on %s", pid, pgdata)
            _stop_process(process, signal.SIGINT)  # PostgreSQL's fast shutdown
        else:
            pid_file.unlink(missing_ok=True)
    (pgdata / ".handle_pids.json").unlink(missing_ok=True)


def _process_on(pid: int, marker: str) -> psutil.Process | None:
    """The live process ``pid`` if its command line names ``marker``, else None."""
    try:
        process = psutil.Process(pid)
        return process if marker in " ".join(process.cmdline()) else None
    except (psutil.Error, OSError):
        return None


def _stop_process(process: psutil.Process, signum: int, timeout: float = 30) -> None:
    try:
        process.send_signal(signum)
        process.wait(timeout)
    except psutil.TimeoutExpired:
        process.kill()
        process.wait(timeout)
    except psutil.NoSuchProcess:
        pass


@dataclass(frozen=True)
class ServerRecords:
    """The servers a stack started, one file each under ``directory``: pid and start time.

    A stack killed without a clean stop leaves its servers running; the next start on the
    same data directory stops exactly those (same pid, same start time: a pid the system
    reused for something else is left alone), whatever they are named.
    """

    directory: Path

    def record(self, name: str, pid: int) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        started = psutil.Process(pid).create_time()
        (self.directory / f"{name}.json").write_text(json.dumps({"pid": pid, "started": started}))

    def forget(self, name: str) -> None:
        (self.directory / f"{name}.json").unlink(missing_ok=True)

    def running(self) -> dict[str, psutil.Process]:
        """The recorded servers still running, by name."""
        alive = {}
        for path in sorted(self.directory.glob("*.json")):
            try:
                record = json.loads(path.read_text())
                process = psutil.Process(int(record["pid"]))
                if process.create_time() == record["started"]:
                    alive[path.stem] = process
            except (ValueError, KeyError, TypeError, psutil.Error):
                pass  # gone already, or not ours
        return alive

    def stop_leftovers(self) -> list[str]:
        stopped = []
        for name, process in self.running().items():
            log.warning("stopping %s (pid %d), left running by an earlier run", name, process.pid)
            try:
                _stop_process(process, signal.SIGTERM)
            except psutil.Error:
                continue  # gone meanwhile
            stopped.append(name)
        for path in self.directory.glob("*.json"):
            path.unlink(missing_ok=True)
        return stopped


class MotoServer:
    """SQS and S3 in memory (moto's, ``infra/local/mock_aws.py``), on 127.0.0.1, in a child
    process of its own."""

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
            [sys.executable, "-m", "infra.local.mock_aws", str(self._port)],
            cwd=REPO,
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
        log.info("moto server on %s, pid %d", self.endpoint, self._process.pid)
        return self.endpoint

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def stop(self) -> None:
        if self._process is not None:
            terminate(self._process)
            self._process = None
        if self._log is not None:
            self._log.close()
            self._log = None


# What template.yaml deploys to, and what its deployed functions call.
TEMPLATE_SERVICES = ("cloudformation", "s3", "sqs", "lambda", "apigateway", "iam", "sts",
                     "events", "logs", "cloudwatch", "sns")


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
            # Functions deployed to it run as processes of this host, under this Python
            # (infra/local/localstack_plugin): it must be the functions' runtime, 3.12.
            "LAMBDA_RUNTIME_EXECUTOR": "host",
            "LIGHTBOX_LAMBDA_PYTHON": sys.executable,
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

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def stop(self) -> None:
        if self._process is not None:
            terminate(self._process)
            self._process = None


def terminate(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
