"""The processing switch over Lambda's event source mappings and EventBridge's rules.

The functions to pause are named by ARN (``LIGHTBOX_PAUSABLE_FUNCTIONS``); their mappings and
schedule rules are found from them at each call, so that nothing here knows the names
CloudFormation gave them. The same calls reach AWS, LocalStack, and the local runtime's
stand-in for these two APIs (``infra/local/control.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from lightbox.adapters.aws import translated
from lightbox.errors import Unavailable
from lightbox.values import Trigger, TriggerState

_MAPPING_STATES = {"Enabled": TriggerState.ENABLED, "Disabled": TriggerState.DISABLED}
_RULE_STATES = {"ENABLED": TriggerState.ENABLED, "DISABLED": TriggerState.DISABLED}


class EventSourceSwitch:
    def __init__(self, lambda_client: Callable[[], Any], events_client: Callable[[], Any],
                 functions: tuple[str, ...]) -> None:
        self._lambda = lambda_client
        self._events = events_client
        self._functions = functions

    def triggers(self) -> list[Trigger]:
        found = []
        with translated("reading the triggers", Unavailable):
            for function in self._functions:
                name = _function_name(function)
                found += [Trigger(name, mapping["EventSourceArn"].rpartition(":")[2],
                                  _MAPPING_STATES.get(mapping["State"], TriggerState.CHANGING))
                          for mapping in self._mappings(function)]
                for rule in self._rules(function):
                    state = self._events().describe_rule(Name=rule)["State"]
                    found.append(Trigger(name, rule,
                                         _RULE_STATES.get(state, TriggerState.CHANGING)))
        return found

    def set_enabled(self, enabled: bool) -> None:
        with translated("resuming" if enabled else "pausing", Unavailable):
            for function in self._functions:
                for mapping in self._mappings(function):
                    self._lambda().update_event_source_mapping(UUID=mapping["UUID"],
                                                               Enabled=enabled)
                for rule in self._rules(function):
                    if enabled:
                        self._events().enable_rule(Name=rule)
                    else:
                        self._events().disable_rule(Name=rule)

    def _mappings(self, function: str) -> Iterator[dict[str, Any]]:
        pages = self._lambda().get_paginator("list_event_source_mappings")
        for page in pages.paginate(FunctionName=function):
            yield from page["EventSourceMappings"]

    def _rules(self, function: str) -> Iterator[str]:
        pages = self._events().get_paginator("list_rule_names_by_target")
        for page in pages.paginate(TargetArn=function):
            yield from page["RuleNames"]


def _function_name(arn: str) -> str:
    """arn:aws:lambda:REGION:ACCOUNT:function:NAME → NAME."""
    return arn.rpartition(":function:")[2] or arn
