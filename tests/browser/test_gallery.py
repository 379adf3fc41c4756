"""The gallery as a person uses it: sign in, upload, watch, look, delete, retry."""

from __future__ import annotations

import base64
import io
import re
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from PIL import Image
from playwright.sync_api import Route, expect

from lightbox import filetypes
from tests.browser.gallery import SETTLE_MS, Gallery
from tests.browser.pictures import animation, clip, corrupt_jpeg, landscape, scan
from tests.e2e.conftest import Stack

pytestmark = pytest.mark.e2e


# --- loading and signing in ----------------------------------------------------------------------

def test_the_page_loads_without_a_failed_request_or_a_console_error(gallery: Gallery) -> None:
    gallery.open()
    expect(gallery.page.get_by_label("API URL")).to_have_value(gallery.stack.api)
    gallery.page.wait_for_load_state("networkidle")
    assert gallery.failed == [] and gallery.console_errors == []
    # config.json is there to be read, as on a host where it names the API.
    assert [r.url for r in gallery.requests_to("GET", r"^/config\.json$")] == [f"{gallery.stack.api}/config.json"]


def test_a_hosted_gallery_takes_the_api_url_from_its_config_json(gallery: Gallery) -> None:
    hosted_api = "https://abc123.execute-api.eu-west-1.amazonaws.com/dev"
    gallery.page.route("**/config.json", lambda route: route.fulfill(json={"apiUrl": hosted_api}))
    gallery.open()
    expect(gallery.page.get_by_label("API URL")).to_have_value(hosted_api)


def test_a_wrong_key_is_refused_on_the_sign_in_form(gallery: Gallery) -> None:
    gallery.expect_console_error(r"status of 401")
    gallery.sign_in("lbk_" + "x" * 43)
    expect(gallery.page.get_by_role("alert").first).to_have_text(re.compile("refused this key"))
    expect(gallery.page.get_by_role("button", name="Sign out")).to_be_hidden()
    expect(gallery.page.get_by_label("API key")).to_be_focused()
    gallery.screenshot("refused")


def test_signing_in_opens_an_empty_library_and_signing_out_forgets_the_key(gallery: Gallery) -> None:
    gallery.sign_in()
    gallery.signed_in()
    expect(gallery.page.get_by_text("No photos yet")).to_be_visible()
    gallery.screenshot("empty-library")
    gallery.page.get_by_role("button", name="Sign out").click()
    expect(gallery.page.get_by_role("button", name="Sign in")).to_be_visible()
    gallery.page.reload()
    expect(gallery.page.get_by_role("button", name="Sign in")).to_be_visible()
    assert gallery.page.evaluate(
        "[sessionStorage, localStorage].map((storage) => storage.getItem('lightbox.session'))"
    ) == [None, None]


def test_a_key_refused_later_returns_to_the_sign_in_form_saying_so(gallery: Gallery) -> None:
    gallery.expect_console_error(r"status of 401")
    gallery.sign_in()
    gallery.signed_in()
    # As if the key had been revoked while the tab was open.
    gallery.page.evaluate("""() => sessionStorage.setItem('lightbox.session', JSON.stringify({
        ...JSON.parse(sessionStorage.getItem('lightbox.session')), key: 'lbk_revoked'}))""")
    gallery.page.reload()
    expect(gallery.page.locator("#sign-in-error")).to_have_text(re.compile("no longer accepts your key"))
    expect(gallery.page.get_by_role("button", name="Sign in")).to_be_visible()
    gallery.screenshot("signed-out")


# --- uploading --------------------------------------------------------------------------------

