"""Animated GIF, WebP and PNG from Pillow's encoders (giflib-style LZW, libwebp's animation
encoder, APNG): the first frame is the poster, frames and one loop's seconds are recorded."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from tests.support import close_to, colour_at, derivative, pattern, render_data

COLOURS = [(220, 30, 30), (30, 200, 30), (30, 30, 220), (240, 240, 240)]


def animated(fmt: str, durations: list[int], *, size: tuple[int, int] = (320, 240)) -> bytes:
    frames = [Image.new("RGB", size, COLOURS[index % len(COLOURS)])
              for index in range(len(durations))]
    buffer = io.BytesIO()
    frames[0].save(buffer, fmt, save_all=True, append_images=frames[1:], duration=durations,
                   loop=0)
    return buffer.getvalue()


@pytest.mark.parametrize("fmt", ["GIF", "WEBP", "PNG"])
def test_an_animation_records_its_frames_and_one_loops_seconds(tmp_path: Path, fmt: str) -> None:
    rendition = render_data(tmp_path, animated(fmt, [100, 250, 400, 1000]))

    assert (rendition.info.frames, rendition.info.duration) == (4, 1.75)
    assert rendition.info.pages == 1
    assert close_to(colour_at(derivative(rendition, 256), 0.5, 0.5), COLOURS[0], tolerance=12)
    assert (rendition.info.width, rendition.info.height) == (320, 240)


@pytest.mark.parametrize("fmt", ["GIF", "WEBP", "PNG", "JPEG"])
def test_a_still_image_has_one_frame_and_no_duration(tmp_path: Path, fmt: str) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), COLOURS[1]).save(buffer, fmt)
    rendition = render_data(tmp_path, buffer.getvalue())

    assert (rendition.info.frames, rendition.info.duration) == (1, None)


def test_gif_frames_too_fast_to_show_play_as_browsers_play_them(tmp_path: Path) -> None:
    # Delays of 0 and 1/100 s are shown for 1/10 s by every browser; 2/100 s as written.
    rendition = render_data(tmp_path, animated("GIF", [0, 10, 20, 20]))

    assert (rendition.info.frames, rendition.info.duration) == (4, 0.24)


def test_a_gif_cut_in_half_counts_the_frames_it_holds(tmp_path: Path) -> None:
    # Frames of noise, so that each takes about as many bytes as the next.
    frames = [pattern((64, 48), seed=index) for index in range(8)]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], duration=100)
    data = buffer.getvalue()
    rendition = render_data(tmp_path, data[: len(data) // 2])

    assert rendition.info.frames in (4, 5)  # the one cut short counts
    assert rendition.info.duration == pytest.approx(rendition.info.frames * 0.1)
