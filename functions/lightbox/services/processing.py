"""Pausing and resuming the work behind uploads (``lightbox admin pause|resume``).

A pause disables the triggers of every function that works through a queue or runs on a
schedule, and nothing else: uploads are still presigned, PUT and accepted, their bucket events
and jobs wait in their queues, and a resume lets the functions take them up again in the order
the queues hold them. Nothing is failed or dropped, so nothing reaches a dead-letter queue.
What waits longer than a queue keeps messages is not lost either: the database knows what is
unfinished, and the reaper sends it again once it runs.
"""

from __future__ import annotations

from lightbox.domain import Principal
from lightbox.errors import ConfigError, Forbidden
from lightbox.ports import ProcessingSwitch
from lightbox.values import Processing


def processing(principal: Principal, switch: ProcessingSwitch) -> Processing:
    _require_admin(principal)
    return _current(switch)


def set_paused(principal: Principal, switch: ProcessingSwitch, paused: bool) -> Processing:
    """Pause or resume; the triggers as they are right after (Lambda settles in seconds)."""
    _require_admin(principal)
    _current(switch)  # refused before anything changes when there is nothing to switch
    switch.set_enabled(not paused)
    return _current(switch)


def _current(switch: ProcessingSwitch) -> Processing:
    triggers = tuple(switch.triggers())
    if not triggers:
        raise ConfigError("no trigger to pause or resume: LIGHTBOX_PAUSABLE_FUNCTIONS names "
                          "no function with a queue or a schedule")
    return Processing(triggers)


def _require_admin(principal: Principal) -> None:
    if not principal.admin:
        raise Forbidden("only an admin's key may pause or resume the service's processing")
