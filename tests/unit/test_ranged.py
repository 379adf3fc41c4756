"""The file over an object that the video lane reads clips through: it returns the object's
bytes wherever it is read, fetching blocks (larger ones for a run of reads), and no more."""

from __future__ import annotations

import io
import random

import pytest

from lightbox.ranged import BLOCK_BYTES, MAX_RUN_BLOCKS, RangedObject
from tests.fakes import FakeObjectStore

KEY = "originals/o/clip"


def stored(size: int) -> tuple[FakeObjectStore, bytes]:
    store = FakeObjectStore()
    data = random.Random(size).randbytes(size)
    store.objects[KEY] = data
    return store, data


def test_reads_anywhere_return_the_objects_bytes() -> None:
    store, data = stored(5 * BLOCK_BYTES + 123)
    file = RangedObject(store, KEY, len(data))
    rng = random.Random(1)
    for _ in range(200):
        start, length = rng.randrange(len(data)), rng.randrange(1, 3 * BLOCK_BYTES)
        file.seek(start)
        assert file.read(length) == data[start:start + length]
    file.seek(-10, io.SEEK_END)
    assert file.read() == data[-10:]
    assert file.read(5) == b""  # at the end


@pytest.mark.parametrize("start", [0, 17, BLOCK_BYTES - 1, 3 * BLOCK_BYTES + 5])
def test_a_read_across_blocks_is_whole(start: int) -> None:
    store, data = stored(6 * BLOCK_BYTES)
    file = RangedObject(store, KEY, len(data))
    file.seek(start)
    assert file.read(2 * BLOCK_BYTES + 3) == data[start:start + 2 * BLOCK_BYTES + 3]
    assert file.tell() == start + 2 * BLOCK_BYTES + 3


def test_the_index_at_the_end_costs_a_block_not_the_object() -> None:
    store, data = stored(200 * BLOCK_BYTES)
    file = RangedObject(store, KEY, len(data))
    assert file.read(64) == data[:64]
    file.seek(-1000, io.SEEK_END)
    assert file.read(1000) == data[-1000:]
    assert (file.requests, store.ranges_read) == (2, 2)
    assert file.fetched_bytes <= 2 * BLOCK_BYTES
    file.seek(0)
    file.read(64)
    assert file.requests == 2  # cached


def test_a_run_of_reads_fetches_growing_blocks() -> None:
    store, data = stored(64 * BLOCK_BYTES)
    file = RangedObject(store, KEY, len(data))
    read = b""
    while len(read) < 30 * BLOCK_BYTES:
        read += file.read(64 * 1024)
    assert read == data[:len(read)]
    # 1, 2, 4, 8, 8, 8 blocks: six requests for thirty blocks, not thirty.
    assert file.requests <= 6
    assert file.fetched_bytes <= len(read) + MAX_RUN_BLOCKS * BLOCK_BYTES
