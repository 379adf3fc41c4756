"""A local stand-in for EventBridge schedules: invokes each scheduled function at its rate."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from infra.local.control import ControlPlane
from infra.local.functions import InvocationError, LocalFunction
from infra.template import Schedule

log = logging.getLogger(__name__)


class Scheduler:
    def __init__(self, schedules: tuple[Schedule, ...], functions: Mapping[str, LocalFunction],
                 *, region: str, control: ControlPlane, every: int | None = None) -> None:
        self._region = region
        self._control = control
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, args=(s, functions[s.function], every or s.seconds),
                             name=f"schedule-{s.function}", daemon=True)
            for s in schedules
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def close(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)

    def _run(self, schedule: Schedule, function: LocalFunction, seconds: int) -> None:
        while not self._stop.wait(seconds):
            if not self._control.runs(schedule):  # its rule is disabled: paused
                continue
            try:
                function.invoke(self._event(function.name))
            except InvocationError as exc:
                log.error("%s", exc)

    def _event(self, name: str) -> dict[str, Any]:
        """The event EventBridge sends for a scheduled rule."""
        return {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": "000000000000",
            "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": self._region,
            "resources": [f"arn:aws:events:{self._region}:000000000000:rule/local-{name}"],
            "detail": {},
        }
