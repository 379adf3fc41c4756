"""The video core, on clips made by real encoders: the poster is the picture (not the black
start), the right way up, square-pixelled, HDR mapped to sRGB; the metadata is the clip's."""

from __future__ import annotations

import io
from datetime import datetime
from fractions import Fraction

import pytest
from PIL import Image

from lightbox.domain import RenderSpec, Rendition
from lightbox.errors import ImageError
from lightbox.video import metadata
from lightbox.video.render import render_clip
from tests.support import colour_at, derivative
from tests.unit.test_imaging_jpeg import assert_quadrants, quadrants
from tests.videos import BT2020, HLG, PQ, box, clip, grey, pq_code, without_video

SPEC = RenderSpec(sizes=(256, 1280), jpeg_quality=85, max_pixels=250_000_000)
PICTURE = quadrants(320, 240)


def render(data: bytes, spec: RenderSpec = SPEC) -> Rendition:
    return render_clip(io.BytesIO(data), spec)


def assert_poster(rendition: Rendition, size: tuple[int, int] = (320, 240)) -> None:
    assert (rendition.info.width, rendition.info.height) == size
    for thumbnail in (256, 1280):
        image = derivative(rendition, thumbnail)
        assert image.width / image.height == pytest.approx(size[0] / size[1], rel=0.02)
        assert_quadrants(image)
    assert rendition.placeholder
    assert rendition.perceptual_hash is not None


@pytest.mark.parametrize(
    ("codec", "container", "pix_fmt", "name", "depth"),
    [
        ("libx264", "mp4", "yuv420p", "h264", 8),
        ("libx265", "mov", "yuv420p10le", "hevc", 10),
        ("libvpx-vp9", "webm", "yuv420p", "vp9", 8),
        ("libsvtav1", "mp4", "yuv420p", "av1", 8),
    ],
    ids=["h264-mp4", "hevc-10bit-mov", "vp9-webm", "av1-mp4"],
)
def test_each_codec_gives_a_poster_and_its_metadata(
    codec: str, container: str, pix_fmt: str, name: str, depth: int
) -> None:
    rendition = render(clip(PICTURE, codec=codec, container=container, pix_fmt=pix_fmt))
    assert_poster(rendition)
    info = rendition.info
    assert (info.codec, info.bit_depth, info.frame_rate) == (name, depth, 30.0)
    assert info.duration == pytest.approx(3.0, abs=0.05)
    assert info.has_audio is False and info.pages == 1


def test_the_poster_is_past_the_black_start_at_one_second() -> None:
    # Black for 0.9 s, one keyframe every 2 s: the frame at 1 s is decoded from the one at 0.
    rendition = render(clip(PICTURE, seconds=12, black_seconds=0.9, gop=60))
    assert_poster(rendition)


def test_a_short_clip_shows_the_frame_a_tenth_in() -> None:
    # 2 s long: the poster is at 0.2 s, after the black tenth of a second.
    assert_poster(render(clip(PICTURE, seconds=2, black_seconds=0.1)))


@pytest.mark.parametrize("faststart", [False, True], ids=["index-at-end", "index-first"])
def test_the_index_is_found_at_either_end(faststart: bool) -> None:
    assert_poster(render(clip(PICTURE, faststart=faststart)))


def test_a_portrait_clip_is_turned_by_its_display_matrix() -> None:
    # A phone held upright stores the frames sideways and says "turn clockwise" (-90°).
    shown = quadrants(240, 320)
    rendition = render(clip(shown.transpose(Image.Transpose.ROTATE_90), rotation=-90))
    assert rendition.info.orientation == 6
    assert_poster(rendition, size=(240, 320))


def test_non_square_pixels_are_made_square() -> None:
    # 240 stored columns of 4:3 pixels show 320 wide.
    rendition = render(clip(PICTURE.resize((240, 240)), sample_aspect=Fraction(4, 3)))
    assert_poster(rendition, size=(320, 240))


@pytest.mark.parametrize(
    ("transfer", "level"),
    [(PQ, pq_code(203)), (HLG, 0.75)],  # each one's reference white (BT.2408)
    ids=["pq", "hlg"],
)
def test_hdr_is_mapped_to_srgb_not_washed_out(transfer: int, level: float) -> None:
    data = clip(grey((320, 240), level), codec="libx265", container="mov",
                pix_fmt="yuv420p10le", colour=(BT2020, transfer, BT2020))
    rendition = render(data)
    value = colour_at(derivative(rendition, 256), 0.5, 0.5)
    # Reference white lands at 90 % (cicp.py); shown as if SDR it would stay at its code
    # value, a dull grey (58 % for PQ, 75 % for HLG).
    assert all(channel >= 215 for channel in value), value
    assert rendition.info.bit_depth == 10


