"""A clip's poster and metadata from its container's index and the bytes of a few frames.

FFmpeg (through PyAV) reads the file as a seekable stream: the index first (an MP4's `moov`,
wherever it lies; WebM's headers and cues), then, after one seek, the packets from the
keyframe before the poster's moment up to that moment. Nothing else of the clip is read, so a
file whose reads are ranged GETs costs the index and a GOP, not the clip.

The poster is the frame at 10 % of the clip, or at 1 s when that is sooner: past the black
or blurred start, but early enough to stay cheap. It is scaled and converted in one pass by
swscale, with the stream's own matrix and range, then turned upright and converted to sRGB by
the imaging core, as a photo is: a phone's display matrix becomes an EXIF orientation, and
BT.2020 PQ or HLG becomes the ICC profile its code points mean (HDR rolled off, not clipped).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from fractions import Fraction
from typing import BinaryIO

import av
from av.container import InputContainer
from av.video.frame import VideoFrame
from av.video.stream import VideoStream
from PIL import Image

from lightbox.domain import ImageInfo, RenderSpec, Rendition
from lightbox.errors import ImageError
from lightbox.imaging import cicp
from lightbox.imaging.derive import derivatives, display
from lightbox.imaging.geometry import fitted
from lightbox.imaging.metadata import displayed_size
from lightbox.imaging.perceptual import perceptual_hash
from lightbox.imaging.placeholder import placeholder
from lightbox.imaging.source import REDUCING_GAP, DecodedPage
from lightbox.video import metadata

POSTER_SECONDS = 1.0
POSTER_SHARE = 0.1
# Bytes read for the index and the poster's packets: a phone's 4K minute has an index of a
# few hundred KB and GOPs of a few MB. More means a hostile index, or a GOP nobody can afford.
READ_LIMIT = 64 * 1024 * 1024
# Streams a container may declare: phones write two to five (video, sound, metadata, ...).
MAX_STREAMS = 64
# FFmpeg reads hundreds of formats and codecs, each a parser of untrusted bytes: only the
# containers the sniffer lets through, and the codecs cameras and phones record, are opened.
_FORMATS = "mov,mp4,m4a,3gp,3g2,mj2,matroska,webm"
CODECS = {"h264": "H.264", "hevc": "HEVC", "vp8": "VP8", "vp9": "VP9", "av1": "AV1",
          "mpeg4": "MPEG-4 Part 2", "h263": "H.263", "prores": "ProRes",
          "mjpeg": "Motion JPEG"}
# Decoders by name (AV1's is dav1d), and those of the sound phones record: FFmpeg opens them
# to read the streams' parameters.
_DECODERS = ",".join([*CODECS, "libdav1d", "aac", "alac", "mp3", "opus", "vorbis", "pcm_s16le",
                      "pcm_s16be", "pcm_s24le", "amrnb", "amrwb", "ac3", "eac3"])
# Packets read after the seek before giving up on the poster's frame: a long GOP is decoded
# to the poster's moment, but not beyond this.
MAX_PACKETS = 600
_BUFFER_BYTES = 64 * 1024
# swscale's numbers for "the matrix is not said": BT.601 for standard definition, BT.709 from
# 720 lines (as players guess).
_UNSPECIFIED = 2
_BT709, _BT601, _BT2020 = 1, 5, 9
_WIDE_PRIMARIES = (9, 11, 12)
_HDR_TRANSFERS = (cicp.PQ_TRANSFER, cicp.HLG_TRANSFER)
_FULL_RANGE = 2
# Beyond these an index lies: a column holds 2³¹ frames; slow-motion phones film 960 fps.
_MAX_FRAMES = 2**31 - 1
_MAX_FRAME_RATE = 10_000
_MAKE_KEYS = ("com.apple.quicktime.make", "com.android.manufacturer", "make")
_MODEL_KEYS = ("com.apple.quicktime.model", "com.android.model", "model")


def render_clip(file: BinaryIO, spec: RenderSpec) -> Rendition:
    largest = max(spec.sizes)
    counted = _Budgeted(file, READ_LIMIT)
    with _clip_errors(counted), _opened(counted, spec) as container:
        stream = _video_stream(container)
        duration = _duration(container, stream)
        _check(stream, duration, spec)
        frame = _poster_frame(container, stream, duration)
        page = _page(frame, stream, largest)
        info = _info(container, stream, frame, page, duration)
    shown = display(page, largest)
    return Rendition(info=info, images=tuple(derivatives(shown, spec, page=1)),
                     placeholder=placeholder(shown), perceptual_hash=perceptual_hash(shown))


@contextmanager
def _opened(file: io.RawIOBase, spec: RenderSpec) -> Iterator[InputContainer]:
    container_options = {"max_streams": str(MAX_STREAMS), "format_whitelist": _FORMATS,
                         "codec_whitelist": _DECODERS}
    # For every stream's decoder too: reading the streams' parameters may decode a frame.
    options = {"max_pixels": str(spec.max_pixels)}
    try:
        container = av.open(file, mode="r", options=options, container_options=container_options,
                            buffer_size=_BUFFER_BYTES)
    except av.error.MemoryError as exc:
        raise ImageError(
            f"reading the clip's index took more memory than allowed: it declares more than "
            f"{MAX_STREAMS} streams, or tables larger than a clip has") from exc
    except av.error.InvalidDataError as exc:
        raise ImageError("the clip's index cannot be read: it is missing (the file was cut "
                         "short) or corrupt") from exc
    try:
        yield container
    finally:
        container.close()


def _video_stream(container: InputContainer) -> VideoStream:
    streams = [s for s in container.streams.video if not _is_cover_art(s)]
    if not streams:
        raise ImageError("the file holds no video stream")
    stream = streams[0]
    codec = stream.codec_context.codec.canonical_name
    if codec not in CODECS:
        raise ImageError(f"the clip's video is {codec}, which Lightbox does not read: it reads "
                         f"{', '.join(CODECS.values())}")
    # Both: frame threads decode a GOP faster; slices serve the one frame of a short seek.
    stream.thread_type = "AUTO"
    return stream


def _is_cover_art(stream: VideoStream) -> bool:
    return bool(stream.disposition & av.stream.Disposition.attached_pic)


def _duration(container: InputContainer, stream: VideoStream) -> float | None:
    if stream.duration is not None and stream.duration > 0:
        return float(stream.duration * stream.time_base)
    if container.duration is not None and container.duration > 0:
        return container.duration / av.time_base
    return None


def _check(stream: VideoStream, duration: float | None, spec: RenderSpec) -> None:
    width, height = stream.codec_context.width, stream.codec_context.height
    if width <= 0 or height <= 0:
        raise ImageError("the video stream does not say its frames' size")
    if width * height > spec.max_pixels:
        raise ImageError(f"the clip's frames are {width}×{height} pixels, over the limit of "
                         f"{spec.max_pixels:,} pixels decoded at once")
    if duration is not None and duration > spec.max_video_seconds:
        raise ImageError(f"the clip claims to last {_hours(duration)}, over the limit of "
                         f"{_hours(spec.max_video_seconds)}")
    # The decoder refuses a frame larger than its container claimed, too.
    stream.codec_context.options = {"max_pixels": str(spec.max_pixels)}


def _hours(seconds: float) -> str:
    return f"{seconds / 3600:,.1f} hours"


def _poster_frame(container: InputContainer, stream: VideoStream,
                  duration: float | None) -> VideoFrame:
    """The frame at the poster's moment: decoded from the keyframe before it."""
    moment = POSTER_SECONDS if duration is None else min(POSTER_SECONDS, duration * POSTER_SHARE)
    start = stream.start_time or 0
    target = start + int(Fraction(moment) / stream.time_base)
    if target > start:
        container.seek(target, stream=stream, backward=True)
    chosen: VideoFrame | None = None
    for count, packet in enumerate(container.demux(stream)):
        if count >= MAX_PACKETS:
            break
        for frame in stream.decode(packet):
            chosen = frame
            if frame.pts is None or frame.pts >= target:
                return frame
    if chosen is None:
        raise ImageError("no frame of the clip could be decoded: it is truncated or corrupt")
    return chosen  # the clip ended (or the GOP ran long) before the moment: its last frame


