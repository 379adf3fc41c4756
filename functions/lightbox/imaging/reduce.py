"""Box-filter reduction of an image that arrives in pieces, in bounded memory.

A TIFF of 20000×20000 pixels is 1.2 GB decoded; its thumbnails need a few megabytes. The
reducer averages k×k blocks of the pieces (strips, tiles, bands of rows) as they are decoded,
keeping only one row of sums per output row still being filled — for strips and tiles read
in order, a handful — and writes each finished output row as 8-bit samples.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from lightbox.imaging import parallel

# Output rows averaged per batch: larger batches cost memory, smaller ones Python overhead.
_BATCH_ROWS = 32


@dataclass(frozen=True)
class Scale:
    """Maps averaged samples to 0-255: ``(value - offset) * factor``, rounded and clipped."""

    offset: float
    factor: float

    def apply(self, values: NDArray[Any]) -> NDArray[np.uint8]:
        if values.dtype == np.uint8 and (self.offset, self.factor) == (0, 1):
            return values  # 8-bit samples, taken as they are
        scaled = (values - self.offset) * self.factor + 0.5
        return np.clip(scaled, 0, 255).astype(np.uint8)


@dataclass
class _OpenRow:
    sums: NDArray[Any]
    filled: int = field(default=0)


class BoxReducer:
    """Averages ``factor``×``factor`` blocks of a ``height``×``width`` image into ``output``.

    Pieces arrive through ``add`` in any order; each covers a rectangle of rows and columns
    and a run of channels (all of them for interleaved samples, one for planar ones).
    """

    def __init__(self, height: int, width: int, channels: int, factor: int, scale: Scale,
                 *, max_value: float) -> None:
        self.height, self.width, self.factor = height, width, factor
        self.output = np.zeros(
            (math.ceil(height / factor), math.ceil(width / factor), channels), np.uint8
        )
        self._scale = scale
        # Integer sums stay exact; past what uint32 holds, and for floats, sum in float64.
        exact = max_value.is_integer() and max_value * factor * factor < 2**32
        self._sum_type: type[np.generic] = np.uint32 if exact else np.float64
        # Means of sums float32 holds exactly are taken in float32: half the memory traffic of
        # float64 for the same 8-bit result (a 16-bit scan's reduction took a third less time).
        self._mean_type: type[np.floating[Any]] = (
            np.float32 if exact and max_value * factor * factor < 2**24 else np.float64)
        self._column_widths = np.minimum(factor, width - np.arange(0, width, factor)).astype(
            self._mean_type)
        self._open: dict[tuple[int, int], _OpenRow] = {}

    def add(self, piece: NDArray[Any], top: int, left: int, channel: int = 0) -> None:
        """Add ``piece`` (rows × columns × channels) whose top-left pixel is at (top, left)."""
        rows = min(piece.shape[0], self.height - top)
        columns = min(piece.shape[1], self.width - left)
        if rows <= 0 or columns <= 0:
            return
        piece = piece[:rows, :columns]
        if self.factor == 1:  # nothing to average: convert and place
            channels = slice(channel, channel + piece.shape[2])
            self.output[top:top + rows, left:left + columns, channels] = self._scale.apply(piece)
            return
        if columns == self.width:
            # A full-width piece finishes the output rows it covers entirely: average those
            # a batch at a time, and accumulate only the rows it shares with its neighbours.
            head = min(rows, -top % self.factor)
            self._accumulate(piece[:head], top, left, channel)
            piece, top = piece[head:], top + head
            # Whole blocks: every row unless the image goes on below, where a block may be cut.
            rows = int(piece.shape[0])
            whole = rows if top + rows >= self.height else rows - rows % self.factor
            batch = _BATCH_ROWS * self.factor
            # Batches write output rows of their own: they run on every core at once.
            parallel.each(lambda first: self._average_whole_blocks(
                piece[first:min(first + batch, whole)], top + first, channel),
                range(0, whole, batch))
            piece, top = piece[whole:], top + whole
        self._accumulate(piece, top, left, channel)

    @property
    def complete(self) -> bool:
        return not self._open

    def _average_whole_blocks(self, piece: NDArray[Any], top: int, channel: int) -> None:
        """Write the output rows of ``piece``, whole blocks but for the image's last one."""
        factor = self.factor
        used = int(piece.shape[0])
        blocks = -(-used // factor)
        full = used // factor
        channels_in = piece.shape[2]
        # Rows first, as a reshape (numpy sums contiguous rows fast), then columns.
        row_sums = piece[: full * factor].reshape(full, factor, self.width, channels_in).sum(
            axis=1, dtype=self._sum_type)
        if full < blocks:  # the short last block
            row_sums = np.concatenate(
                [row_sums, piece[full * factor : used].sum(axis=0, dtype=self._sum_type)[None]])
        sums = self._column_sums(row_sums).astype(self._mean_type)
        heights = np.minimum(factor, used - np.arange(0, used, factor)).astype(self._mean_type)
        sums /= (heights[:, None] * self._column_widths[None, :]).reshape(-1, 1)
        means = sums.reshape(blocks, -1, channels_in)
        first = top // factor
        channels = slice(channel, channel + means.shape[2])
        self.output[first:first + blocks, :, channels] = self._scale.apply(means)

    def _column_sums(self, row_sums: NDArray[Any]) -> NDArray[Any]:
        """Sums over each block of columns: rows × width × channels → rows × blocks × channels."""
        rows, width, channels = row_sums.shape
        factor = self.factor
        end = width // factor * factor
        # k strided slices added up: faster in numpy than a reshape summed on a middle axis.
        sums = row_sums[:, 0:end:factor].copy()
        for offset in range(1, factor):
            sums += row_sums[:, offset:end:factor]
        if end < width:  # the short last block
            rest = row_sums[:, end:].sum(axis=1, dtype=row_sums.dtype)
            sums = np.concatenate([sums, rest[:, None]], axis=1)
        flat: NDArray[Any] = sums.reshape(rows * sums.shape[1], channels)
        return flat

    def _accumulate(self, piece: NDArray[Any], top: int, left: int, channel: int) -> None:
        """Add rows to the sums of the output rows they belong to; finish rows that fill up."""
        rows, columns = piece.shape[:2]
        filled = []
        row = top
        while row < top + rows:
            out_row = row // self.factor
            end = min(top + rows, (out_row + 1) * self.factor)
            key = (channel, out_row)
            open_row = self._open.get(key)
            if open_row is None:
                open_row = self._open[key] = _OpenRow(
                    np.zeros((self.width, piece.shape[2]), self._sum_type)
                )
            open_row.sums[left : left + columns] += piece[row - top : end - top].sum(
                axis=0, dtype=self._sum_type
            )
            open_row.filled += (end - row) * columns
            if open_row.filled == self._rows_in(out_row) * self.width:
                filled.append(key)
            row = end
        if filled:
            self._finish(filled)

    def _rows_in(self, out_row: int) -> int:
        return min(self.factor, self.height - out_row * self.factor)

    def _finish(self, keys: list[tuple[int, int]]) -> None:
        """Average and write output rows whose sums are complete, all at once."""
        sums = np.stack([self._open.pop(key).sums for key in keys])
        blocks = self._column_sums(sums).reshape(len(keys), -1, sums.shape[2]).astype(
            self._mean_type)
        heights = np.array([self._rows_in(out_row) for _, out_row in keys], self._mean_type)
        means = blocks / (heights[:, None] * self._column_widths[None, :])[:, :, None]
        scaled = self._scale.apply(means)
        for (channel, out_row), values in zip(keys, scaled, strict=True):
            self.output[out_row, :, channel : channel + values.shape[1]] = values
