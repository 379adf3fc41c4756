"""Whether each dependency of a function answers."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from lightbox.errors import LightboxError


@dataclass(frozen=True)
class Health:
    checks: dict[str, str]

    @property
    def ok(self) -> bool:
        return all(result == "ok" for result in self.checks.values())


def check_health(probes: Mapping[str, Callable[[], None]]) -> Health:
    checks = {}
    for name, probe in probes.items():
        try:
            probe()
        except LightboxError as exc:
            checks[name] = exc.message
        else:
            checks[name] = "ok"
    return Health(checks=checks)