def test_chosen_photos_show_at_once_and_become_thumbnails(gallery: Gallery) -> None:
    gallery.sign_in()
    gallery.signed_in()
    gallery.record_badges()
    gallery.choose(("dune.jpg", "image/jpeg", landscape(101)), ("ridge.jpg", "image/jpeg", landscape(102)))
    for name in ("dune.jpg", "ridge.jpg"):
        expect(gallery.tile(name)).to_be_visible()
    gallery.screenshot("uploading")
    for name in ("dune.jpg", "ridge.jpg"):
        gallery.wait_for_thumbnail(name)
        expect(gallery.badge(name)).to_have_text("Ready", timeout=SETTLE_MS)
    # Each tile was there from the start and said where its asset was on the way.
    seen = gallery.badges_seen()
    assert any(re.fullmatch(r"Uploading \d+%", badge) for badge in seen), seen
    assert {"Pending", "Ready"} <= seen, seen
    expect(gallery.page.locator("#uploads-summary")).to_have_text("2 of 2 in the library")
    listed = gallery.api.http.get(f"{gallery.api.api}/v1/assets", timeout=30).json()["items"]
    assert [asset["status"] for asset in listed] == ["ready", "ready"]
    # Newest first, as the API lists them, also after a reload.
    gallery.page.reload()
    expect(gallery.page.locator("#timeline .tile-name")).to_have_text([asset["filename"] for asset in listed])
    # Every PUT went straight to the bucket with the signed checksum header.
    puts = gallery.requests_to("PUT", "/originals/")
    assert len(puts) == 2 and all("x-amz-checksum-sha256" in put.headers for put in puts)
    gallery.screenshot("ready")


def test_a_dropped_file_is_uploaded_like_a_chosen_one(gallery: Gallery) -> None:
    gallery.sign_in()
    gallery.signed_in()
    data = base64.b64encode(landscape(103)).decode()
    # A real drop: a DataTransfer made in the page, carried by dragenter, dragover and drop.
    gallery.page.evaluate("""([name, data]) => {
        const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
        const transfer = new DataTransfer();
        transfer.items.add(new File([bytes], name, {type: 'image/jpeg'}));
        window.__transfer = transfer;
        for (const type of ['dragenter', 'dragover']) {
            document.body.dispatchEvent(new DragEvent(type, {dataTransfer: transfer, bubbles: true, cancelable: true}));
        }
    }""", ["meadow.jpg", data])
    expect(gallery.page.locator("#drop-overlay")).to_be_visible()
    gallery.screenshot("dragging")
    gallery.page.evaluate("""() => document.body.dispatchEvent(
        new DragEvent('drop', {dataTransfer: window.__transfer, bubbles: true, cancelable: true}))""")
    expect(gallery.page.locator("#drop-overlay")).to_be_hidden()
    gallery.wait_for_thumbnail("meadow.jpg")
    expect(gallery.badge("meadow.jpg")).to_have_text("Ready", timeout=SETTLE_MS)


