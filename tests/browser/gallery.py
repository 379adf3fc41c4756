"""The gallery page as the tests use it, and what the browser did while they ran."""

from __future__ import annotations

import re
from importlib.resources import files
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import ConsoleMessage, Locator, Page, Request, Response, expect

from tests.e2e.conftest import Client, Stack

# A thumbnail is made within a second or two; a slow machine gets ten times that.
SETTLE_MS = 30_000
# axe-core (MPL-2.0), as the axe-playwright-python package bundles it: run in the page, it
# checks what is on show against WCAG 2 and best practice.
AXE_SCRIPT = (files("axe_playwright_python") / "axe.min.js").read_text()


class Gallery:
    """One browser page on the stack's gallery, signed in (or not) as one owner."""

    def __init__(self, page: Page, stack: Stack, api_key: str, artifacts: Path) -> None:
        self.page = page
        self.stack = stack
        self.api_key = api_key
        self.artifacts = artifacts
        self.api: Client = stack.api_client(api_key)
        self.requests: list[Request] = []
        # Requests answered with an error status, or never answered, as "METHOD URL: why".
        self.failed: list[str] = []
        self.console_errors: list[str] = []
        self.expected_errors: list[re.Pattern[str]] = []
        self._shots = 0
        page.on("request", lambda request: self.requests.append(request))
        page.on("response", self._response)
        page.on("requestfailed", lambda request: self.failed.append(
            f"{request.method} {request.url}: {request.failure}"))
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.console_errors.append(f"uncaught: {error}"))

    # --- driving the page ----------------------------------------------------------------------

    def open(self) -> None:
        self.page.goto(f"{self.stack.api}/")

    def sign_in(self, api_key: str | None = None) -> None:
        self.open()
        expect(self.page.get_by_label("API URL")).to_have_value(self.stack.api)
        self.page.get_by_label("API key").fill(api_key or self.api_key)
        self.page.get_by_role("button", name="Sign in").click()

    def signed_in(self) -> None:
        expect(self.page.get_by_role("button", name="Sign out")).to_be_visible()

    def choose(self, *files: tuple[str, str, bytes]) -> None:
        """Pick files with the Upload photos button's file input."""
        self.page.locator("#file-input").set_input_files(
            [{"name": name, "mimeType": mime, "buffer": data} for name, mime, data in files])

    def tile(self, filename: str) -> Locator:
        return self.page.locator("#timeline li.tile").filter(
            has=self.page.locator(".tile-name", has_text=re.compile(f"^{re.escape(filename)}$")))

    def tile_button(self, filename: str) -> Locator:
        """The button that opens the tile's asset (the tile has others: select, retry)."""
        return self.tile(filename).locator(".tile-button")

    def badge(self, filename: str) -> Locator:
        return self.tile(filename).locator(".tile-badge")

    def record_badges(self) -> None:
        """From now on, remember every status text any tile shows, however briefly."""
        self.page.evaluate("""() => {
            window.badgesSeen = new Set();
            const grid = document.getElementById('timeline');
            new MutationObserver(() => {
                for (const badge of grid.querySelectorAll('.tile-badge')) {
                    window.badgesSeen.add(badge.textContent);
                }
            }).observe(grid, {subtree: true, childList: true, characterData: true});
        }""")

    def badges_seen(self) -> set[str]:
        return set(self.page.evaluate("[...window.badgesSeen]"))

    def wait_for_thumbnail(self, filename: str) -> None:
        """The tile shows the bucket's thumbnail, decoded (not a local preview of the file)."""
        image = self.tile(filename).locator("img")
        expect(image).to_have_attribute("src", re.compile("/derivatives/"), timeout=SETTLE_MS)
        self.page.wait_for_function(
            "image => image.complete && image.naturalWidth > 0", arg=image.element_handle(),
            timeout=SETTLE_MS)

    def open_viewer(self, filename: str) -> Locator:
        self.tile_button(filename).click()
        viewer = self.page.get_by_role("dialog")
        expect(viewer).to_be_visible()
        expect(viewer.get_by_role("heading", level=2)).to_have_text(filename)
        return viewer

    def metadata(self) -> dict[str, str]:
        """The viewer's details, term → value."""
        pairs: list[list[str]] = self.page.locator("#metadata").evaluate(
            "list => [...list.querySelectorAll('dt')].map(dt => [dt.textContent, dt.nextElementSibling.textContent])")
        return dict((term, value) for term, value in pairs)

    def natural_width(self, image: Locator) -> int:
        """Waits for the image to be decoded; its width in pixels."""
        self.page.wait_for_function("image => image.complete && image.naturalWidth > 0",
                                    arg=image.element_handle(), timeout=SETTLE_MS)
        width: int = image.evaluate("image => image.naturalWidth")
        return width

    def serious_accessibility_violations(self) -> list[str]:
        """What axe-core finds of serious or critical impact on the page as it is now."""
        self.page.evaluate(AXE_SCRIPT)
        results: dict[str, Any] = self.page.evaluate("axe.run(document, {resultTypes: ['violations']})")
        return [f"{violation['id']} ({violation['impact']}): {violation['help']}: "
                + "; ".join(" ".join(node["target"]) for node in violation["nodes"][:5])
                for violation in results["violations"]
                if violation["impact"] in ("serious", "critical")]

    def expect_accessible(self) -> None:
        violations = self.serious_accessibility_violations()
        assert violations == [], violations

    def screenshot(self, step: str) -> None:
        self._shots += 1
        self.artifacts.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=self.artifacts / f"{self._shots:02d}-{step}.png")

    # --- what the browser did ------------------------------------------------------------------

    def expect_console_error(self, pattern: str) -> None:
        """An error the browser itself logs for an answer the test provokes (a 401, say)."""
        self.expected_errors.append(re.compile(pattern))

    def requests_to(self, method: str, path_pattern: str) -> list[Request]:
        return [request for request in self.requests
                if request.method == method and re.search(path_pattern, urlsplit(request.url).path)]

    def foreign_requests(self) -> list[str]:
        """Requests to any host but the stack's API (which serves the page) and its bucket."""
        own = {urlsplit(self.stack.api).netloc, urlsplit(self.stack.exports["AWS_ENDPOINT_URL_S3"]).netloc}
        return [request.url for request in self.requests
                if urlsplit(request.url).scheme not in ("blob", "data")
                and urlsplit(request.url).netloc not in own]

    def unexpected_errors(self) -> list[str]:
        return [error for error in self.console_errors
                if not any(pattern.search(error) for pattern in self.expected_errors)]

    def _response(self, response: Response) -> None:
        if response.status >= 400:
            self.failed.append(f"{response.request.method} {response.url}: {response.status}")

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            location: dict[str, Any] = message.location
            self.console_errors.append(f"{message.text} ({location.get('url')})")
