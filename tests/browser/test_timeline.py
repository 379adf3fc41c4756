"""The timeline as a person with photos from several years uses it: months newest first, a
scrubber to jump to a year, justified rows, placeholders before thumbnails, a tile that says
why it has no picture, selection with the mouse and the keyboard, and zoom in the viewer.

Most tests share one library of photos taken over five years (uploaded once, with the dates
an importer declares), and only look; those that change a library make their own.
"""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from PIL import Image, ImageStat
from playwright.sync_api import APIResponse, Browser, Route, expect

from tests.browser.gallery import Gallery
from tests.browser.pictures import corrupt_jpeg, landscape
from tests.e2e.conftest import Client, Stack
from tests.support import unique_owner

pytestmark = pytest.mark.e2e

# Sizes of different shapes, so that justified rows have something to justify.
SHAPES = [(480, 320), (320, 480), (600, 300), (400, 400), (512, 288)]
# (year, month, how many): 20 months over 2019-2023, a summer of 2021 with several.
MONTHS = [(2023, 11, 1), (2023, 8, 2), (2023, 3, 1), (2022, 12, 1), (2022, 9, 1), (2022, 6, 2),
          (2022, 2, 1), (2021, 10, 1), (2021, 8, 2), (2021, 7, 5), (2021, 6, 1), (2021, 1, 1),
          (2020, 11, 1), (2020, 7, 1), (2020, 4, 1), (2020, 1, 1), (2019, 12, 1), (2019, 8, 2),
          (2019, 5, 1), (2019, 2, 1)]
MONTH_NAMES = ["January", "February", "March", "April", "May", "June", "July", "August",
               "September", "October", "November", "December"]


@dataclass(frozen=True)
class DatedLibrary:
    key: str
    # File names, newest first, as the timeline lists them.
    names: list[str]
    # Month headings, newest first.
    months: list[str]


def upload_dated(client: Client, photos: list[tuple[str, bytes, str]]) -> list[str]:
    """Uploads (name, JPEG, taken_at) as an importer that knows their dates; waits for them."""
    ids = [client.upload(name, "image/jpeg", data, taken_at=taken_at) for name, data, taken_at in photos]
    for asset_id in ids:
        assert client.wait_until_settled(asset_id)["status"] == "ready"
    return ids


@pytest.fixture(scope="module")
def dated_library(gallery_stack: Stack) -> Iterator[DatedLibrary]:
    key = gallery_stack.create_key(unique_owner())
    photos: list[tuple[str, bytes, str]] = []
    for year, month, count in MONTHS:
        for n in range(count):
            seed = 8000 + len(photos)
            photos.append((f"{year}-{month:02d}-{n + 1}.jpg", landscape(seed, SHAPES[seed % len(SHAPES)]),
                           f"{year}-{month:02d}-{20 - n:02d}T10:00:00Z"))
    upload_dated(gallery_stack.api_client(key), photos)
    yield DatedLibrary(key, [name for name, _, _ in photos],
                       [f"{MONTH_NAMES[month - 1]} {year}" for year, month, _ in MONTHS])


def month_headings(gallery: Gallery) -> list[str]:
    return gallery.page.locator("#timeline section:not([hidden]) > .month-heading").all_text_contents()