def test_a_chosen_folder_is_uploaded_with_its_subfolders_but_not_its_hidden_files(
        gallery: Gallery, tmp_path: Path) -> None:
    trip = tmp_path / "trip"
    (trip / "day-2").mkdir(parents=True)
    (trip / "harbour.jpg").write_bytes(landscape(113))
    (trip / "day-2" / "cliffs.jpg").write_bytes(landscape(114))
    (trip / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    gallery.sign_in()
    gallery.signed_in()
    gallery.page.locator("#folder-input").set_input_files(trip)
    for name in ("harbour.jpg", "cliffs.jpg"):
        expect(gallery.badge(name)).to_have_text("Ready", timeout=SETTLE_MS)
    rows = gallery.page.locator("#upload-list .upload-name")
    expect(rows).to_have_count(2)
    assert sorted(rows.all_text_contents()) == ["trip/day-2/cliffs.jpg", "trip/harbour.jpg"]


def test_files_lightbox_does_not_take_are_refused_before_any_request(gallery: Gallery) -> None:
    gallery.sign_in()
    gallery.signed_in()
    gallery.choose(("notes.txt", "text/plain", b"shopping list"), ("empty.png", "image/png", b""))
    rows = gallery.page.locator("#upload-list > li")
    expect(rows.filter(has_text="notes.txt")).to_contain_text("is not a JPEG, PNG, TIFF")
    expect(rows.filter(has_text="empty.png")).to_contain_text("is empty")
    expect(gallery.page.locator("#uploads-summary")).to_have_text("0 of 2 in the library, 2 not uploaded")
    assert gallery.requests_to("POST", "^/v1/uploads$") == []
    expect(gallery.page.locator("#timeline li.tile")).to_have_count(0)


def test_the_same_bytes_again_are_reported_as_already_in_the_library(gallery: Gallery) -> None:
    gallery.sign_in()
    gallery.signed_in()
    photo = landscape(104)
    gallery.choose(("original.jpg", "image/jpeg", photo))
    expect(gallery.badge("original.jpg")).to_have_text("Ready", timeout=SETTLE_MS)
    gallery.choose(("copy.jpg", "image/jpeg", photo))
    expect(gallery.page.locator("#upload-list > li").filter(has_text="copy.jpg")).to_contain_text(
        "Already in the library")
    # Nothing was sent to the bucket the second time, and the library holds one asset.
    assert len(gallery.requests_to("PUT", "/originals/")) == 1
    expect(gallery.page.locator("#timeline li.tile")).to_have_count(1)
    gallery.screenshot("duplicate")


def test_a_large_file_goes_up_in_parts_with_progress_over_all_of_them(gallery: Gallery) -> None:
    gallery.sign_in()
    gallery.signed_in()
    # Uncompressed: 12 MB, three parts of this stack's 5 MiB.
    buffer = io.BytesIO()
    Image.open(io.BytesIO(landscape(105, (2000, 2000)))).save(buffer, "TIFF")
    gallery.choose(("panorama.tif", "image/tiff", buffer.getvalue()))
    expect(gallery.badge("panorama.tif")).to_have_text("Ready", timeout=SETTLE_MS)
    parts = gallery.requests_to("PUT", "/originals/")
    assert sorted(parse_qs(urlsplit(part.url).query)["partNumber"][0] for part in parts) == ["1", "2", "3"]
    assert gallery.requests_to("POST", r"/complete$")
    expect(gallery.page.locator("#upload-list progress")).to_have_js_property("value", 1)
    gallery.wait_for_thumbnail("panorama.tif")


def test_part_urls_the_ticket_lacks_are_asked_for_as_the_upload_goes(gallery: Gallery) -> None:
    gallery.sign_in()
    gallery.signed_in()

    # A ticket as a very large file gets it: the URLs of its first part only, and part_count.
    def first_part_only(route: Route) -> None:
        response = route.fetch()
        ticket = response.json()
        if "upload" in ticket:
            ticket["upload"]["parts"] = ticket["upload"]["parts"][:1]
        route.fulfill(response=response, json=ticket)

    gallery.page.route(re.compile(r"/v1/uploads$"), first_part_only)
    buffer = io.BytesIO()
    Image.open(io.BytesIO(landscape(108, (2000, 2000)))).save(buffer, "TIFF")
    gallery.choose(("long-scan.tif", "image/tiff", buffer.getvalue()))
    expect(gallery.badge("long-scan.tif")).to_have_text("Ready", timeout=SETTLE_MS)
    asked = gallery.requests_to("GET", r"/parts$")
    assert asked and all(parse_qs(urlsplit(r.url).query)["first"][0] in ("2", "3") for r in asked)
    parts = gallery.requests_to("PUT", "/originals/")
    assert sorted(parse_qs(urlsplit(part.url).query)["partNumber"][0] for part in parts) == ["1", "2", "3"]


# --- looking ----------------------------------------------------------------------------------

def test_the_viewer_shows_the_preview_and_details_and_steps_with_the_keyboard(gallery: Gallery) -> None:
    gallery.sign_in()
    gallery.signed_in()
    # One after the other, so that valley.jpg is the newer: first in the grid.
    gallery.choose(("coast.jpg", "image/jpeg", landscape(106)))
    expect(gallery.tile("coast.jpg")).to_be_visible()
    gallery.choose(("valley.jpg", "image/jpeg", landscape(107)))
    for name in ("coast.jpg", "valley.jpg"):
        expect(gallery.badge(name)).to_have_text("Ready", timeout=SETTLE_MS)
    expect(gallery.page.locator("#timeline .tile-name")).to_have_text(["valley.jpg", "coast.jpg"])
    viewer = gallery.open_viewer("valley.jpg")
    preview = viewer.get_by_role("img", name="valley.jpg")
    expect(preview).to_have_attribute("src", re.compile("/derivatives/"))
    assert gallery.natural_width(preview) == 1280
    details = gallery.metadata()
    asset = gallery.api.asset(gallery.tile("valley.jpg").get_attribute("data-id") or "")
    assert details["File name"] == "valley.jpg"
    assert details["Status"] == "Ready"
    assert details["Type"] == "image/jpeg"
    assert details["Dimensions"] == "1600 × 1067 px"
    assert details["Pages"] == "1"
    assert details["Bit depth"] == "8 bits per sample"
    assert details["Colour mode"] == asset["color_mode"]
    assert details["SHA-256"] == asset["sha256"]
    expect(viewer.get_by_role("link", name="Download original")).to_have_attribute(
        "href", re.compile("/originals/"))
    expect(viewer.get_by_role("button", name="Retry")).to_be_hidden()
    expect(gallery.page.locator("#page-strip")).to_be_hidden()
    gallery.screenshot("viewer")

    gallery.page.keyboard.press("ArrowRight")
    expect(viewer.get_by_role("heading", level=2)).to_have_text("coast.jpg")
    expect(viewer.get_by_role("img", name="coast.jpg")).to_be_visible()
    gallery.page.keyboard.press("ArrowLeft")
    expect(viewer.get_by_role("heading", level=2)).to_have_text("valley.jpg")
    gallery.page.keyboard.press("Escape")
    expect(viewer).to_be_hidden()
    expect(gallery.tile_button("valley.jpg")).to_be_focused()


def test_a_multi_page_scan_shows_a_page_strip_and_each_page(gallery: Gallery) -> None:
    gallery.sign_in()
    gallery.signed_in()
    gallery.choose(("ledger.tif", "image/tiff", scan(3, seed=108)))
    expect(gallery.badge("ledger.tif")).to_have_text("Ready", timeout=SETTLE_MS)
    gallery.wait_for_thumbnail("ledger.tif")
    viewer = gallery.open_viewer("ledger.tif")
    strip = viewer.get_by_role("navigation", name="Pages")
    expect(strip.get_by_role("button")).to_have_count(3)
    expect(strip.get_by_role("button", name="Page 1")).to_have_attribute("aria-current", "page")
    first = viewer.get_by_role("img", name="ledger.tif, page 1 of 3")
    expect(first).to_have_attribute("src", re.compile(r"/derivatives/.*/1-1280\."))
    assert gallery.metadata()["Pages"] == "3"
    gallery.screenshot("page-1")
    strip.get_by_role("button", name="Page 2").click()
    second = viewer.get_by_role("img", name="ledger.tif, page 2 of 3")
    expect(second).to_have_attribute("src", re.compile(r"/derivatives/.*/2-1280\."))
    expect(strip.get_by_role("button", name="Page 2")).to_have_attribute("aria-current", "page")
    assert gallery.natural_width(second) > 0
    gallery.screenshot("page-2")


def test_a_pdf_shows_each_page_and_an_animation_plays_in_the_viewer(gallery: Gallery) -> None:
    gallery.sign_in()
    gallery.signed_in()
    gallery.choose(("minutes.pdf", "application/pdf", scan(2, seed=111, fmt="PDF")),
                   ("ball.gif", "image/gif", animation(seed=112)))
    for name in ("minutes.pdf", "ball.gif"):
        expect(gallery.badge(name)).to_have_text("Ready", timeout=SETTLE_MS)
    gallery.wait_for_thumbnail("minutes.pdf")
    viewer = gallery.open_viewer("minutes.pdf")
    strip = viewer.get_by_role("navigation", name="Pages")
    expect(strip.get_by_role("button")).to_have_count(2)
    strip.get_by_role("button", name="Page 2").click()
    second = viewer.get_by_role("img", name="minutes.pdf, page 2 of 2")
    expect(second).to_have_attribute("src", re.compile(r"/derivatives/.*/2-1280\."))
    assert gallery.natural_width(second) > 0
    gallery.screenshot("pdf-page-2")
    gallery.page.keyboard.press("Escape")

    # The grid shows the poster; the viewer plays the original, which the browser animates.
    gallery.wait_for_thumbnail("ball.gif")
    viewer = gallery.open_viewer("ball.gif")
    played = viewer.get_by_role("img", name="ball.gif")
    expect(played).to_have_attribute("src", re.compile("/originals/"))
    assert gallery.natural_width(played) == 480
    assert gallery.metadata()["Animation"] == "6 frames, 0.6 s a loop"
    gallery.screenshot("animation")


# --- clips ----------------------------------------------------------------------------------

def test_a_clips_tile_shows_its_length_as_a_clock_and_says_it_in_words(gallery: Gallery) -> None:
    gallery.sign_in()
    gallery.signed_in()
    gallery.choose(("harbour.webm", "video/webm", clip(seed=120)),
                   ("swing.gif", "image/gif", animation(seed=121)))
    for name in ("harbour.webm", "swing.gif"):
        expect(gallery.badge(name)).to_have_text("Ready", timeout=SETTLE_MS)
    gallery.wait_for_thumbnail("harbour.webm")
    tile = gallery.tile("harbour.webm")
    expect(tile.locator(".tile-clock")).to_have_text("0:03")
    expect(tile.locator(".tile-button")).to_have_accessible_name(
        re.compile(r"harbour\.webm\s*video, 3 seconds$"))
    # An animation has a duration too (one loop's), but no clock: it plays by itself.
    expect(gallery.tile("swing.gif").locator(".tile-duration")).to_be_hidden()
    gallery.screenshot("clip-tile")

    # Over an hour, as the API tells of a long clip in its pages and alone.
    def an_hour_long(route: Route) -> None:
        response = route.fetch()
        answer = response.json()
        for asset in answer.get("items", [answer]):
            if asset["filename"] == "harbour.webm":
                asset["duration"] = 3725.0
        route.fulfill(response=response, json=answer)

    gallery.page.route(re.compile(r"/v1/assets(\?|/[\w-]+$)"), an_hour_long)
    gallery.page.reload()
    expect(tile.locator(".tile-clock")).to_have_text("1:02:05")
    expect(tile.locator(".tile-button")).to_have_accessible_name(
        re.compile(r"video, 1 hour 2 minutes 5 seconds$"))
    gallery.open_viewer("harbour.webm")
    assert gallery.metadata()["Duration"] == "1 h 2 min 5 s"


def test_a_clip_plays_its_original_in_the_viewer_with_its_poster_and_details(
        gallery: Gallery) -> None:
    gallery.sign_in()
    gallery.signed_in()
    # One after the other, so that the clip is the newer, and the photo next to it.
    gallery.choose(("jetty.jpg", "image/jpeg", landscape(124)))
    expect(gallery.tile("jetty.jpg")).to_be_visible()
    gallery.choose(("estuary.webm", "video/webm", clip(seed=122)))
    for name in ("jetty.jpg", "estuary.webm"):
        expect(gallery.badge(name)).to_have_text("Ready", timeout=SETTLE_MS)
    viewer = gallery.open_viewer("estuary.webm")
    video = viewer.locator("video")
    expect(video).to_be_visible()
    expect(video).to_have_accessible_name("estuary.webm")
    expect(viewer.locator("#viewer-preview")).to_be_hidden()
    asset = gallery.api.asset(gallery.tile("estuary.webm").get_attribute("data-id") or "")
    largest = max(asset["thumbnails"], key=lambda thumbnail: thumbnail["size"])
    # Signed anew in every answer: the same object is what matters.
    assert urlsplit(video.get_attribute("src") or "").path == urlsplit(asset["original_url"]).path
    assert urlsplit(video.get_attribute("poster") or "").path == urlsplit(largest["url"]).path
    assert video.evaluate("video => [video.controls, video.playsInline, video.preload]") == [
        True, True, "metadata"]
    # Chromium read the clip's header from the bucket: the real length, not the API's.
    gallery.page.wait_for_function("video => video.readyState >= 1", arg=video.element_handle(),
                                   timeout=SETTLE_MS)
    assert video.evaluate("video => video.duration") == pytest.approx(3.0, abs=0.1)
    details = gallery.metadata()
    assert details["Type"] == "video/webm"
    assert details["Duration"] == "3.0 s"
    assert details["Codec"] == "VP9"
    assert details["Frame rate"] == "30 fps"
    assert details["Sound"] == "no"
    assert "Animation" not in details and "Pages" not in details
    expect(viewer.get_by_role("status")).to_be_empty()
    gallery.screenshot("clip")

    # In the clip's controls the arrows are the clip's (they seek): no step to the photo.
    video.focus()
    gallery.page.keyboard.press("ArrowRight")
    expect(viewer.get_by_role("heading", level=2)).to_have_text("estuary.webm")
    # Closing stops it: no clip goes on playing behind the grid.
    gallery.page.keyboard.press("Escape")
    expect(viewer).to_be_hidden()
    closed = gallery.page.locator("#viewer video")
    expect(closed).not_to_have_attribute("src", re.compile(""))
    expect(closed).to_have_js_property("readyState", 0)
    expect(gallery.tile_button("estuary.webm")).to_be_focused()


def test_a_clip_this_browser_cannot_play_shows_its_poster_and_a_link_to_the_original(
        gallery: Gallery) -> None:
    gallery.sign_in()
    gallery.signed_in()
    gallery.choose(("IMG_0003.MOV", "video/quicktime",
                    clip(seed=123, codec="libx265", container="mov", audio=True)))
    expect(gallery.badge("IMG_0003.MOV")).to_have_text("Ready", timeout=SETTLE_MS)
    # What the browser gets is no video at all, so that it fails whether or not this Chromium
    # finds an HEVC decoder.
    gallery.page.route(re.compile("/originals/"), lambda route: route.fulfill(
        body=b"not a video " * 1000, content_type="video/quicktime"))
    viewer = gallery.open_viewer("IMG_0003.MOV")
    expect(viewer.get_by_role("status")).to_have_text(
        "This browser cannot play HEVC video; download the original to watch it.")
    expect(viewer.locator("video")).to_be_hidden()
    poster = viewer.get_by_role("img", name="IMG_0003.MOV")
    expect(poster).to_have_attribute("src", re.compile(r"/derivatives/.*/1-1280\."))
    assert gallery.natural_width(poster) == 640
    asset = gallery.api.asset(gallery.tile("IMG_0003.MOV").get_attribute("data-id") or "")
    link = viewer.get_by_role("status").get_by_role("link", name="download the original")
    assert urlsplit(link.get_attribute("href") or "").path == urlsplit(asset["original_url"]).path
    details = gallery.metadata()
    assert details["Codec"] == "HEVC"
    assert details["Sound"] == "yes"
    expect(viewer.get_by_role("button", name="Close")).to_be_focused()
    gallery.screenshot("unplayable")


# --- changing -------------------------------------------------------------------------------

def test_a_deleted_photo_leaves_the_grid_for_the_trash(gallery: Gallery) -> None:
    gallery.sign_in()
    gallery.signed_in()
    gallery.choose(("keep.jpg", "image/jpeg", landscape(109)), ("drop.jpg", "image/jpeg", landscape(110)))
    for name in ("keep.jpg", "drop.jpg"):
        expect(gallery.badge(name)).to_have_text("Ready", timeout=SETTLE_MS)
    asset_id = gallery.tile("drop.jpg").get_attribute("data-id")
    viewer = gallery.open_viewer("drop.jpg")
    # No question asked: the trash gives it back, and the page says so.
    viewer.get_by_role("button", name="Move to trash").click()
    expect(viewer).to_be_hidden()
    expect(gallery.tile("drop.jpg")).to_have_count(0)
    expect(gallery.page.locator("#announcer")).to_have_text(re.compile("moved to the trash. Restore it from Trash"))
    expect(gallery.tile_button("keep.jpg")).to_be_focused()
    trashed = gallery.api.http.get(f"{gallery.api.api}/v1/assets/{asset_id}", timeout=30).json()
    assert trashed["status"] == "trashed"
    gallery.page.reload()
    expect(gallery.tile("keep.jpg")).to_be_visible()
    expect(gallery.tile("drop.jpg")).to_have_count(0)


def test_a_corrupt_file_fails_with_its_reason_and_can_be_retried(gallery: Gallery) -> None:
    reason = f"unsupported file: this is a file of unknown type, not {filetypes.SUPPORTED_NAMES}"
    gallery.sign_in()
    gallery.signed_in()
    gallery.choose(("broken.jpg", "image/jpeg", corrupt_jpeg(112)))
    expect(gallery.badge("broken.jpg")).to_have_text("Failed", timeout=SETTLE_MS)
    viewer = gallery.open_viewer("broken.jpg")
    expect(viewer.locator("#viewer-no-preview")).to_have_text(f"No preview: {reason}")
    assert gallery.metadata()["Error"] == reason
    gallery.screenshot("failed")
    with gallery.page.expect_response(re.compile("/retry$")) as retried:
        viewer.get_by_role("button", name="Retry").click()
    assert retried.value.status == 202
    # The bytes are still no image: it fails again, for the same reason, and says so.
    expect(viewer.locator("#viewer-status")).to_have_text("Failed", timeout=SETTLE_MS)
    expect(viewer.get_by_role("button", name="Retry")).to_be_visible()
    expect(viewer.locator("#viewer-error")).to_be_empty()
    assert gallery.metadata()["Error"] == reason


def test_a_photo_that_finishes_while_the_timeline_loads_shows_finished(gallery: Gallery) -> None:
    photo = landscape(7501, (320, 240))
    ticket = gallery.api.presign("late.jpg", "image/jpeg", photo)
    assert ticket.status_code == 201, ticket.text
    asset_id, upload = ticket.json()["asset_id"], ticket.json()["upload"]

    def finish_the_upload(route: Route) -> None:
        # The timeline's page is read with the photo pending; another device then sends its
        # bytes and the photo is ready before the gallery has the page.
        page = route.fetch()
        assert [item["status"] for item in page.json()["items"]] == ["pending"]
        put = requests.request(upload["method"], upload["url"], data=photo,
                               headers=upload["headers"], timeout=60)
        assert put.status_code == 200, put.text
        assert gallery.api.wait_until_settled(asset_id)["status"] == "ready"
        route.fulfill(response=page)

    def a_timeline_page(url: str) -> bool:
        parts = urlsplit(url)
        return parts.path.endswith("/v1/assets") and "cursor" in parse_qs(parts.query)

    gallery.page.route(a_timeline_page, finish_the_upload, times=1)
    gallery.sign_in()
    gallery.signed_in()
    expect(gallery.badge("late.jpg")).to_have_text("Ready", timeout=SETTLE_MS)
    gallery.wait_for_thumbnail("late.jpg")


def test_a_file_that_fails_while_the_library_opens_shows_failed(gallery: Gallery) -> None:
    # The library's months are slow to come; meanwhile a file goes up and fails.
    held: list[Route] = []

    def hold(route: Route) -> None:
        held.append(route)

    gallery.page.route("**/v1/timeline", hold, times=1)
    gallery.sign_in()
    gallery.signed_in()
    gallery.choose(("broken.jpg", "image/jpeg", corrupt_jpeg(113)))
    expect(gallery.badge("broken.jpg")).not_to_have_text(re.compile("^Uploading"), timeout=SETTLE_MS)
    (upload,) = gallery.requests_to("POST", "/v1/uploads$")
    asset_id = upload.response().json()["asset_id"]
    assert gallery.api.wait_until_settled(asset_id)["status"] == "failed"
    (months,) = held
    months.continue_()
    expect(gallery.badge("broken.jpg")).to_have_text("Failed", timeout=SETTLE_MS)


def test_the_bucket_answers_the_browsers_preflight_from_the_template_rules(
        gallery_stack: Stack) -> None:
    s3 = gallery_stack.client("s3")
    bucket = gallery_stack.exports["LIGHTBOX_BUCKET"]
    (rule,) = s3.get_bucket_cors(Bucket=bucket)["CORSRules"]
    assert rule["AllowedOrigins"] == ["*"]
    assert set(rule["AllowedMethods"]) == {"PUT", "POST", "GET", "HEAD"}
    assert rule["AllowedHeaders"] == ["*"] and rule["ExposeHeaders"] == ["ETag"]
    assert rule["MaxAgeSeconds"] == 3600
    # What the browser asks before each PUT of an original with a declared hash.
    preflight = requests.options(
        f"{gallery_stack.exports['AWS_ENDPOINT_URL_S3']}/{bucket}/originals/someone/{uuid.uuid4()}",
        headers={"Origin": gallery_stack.api, "Access-Control-Request-Method": "PUT",
                 "Access-Control-Request-Headers": "content-type,x-amz-checksum-sha256"},
        timeout=30)
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] in ("*", gallery_stack.api)
    assert "PUT" in preflight.headers["Access-Control-Allow-Methods"]
