"""Fitting a table into a width: a row stays one line, whatever its file name.

Columns are taken in order of need while they fit; one column (the file name) takes the room
left and its cells are cut in the middle, so that a name keeps its start and its end (a
camera's number, the extension).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.cells import cell_len

# Two spaces between columns: rich's padding of one cell on each side.
GAP = 2
ELLIPSIS = "…"


def fit(columns: Mapping[str, Sequence[str]], width: int, *, flexible: str,
        needed: Sequence[str], wanted: Sequence[str], flexible_room: int
        ) -> dict[str, list[str]]:
    """The columns (heading → cells, in the order given) that fit in ``width``.

    ``needed`` columns are always there; each of ``wanted`` there is, in that order, joins if
    it still leaves ``flexible`` at least ``flexible_room`` cells (or all that its longest cell
    takes), and ``flexible`` then gets what is left, its cells shortened to it.
    """
    widths = {heading: max(map(cell_len, [heading, *cells])) for heading, cells in columns.items()}
    room = min(widths[flexible], flexible_room)
    chosen = [flexible, *needed]
    for heading in (name for name in wanted if name in columns):
        used = sum(widths[name] for name in chosen if name != flexible) + GAP * len(chosen)
        if used + widths[heading] + room <= width:
            chosen.append(heading)
    others = sum(widths[name] for name in chosen if name != flexible)
    # Never narrower than its heading; a terminal too narrow even for that is left to rich.
    left = max(width - others - GAP * (len(chosen) - 1), cell_len(flexible))
    flexible_width = min(widths[flexible], left)
    return {heading: ([shorten(cell, flexible_width) for cell in cells]
                      if heading == flexible else list(cells))
            for heading, cells in columns.items() if heading in chosen}


def shorten(text: str, cells: int) -> str:
    """``text`` in at most ``cells`` columns, cut in the middle with an ellipsis."""
    if cell_len(text) <= cells:
        return text
    tail = (cells - 1) // 2
    head = _take(text, cells - 1 - tail)
    end = _take(text[::-1], tail)[::-1]
    return f"{head}{ELLIPSIS}{end}"


def _take(text: str, cells: int) -> str:
    """The longest start of ``text`` that fits in ``cells`` columns (wide letters take two)."""
    taken, used = [], 0
    for char in text:
        used += cell_len(char)
        if used > cells:
            break
        taken.append(char)
    return "".join(taken)
