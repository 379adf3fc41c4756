"""A seekable, read-only file over one object in the store, fetched by ranged GETs through
the ``ObjectStore`` port: what the video lane hands the video core.

A demuxer reads a clip's index (perhaps at its end) and then the packets of one GOP: this file
fetches those parts, in blocks kept in a small cache, and never the rest. A run of reads that
goes on block after block fetches larger blocks, up to ``MAX_RUN_BLOCKS`` at once, so that
reading a GOP costs few requests.
"""

from __future__ import annotations

import io
from collections import OrderedDict

from lightbox.ports import ObjectStore

BLOCK_BYTES = 512 * 1024
MAX_RUN_BLOCKS = 8
CACHED_BLOCKS = 32


class RangedObject(io.RawIOBase):
    def __init__(self, storage: ObjectStore, key: str, size: int) -> None:
        self._storage, self._key, self._size = storage, key, size
        self._position = 0
        self._blocks: OrderedDict[int, bytes] = OrderedDict()
        self._last_fetched = -2
        self._run = 1
        # What reading it cost: for logs and the benchmark.
        self.requests = 0
        self.fetched_bytes = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        if base + offset < 0:
            raise OSError(f"seek to {base + offset}, before the start")
        self._position = base + offset
        return self._position

    def tell(self) -> int:
        return self._position

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        view = memoryview(buffer).cast("B")
        wanted = min(len(view), self._size - self._position)
        done = 0
        while done < wanted:
            index, skip = divmod(self._position + done, BLOCK_BYTES)
            block = self._block(index)
            count = min(wanted - done, len(block) - skip)
            if count <= 0:
                break  # the object is shorter than it was said to be
            view[done:done + count] = block[skip:skip + count]
            done += count
        self._position += done
        return done

    def _block(self, index: int) -> bytes:
        cached = self._blocks.get(index)
        if cached is not None:
            self._blocks.move_to_end(index)
            return cached
        self._run = min(self._run * 2, MAX_RUN_BLOCKS) if index == self._last_fetched + 1 else 1
        start = index * BLOCK_BYTES
        data = self._storage.read_range(self._key, self._run * BLOCK_BYTES, start=start)
        self.requests += 1
        self.fetched_bytes += len(data)
        for offset in range(0, max(len(data), 1), BLOCK_BYTES):
            self._remember(index + offset // BLOCK_BYTES, data[offset:offset + BLOCK_BYTES])
        self._last_fetched = index + max(len(data) - 1, 0) // BLOCK_BYTES
        return self._blocks[index]

    def _remember(self, index: int, data: bytes) -> None:
        self._blocks[index] = data
        self._blocks.move_to_end(index)
        while len(self._blocks) > CACHED_BLOCKS:
            self._blocks.popitem(last=False)
