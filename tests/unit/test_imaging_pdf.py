"""PDF documents, written by Pillow (pages of pictures), pypdf (rotation, dates, encryption) and
by hand (vector pages, odd page boxes), rendered by pdfium in its own process; every
thumbnail decoded and looked at."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from PIL import Image

from lightbox import filetypes
from lightbox.domain import RenderSpec
from lightbox.errors import ImageError
from lightbox.imaging.pdf_source import PdfSource, pdf_date
from tests.images import one_page_pdf, pdf
from tests.support import close_to, colour_at, derivative, render_data
from tests.unit.test_imaging_jpeg import (
    BLUE,
    RED,
    WHITE,
    assert_quadrants,
    assert_upright,
    quadrants,
)

SPEC = RenderSpec(sizes=(256, 1280), jpeg_quality=85, max_pixels=250_000_000)


def plain(colour: tuple[int, int, int], size: tuple[int, int] = (400, 600)) -> Image.Image:
    return Image.new("RGB", size, colour)


def test_the_bytes_say_what_they_are() -> None:
    assert filetypes.sniff(pdf(plain(RED))[:64]) == filetypes.PDF


def test_every_page_gets_thumbnails_and_the_document_its_page_count(tmp_path: Path) -> None:
    rendition = render_data(tmp_path, pdf(quadrants(400, 600), plain(RED), plain(BLUE)))

    info = rendition.info
    assert (info.width, info.height, info.pages) == (400, 600, 3)
    assert (info.bit_depth, info.color_mode, info.camera_make, info.orientation) == (
        8, "RGB", None, None)
    assert sorted({(image.page, image.size) for image in rendition.images}) == [
        (page, size) for page in (1, 2, 3) for size in (256, 1280)]
    first = derivative(rendition, 1280, page=1)
    assert first.size == (854, 1280)  # the longest side is the size; pdfium rounds up the other
    assert_quadrants(first)
    assert close_to(colour_at(derivative(rendition, 256, page=2), 0.5, 0.5), RED)
    assert close_to(colour_at(derivative(rendition, 256, page=3), 0.5, 0.5), BLUE)


def test_pages_past_the_maximum_are_counted_not_rendered(tmp_path: Path) -> None:
    rendition = render_data(tmp_path, pdf(*[plain(RED)] * 5), max_pages=2)
    assert rendition.info.pages == 5
    assert {image.page for image in rendition.images} == {1, 2}


def test_a_page_is_rendered_at_the_size_needed_not_at_its_print_size(tmp_path: Path) -> None:
    # 14400 inches square: at 72 dpi a bitmap of a trillion pixels; the target sets the scale.
    path = tmp_path / "poster.pdf"
    path.write_bytes(one_page_pdf(b"1 0 0 rg 0 0 518400 1036800 re f",
                                  media_box=b"[0 0 1036800 1036800]"))
    source = PdfSource(path, SPEC)
    try:
        assert (source.info.width, source.info.height) == (1036800, 1036800)
        page = source.decode(0, 1280)
    finally:
        source.close()
    assert (page.image.mode, page.image.size, page.orientation) == ("RGB", (1280, 1280), 1)
    assert close_to(colour_at(page.image, 0.25, 0.5), (255, 0, 0))
    assert close_to(colour_at(page.image, 0.75, 0.5), WHITE)


def test_a_rotated_page_comes_out_as_its_rotate_says(tmp_path: Path) -> None:
    # Stored turned a quarter anticlockwise; /Rotate 90 shows it turned clockwise: upright.
    stored = quadrants(1200, 800).transpose(Image.Transpose.ROTATE_90)
    rendition = render_data(tmp_path, pdf(stored, plain(RED), rotate=90))

    assert_upright(rendition)
    assert derivative(rendition, 256, page=2).size == (171, 256)  # the others as they are


def test_what_a_page_does_not_draw_is_white(tmp_path: Path) -> None:
    # A vector page: blue on its left half, nothing on its right, where pdfium leaves the
    # bitmap as it was filled.
    data = one_page_pdf(b"0 0 1 rg 0 0 306 792 re f")
    image = derivative(render_data(tmp_path, data, formats=("jpeg", "webp")), 256, fmt="webp")
    assert close_to(colour_at(image, 0.25, 0.5), (0, 0, 255))
    assert image.convert("RGBA").getpixel((150, 128)) == (255, 255, 255, 255)


def test_the_creation_date_is_when_it_was_taken(tmp_path: Path) -> None:
    data = pdf(plain(RED), created="D:20240531140012+02'00'")
    assert render_data(tmp_path, data).info.taken_at == datetime(2024, 5, 31, 14, 0, 12)


@pytest.mark.parametrize(("value", "expected"), [
    ("D:20240531140012Z", datetime(2024, 5, 31, 14, 0, 12)),
    ("D:202405311400", datetime(2024, 5, 31, 14, 0)),
    ("20240531", datetime(2024, 5, 31)),
    ("D:2024", None),
    ("D:20241331000000", None),
    ("", None),
    (None, None),
])
def test_pdf_dates_are_read_defensively(value: object, expected: datetime | None) -> None:
    assert pdf_date(value) == expected


def test_an_encrypted_pdf_fails_saying_so(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match=r"^the PDF is encrypted: it opens only with a password$"):
        render_data(tmp_path, pdf(plain(RED), password="secret"))


def test_a_pdf_locked_only_against_editing_renders(tmp_path: Path) -> None:
    # An owner password alone restricts printing or copying; anyone may open and view it.
    rendition = render_data(tmp_path, pdf(plain(RED), owner_password="owner"))
    assert close_to(colour_at(derivative(rendition, 256), 0.5, 0.5), RED)


@pytest.mark.parametrize("keep", [0.3, 0.6, 0.9])
def test_a_truncated_pdf_fails_with_a_reason(tmp_path: Path, keep: float) -> None:
    data = pdf(quadrants(400, 600), plain(RED))
    with pytest.raises(ImageError, match=r"^the PDF is corrupt or truncated: pdfium cannot read"):
        render_data(tmp_path, data[: int(len(data) * keep)])


@pytest.mark.parametrize("media_box", [b"[0 0 0 0]", b"[0 0 -100 -100]", b"[0 0 nan 5]",
                                       b"[0 0 1e40 1e40]", b"[0 0 612]"])
def test_a_page_box_of_no_size_is_read_as_pdfium_reads_it(tmp_path: Path,
                                                          media_box: bytes) -> None:
    # pdfium takes a box of no area as US Letter and a negative one by its corners; whatever
    # it reports, the bitmap's size comes from the target.
    rendition = render_data(tmp_path, one_page_pdf(b"", media_box=media_box))
    assert rendition.info.width > 0 and rendition.info.height > 0
    assert max(derivative(rendition, 1280).size) == 1280