def test_months_come_newest_first_and_the_scrubber_jumps_to_a_year_not_loaded_yet(
        gallery: Gallery, dated_library: DatedLibrary) -> None:
    gallery.sign_in(dated_library.key)
    gallery.signed_in()
    expect(gallery.page.locator("#timeline section:not([hidden]) > .month-heading")).to_have_text(dated_library.months)
    expect(gallery.page.locator("#scrubber button")).to_have_text(["2023", "2022", "2021", "2020", "2019"])
    newest = gallery.tile(dated_library.names[0])
    expect(newest.locator("img")).to_have_attribute("src", re.compile("/derivatives/"))
    # The oldest months are far below: their photos were not even asked for.
    oldest = dated_library.names[-1]
    expect(gallery.tile(oldest)).to_have_count(0)
    gallery.expect_accessible()
    gallery.screenshot("timeline")

    gallery.page.get_by_role("button", name="Go to December 2019").click()
    heading = gallery.page.get_by_role("heading", name="December 2019")
    expect(heading).to_be_in_viewport()
    expect(gallery.tile_button("2019-12-1.jpg")).to_be_focused()

    # Back to a month on show: its tiles stay, it is not read again.
    def reads_of_december_2019() -> int:
        answers = [request.response() for request in gallery.requests_to("GET", "/v1/assets$")]
        return sum(1 for answer in answers if answer and "2019-12-1.jpg" in answer.text())

    read = reads_of_december_2019()
    gallery.page.evaluate("document.activeElement.blur()")
    gallery.page.get_by_role("button", name="Go to December 2019").click()
    expect(gallery.tile_button("2019-12-1.jpg")).to_be_focused()
    assert reads_of_december_2019() == read == 1
    gallery.page.mouse.wheel(0, 2000)
    expect(gallery.tile(oldest)).to_be_visible()
    gallery.wait_for_thumbnail(oldest)
    # Months far above were let go: their tiles left the page, their headings stay.
    expect(gallery.tile(dated_library.names[0])).to_have_count(0)
    assert month_headings(gallery) == dated_library.months
    gallery.screenshot("jumped")


def test_photos_keep_their_shape_in_justified_rows(gallery: Gallery, dated_library: DatedLibrary) -> None:
    gallery.sign_in(dated_library.key)
    gallery.signed_in()
    summer = gallery.page.get_by_role("region", name="July 2021")
    summer.scroll_into_view_if_needed()
    tiles = summer.locator("li.tile")
    expect(tiles).to_have_count(5)
    for name in [name for name in dated_library.names if name.startswith("2021-07")]:
        gallery.wait_for_thumbnail(name)
    boxes = [tile.bounding_box() for tile in tiles.all()]
    shapes = [tile.locator("img").evaluate("image => image.naturalWidth / image.naturalHeight")
              for tile in tiles.all()]
    rows: dict[int, list[float]] = {}
    for box, shape in zip(boxes, shapes, strict=True):
        assert box is not None
        # Each tile has its photo's shape, within a pixel's rounding.
        assert box["width"] / box["height"] == pytest.approx(shape, rel=0.03)
        rows.setdefault(round(box["y"]), []).append(box["height"])
    # Every tile of a row is as high as the others.
    for heights in rows.values():
        assert max(heights) - min(heights) < 1.5, rows
    gallery.screenshot("justified")


def test_the_keyboard_moves_opens_and_selects_and_the_mouse_selects_ranges_and_drags(
        gallery: Gallery, dated_library: DatedLibrary) -> None:
    gallery.sign_in(dated_library.key)
    gallery.signed_in()
    first, second = dated_library.names[0], dated_library.names[1]
    expect(gallery.tile(first)).to_be_visible()
    # One stop in the tab order for the whole timeline, on its first photo.
    gallery.page.get_by_role("button", name="Sign out").focus()
    gallery.page.keyboard.press("Tab")
    expect(gallery.tile_button(first)).to_be_focused()
    gallery.page.keyboard.press("ArrowRight")
    expect(gallery.tile_button(second)).to_be_focused()
    gallery.page.keyboard.press("ArrowLeft")
    expect(gallery.tile_button(first)).to_be_focused()
    top = gallery.tile(first).bounding_box()
    gallery.page.keyboard.press("ArrowDown")
    gallery.page.keyboard.press("ArrowDown")
    # Two rows down (the months between have a row each).
    below, y = gallery.page.evaluate("""() => {
        const tile = document.activeElement.closest('li');
        return [tile.querySelector('.tile-name').textContent, tile.getBoundingClientRect().top];
    }""")
    assert top and y > top["y"] + 2 * top["height"], (below, y, top)
    gallery.page.keyboard.press("Enter")
    viewer = gallery.page.get_by_role("dialog")
    expect(viewer.get_by_role("heading", level=2)).to_have_text(below)
    gallery.expect_accessible()
    gallery.page.keyboard.press("Escape")
    expect(viewer).to_be_hidden()
    expect(gallery.tile_button(below)).to_be_focused()
    # Space selects; Escape lets go.
    gallery.page.keyboard.press("Space")
    expect(gallery.page.locator("#selection-count")).to_have_text("1 selected")
    gallery.page.keyboard.press("Escape")
    expect(gallery.page.locator("#selection-bar")).to_be_hidden()

    # A click on a tile's check selects it; then a shift-click selects everything between.
    gallery.tile(first).hover()
    gallery.tile(first).get_by_role("button", name=f"Select {first}").click()
    gallery.tile_button(dated_library.names[3]).click(modifiers=["Shift"])
    expect(gallery.page.locator("#selection-count")).to_have_text("4 selected")
    expect(gallery.page.locator("li.tile.selected .tile-name")).to_have_text(dated_library.names[:4])
    expect(gallery.page.get_by_role("dialog")).to_be_hidden()
    gallery.expect_accessible()
    gallery.screenshot("selected")
    gallery.page.get_by_role("button", name="Clear selection").click()
    expect(gallery.page.locator("li.tile.selected")).to_have_count(0)

    # Dragging from one check across other tiles selects them all.
    start = gallery.tile(first).get_by_role("button", name=f"Select {first}")
    gallery.tile(first).hover()
    box = start.bounding_box()
    end = gallery.tile(dated_library.names[2]).bounding_box()
    assert box and end
    gallery.page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    gallery.page.mouse.down()
    gallery.page.mouse.move(end["x"] + end["width"] / 2, end["y"] + end["height"] / 2, steps=12)
    gallery.page.mouse.up()
    expect(gallery.page.locator("#selection-count")).to_have_text("3 selected")
    expect(gallery.page.get_by_role("dialog")).to_be_hidden()


