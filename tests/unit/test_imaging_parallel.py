"""Work shared among cores: resampling in bands, and lanes that share again without waiting
on themselves."""

from __future__ import annotations

import functools
import threading

import numpy as np
import pytest
from PIL import Image

from lightbox.imaging import parallel
from lightbox.imaging.geometry import fit


@functools.cache
def scene(width: int, height: int, mode: str = "RGB") -> Image.Image:
    """Waves of several lengths in each channel: detail at every scale a thumbnail keeps.
    Alpha stays over half: where it nears 0, colour is a ratio of two rounded numbers."""
    rows, columns = np.mgrid[0:height, 0:width].astype(np.float64)
    channels = [np.sin(columns / (7 + 5 * c) + rows / (11 + 3 * c)) * np.cos(rows / (41 + 13 * c))
                for c in range(len(mode))]
    levels = [(192 + 63 * wave) if band == "A" else (127.5 + 127 * wave)
              for band, wave in zip(mode, channels, strict=True)]
    pixels = np.stack(levels, axis=-1).round().astype(np.uint8)
    return Image.fromarray(pixels[..., 0] if len(mode) == 1 else pixels, mode)


@pytest.mark.parametrize("cores", [2, 3])
@pytest.mark.parametrize(("size", "box"), [
    ((2000, 1400), None), ((1100, 1500), None), ((2600, 1900), (0.0, 0.0, 2598.5, 1899.25)),
])
@pytest.mark.parametrize("mode", ["RGB", "L", "RGBA"])
def test_a_large_fit_resampled_in_bands_joins_without_a_seam(
        monkeypatch: pytest.MonkeyPatch, cores: int, size: tuple[int, int],
        box: tuple[float, float, float, float] | None, mode: str) -> None:
    image = scene(*size, mode=mode)
    # Pillow resamples RGBA premultiplied: compared so, as unpremultiplying magnifies rounding.
    compared = {"RGBA": "RGBa"}.get(mode, mode)
    monkeypatch.setattr(parallel, "cores", lambda: 1)
    whole = np.asarray(fit(image, 1280, box).convert(compared), np.int16)
    monkeypatch.setattr(parallel, "cores", lambda: cores)
    banded = np.asarray(fit(image, 1280, box).convert(compared), np.int16)
    assert banded.shape == whole.shape
    # The same filter at the same positions. Pillow may run a box's two passes in the other
    # order, which rounds between them differently: by a few levels, and no more at a band's
    # edge than anywhere else (a band off by one source row would differ by tens).
    difference = np.abs(banded - whole)
    assert difference.max() <= 3
    by_row = difference.reshape(difference.shape[0], -1).mean(axis=1)
    assert by_row.max() < 0.5


def test_a_lane_that_shares_its_work_again_does_it_itself(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "cores", lambda: 2)
    threads: dict[tuple[int, int], str] = {}

    def part(lane: int, item: int) -> int:
        threads[lane, item] = threading.current_thread().name
        return lane * 10 + item

    def lane(number: int) -> list[int]:
        # Every thread of the pool is busy with a lane: parts queued to it would never run.
        return parallel.each(lambda item: part(number, item), range(3))

    finished: list[list[list[int]]] = []
    runner = threading.Thread(target=lambda: finished.append(parallel.each(lane, range(4))))
    runner.start()
    runner.join(timeout=30)
    assert not runner.is_alive(), "lanes waited on parts queued behind them"
    assert finished == [[[0, 1, 2], [10, 11, 12], [20, 21, 22], [30, 31, 32]]]
    for number in range(4):  # a lane's parts ran on the lane's own thread
        assert len({threads[number, item] for item in range(3)}) == 1
