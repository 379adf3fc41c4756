"""Background work that gives way to a user's own uploads.

An import's copies and renders are background work: nobody waits for any one of them, while a
person who has just taken a photo waits for theirs. Where the whole stack shares one machine
(the local runtime), background work shares its CPUs, its storage server, its queues and its
database with the live path, and a lower CPU priority frees only the CPUs. So a background
worker (the importer, the backfill lane) waits before each step while a user's own upload is
on its way, up to a bound, then goes on: uploads that never stop slow an import down and never
stop it. On AWS the lanes share only the database, so the template leaves it off.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

# How often a waiting worker looks again: a live upload's render takes a few hundred ms.
POLL_SECONDS = 0.1


@dataclass(frozen=True)
class GiveWay:
    live_upload_under_way: Callable[[], bool]
    longest_seconds: float  # a step's longest wait; 0: never waits
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic

    def wait(self) -> float:
        """Wait while a user's own upload is on its way, at most ``longest_seconds``; how
        long it waited."""
        if self.longest_seconds <= 0:
            return 0.0
        started = self.clock()
        while self.live_upload_under_way():
            waited = self.clock() - started
            if waited >= self.longest_seconds:
                break
            self.sleep(min(POLL_SECONDS, self.longest_seconds - waited))
        return self.clock() - started
