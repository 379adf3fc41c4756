"""Every hostile file ends in an ImageError with a clear reason, in bounded memory and time.

Each file is rendered in a child process, as the thumbnail (or video) function renders it (the
renderer and the RenderSpec that ``wiring.Container`` builds from the default configuration), under an
address-space limit and a wall-clock timeout: a crash, a hang, a MemoryError or any exception
but ImageError fails the test, and so does a reason other than the one expected.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO
from tests.hostile import corpus

# Address space of the child: half the thumbnail function's 2048 MB. A normal render maps
# about 220 MB (numpy, Pillow, tifffile and imagecodecs reserve most of that at import) and
# keeps 60-90 MB resident; a 24-megapixel JPEG or three 6-megapixel 16-bit TIFF pages need
# no more. A file that cannot fail within 1 GiB here would be a threat to the function there.
ADDRESS_SPACE_LIMIT = 1024**3
TIMEOUT_SECONDS = 60
# What refusing a file may cost: a quarter of the limit, whatever the file claims to be.
REFUSAL_PEAK_MB = 256

_CHILD = """
import json, resource, sys, time, traceback
resource.setrlimit(resource.RLIMIT_AS, (int(sys.argv[3]),) * 2)
sys.path.insert(0, sys.argv[1])
from pathlib import Path
from lightbox import filetypes
from lightbox.config import Config
from lightbox.errors import ImageError
from lightbox.wiring import Container

container = Container(Config.from_env({}))
started = time.monotonic()
path = Path(sys.argv[2])
tiles = 0
try:
    with path.open("rb") as file:
        if filetypes.sniff(file.read(filetypes.HEADER_BYTES)) in filetypes.VIDEO:
            file.seek(0)  # as the video function reads it: a file it seeks in
            rendition = container.render_clip(file, container.render_spec)
        else:
            rendition = container.render(path, container.render_spec)
            made = rendition.tiles.make() if rendition.tiles else None
            if made is not None:
                # Made as the thumbnail function stores them: each read, then dropped.
                tiles = sum(1 for _ in made[1])
    result = {"outcome": "rendered", "message": f"{len(rendition.images)} images, {tiles} tiles"}
except ImageError as exc:
    result = {"outcome": "ImageError", "message": str(exc)}
except BaseException as exc:
    result = {"outcome": type(exc).__name__, "message": traceback.format_exc()}
