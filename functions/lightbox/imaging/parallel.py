"""Work split across the machine's cores, for steps whose libraries release the GIL while
they work (Pillow's resampling, numpy's sums): one render then takes the time libvips takes,
which splits its work the same way. On one core, everything runs in the calling thread."""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


@functools.cache
def cores() -> int:
    """The cores this process may run on."""
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity else os.cpu_count() or 1


@functools.cache
def _pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(cores(), thread_name_prefix="render")


_lane = threading.local()


def workers() -> int:
    """Threads the caller may keep busy: one on a lane, which shares the cores already."""
    return 1 if getattr(_lane, "busy", False) else cores()


def each(work: Callable[[T], R], items: Iterable[T]) -> list[R]:
    """``work`` of each item, in order, on as many cores as there are.

    Work already running on a lane does its own parts in turn: a lane that waited for parts
    queued behind it in the same pool could wait forever.
    """
    items = list(items)
    if len(items) < 2 or workers() < 2:
        return [work(item) for item in items]
    return list(_pool().map(functools.partial(_on_a_lane, work), items))


def _on_a_lane(work: Callable[[T], R], item: T) -> R:
    _lane.busy = True
    try:
        return work(item)
    finally:
        _lane.busy = False