def test_an_sdr_clip_keeps_its_values() -> None:
    value = colour_at(derivative(render(clip(grey((320, 240), 0.5))), 256), 0.5, 0.5)
    assert all(abs(channel - 128) <= 6 for channel in value), value


def test_sound_dates_and_places_are_recorded() -> None:
    data = clip(PICTURE, container="mov", audio=True, tags={
        "com.apple.quicktime.creationdate": "2024-07-14T18:30:05+0200",
        "com.apple.quicktime.location.ISO6709": "+48.8584+002.2945+035.000/",
        "com.apple.quicktime.make": "Apple", "com.apple.quicktime.model": "iPhone 15 Pro",
    })
    info = render(data).info
    assert info.has_audio is True
    assert info.taken_at == datetime(2024, 7, 14, 18, 30, 5)  # the wall clock where it was
    assert info.has_location is True
    assert (info.camera_make, info.camera_model) == ("Apple", "iPhone 15 Pro")


def test_an_mp4_creation_time_is_utc() -> None:
    info = render(clip(PICTURE, tags={"creation_time": "2023-01-02T03:04:05Z"})).info
    assert info.taken_at == datetime(2023, 1, 2, 3, 4, 5)
    assert info.has_location is False


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        ({"com.apple.quicktime.creationdate": "2024-07-14T18:30:05+0200",
          "creation_time": "2024-07-14T16:30:05.000000Z"}, datetime(2024, 7, 14, 18, 30, 5)),
        ({"creation_time": "1904-01-01T00:00:00.000000Z"}, None),  # a zero in the header
        ({"creation_time": "1970-01-01T00:00:00.000000Z"}, None),
        ({"creation_time": "yesterday"}, None),
        ({}, None),
    ],
)
def test_taken_at_prefers_quicktimes_local_date(tags: dict[str, str],
                                                expected: datetime | None) -> None:
    assert metadata.taken_at(tags) == expected


@pytest.mark.parametrize(
    ("rotation", "orientation"), [(0, 1), (-90, 6), (270, 6), (90, 8), (180, 3), (-180, 3)]
)
def test_display_matrix_rotations_become_orientations(rotation: float, orientation: int) -> None:
    assert metadata.orientation(rotation) == orientation


def test_a_clip_over_the_pixel_limit_is_refused_before_decoding() -> None:
    with pytest.raises(ImageError, match=r"320×240 pixels, over the limit of 10,000"):
        render(clip(PICTURE), RenderSpec(sizes=(256,), jpeg_quality=85, max_pixels=10_000))


def test_a_clip_longer_than_allowed_is_refused() -> None:
    spec = RenderSpec(sizes=(256,), jpeg_quality=85, max_pixels=250_000_000,
                      max_video_seconds=2)
    with pytest.raises(ImageError, match=r"claims to last 0.0 hours, over the limit"):
        render(clip(PICTURE), spec)


def test_sound_alone_is_not_a_clip() -> None:
    with pytest.raises(ImageError, match="no video stream"):
        render(without_video(clip(PICTURE, audio=True)))


def test_a_clip_needing_more_reading_than_allowed_fails_saying_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from lightbox.video import render as core

    monkeypatch.setattr(core, "READ_LIMIT", 2000)
    with pytest.raises(ImageError, match="need more than 0 MB of reading"):
        render(clip(PICTURE))


def test_ffmpeg_running_out_of_memory_is_not_called_corruption(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import av

    from lightbox.video import render as core

    def out_of_memory(*_: object) -> None:
        raise av.error.MemoryError(12, "Cannot allocate memory")

    monkeypatch.setattr(core, "_page", out_of_memory)
    with pytest.raises(ImageError, match=r"^the clip needs more memory than this function has$"):
        render(clip(PICTURE))


def test_an_index_that_lies_about_frames_and_their_rate_leaves_them_unknown() -> None:
    data = bytearray(clip(PICTURE))
    samples = box(data, [b"moov", b"trak", b"mdia", b"minf", b"stbl", b"stts"])[0] + 8
    data[samples + 8:samples + 12] = (3_000_000_000).to_bytes(4, "big")  # the count of frames
    info = render(bytes(data)).info
    # What the index says it holds is false: unknown, never a value the library cannot keep.
    assert info.frames is None or 0 < info.frames < 2**31
    assert info.frame_rate is None or 0 < info.frame_rate <= 10_000
    assert_poster(render(bytes(data)))