result["seconds"] = time.monotonic() - started
# VmHWM, not ru_maxrss: the latter keeps the peak of the test runner this process forked from.
status = dict(line.split(":", 1) for line in open("/proc/self/status"))
result["peak_mb"] = int(status["VmHWM"].split()[0]) / 1024
# A PDF's renderer runs in a process of its own, waited for: the largest of those, in KiB (no
# less than this process's size when it started it, which Linux counts as the child's too).
result["renderer_peak_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(json.dumps(result))
"""

Build = Callable[[], bytes]


def render_isolated(tmp_path: Path, build: Build) -> dict[str, Any]:
    """Render ``build()``'s file in a child under the limits; what became of it."""
    path = tmp_path / build.__name__
    path.write_bytes(build())
    try:
        done = subprocess.run(
            [sys.executable, "-c", _CHILD, str(REPO / "functions"), str(path),
             str(ADDRESS_SPACE_LIMIT)],
            capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=False,
        )
    except subprocess.TimeoutExpired:  # subprocess.run has killed the child
        pytest.fail(f"{build.__name__} hung: no outcome after {TIMEOUT_SECONDS} s")
    assert done.returncode == 0, (
        f"{build.__name__}: the child died with exit status {done.returncode}\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return result


def refused(build: Build, reason: str) -> Any:
    return pytest.param(build, reason, id=build.__name__)


def assert_refused(tmp_path: Path, build: Build, reason: str) -> None:
    result = render_isolated(tmp_path, build)
    assert result["outcome"] == "ImageError", result["message"]
    assert re.search(reason, result["message"]), result["message"]
    assert result["peak_mb"] < REFUSAL_PEAK_MB, result


NOT_AN_IMAGE = "^not an image Lightbox can read: this is "
PDF_UNREADABLE = r"^the PDF is corrupt or truncated: pdfium cannot read it \(data format error\)$"


@pytest.mark.parametrize(("build", "reason"), [
    refused(corpus.empty, NOT_AN_IMAGE + "an empty file"),
    refused(corpus.html_page, NOT_AN_IMAGE + "an HTML document"),
    refused(corpus.svg_with_script, NOT_AN_IMAGE + "an XML or SVG document"),
    refused(corpus.html_with_a_jpeg_inside, NOT_AN_IMAGE + "an HTML document"),
])
def test_a_file_that_is_not_an_image_is_refused_for_what_it_is(tmp_path: Path, build: Build,
                                                               reason: str) -> None:
    assert_refused(tmp_path, build, reason)


@pytest.mark.parametrize(("build", "reason"), [
    refused(corpus.jpeg_cut_in_its_tables, r"^the file is truncated \("),
    refused(corpus.jpeg_cut_after_its_scan_header, r"^the image data is truncated \("),
    refused(corpus.jpeg_cut_near_its_end, r"^the image data is truncated \("),
    refused(corpus.png_cut_after_its_signature, "^the file is corrupt: its PNG header cannot be read"),
    refused(corpus.png_cut_inside_its_header, r"^the file is truncated \("),
    refused(corpus.png_cut_before_its_data, "^the file is corrupt: its PNG header cannot be read"),
    refused(corpus.png_without_its_end_chunk, r"^the image data is truncated \("),
    refused(corpus.heic_cut_in_half,
            r"^the image data is corrupt \(.*Unexpected end of file.*outside of file bounds"),
    refused(corpus.avif_cut_in_half, "^the file is corrupt: its AVIF header cannot be read$"),
    refused(corpus.jxl_cut_in_half, r"^the JPEG XL image data is corrupt \("),
    refused(corpus.tiff_cut_after_its_header, "^the TIFF holds no image$"),
    refused(corpus.tiff_cut_inside_its_first_ifd, r"^the TIFF file is corrupt \(corrupted IFD"),
    refused(corpus.tiff_cut_inside_its_uncompressed_strip,
            "^the TIFF is truncated: its pixel data ends early$"),
    refused(corpus.pdf_cut_in_half, PDF_UNREADABLE),
    refused(corpus.dng_cut_in_half, r"^the RAW file is truncated \(Input/output error\)$"),
])
def test_a_truncated_file_fails_saying_so(tmp_path: Path, build: Build, reason: str) -> None:
    assert_refused(tmp_path, build, reason)


@pytest.mark.parametrize(("build", "reason"), [
    refused(corpus.jpeg_with_flipped_huffman_tables, r"^the image data is corrupt \("),
    refused(corpus.jpeg_with_flipped_frame_header,
            "^the file is corrupt: its JPEG header cannot be read$"),
    refused(corpus.jpeg_with_flipped_scan_data, r"^the image data is corrupt \("),
    refused(corpus.png_with_a_bad_header_crc, "^the file is corrupt: its PNG header cannot be read$"),
    refused(corpus.heic_with_its_boxes_flipped,
            "^the file is corrupt: its HEIC header cannot be read$"),
    refused(corpus.png_with_an_impossible_header,
            "^the file is corrupt: its PNG header cannot be read$"),
    refused(corpus.png_with_a_bad_data_crc, r"^the image data is corrupt \("),
    refused(corpus.png_with_corrupt_deflate_data, r"^the image data is corrupt \("),
    refused(corpus.tiff_with_its_first_ifd_offset_flipped, "^the TIFF holds no image$"),
    refused(corpus.tiff_with_its_tags_flipped, "^the TIFF page is 0×0 pixels: it has no image$"),
    refused(corpus.tiff_with_corrupt_deflate_data, r"^page 1 of the TIFF is corrupt \(.*BAD_DATA"),
    refused(corpus.tiff_with_corrupt_lzw_data, r"^page 1 of the TIFF is corrupt \(.*LZW_CORRUPT"),
    refused(corpus.tiff_with_its_strip_outside_the_file,
            "^the TIFF is truncated: its pixel data ends early$"),
    refused(corpus.tiff_with_its_deflate_strip_outside_the_file,
            r"^page 1 of the TIFF is corrupt \(.*BAD_DATA"),
    refused(corpus.pdf_with_no_pages, PDF_UNREADABLE),
    refused(corpus.pdf_encrypted, "^the PDF is encrypted: it opens only with a password$"),
    refused(corpus.dng_with_its_ifd_flipped,
            "^the RAW file cannot be read: an unsupported camera or format"),
])
def test_a_corrupt_file_fails_saying_so(tmp_path: Path, build: Build, reason: str) -> None:
    assert_refused(tmp_path, build, reason)


@pytest.mark.parametrize(("build", "reason"), [
    refused(corpus.progressive_jpeg_declaring_65500_by_65500,
            "^the image is 65500×65500 pixels over the limit of 250,000,000 pixels"),
    refused(corpus.png_declaring_100000_by_100000,
            "^the image is 100000×100000 pixels over the limit of 250,000,000 pixels"),
    refused(corpus.heic_declaring_65535_by_65535,
            "^the image is 65535×65535 pixels over the limit of 250,000,000 pixels"),
    refused(corpus.heic_grid_declaring_65535_by_65535,
            "^the image is 65535×65535 pixels over the limit of 250,000,000 pixels"),
    # libheif's own limits refuse a grid this large as the file opens.
    refused(corpus.heic_grid_of_16384_tiles,
            "^the file is corrupt: its HEIC header cannot be read$"),
    # libavif holds the item's size to its AV1 stream's, and refuses the file as it opens.
    refused(corpus.avif_declaring_65535_by_65535,
            "^the file is corrupt: its AVIF header cannot be read$"),
    refused(corpus.jxl_declaring_65536_by_65536,
            "^the image is 65536×65536 pixels over the limit of 250,000,000 pixels"),
    refused(corpus.jxl_of_8_by_8_pixels_in_2_megabytes,
            "^the JPEG XL file is 2,097,.* bytes, more than its 8×8 pixels can hold$"),
    refused(corpus.jxl_with_64_extra_channels,
            "^the JPEG XL file is corrupt: the header is cut short$"),
    refused(corpus.png_deflate_bomb_over_the_pixel_limit,
            "^the image is 50000×50000 pixels over the limit of 250,000,000 pixels"),
    refused(corpus.png_with_a_ztxt_bomb, r"Decompressed data too large .*MAX_TEXT_CHUNK"),
    refused(corpus.png_with_an_iccp_bomb, r"Decompressed data too large .*MAX_TEXT_CHUNK"),
    refused(corpus.png_with_a_ztxt_bomb_after_its_pixels,
            r"Decompressed data too large .*MAX_TEXT_CHUNK"),
    refused(corpus.png_with_200_text_chunks_of_a_megabyte,
            "Too much memory used in text chunks"),
    refused(corpus.tiff_declaring_100000_by_100000,
            "^the TIFF page is 100000×100000 = 10,000,000,000 pixels, over the limit of "
            "4,000,000,000$"),
    refused(corpus.tiff_declaring_60000_by_60000_with_no_data,
            "^the TIFF is truncated: its pixel data ends early$"),
    refused(corpus.tiff_deflate_bomb_in_a_strip,
            r"^page 1 of the TIFF is corrupt \(.*INSUFFICIENT_SPACE"),
    refused(corpus.tiff_with_one_huge_tile,
            "^a single strip or tile of this TIFF decodes to 4,096 MB, too large"),
    refused(corpus.tiff_with_65535_samples_per_pixel,
            "^the TIFF is truncated: its pixel data ends early$"),
    # pdfium aborts when the content's inflated gigabyte finds no room: in its own process.
    refused(corpus.pdf_with_a_deflate_bomb_as_its_content,
            r"^page 1 of the PDF could not be rendered: pdfium stopped \(signal SIGABRT\)"),
    # LibRaw refuses sensor sizes past its own limit as it opens the file.
    refused(corpus.dng_declaring_100000_by_100000,
            "^the RAW file cannot be read: an unsupported camera or format"),
    refused(corpus.dng_declaring_20000_by_20000,
            "^the image is 20000×20000 pixels over the limit of 250,000,000 pixels"),
])
def test_a_file_claiming_more_pixels_or_bytes_than_allowed_fails_before_they_are_decoded(
    tmp_path: Path, build: Build, reason: str
) -> None:
    assert_refused(tmp_path, build, reason)


@pytest.mark.parametrize(("build", "reason"), [
    refused(corpus.tiff_with_100000_ifds, "^the TIFF holds more than 10,000 images$"),
    refused(corpus.tiff_with_an_ifd_pointing_to_itself,
            "^the TIFF's chain of images loops: it comes back to the IFD at byte 72$"),
    refused(corpus.tiff_with_two_ifds_pointing_to_each_other,
            "^the TIFF's chain of images loops: it comes back to the IFD at byte 72$"),
    refused(corpus.tiff_with_a_loop_after_150_ifds,
            "^the TIFF's chain of images loops: it comes back to the IFD at byte 12,210$"),
    refused(corpus.bigtiff_with_an_ifd_pointing_to_itself,
            "^the TIFF's chain of images loops: it comes back to the IFD at byte 80$"),
    refused(corpus.tiff_with_one_sub_ifd_listed_200000_times,
            "^the TIFF's chain of reduced-resolution levels loops"),
])
def test_an_endless_or_looping_chain_of_tiff_pages_fails(tmp_path: Path, build: Build,
                                                         reason: str) -> None:
    assert_refused(tmp_path, build, reason)


@pytest.mark.parametrize(("build", "reason"), [
    refused(corpus.tiff_16_bit_with_short_strips,
            "^the TIFF is truncated: its pixel data ends early$"),
    refused(corpus.tiff_16_bit_with_short_deflate_strips,
            r"^page 1 of the TIFF is corrupt \(corrupted strip cannot be reshaped"),
    refused(corpus.tiff_12_bit_with_short_strips,
            r"^page 1 of the TIFF is corrupt \(corrupted strip cannot be reshaped"),
    refused(corpus.tiff_with_bits_per_sample_differing_by_sample,
            r"^TIFF samples of differing depths \(8, 8, 16 bits\) are not supported$"),
    refused(corpus.tiff_with_differing_depths_and_no_byte_counts,
            r"^the TIFF file is corrupt \(unsupported operand type"),
    refused(corpus.tiff_with_zero_bits_per_sample,
            "^TIFF samples of 0 bits in sample format UINT are not supported$"),
    refused(corpus.tiff_with_float_samples_of_7_bits,
            "^TIFF samples of 7 bits in sample format IEEEFP are not supported$"),
])
def test_a_tiff_whose_samples_lie_about_their_size_fails(tmp_path: Path, build: Build,
                                                         reason: str) -> None:
    assert_refused(tmp_path, build, reason)


@pytest.mark.parametrize(("build", "reason"), [
    refused(corpus.clip_cut_before_its_index,
            r"^the clip's index cannot be read: it is missing \(the file was cut short\)"),
    refused(corpus.clip_cut_after_its_index,
            "^no frame of the clip could be decoded: it is truncated or corrupt$"),
    refused(corpus.clip_with_a_corrupt_index, "^the clip's index cannot be read"),
    refused(corpus.clip_without_a_video_stream, "^the file holds no video stream$"),
    refused(corpus.clip_claiming_three_days,
            "^the clip claims to last 72.0 hours, over the limit of 12.0 hours$"),
    refused(corpus.clip_with_10000_streams, "declares more than 64 streams"),
    refused(corpus.clip_of_motion_jpeg_declaring_20000_by_20000,
            "^the clip cannot be decoded: it is corrupt"),
    refused(corpus.clip_of_a_codec_no_camera_records,
            "^the clip's video is mpeg2video, which Lightbox does not read: it reads H.264, "),
])
def test_a_hostile_clip_fails_saying_why(tmp_path: Path, build: Build, reason: str) -> None:
    assert_refused(tmp_path, build, reason)


@pytest.mark.parametrize("build", [
    # Polyglots: what follows a JPEG's end marker is no part of the image.
    corpus.jpeg_with_a_zip_appended,
    corpus.jpeg_with_html_appended,
    # Bombs in the data that are never set off: the decoders stop at the pixels declared.
    corpus.png_deflate_bomb,
    corpus.tiff_lzw_bomb_in_a_tile,
    # The first frame is the poster; the others are counted, not decoded.
    corpus.gif_with_10000_frames,
    # EXIF is left out when it would expand past a megabyte.
    corpus.jxl_with_an_exif_bomb,
    corpus.jxl_with_an_exif_gps_pointer_outside_it,
    # libjpeg, as browsers do, shows grey where the data ends early; decoded at 1/8 scale.
    corpus.jpeg_declaring_65500_by_65500,
    # Missing tiles read as blank (as libtiff reads them), averaged in bounded memory.
    corpus.tiff_of_60000_by_60000_missing_tiles,
    # tifffile drops the unreadable tag, and the TIFF default (1 bit per sample) stands.
    corpus.tiff_with_a_tag_value_outside_the_file,
    # A RAW whose preview is broken shows its sensor data instead.
    corpus.dng_with_its_preview_cut_short,
    # Odd but valid sample formats.
    corpus.tiff_of_complex_samples,
    corpus.tiff_with_24_bit_integer_samples,
    # Controls: the limit is not so low that real photographs and scans fail.
    corpus.large_jpeg,
    corpus.large_heic,
    corpus.large_jxl,
    corpus.large_dng_with_a_preview,
    corpus.large_dng,
    corpus.multi_page_16_bit_tiff,
    corpus.pdf_of_two_photographs,
    # pdfium inflates an image's rows as it scales them: 400 MB of them in a few MB.
    corpus.pdf_with_a_deflate_bomb_as_its_image,
    # The page count comes from the page tree; LIGHTBOX_MAX_PAGES pages are rendered.
    corpus.pdf_with_100000_pages,
    # The scale comes from the thumbnail's size, not from the page's.
    corpus.pdf_of_14400_inches_square,
], ids=lambda build: build.__name__)
def test_a_file_that_is_still_an_image_renders_in_bounded_memory_and_time(
    tmp_path: Path, build: Build
) -> None:
    result = render_isolated(tmp_path, build)
    assert result["outcome"] == "rendered", result["message"]
    assert result["renderer_peak_mb"] < ADDRESS_SPACE_LIMIT / 2**20, result