def _page(frame: VideoFrame, stream: VideoStream, largest: int) -> DecodedPage:
    """The frame in RGB at no less than twice the largest size, its pixels made square."""
    width, height = fitted(_square_width(frame, stream), frame.height,
                           round(largest * REDUCING_GAP))
    rgb = frame.reformat(
        width=width, height=height, format="rgb24", src_colorspace=_matrix(frame),
        src_color_range=frame.color_range or None, dst_color_range=_FULL_RANGE,
        interpolation="AREA",
    )
    return DecodedPage(image=Image.fromarray(rgb.to_ndarray()), icc_profile=_profile(frame),
                       orientation=metadata.orientation(frame.rotation))


def _square_width(frame: VideoFrame, stream: VideoStream) -> int:
    """The frame's width once its pixels are square (an anamorphic clip's are not)."""
    aspect = stream.sample_aspect_ratio or stream.codec_context.sample_aspect_ratio
    return round(frame.width * aspect) if aspect and aspect > 0 else frame.width


def _matrix(frame: VideoFrame) -> int:
    if frame.colorspace != _UNSPECIFIED:
        return int(frame.colorspace)
    if frame.color_primaries == _BT2020:
        return _BT2020
    return _BT709 if frame.height >= 720 else _BT601


def _profile(frame: VideoFrame) -> bytes | None:
    """The ICC profile of the frame's RGB: None for video made for an sRGB-like display."""
    primaries, transfer = int(frame.color_primaries), int(frame.color_trc)
    if transfer in _HDR_TRANSFERS:
        return cicp.coded_profile(primaries if primaries in _WIDE_PRIMARIES else _BT2020,
                                  transfer)
    if primaries in _WIDE_PRIMARIES:
        # SDR on wide primaries: shown with a display's gamma, as BT.709 video is.
        return cicp.coded_profile(primaries, cicp.SRGB_TRANSFER)
    return None