def test_a_placeholder_shows_until_the_thumbnail_comes_and_a_tile_without_it_offers_a_retry(
        gallery: Gallery) -> None:
    photo = landscape(7301, (480, 320))
    upload_dated(gallery.api, [("meadow.jpg", photo, "2022-06-01T09:00:00Z")])
    broken = gallery.api.upload("broken.jpg", "image/jpeg", corrupt_jpeg(7302))
    assert gallery.api.wait_until_settled(broken)["status"] == "failed"
    # The bucket drops the thumbnail's connection twice (its first URL and the fresh one);
    # any load after that, until the user asks again, never answers.
    gallery.expect_console_error("ERR_FAILED")
    dropped: list[Route] = []
    unanswered: list[Route] = []
    retried_by_user = False

    def bucket(route: Route) -> None:
        if retried_by_user:
            route.continue_()
        elif len(dropped) < 2:
            dropped.append(route)
            route.abort()
        else:
            unanswered.append(route)

    gallery.page.route("**/derivatives/**", bucket)
    gallery.sign_in()
    gallery.signed_in()
    tile = gallery.tile("meadow.jpg")
    expect(tile.locator(".tile-failure")).to_be_visible()
    expect(tile.locator(".tile-reason")).to_have_text("The thumbnail did not load.")
    # The placeholder decoded from the asset's ThumbHash stands in: the photo's colours.
    background = tile.locator(".tile-frame").evaluate("frame => frame.style.backgroundImage")
    data = re.fullmatch(r'url\("data:image/png;base64,(.+)"\)', background)
    assert data, background
    placeholder = Image.open(io.BytesIO(base64.b64decode(data.group(1)))).convert("RGB")
    assert placeholder.width == 32 and 18 <= placeholder.height <= 24
    expected = ImageStat.Stat(Image.open(io.BytesIO(photo)).convert("RGB")).mean
    shown = ImageStat.Stat(placeholder).mean
    assert all(abs(a - b) < 25 for a, b in zip(shown, expected, strict=True)), (shown, expected)
    gallery.screenshot("placeholder")

    # A failed file says why on its tile, and its retry asks the server again.
    failed = gallery.tile("broken.jpg")
    expect(failed.locator(".tile-reason")).to_have_text(re.compile("^Failed: unsupported file"))
    with gallery.page.expect_response(re.compile("/retry$")) as retried:
        failed.get_by_role("button", name="Retry broken.jpg").click()
    assert retried.value.status == 202

    # A tile that gave up loads nothing more by itself; its retry loads fresh URLs.
    assert len(dropped) == 2 and unanswered == []
    retried_by_user = True
    tile.get_by_role("button", name="Retry meadow.jpg").click()
    gallery.wait_for_thumbnail("meadow.jpg")
    expect(tile.locator(".tile-failure")).to_be_hidden()


