"""Clips for the tests, made by real encoders (x264, x265, libvpx, SVT-AV1 through PyAV): a
picture after a black start, with what phones write around it (a display matrix, colour tags,
sound, creation dates and places, non-square pixels)."""

from __future__ import annotations

import io
import tempfile
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
from PIL import Image

# H.273 code points, as encoders tag streams.
BT709, BT2020 = 1, 9
PQ, HLG = 16, 18
_YUV_MATRIX = {BT709: "ITU709", BT2020: "BT2020"}


def clip(
    picture: Image.Image,
    *,
    codec: str = "libx264",
    container: str = "mp4",
    pix_fmt: str = "yuv420p",
    seconds: float = 3.0,
    rate: int = 30,
    gop: int = 15,
    black_seconds: float = 0.1,
    rotation: int | None = None,
    colour: tuple[int, int, int] = (BT709, BT709, BT709),
    sample_aspect: Fraction | None = None,
    audio: bool = False,
    tags: dict[str, str] | None = None,
    faststart: bool = False,
    codec_options: dict[str, str] | None = None,
) -> bytes:
    """``picture`` (RGB) as a clip that starts black; ``colour`` is (primaries, transfer,
    matrix), and ``picture`` already holds values in that transfer."""
    matrix = colour[2]
    options: dict[str, str] = {}
    movflags = (["faststart"] if faststart else []) + (["use_metadata_tags"] if tags else [])
    if movflags:
        options["movflags"] = "+".join(movflags)
    with tempfile.TemporaryDirectory() as workdir:
        path = Path(workdir) / f"clip.{container}"
        with av.open(str(path), "w", format=container, options=options) as output:
            if tags:
                output.metadata.update(tags)
            stream = output.add_stream(codec, rate=rate, options={
                "g": str(gop), **_QUIET.get(codec, {}), **(codec_options or {})})
            stream.width, stream.height, stream.pix_fmt = picture.width, picture.height, pix_fmt
            context: Any = stream.codec_context
            context.color_primaries, context.color_trc, context.colorspace = colour
            if sample_aspect is not None:
                context.sample_aspect_ratio = sample_aspect
            if rotation is not None:
                stream.set_display_rotation(rotation)
            sound = output.add_stream("aac", rate=48000) if audio else None
            shown = _frame(picture, pix_fmt, matrix)
            black = _frame(Image.new("RGB", picture.size), pix_fmt, matrix)
            for index in range(round(seconds * rate)):
                frame = black if index < black_seconds * rate else shown
                frame.pts = index
                output.mux(stream.encode(frame))
            output.mux(stream.encode(None))
            if sound is not None:
                _silence(output, sound, seconds)
        return path.read_bytes()


_QUIET = {"libx265": {"x265-params": "log-level=error"}, "libsvtav1": {"preset": "12"},
          "libvpx-vp9": {"deadline": "realtime", "cpu-used": "8"}}


def _frame(picture: Image.Image, pix_fmt: str, matrix: int) -> av.VideoFrame:
    rgb = av.VideoFrame.from_ndarray(np.asarray(picture.convert("RGB")), format="rgb24")
    return rgb.reformat(format=pix_fmt, dst_colorspace=_YUV_MATRIX.get(matrix, "ITU709"),
                        dst_color_range="MPEG")


def _silence(output: Any, sound: Any, seconds: float) -> None:
    samples = 1024
    for index in range(int(seconds * 48000 / samples)):
        frame = av.AudioFrame.from_ndarray(np.zeros((1, samples), np.float32), format="fltp",
                                           layout="mono")
        frame.sample_rate, frame.pts = 48000, index * samples
        output.mux(sound.encode(frame))
    output.mux(sound.encode(None))


def grey(size: tuple[int, int], level: float) -> Image.Image:
    """A flat grey picture at ``level`` (0-1) of the transfer function's code range."""
    return Image.new("RGB", size, (round(level * 255),) * 3)


def pq_code(nits: float) -> float:
    """SMPTE ST 2084: the code value (0-1) of this absolute luminance."""
    m1, m2, c1, c2, c3 = 0.1593017578125, 78.84375, 0.8359375, 18.8515625, 18.6875
    y = (nits / 10000) ** m1
    return float(((c1 + c2 * y) / (1 + c3 * y)) ** m2)


def box(data: bytes, path: list[bytes]) -> tuple[int, int]:
    """Where the ISO media box at ``path`` (types, outermost first) lies: (start, end)."""
    start, end = 0, len(data)
    for kind in path:
        at = start
        while at + 8 <= end:
            size = int.from_bytes(data[at:at + 4], "big")
            if data[at + 4:at + 8] == kind:
                start, end = at + 8, at + size
                break
            at += max(size, 8)
        else:
            raise KeyError(f"no {kind!r} box in {path}")
    return start - 8, end


def without_video(data: bytes) -> bytes:
    """The sound track of an MP4 clip alone, remuxed: what an .m4a is."""
    out = io.BytesIO()
    with av.open(io.BytesIO(data)) as source, av.open(out, "w", format="mp4") as output:
        sound = output.add_stream_from_template(source.streams.audio[0])
        for packet in source.demux(source.streams.audio[0]):
            if packet.dts is not None:
                packet.stream = sound
                output.mux(packet)
    return out.getvalue()
