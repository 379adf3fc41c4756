"""Pausing and resuming the work behind uploads: who may, and what the state says."""

from __future__ import annotations

import pytest

from lightbox.domain import Principal
from lightbox.errors import ConfigError, Forbidden, InvalidField, RequestError
from lightbox.http.inputs import parse_processing_request
from lightbox.services.processing import processing, set_paused
from lightbox.values import Processing, Trigger, TriggerState

ADMIN = Principal("ops", admin=True)
OWNER = Principal("alice", admin=False)


class FakeSwitch:
    def __init__(self, *states: TriggerState) -> None:
        self.states = list(states)
        self.calls: list[bool] = []

    def triggers(self) -> list[Trigger]:
        return [Trigger(f"Function{n}", f"queue-{n}", state)
                for n, state in enumerate(self.states)]

    def set_enabled(self, enabled: bool) -> None:
        self.calls.append(enabled)
        wanted = TriggerState.ENABLED if enabled else TriggerState.DISABLED
        self.states = [wanted] * len(self.states)


def test_a_pause_disables_and_a_resume_enables_every_trigger() -> None:
    switch = FakeSwitch(TriggerState.ENABLED, TriggerState.ENABLED)

    assert set_paused(ADMIN, switch, True).state is TriggerState.DISABLED
    assert set_paused(ADMIN, switch, False).state is TriggerState.ENABLED
    assert switch.calls == [False, True]


def test_only_an_admin_may_see_pause_or_resume_and_nothing_changes_for_another() -> None:
    switch = FakeSwitch(TriggerState.ENABLED)
    with pytest.raises(Forbidden):
        set_paused(OWNER, switch, True)
    with pytest.raises(Forbidden):
        processing(OWNER, switch)
    assert switch.calls == []


def test_with_nothing_to_switch_the_answer_says_so_and_nothing_is_called() -> None:
    switch = FakeSwitch()
    with pytest.raises(ConfigError, match="LIGHTBOX_PAUSABLE_FUNCTIONS"):
        set_paused(ADMIN, switch, True)
    assert switch.calls == []


@pytest.mark.parametrize(("states", "state"), [
    ((TriggerState.ENABLED, TriggerState.ENABLED), TriggerState.ENABLED),
    ((TriggerState.DISABLED,), TriggerState.DISABLED),
    ((TriggerState.DISABLED, TriggerState.CHANGING), TriggerState.CHANGING),
    ((TriggerState.DISABLED, TriggerState.ENABLED), TriggerState.CHANGING),  # half done
])
def test_the_state_is_one_word_only_when_every_trigger_agrees(
        states: tuple[TriggerState, ...], state: TriggerState) -> None:
    assert Processing(tuple(Trigger("F", "q", s) for s in states)).state is state


@pytest.mark.parametrize("body", [{}, {"paused": "yes"}, {"paused": 1}, {"paused": None}])
def test_a_request_must_say_paused_true_or_false(body: dict[str, object]) -> None:
    with pytest.raises(InvalidField, match="paused"):
        parse_processing_request(body)


def test_a_request_with_other_fields_is_refused_by_name() -> None:
    with pytest.raises(RequestError, match="unknown fields: state"):
        parse_processing_request({"paused": True, "state": "disabled"})
