"""The block-averaging reducer against a brute-force average, whatever order pieces arrive in."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lightbox.imaging.reduce import BoxReducer, Scale


def brute_force(image: np.ndarray, factor: int) -> np.ndarray:
    height, width, channels = image.shape
    out = np.zeros((math.ceil(height / factor), math.ceil(width / factor), channels))
    for row in range(out.shape[0]):
        for column in range(out.shape[1]):
            block = image[row * factor:(row + 1) * factor, column * factor:(column + 1) * factor]
            out[row, column] = block.reshape(-1, channels).mean(axis=0)
    return out


@pytest.mark.parametrize(("height", "width", "factor", "piece"), [
    (100, 150, 1, (16, 150)), (101, 157, 7, (13, 157)), (256, 256, 8, (64, 64)),
    (300, 500, 3, (512, 512)), (97, 61, 10, (5, 7)), (300, 40, 4, (1, 40)),
    (1000, 61, 3, (1000, 61)), (203, 59, 9, (50, 59)),
])
def test_pieces_in_any_order_average_exactly(height: int, width: int, factor: int,
                                             piece: tuple[int, int]) -> None:
    rng = np.random.default_rng(height * width)
    image = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    reducer = BoxReducer(height, width, 3, factor, Scale(0, 1), max_value=255)
    corners = [(top, left) for top in range(0, height, piece[0])
               for left in range(0, width, piece[1])]
    rng.shuffle(corners)
    for top, left in corners:
        tile = np.zeros((*piece, 3), np.uint8)  # tiles past the edge are padded, as in TIFF
        part = image[top:top + piece[0], left:left + piece[1]]
        tile[:part.shape[0], :part.shape[1]] = part
        reducer.add(tile, top, left)
    assert reducer.complete
    expected = np.clip(np.floor(brute_force(image, factor) + 0.5), 0, 255)
    assert np.array_equal(reducer.output, expected.astype(np.uint8))


def test_planes_fill_their_own_channels() -> None:
    image = np.random.default_rng(3).integers(0, 65536, (40, 60, 3), dtype=np.uint16)
    reducer = BoxReducer(40, 60, 3, 4, Scale(0, 255 / 65535), max_value=65535)
    for channel in (2, 0, 1):
        for top in range(0, 40, 8):
            reducer.add(image[top:top + 8, :, channel:channel + 1], top, 0, channel)
    expected = np.floor(brute_force(image, 4) * 255 / 65535 + 0.5).astype(np.uint8)
    assert reducer.complete
    assert np.array_equal(reducer.output, expected)


def test_an_unfinished_image_is_not_complete() -> None:
    reducer = BoxReducer(10, 10, 1, 4, Scale(0, 1), max_value=255)
    reducer.add(np.ones((3, 10, 1), np.uint8), 0, 0)
    assert not reducer.complete


def test_a_scale_maps_and_clips_onto_eight_bits() -> None:
    inverted = Scale(offset=255, factor=-1)
    assert inverted.apply(np.array([0.0, 100.4, 255.0])).tolist() == [255, 155, 0]
    stretched = Scale(offset=-1.0, factor=127.5)
    assert stretched.apply(np.array([-3.0, -1.0, 0.0, 1.0, 9.0])).tolist() == [0, 0, 128, 255, 255]


@pytest.mark.parametrize("cores", [1, 2, 3])
@pytest.mark.parametrize(("height", "width", "factor", "rows"), [
    (1000, 61, 3, 1000), (2000, 97, 2, 333), (203, 59, 9, 50), (777, 40, 5, 128),
])
def test_full_width_pieces_average_exactly_on_any_number_of_cores(
        monkeypatch: pytest.MonkeyPatch, cores: int, height: int, width: int, factor: int,
        rows: int) -> None:
    from lightbox.imaging import parallel

    monkeypatch.setattr(parallel, "cores", lambda: cores)
    image = np.random.default_rng(height).integers(0, 65536, (height, width, 3), np.uint16)
    reducer = BoxReducer(height, width, 3, factor, Scale(0, 255 / 65535), max_value=65535)
    for top in range(0, height, rows):
        reducer.add(image[top:top + rows], top, 0)
    assert reducer.complete
    expected = np.floor(brute_force(image, factor) * 255 / 65535 + 0.5).astype(np.uint8)
    assert np.array_equal(reducer.output, expected)
