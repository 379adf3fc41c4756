"""Albums, a shared album's link and the trash, as a person uses them: find a photo from a
summer by scrolling, put it in two albums, share one with a link that opens without signing
in, trash a photo by mistake and restore it; each view checked by axe-core."""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Download, Request, Route, expect
from playwright.sync_api import Error as PlaywrightError

from tests.browser.gallery import Gallery
from tests.browser.pictures import landscape
from tests.browser.test_timeline import upload_dated

pytestmark = pytest.mark.e2e

PHOTOS = [("ferry.jpg", "2023-05-02"), ("snowfield.jpg", "2022-01-15"), ("lighthouse.jpg", "2021-07-24"),
          ("picnic.jpg", "2021-07-03"), ("orchard.jpg", "2020-09-30"), ("old-bridge.jpg", "2019-04-11"),
          ("market.jpg", "2018-08-19"), ("canal.jpg", "2017-03-08")]


def test_a_summer_photo_found_by_scrolling_goes_into_two_albums_and_one_is_shared_by_link(
        gallery: Gallery, browser: Browser) -> None:
    upload_dated(gallery.api, [(name, landscape(7500 + n, (480, 320)), f"{day}T12:00:00Z")
                               for n, (name, day) in enumerate(PHOTOS)])
    gallery.sign_in()
    gallery.signed_in()
    summer = gallery.page.get_by_role("heading", name="July 2021")
    while not summer.evaluate("heading => heading.getBoundingClientRect().top < innerHeight"):
        gallery.page.mouse.wheel(0, 300)
    select(gallery, "lighthouse.jpg")
    expect(gallery.page.locator("#selection-count")).to_have_text("1 selected")

    for album in ("Summer 2021", "Lighthouses"):
        add_to_a_new_album(gallery, album)
        select(gallery, "lighthouse.jpg")
    lighthouse = gallery.api.asset(str(gallery.tile("lighthouse.jpg").get_attribute("data-id")))
    assert len(lighthouse["project_ids"]) == 2

    gallery.page.get_by_role("link", name="Albums").click()
    albums = gallery.page.get_by_role("list", name="Albums")
    expect(albums.get_by_role("link")).to_have_text([re.compile("^Lighthouses\\s*1 photo$"),
                                                      re.compile("^Summer 2021\\s*1 photo$")])
    gallery.expect_accessible()
    albums.get_by_role("link", name=re.compile("^Summer 2021")).click()
    expect(gallery.page.get_by_role("heading", level=2)).to_have_text("Summer 2021")
    expect(gallery.page.locator("#timeline li.tile .tile-name")).to_have_text(["lighthouse.jpg"])
    gallery.expect_accessible()
    gallery.screenshot("album")

    gallery.page.get_by_role("button", name="Share…").click()
    share = gallery.page.get_by_role("dialog", name="Share this album")
    link = share.get_by_label("Link")
    expect(link).to_have_value(re.compile("#shared="))
    url = link.input_value()
    assert urlsplit(url).netloc == urlsplit(gallery.stack.api).netloc
    gallery.expect_accessible()

    with visitor(browser, gallery) as someone:
        someone.page.goto(url)
        expect(someone.page.get_by_role("heading", level=2)).to_have_text("Summer 2021")
        expect(someone.page.get_by_role("button", name="Sign in")).to_be_hidden()
        someone.wait_for_thumbnail("lighthouse.jpg")
        assert all("authorization" not in request.headers for request in someone.requests)
        someone.expect_accessible()
        someone.screenshot("shared")
        viewer = someone.open_viewer("lighthouse.jpg")
        expect(viewer.get_by_role("button", name="Move to trash")).to_be_hidden()
        someone.expect_accessible()
        someone.page.keyboard.press("Escape")

        share.get_by_role("button", name="Revoke link").click()
        expect(share.locator("#share-error")).to_have_text(re.compile("revoked"))
        someone.expect_console_error("status of 404")
        someone.page.reload()
        expect(someone.page.get_by_text("This link does not open an album")).to_be_visible()

    # Out of one album, still in the other.
    share.get_by_role("button", name="Close").click()
    select(gallery, "lighthouse.jpg")
    remove_selected_from_album(gallery)
    expect(gallery.page.locator("#empty")).to_have_text(re.compile("^This album is empty"))
    assert len(gallery.api.asset(lighthouse["asset_id"])["project_ids"]) == 1


def select(gallery: Gallery, name: str) -> None:
    """A click on the check of a photo's tile, which shows when the pointer is on it."""
    gallery.tile(name).hover()
    gallery.tile(name).get_by_role("button", name=f"Select {name}").click()


def add_to_a_new_album(gallery: Gallery, name: str) -> None:
    """The selected photos into a new album, through the selection bar's dialog."""
    picker = gallery.page.get_by_role("dialog", name="Add to album")
    gallery.page.get_by_role("button", name="Add to album…").click()
    expect(picker).to_be_visible()
    picker.get_by_label("Or a new album").fill(name)
    gallery.expect_accessible()
    picker.get_by_role("button", name="Add").click()
    expect(picker).to_be_hidden()
    expect(gallery.page.locator("#announcer")).to_have_text(f"1 photo added to {name}.")


