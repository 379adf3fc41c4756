"""A local stack whose parts the tests can break one at a time.

S3 + SQS (a moto server) and PostgreSQL run outside the stack, so that they outlive it when
it is killed and can be restarted under it; S3 is reached through a fault-injecting proxy.
The stack's timings are shortened so that recovery shows within seconds: claims expire after
10 s, the reaper runs every 3 s, a failed message comes back after 1, 2, 4, 4 s.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pytest

from infra.local.services import EmbeddedPostgres, MotoServer
from tests.conftest import REPO
from tests.e2e.conftest import Stack, start_stack
from tests.faults.proxy import FaultProxy
from tests.uploader import Uploader

SETTINGS = {
    "LIGHTBOX_PROCESSING_LEASE_SECONDS": "10",
    "LIGHTBOX_REDRIVE_AFTER_SECONDS": "15",
    "LIGHTBOX_UPLOAD_URL_TTL": "30",
    "LIGHTBOX_PENDING_GRACE_SECONDS": "5",
    "LIGHTBOX_RETRY_BASE_SECONDS": "1",
    "LIGHTBOX_RETRY_MAX_SECONDS": "4",
}
REAPER_EVERY_SECONDS = "3"


@dataclass
class World:
    directory: Path
    settings: dict[str, str]
    moto: MotoServer = field(init=False)
    postgres: EmbeddedPostgres = field(init=False)
    proxy: FaultProxy = field(init=False)
    stack: Stack = field(init=False)
    database_url: str = ""

    def start(self) -> World:
        with contextlib.ExitStack() as undo:  # a part that fails to start stops those started before it
            self.moto = MotoServer(self.directory / "moto.log")
            endpoint = self.moto.start()
            undo.callback(self.moto.stop)
            self.proxy = FaultProxy(endpoint).start()
            undo.callback(self.proxy.close)
            self.postgres = EmbeddedPostgres(self.directory / "postgres")
            self.database_url = self.postgres.start()
            undo.callback(self.postgres.stop)
            self.stack = self._start_stack()
            undo.pop_all()
        return self

    def stop(self) -> None:
        self.stack.stop()
        self.proxy.close()
        self.postgres.stop()
        self.moto.stop()

    @property
    def owner(self) -> Uploader:
        return Uploader(self.stack.api, self.stack.api_key)

    def kill_stack(self) -> None:
        """SIGKILL the runtime and every execution environment at once: a power cut."""
        runtime = psutil.Process(self.stack.process.pid)
        for process in [*runtime.children(recursive=True), runtime]:
            process.send_signal(signal.SIGKILL)
        self.stack.process.wait(timeout=30)

    def restart_stack(self) -> None:
        self.stack = self._start_stack()

    def kill_workers(self) -> int:
        """SIGKILL the functions' execution environments, not the runtime; how many."""
        workers = [process for process in
                   psutil.Process(self.stack.process.pid).children(recursive=True)
                   if "spawn_main" in " ".join(process.cmdline())]
        for process in workers:
            # Killing one worker breaks its pool, whose other workers may be gone already.
            with contextlib.suppress(psutil.NoSuchProcess):
                process.send_signal(signal.SIGKILL)
        return len(workers)

    def restart_postgres(self) -> None:
        self.postgres.stop()
        self.postgres = EmbeddedPostgres(self.directory / "postgres")
        assert self.postgres.start() == self.database_url

    def redrive(self) -> str:
        """``./dev.sh redrive`` against this stack, as an operator runs it."""
        done = subprocess.run(
            [sys.executable, "-m", "infra.local", "redrive", "--data", str(self.stack.data_dir)],
            cwd=REPO, capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    def _start_stack(self) -> Stack:
        return start_stack(self.directory / "data", self.proxy.url,
                           "--schedule-seconds", REAPER_EVERY_SECONDS,
                           DATABASE_URL=self.database_url, **self.settings)


@pytest.fixture
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    """Settings given by indirect parametrisation replace the defaults above."""
    running = World(tmp_path, {**SETTINGS, **getattr(request, "param", {})}).start()
    yield running
    running.proxy.heal()
    running.stop()
