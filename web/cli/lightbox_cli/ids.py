"""Asset and project ids as people read and type them: short in tables, and taken whole or
by their first characters, as git takes commit hashes.

The API knows whole UUIDs only, so a prefix is resolved against a listing of the owner's
assets or projects; these functions do the matching, the caller does the listing.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Sequence

# Hex digits a table shows of an id: as many as git shows of a commit.
SHORT_DIGITS = 8
# Fewer digits than this would match too much to be meant (git's minimum too).
MIN_PREFIX_DIGITS = 4
# Candidates an "ambiguous" message names at most.
NAMED_CANDIDATES = 10


class IdError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def whole(text: str) -> str | None:
    """The UUID ``text`` is, in its usual form, or None when it is not a whole one."""
    try:
        return str(uuid.UUID(text))
    except ValueError:
        return None


def is_prefix(text: str) -> bool:
    """Whether ``text`` can be the start of an id: hex digits (dashes aside), enough of them."""
    digits = _digits(text)
    return len(digits) >= MIN_PREFIX_DIGITS and re.fullmatch("[0-9a-f]+", digits) is not None


def prefix(text: str, noun: str) -> str:
    """The hex digits an id typed as ``text`` starts with; IdError when it cannot be one."""
    if not is_prefix(text):
        raise IdError(f"{text!r} is not {noun} id (a UUID, or at least its first "
                      f"{MIN_PREFIX_DIGITS} hex digits)")
    return _digits(text)


def matching(digits: str, candidates: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """The (id, label) pairs whose id starts with these hex digits."""
    return [(full, label) for full, label in candidates if _digits(full).startswith(digits)]


def ambiguous(text: str, found: Sequence[tuple[str, str]]) -> str:
    """What to say when ``text`` starts several ids: each one, short, with its label."""
    shown = found[:NAMED_CANDIDATES]
    short = short_ids(full for full, _ in shown)
    named = ", ".join(f"{short[full]} {label}" for full, label in shown)
    more = f" and {len(found) - len(shown)} more" if len(found) > len(shown) else ""
    return f"{text} is ambiguous: {named}{more}"


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