@contextmanager
def visitor(browser: Browser, gallery: Gallery) -> Iterator[Gallery]:
    """Someone else, never signed in, in a browser of their own; checked as the fixture checks."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US")
    someone = Gallery(context.new_page(), gallery.stack, "", gallery.artifacts / "visitor")
    try:
        yield someone
        assert someone.foreign_requests() == [] and someone.unexpected_errors() == []
    finally:
        context.close()


def test_selected_originals_download_and_a_photo_trashed_by_mistake_is_restored(
        gallery: Gallery) -> None:
    photos = {name: landscape(7600 + n, (480, 320)) for n, (name, _) in enumerate(PHOTOS[:3])}
    upload_dated(gallery.api, [(name, photos[name], f"{day}T12:00:00Z") for name, day in PHOTOS[:3]])
    gallery.sign_in()
    gallery.signed_in()
    # Two originals downloaded at once, under their own names, with the bytes uploaded.
    for name in ("snowfield.jpg", "lighthouse.jpg"):
        select(gallery, name)
    downloads: list[Download] = []
    gallery.page.on("download", lambda download: downloads.append(download))
    gallery.page.get_by_role("button", name="Download").click()
    expect(gallery.page.locator("#announcer")).to_have_text("2 originals downloaded.")
    for _ in range(50):
        if len(downloads) == 2:
            break
        gallery.page.wait_for_timeout(100)
    assert sorted(download.suggested_filename for download in downloads) == ["lighthouse.jpg", "snowfield.jpg"]
    assert Path(downloads[0].path()).read_bytes() == photos[downloads[0].suggested_filename]
    gallery.page.get_by_role("button", name="Clear selection").click()

    gallery.tile_button("ferry.jpg").focus()
    gallery.page.keyboard.press("Delete")
    expect(gallery.tile("ferry.jpg")).to_have_count(0)
    expect(gallery.page.locator("#announcer")).to_have_text("1 photo moved to the trash. Restore it from Trash.")

    gallery.page.get_by_role("link", name="Trash").click()
    expect(gallery.page.get_by_role("heading", level=2)).to_have_text("Trash")
    expect(gallery.page.locator("#timeline li.tile .tile-name")).to_have_text(["ferry.jpg"])
    gallery.expect_accessible()
    gallery.screenshot("trash")
    select(gallery, "ferry.jpg")
    gallery.page.get_by_role("button", name="Restore").click()
    expect(gallery.tile("ferry.jpg")).to_have_count(0)
    expect(gallery.page.locator("#empty", has_text="The trash is empty.")).to_be_visible()

    gallery.page.get_by_role("link", name="Photos").click()
    gallery.wait_for_thumbnail("ferry.jpg")
    assert gallery.api.asset(str(gallery.tile("ferry.jpg").get_attribute("data-id")))["status"] == "ready"

    # Deleting for good is from the trash only, and asks first.
    gallery.tile_button("snowfield.jpg").focus()
    gallery.page.keyboard.press("Delete")
    expect(gallery.tile("snowfield.jpg")).to_have_count(0)
    gallery.page.get_by_role("link", name="Trash").click()
    expect(gallery.tile("snowfield.jpg")).to_be_visible()
    gallery.page.once("dialog", lambda dialog: dialog.accept())
    gallery.page.get_by_role("button", name="Empty trash").click()
    expect(gallery.page.locator("#empty", has_text="The trash is empty.")).to_be_visible()
    listed = gallery.api.http.get(f"{gallery.api.api}/v1/assets", params={"status": "trashed"}, timeout=30).json()
    assert listed["items"] == []


def remove_selected_from_album(gallery: Gallery) -> None:
    """Remove from album, and wait for the server's answer: the page's text alone may be there
    already, from an album seen before."""
    with gallery.page.expect_response(lambda response: response.request.method == "DELETE"
                                      and response.url.endswith("/assets")) as removed:
        gallery.page.get_by_role("button", name="Remove from album").click()
    assert removed.value.status == 200
    expect(gallery.page.locator("#empty")).to_be_visible()


def shared_album(gallery: Gallery, *photos: tuple[str, int]) -> tuple[str, list[str]]:
    """Photos (name, seed of their picture) in an album of their own, shared: the link's URL
    and their asset ids."""
    ids = upload_dated(gallery.api, [(name, landscape(seed, (480, 320)), "2021-03-03T12:00:00Z")
                                     for name, seed in photos])
    http, api = gallery.api.http, gallery.api.api
    album = http.post(f"{api}/v1/projects", json={"name": "Quay"}, timeout=30).json()
    for photo in ids:
        moved = http.patch(f"{api}/v1/assets/{photo}", json={"project_id": album["project_id"]},
                           timeout=30)
        assert moved.ok, moved.text
    url: str = http.post(f"{api}/v1/projects/{album['project_id']}/shares", json={},
                         timeout=30).json()["url"]
    return url, ids


# A page of a shared album, asked for by its link.
ALBUM_READ = "^/v1/shared/[^/]+$"


def is_album_url(url: str) -> bool:
    return re.search(ALBUM_READ, urlsplit(url).path) is not None


def is_album_read(request: Request) -> bool:
    return is_album_url(request.url)


def test_a_shared_albums_thumbnail_whose_url_expired_comes_with_a_fresh_one(gallery: Gallery) -> None:
    link, _ = shared_album(gallery, ("quay.jpg", 7521))
    # The bucket refuses the thumbnail's first URL, as it refuses one signed over an hour ago.
    gallery.expect_console_error("403")
    refused: list[str] = []

    def bucket(route: Route) -> None:
        if not refused:
            refused.append(route.request.url)
            route.fulfill(status=403, body="Request has expired")
        else:
            route.continue_()

    gallery.page.route("**/derivatives/**", bucket)
    gallery.page.goto(link)
    gallery.wait_for_thumbnail("quay.jpg")  # without a click
    assert len(refused) == 1
    expect(gallery.tile("quay.jpg").locator(".tile-failure")).to_be_hidden()
    # The link read the album again for the URL: the page it opened with, and one more.
    assert len(gallery.requests_to("GET", ALBUM_READ)) == 3


def test_a_shared_albums_thumbnail_that_does_not_load_says_so_and_comes_on_retry(
        gallery: Gallery) -> None:
    link, _ = shared_album(gallery, ("pier.jpg", 7522))
    # The bucket drops the thumbnail's connection twice: with its URL, and with a fresh one.
    gallery.expect_console_error("ERR_FAILED")
    dropped: list[Route] = []

    def bucket(route: Route) -> None:
        if len(dropped) < 2:
            dropped.append(route)
            route.abort()
        else:
            route.continue_()

    gallery.page.route("**/derivatives/**", bucket)
    gallery.page.goto(link)
    tile = gallery.tile("pier.jpg")
    expect(tile.locator(".tile-failure")).to_be_visible()
    assert len(dropped) == 2
    reads = len(gallery.requests_to("GET", ALBUM_READ))
    tile.get_by_role("button", name="Retry pier.jpg").click()
    gallery.wait_for_thumbnail("pier.jpg")
    expect(tile.locator(".tile-failure")).to_be_hidden()
    assert len(gallery.requests_to("GET", ALBUM_READ)) == reads + 1


def test_a_shared_album_left_open_for_hours_shows_a_photo_with_fresh_urls(gallery: Gallery) -> None:
    link, _ = shared_album(gallery, ("harbour.jpg", 7523))
    gallery.page.clock.install()
    gallery.page.goto(link)
    gallery.wait_for_thumbnail("harbour.jpg")
    reads = len(gallery.requests_to("GET", ALBUM_READ))

    gallery.page.clock.fast_forward("02:00:00")  # the page's URLs are an hour past their time
    with gallery.page.expect_request(is_album_read, timeout=10_000):
        viewer = gallery.open_viewer("harbour.jpg")
    expect(viewer.locator("#viewer-preview")).to_have_attribute("src", re.compile("/derivatives/"))
    assert len(gallery.requests_to("GET", ALBUM_READ)) == reads + 1


def test_one_album_read_renews_the_urls_of_every_thumbnail_not_loaded_yet(gallery: Gallery) -> None:
    link, (first, second) = shared_album(gallery, ("jetty.jpg", 7524), ("slipway.jpg", 7525))
    gallery.expect_console_error("403")
    gallery.expect_console_error("ERR_FAILED")  # should the held request end before it goes
    refused: list[str] = []
    held: list[Route] = []

    def bucket(route: Route) -> None:
        seconds = [request for request in gallery.requests_to("GET", "/derivatives/")
                   if second in request.url]
        if first in route.request.url and not refused:
            refused.append(route.request.url)
            route.fulfill(status=403, body="Request has expired")
        elif second in route.request.url and len(seconds) == 1:
            held.append(route)  # still on its way when the album is read again
        else:
            route.continue_()

    def album(route: Route) -> None:
        if len(gallery.requests_to("GET", ALBUM_READ)) > 2:
            time.sleep(1.1)  # signed in a later second than the page's URLs, so they differ
        route.continue_()

    gallery.page.route("**/derivatives/**", bucket)
    gallery.page.route(is_album_url, album)
    gallery.page.goto(link)
    gallery.wait_for_thumbnail("jetty.jpg")  # its URL refused once, then renewed
    for route in held:  # the URL it had would have failed in turn
        with contextlib.suppress(PlaywrightError):  # the page dropped it for the newer one
            route.abort()
    gallery.wait_for_thumbnail("slipway.jpg")
    expect(gallery.tile("slipway.jpg").locator(".tile-failure")).to_be_hidden()
    assert len(held) == 1
    assert len(gallery.requests_to("GET", ALBUM_READ)) == 3  # opening, and one read