def test_a_thumbnail_whose_connection_hangs_is_given_up_and_offers_a_retry(gallery: Gallery) -> None:
    fjord, glacier = upload_dated(gallery.api, [
        ("fjord.jpg", landscape(7303, (480, 320)), "2022-06-02T09:00:00Z"),
        ("glacier.jpg", landscape(7304, (480, 320)), "2022-06-01T09:00:00Z")])
    # The bucket takes fjord's thumbnail requests and never answers, until the user retries;
    # glacier's comes late, as on a slow network.
    hung: list[Route] = []
    slow: list[Route] = []
    retried_by_user = False

    def bucket(route: Route) -> None:
        if fjord in route.request.url and not retried_by_user:
            hung.append(route)
        elif glacier in route.request.url and not slow:
            slow.append(route)
        else:
            route.continue_()

    gallery.page.clock.install()
    gallery.page.route("**/derivatives/**", bucket)
    gallery.sign_in()
    gallery.signed_in()
    tile = gallery.tile("fjord.jpg")
    for _ in range(100):  # both thumbnails asked for
        if hung and slow:
            break
        gallery.page.wait_for_timeout(100)
    gallery.page.clock.run_for(25_000)
    slow[0].continue_()
    gallery.wait_for_thumbnail("glacier.jpg")
    # Past 30 s of waiting, but a thumbnail came 20 s ago: the network is slow, not stuck.
    gallery.page.clock.run_for(20_000)
    gallery.page.wait_for_timeout(500)  # for a request it would have made to reach the test
    assert gallery.requests_to("GET", f"/v1/assets/{fjord}$") == []
    with gallery.page.expect_response(re.compile(f"/v1/assets/{fjord}$")):  # a fresh URL
        gallery.page.clock.run_for(15_000)  # 30 s with nothing loaded: given up
    expect(tile.locator("img")).to_have_attribute("src", re.compile("/derivatives/"))
    expect(tile.locator(".tile-failure")).to_be_hidden()
    gallery.page.clock.run_for(40_000)  # the fresh one too
    expect(tile.locator(".tile-failure")).to_be_visible()
    expect(tile.locator(".tile-reason")).to_have_text("The thumbnail did not load.")
    # A tile that gave up loads nothing more by itself.
    asked = len(gallery.requests_to("GET", f"/derivatives/.*{fjord}"))
    gallery.page.clock.run_for(60_000)
    gallery.page.wait_for_timeout(500)
    assert len(gallery.requests_to("GET", f"/derivatives/.*{fjord}")) == asked
    expect(tile.locator(".tile-failure")).to_be_visible()

    retried_by_user = True
    tile.get_by_role("button", name="Retry fjord.jpg").click()
    gallery.wait_for_thumbnail("fjord.jpg")
    expect(tile.locator(".tile-failure")).to_be_hidden()


# A change made to a photo while its month is read, and the name its tile has after it.
CHANGES = {
    "renamed": (("PATCH", "", {"filename": "pier.jpg"}), "pier.jpg"),
    "trashed": (("DELETE", "", None), None),
    "deleted for good": (("DELETE", "?permanent=true", None), None),
}


@pytest.mark.parametrize("change", CHANGES)
def test_a_change_the_feed_brings_while_its_month_loads_is_shown(gallery: Gallery, change: str) -> None:
    (old,) = upload_dated(gallery.api, [("harbour.jpg", landscape(7311, (480, 320)), "2020-05-05T08:00:00Z")])
    # An upload still waiting for its bytes keeps the gallery following the feed.
    waiting = gallery.api.presign("waiting.jpg", "image/jpeg", landscape(7312, (320, 240)))
    assert waiting.status_code == 201, waiting.text
    read_before_the_change: list[tuple[Route, APIResponse]] = []

    def hold_may_2020(route: Route) -> None:
        page = route.fetch()
        if old in page.text():
            read_before_the_change.append((route, page))
        else:
            route.fulfill(response=page)

    gallery.page.route(re.compile(r"/v1/assets\?.*cursor="), hold_may_2020)
    gallery.sign_in()
    gallery.signed_in()
    expect(gallery.tile("waiting.jpg")).to_be_visible()
    # The month's page is read; the photo changes; the feed says so before the page is on show.
    (method, query, body), name_after = CHANGES[change]
    changed = gallery.api.http.request(method, f"{gallery.api.api}/v1/assets/{old}{query}", json=body,
                                       timeout=30)
    assert changed.ok, changed.text
    gallery.page.wait_for_event(
        "response", lambda response: "changed_since" in response.url and old in response.text())
    ((route, page),) = read_before_the_change
    assert "harbour.jpg" in page.text()
    route.fulfill(response=page)
    if name_after:
        expect(gallery.tile(name_after)).to_be_visible()
    else:
        expect(gallery.page.locator("#timeline li.tile")).to_have_count(1)  # waiting.jpg
    expect(gallery.tile("harbour.jpg")).to_have_count(0)


