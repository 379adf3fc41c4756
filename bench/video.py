"""A long clip's poster: what the video lane reads of it, and how long that takes.

    ./dev.sh bench video [--megabytes 2048] [--runs 3]

The clip is made by x264 as a phone makes one: 1920×1080 at 30 fps, 50 Mbit/s, a keyframe
every second, its index written last (as cameras do); moving detail, so that the encoder
spends its bitrate. It is cached in the temporary directory across runs. The embedded stack
is started, the clip uploaded into its bucket (SeaweedFS), and the video lane's two reads of
it are timed through the real S3 adapter, each the median of the runs:

- the poster: ``RangedObject`` over the object, read by ``render_clip`` (index, one GOP, the
  frame at 1 s decoded, every size encoded): seconds, bytes fetched and ranged GETs;
- the content hash: every byte streamed through sha256, none stored.

And a phone's 4K HDR clip (3840×2160 HEVC, 10-bit, BT.2020 with HLG, 3 s, as x265 encodes
it) rendered from a local file in a child process: its poster's seconds and the process's
peak resident memory, which is what the video function's memory size has to hold.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "functions"))
from report import machine, write_section  # noqa: E402 - bench/report.py

from lightbox.domain import RenderSpec  # noqa: E402
from lightbox.ranged import RangedObject  # noqa: E402
from lightbox.services.thumbnails import streamed_sha256  # noqa: E402
from lightbox.video.render import render_clip  # noqa: E402
from lightbox.wiring import Container  # noqa: E402
from tests.e2e.conftest import start_stack  # noqa: E402

START, END = "<!-- bench:video:start -->", "<!-- bench:video:end -->"
SPEC = RenderSpec(sizes=(256, 1280), jpeg_quality=85, max_pixels=250_000_000)
WIDTH, HEIGHT, RATE, BITRATE = 1920, 1080, 30, 50_000_000
KEY = "originals/bench/clip"


def encode_clip(path: Path, texture: Any, *, seconds: int, bitrate: int) -> None:
    """An H.264 MP4 at ``bitrate``, RATE frames a second: a window half ``texture``'s width
    sliding across it, so that the detail moves and the bitrate is spent."""
    import av
    import numpy as np

    height, width = texture.shape[0], texture.shape[1] // 2
    with av.open(str(path), "w", format="mp4") as output:
        stream = output.add_stream("libx264", rate=RATE, options={
            "preset": "ultrafast", "g": str(RATE), "b": str(bitrate),
            "maxrate": str(bitrate), "bufsize": str(bitrate)})
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for index in range(seconds * RATE):
            shift = (index * 7) % width
            frame = av.VideoFrame.from_ndarray(
                np.ascontiguousarray(texture[:, shift:shift + width]), format="rgb24")
            frame.pts = index
            output.mux(stream.encode(frame))
        output.mux(stream.encode(None))


def make_clip(path: Path, megabytes: int) -> None:
    import numpy as np

    rng = np.random.default_rng(5)
    encode_clip(path, rng.integers(0, 256, (HEIGHT, WIDTH * 2, 3), dtype=np.uint8),
                seconds=megabytes * 8_000_000 // BITRATE + 1, bitrate=BITRATE)


def make_hdr_clip(path: Path) -> None:
    import av
    import numpy as np

    rng = np.random.default_rng(9)
    texture = rng.integers(0, 1024, (2160, 3840 * 2, 3), dtype=np.uint16)
    with av.open(str(path), "w", format="mov") as output:
        stream = output.add_stream("libx265", rate=RATE, options={
            "preset": "ultrafast", "g": str(RATE), "x265-params": "log-level=error"})
        stream.width, stream.height, stream.pix_fmt = 3840, 2160, "yuv420p10le"
        context = stream.codec_context
        context.color_primaries, context.color_trc, context.colorspace = 9, 18, 9
        for index in range(3 * RATE):
            shift = (index * 11) % 3840
            rgb = av.VideoFrame.from_ndarray(
                np.ascontiguousarray(texture[:, shift:shift + 3840] << 6), format="rgb48le")
            frame = rgb.reformat(format="yuv420p10le", dst_colorspace="BT2020",
                                 dst_color_range="MPEG")
            frame.pts = index
            output.mux(stream.encode(frame))
        output.mux(stream.encode(None))


def cached(name: str, make: object) -> Path:
    path = Path(tempfile.gettempdir()) / name
    if not path.exists():
        print(f"encoding {name} (once; cached)", file=sys.stderr)
        partial = path.with_suffix(".part")
        make(partial)  # type: ignore[operator]
        partial.rename(path)
    return path


# Renders a file in this child and prints its seconds and peak resident memory (VmHWM).
_CHILD = """
import json, sys, time
sys.path.insert(0, sys.argv[1])
from lightbox.domain import RenderSpec
from lightbox.video.render import render_clip
spec = RenderSpec(sizes=(256, 1280), jpeg_quality=85, max_pixels=250_000_000)
started = time.perf_counter()
with open(sys.argv[2], "rb") as file:
    render_clip(file, spec)
