"""Sections of a document that a program writes: the text between a start and an end marker."""

from __future__ import annotations


def split(text: str, start: str, end: str, what: str) -> tuple[str, str, str]:
    """What comes before ``start``, between the markers, and after ``end``; a ValueError
    unless ``text`` holds exactly one pair of ``what`` markers, in order."""
    if text.count(start) != 1 or text.count(end) != 1 or text.index(start) > text.index(end):
        raise ValueError(f"the document needs exactly one pair of {what} markers")
    before, rest = text.split(start, 1)
    inside, after = rest.split(end, 1)
    return before, inside, after