def _info(container: InputContainer, stream: VideoStream, frame: VideoFrame,
          page: DecodedPage, duration: float | None) -> ImageInfo:
    tags = {**container.metadata, **stream.metadata}
    width, height = displayed_size(_square_width(frame, stream), frame.height,
                                   page.orientation)
    rate = stream.average_rate or stream.guessed_rate
    frame_rate = round(float(rate), 3) if rate and rate > 0 else None
    return ImageInfo(
        width=width,
        height=height,
        pages=1,
        bit_depth=frame.format.components[0].bits,
        color_mode="YCbCr",
        taken_at=metadata.taken_at(tags),
        camera_make=_first(tags, _MAKE_KEYS),
        camera_model=_first(tags, _MODEL_KEYS),
        orientation=page.orientation,
        # What the index claims, kept only where it could be true.
        frames=stream.frames if 0 < stream.frames <= _MAX_FRAMES else None,
        duration=round(duration, 3) if duration is not None else None,
        has_location=metadata.has_location(tags),
        codec=stream.codec_context.codec.canonical_name,
        frame_rate=frame_rate if frame_rate and frame_rate <= _MAX_FRAME_RATE else None,
        has_audio=bool(container.streams.audio),
    )


def _first(tags: dict[str, str], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        if tags.get(key, "").strip():
            return tags[key].strip()
    return None


@contextmanager
def _clip_errors(counted: _Budgeted) -> Iterator[None]:
    """FFmpeg's errors, and a read over budget, as the reason the clip failed.

    The budget first: FFmpeg reports a read that failed as whatever it was parsing then.
    """
    try:
        yield
    except (ImageError, av.FFmpegError, OSError, MemoryError) as exc:
        # OSError: what a read of the budget raised, as FFmpeg hands it back. Anything else
        # is a fault here, and is retried rather than blamed on the clip.
        if counted.exhausted:
            raise ImageError(
                f"the clip's index and poster frame need more than {READ_LIMIT // 2**20} MB "
                "of reading: its index is hostile or its keyframes too far apart"
            ) from exc
        if isinstance(exc, ImageError):
            raise
        if not isinstance(exc, av.FFmpegError | MemoryError):
            raise
        if isinstance(exc, MemoryError):  # FFmpeg's ENOMEM is one too
            raise ImageError("the clip needs more memory than this function has") from exc
        raise ImageError(f"the clip cannot be decoded: it is corrupt ({_reason(exc)})") from exc


def _reason(exc: Exception) -> str:
    """FFmpeg's message, without its error number and the call it came from."""
    if isinstance(exc, av.FFmpegError) and exc.strerror:
        return str(exc.strerror)
    return str(exc).strip() or type(exc).__name__


class _Budgeted(io.RawIOBase):
    """A file whose reads stop after ``limit`` bytes: FFmpeg sees an error, and the caller
    ``exhausted``."""

    def __init__(self, file: BinaryIO, limit: int) -> None:
        self._file, self._left = file, limit
        self.exhausted = False

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self._left <= 0:
            self.exhausted = True
            raise OSError("read budget exhausted")
        view = memoryview(buffer)[:self._left]
        count = self._file.readinto(view)  # type: ignore[attr-defined]
        self._left -= count or 0
        return count or 0

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._file.seek(offset, whence)

    def tell(self) -> int:
        return self._file.tell()
