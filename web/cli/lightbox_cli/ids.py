"""Asset and project ids as tables show them: short, as git shows commit hashes."""

from __future__ import annotations

from collections.abc import Iterable

# Hex digits a table shows of an id: as many as git shows of a commit.
SHORT_DIGITS = 8


def short_ids(ids: Iterable[str]) -> dict[str, str]:
    """Each id by its first 8 hex digits, or by as many more as it takes to tell apart the
    ids shown together; always a prefix of the whole id as the API writes it."""
    every = {full: _digits(full) for full in ids}
    distinct = len(set(every.values()))
    length = SHORT_DIGITS
    while len({digits[:length] for digits in every.values()}) < distinct:
        length += 1
    return {full: _cut(full, length) for full in every}


def _digits(text: str) -> str:
    return text.lower().replace("-", "")


def _cut(full: str, digits: int) -> str:
    """``full`` up to and with its ``digits``-th hex digit."""
    seen = 0
    for index, char in enumerate(full):
        seen += char != "-"
        if seen == digits:
            return full[: index + 1]
    return full
