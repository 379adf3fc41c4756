"""A background step gives way to a user's own upload under way (services/courtesy.py), for a
bounded time, and not at all where it is off."""

from __future__ import annotations

from dataclasses import dataclass, field

from lightbox.services.courtesy import POLL_SECONDS, GiveWay


@dataclass
class Clock:
    now: float = 0.0
    slept: list[float] = field(default_factory=list)

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def uploads_under_way_for(clock: Clock, seconds: float) -> GiveWay:
    return GiveWay(lambda: clock.now < seconds, longest_seconds=3, sleep=clock.sleep,
                   clock=lambda: clock.now)


def test_a_step_waits_while_a_users_upload_is_under_way_then_goes_on() -> None:
    clock = Clock()
    waited = uploads_under_way_for(clock, 0.4).wait()
    assert 0.4 <= waited < 0.5
    assert max(clock.slept) <= POLL_SECONDS  # it looks again soon


def test_a_step_waits_no_longer_than_its_bound_however_long_uploads_go_on() -> None:
    clock = Clock()
    assert uploads_under_way_for(clock, 3600).wait() == 3


def test_without_uploads_under_way_a_step_goes_on_at_once() -> None:
    clock = Clock()
    assert uploads_under_way_for(clock, 0).wait() == 0
    assert clock.slept == []


def test_where_it_is_off_nothing_is_asked() -> None:
    asked = []
    give_way = GiveWay(lambda: asked.append(1) or True, longest_seconds=0)
    assert give_way.wait() == 0 and asked == []
