"""Pausing and resuming through Lambda's and EventBridge's APIs, as the library function does
on AWS, against the local runtime's stand-in for them: botocore's own requests and parsing."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from infra.local.control import ControlPlane
from infra.local.functions import function_arn
from infra.template import QueueTrigger, Template
from lightbox.adapters.processing import EventSourceSwitch
from lightbox.config import Config
from lightbox.values import Processing, TriggerState
from tests.conftest import REPO

TEMPLATE = Template.load(REPO / "template.yaml")
QUEUE_ARNS = {name: f"arn:aws:sqs:us-east-1:000000000000:lightbox-local-{name}"
              for name in TEMPLATE.queues}
FUNCTION_ARNS = {name: function_arn(name) for name in TEMPLATE.functions}


def start(state_file: Path) -> ControlPlane:
    control = ControlPlane(TEMPLATE.triggers, TEMPLATE.schedules, function_arns=FUNCTION_ARNS,
                           queue_arns=QUEUE_ARNS, state_file=state_file)
    control.start()
    return control


@pytest.fixture
def control(tmp_path: Path) -> Iterator[ControlPlane]:
    control = start(tmp_path / "processing.json")
    yield control
    control.close()


def takes(control: ControlPlane, trigger: QueueTrigger) -> bool:
    """Whether the bridge would take a batch of this trigger's queue now."""
    with control.taking(trigger) as taking:
        return taking


def switch_of(control: ControlPlane, functions: tuple[str, ...]) -> EventSourceSwitch:
    session = boto3.session.Session(aws_access_key_id="local", aws_secret_access_key="local",
                                    region_name="us-east-1")
    clients: dict[str, Any] = {service: session.client(service, endpoint_url=control.url)
                               for service in ("lambda", "events")}  # type: ignore[call-overload]
    return EventSourceSwitch(lambda: clients["lambda"], lambda: clients["events"], functions)


def pausable() -> tuple[str, ...]:
    """What the template gives the library function in LIGHTBOX_PAUSABLE_FUNCTIONS."""
    variable = TEMPLATE.functions["LibraryFunction"].environment["LIGHTBOX_PAUSABLE_FUNCTIONS"]
    names = [value["Fn::GetAtt"][0] for value in variable["Fn::Join"][1]]
    return Config.from_env({"LIGHTBOX_PAUSABLE_FUNCTIONS": ",".join(
        FUNCTION_ARNS[name] for name in names)}).pausable_functions


def test_every_queue_trigger_and_schedule_of_the_template_is_pausable() -> None:
    functions = {arn.rpartition(":")[2] for arn in pausable()}
    assert functions == ({t.function for t in TEMPLATE.triggers}
                         | {s.function for s in TEMPLATE.schedules})


def test_a_pause_disables_every_trigger_and_a_resume_enables_them_again(
        control: ControlPlane) -> None:
    switch = switch_of(control, pausable())
    before = Processing(tuple(switch.triggers()))
    assert before.state is TriggerState.ENABLED
    assert {(t.function, t.source) for t in before.triggers} == (
        {(t.function, QUEUE_ARNS[t.queue].rpartition(":")[2]) for t in TEMPLATE.triggers}
        | {(s.function, f"local-{s.function}") for s in TEMPLATE.schedules})

    switch.set_enabled(False)

    assert Processing(tuple(switch.triggers())).state is TriggerState.DISABLED
    assert not any(takes(control, trigger) for trigger in TEMPLATE.triggers)
    assert not any(control.runs(schedule) for schedule in TEMPLATE.schedules)

    switch.set_enabled(True)

    assert Processing(tuple(switch.triggers())).state is TriggerState.ENABLED
    assert all(takes(control, trigger) for trigger in TEMPLATE.triggers)
    assert all(control.runs(schedule) for schedule in TEMPLATE.schedules)


def test_a_stack_started_again_while_paused_stays_paused(tmp_path: Path) -> None:
    first = start(tmp_path / "processing.json")
    switch_of(first, pausable()).set_enabled(False)
    first.close()

    again = start(tmp_path / "processing.json")
    try:
        assert Processing(tuple(switch_of(again, pausable()).triggers())).state \
            is TriggerState.DISABLED
        assert not any(takes(again, trigger) for trigger in TEMPLATE.triggers)
    finally:
        again.close()


def test_only_the_named_functions_are_switched(control: ControlPlane) -> None:
    reaper = FUNCTION_ARNS["ReaperFunction"]
    switch_of(control, (reaper,)).set_enabled(False)

    assert [s.function for s in TEMPLATE.schedules if not control.runs(s)] == ["ReaperFunction"]
    assert all(takes(control, trigger) for trigger in TEMPLATE.triggers)


def test_an_unknown_mapping_or_rule_is_an_error_not_a_silent_success(
        control: ControlPlane) -> None:
    clients = {service: boto3.client(service, endpoint_url=control.url,  # type: ignore[call-overload]
                                     region_name="us-east-1", aws_access_key_id="local",
                                     aws_secret_access_key="local")
               for service in ("lambda", "events")}
    with pytest.raises(clients["lambda"].exceptions.ResourceNotFoundException):
        clients["lambda"].update_event_source_mapping(UUID=str(uuid.uuid4()), Enabled=False)
    with pytest.raises(clients["events"].exceptions.ResourceNotFoundException):
        clients["events"].disable_rule(Name="no-such-rule")
    nothing = switch_of(control, ("arn:aws:lambda:local:000000000000:function:Nothing",))
    assert nothing.triggers() == []


def test_a_mapping_whose_batch_is_being_taken_is_disabling_until_it_is_taken(
        control: ControlPlane) -> None:
    switch = switch_of(control, pausable())
    trigger = next(t for t in TEMPLATE.triggers if t.function == "ThumbnailFunction")

    with control.taking(trigger) as taking:
        assert taking
        switch.set_enabled(False)
        during = {t.function: t.state for t in switch.triggers()}
    after = {t.function: t.state for t in switch.triggers()}

    assert during["ThumbnailFunction"] is TriggerState.CHANGING
    assert Processing(tuple(switch.triggers())).state is TriggerState.DISABLED
    assert after["ThumbnailFunction"] is TriggerState.DISABLED
    with control.taking(trigger) as taking:
        assert not taking