def test_the_viewer_zooms_and_pans_a_photo(gallery: Gallery) -> None:
    upload_dated(gallery.api, [("harbour.jpg", landscape(7401, (1600, 1067)), "2020-05-05T08:00:00Z")])
    gallery.sign_in()
    gallery.signed_in()
    viewer = gallery.open_viewer("harbour.jpg")
    image = viewer.get_by_role("img", name="harbour.jpg")
    gallery.natural_width(image)
    level = viewer.locator("#zoom-level")
    expect(level).to_have_text("100%")
    viewer.get_by_role("button", name="Zoom in").click()
    expect(level).to_have_text("150%")
    before = image.bounding_box()
    assert before
    # Dragging a zoomed picture moves it.
    gallery.page.mouse.move(before["x"] + before["width"] / 2, before["y"] + before["height"] / 2)
    gallery.page.mouse.down()
    gallery.page.mouse.move(before["x"] + before["width"] / 2 + 80, before["y"] + before["height"] / 2, steps=5)
    gallery.page.mouse.up()
    after = image.bounding_box()
    assert after and after["x"] > before["x"] + 40
    # While zoomed, the arrows do not step to another photo; 0 fits it again.
    gallery.page.keyboard.press("+")
    expect(level).to_have_text("225%")
    gallery.page.keyboard.press("0")
    expect(level).to_have_text("100%")
    # The wheel zooms at the pointer.
    fitted = image.bounding_box()
    assert fitted
    gallery.page.mouse.move(fitted["x"] + 100, fitted["y"] + 100)
    gallery.page.mouse.wheel(0, -300)
    expect(level).not_to_have_text("100%")
    gallery.screenshot("zoomed")


def test_on_a_phone_the_timeline_fits_the_screen_and_taps_open_and_select(
        gallery: Gallery, browser: Browser, dated_library: DatedLibrary) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True,
                                  is_mobile=True, locale="en-US")
    phone = Gallery(context.new_page(), gallery.stack, dated_library.key, gallery.artifacts / "phone")
    try:
        phone.sign_in()
        phone.signed_in()
        first = dated_library.names[0]
        phone.wait_for_thumbnail(first)
        # Nothing wider than the screen.
        assert phone.page.evaluate("document.documentElement.scrollWidth") <= 390
        rows = phone.page.locator("#timeline li.tile").evaluate_all(
            "tiles => tiles.slice(0, 6).map((tile) => tile.getBoundingClientRect().height)")
        assert all(80 <= height <= 220 for height in rows), rows
        phone.tile(first).get_by_role("button", name=f"Select {first}").tap()
        expect(phone.page.locator("#selection-count")).to_have_text("1 selected")
        phone.tile(first).get_by_role("button", name=f"Select {first}").tap()
        expect(phone.page.locator("#selection-bar")).to_be_hidden()
        phone.tile_button(first).tap()
        viewer = phone.page.get_by_role("dialog")
        expect(viewer.get_by_role("heading", level=2)).to_have_text(first)
        box = viewer.bounding_box()
        assert box and box["width"] <= 390
        phone.expect_accessible()
        phone.screenshot("phone-viewer")
        viewer.get_by_role("button", name="Close").tap()
        expect(viewer).to_be_hidden()
        assert phone.foreign_requests() == [] and phone.unexpected_errors() == []
    finally:
        context.close()