seconds = time.perf_counter() - started
status = dict(line.split(":", 1) for line in open("/proc/self/status"))
print(json.dumps({"seconds": seconds, "peak_mb": int(status["VmHWM"].split()[0]) / 1024}))
"""


def rendered_alone(path: Path, runs: int) -> dict[str, float]:
    results = [json.loads(subprocess.run(
        [sys.executable, "-c", _CHILD, str(REPO / "functions"), str(path)],
        check=True, capture_output=True, text=True).stdout) for _ in range(runs)]
    return {"seconds": statistics.median(r["seconds"] for r in results),
            "peak_mb": max(r["peak_mb"] for r in results)}


def clip_path(megabytes: int) -> Path:
    return cached(f"lightbox-bench-clip-{megabytes}MB.mp4",
                  lambda partial: make_clip(partial, megabytes))


def measure(megabytes: int, runs: int) -> dict[str, float]:
    path = clip_path(megabytes)
    size = path.stat().st_size
    with tempfile.TemporaryDirectory(prefix="lightbox-bench-video-") as scratch:
        stack = start_stack(Path(scratch) / "data")
        try:
            s3 = stack.client("s3")
            bucket = stack.exports["LIGHTBOX_BUCKET"]
            s3.upload_file(str(path), bucket, KEY)
            storage = Container(
                **{"config": _config(stack.exports)}).storage
            posters, fetched, requests_, hashes = [], [], [], []
            for _ in range(runs):
                started = time.perf_counter()
                clip = RangedObject(storage, KEY, size)
                rendition = render_clip(clip, SPEC)  # type: ignore[arg-type]
                posters.append(time.perf_counter() - started)
                fetched.append(clip.fetched_bytes)
                requests_.append(clip.requests)
                started = time.perf_counter()
                streamed_sha256(storage, KEY)
                hashes.append(time.perf_counter() - started)
            assert rendition.info.codec == "h264", rendition.info
        finally:
            assert stack.stop() == 0, stack.log_tail()
    hdr = rendered_alone(cached("lightbox-bench-hdr-4k.mov", make_hdr_clip), runs)
    return {"megabytes": megabytes, "size": size, "poster": statistics.median(posters),
            "hdr_seconds": hdr["seconds"], "hdr_peak_mb": hdr["peak_mb"],
            "fetched": statistics.median(fetched), "requests": statistics.median(requests_),
            "hash": statistics.median(hashes), "duration": rendition.info.duration or 0}


def _config(exports: dict[str, str]) -> object:
    import os

    from lightbox.config import Config

    os.environ.update({k: v for k, v in exports.items() if k.startswith("AWS_")})
    return Config.from_env(exports)


def section(result: dict[str, float], runs: int) -> str:
    size_mb = result["size"] / 1e6
    share = 100 * result["fetched"] / result["size"]
    poster = (f"{result['poster']:.2f} | {result['fetched'] / 1e6:.1f} MB ({share:.2f} %) | "
              f"{result['requests']:.0f}")
    hashed = f"{result['hash']:.1f} | {size_mb:,.0f} MB | 1"
    return f"""{START}
## A long clip's poster (issue 19)

`./dev.sh bench video --megabytes {result['megabytes']:.0f} --runs {runs}`
(`bench/video.py`), {machine()}, {date.today().isoformat()}. An H.264 clip as a phone records
one (1920×1080, 30 fps, 50 Mbit/s, a keyframe a second, the index at the end):
{size_mb:,.0f} MB, {result['duration']:.0f} s, in the embedded stack's bucket (SeaweedFS),
read through the S3 adapter over HTTP. Medians of {runs} runs.

| read | seconds | transferred | GETs |
|---|---|---|---|
| the poster (index, one GOP, the frame at 1 s, 256 + 1280 encoded) | {poster} |
| the content hash (every byte through sha256, none stored) | {hashed} |

Target: a 2 GB clip's poster under 20 MB and 3 s. What the poster reads: the first 64 KB
(FFmpeg's probe of the format), the index at the end, the first packets (FFmpeg reads the
streams' parameters from them) and the GOP at 1 s, in blocks that grow along a run
(`lightbox/ranged.py`). The hash reads the whole clip because identity needs every byte
(duplicates are found by sha256, as for photos); it streams through memory, never to disk, at
{result['size'] / result['hash'] / 1e6:.0f} MB/s here, and is most of the job's time.

A phone's 4K HDR clip (3840×2160 HEVC, 10-bit, BT.2020 HLG, a keyframe a second), rendered
from a local file in a process of its own: its poster (the frame at 0.3 s, decoded from the
keyframe at 0, tone-mapped, 256 + 1280 encoded) takes {result['hdr_seconds']:.2f} s, and the
process peaks at {result['hdr_peak_mb']:.0f} MB resident, FFmpeg and Python included (the
video function has 2048 MB).
{END}"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=int, default=2048)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    result = measure(args.megabytes, args.runs)
    text = section(result, args.runs)
    print(text)
    write_section(text)


if __name__ == "__main__":
    main()
