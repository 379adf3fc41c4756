"""The web gallery in a real browser (the system's Chromium, driven by Playwright) against the
local stack, started as ``./dev.sh up`` starts it: one stack for these tests (stopped when
they end, so that it never runs beside the end-to-end suite's), and a fresh owner and browser
context for each test, so that each test sees only its own library.

Screenshots of each step land in ``test-artifacts/browser/<test>/``.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect, sync_playwright

from tests.browser.gallery import Gallery
from tests.conftest import REPO
from tests.e2e.conftest import Stack, start_stack
from tests.support import unique_owner

ARTIFACTS = REPO / "test-artifacts" / "browser"
# Chromium as a quiet test browser: no sandbox (containers), no GPU, and none of its own
# traffic to the outside (updates, sync, field trials), which the tests would count.
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run"]
VIEWPORT = {"width": 1280, "height": 800}
MIB = 1024 * 1024

expect.set_options(timeout=10_000)


@pytest.fixture(scope="package")
def gallery_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running = start_stack(
        tmp_path_factory.mktemp("gallery-stack") / "data", "embedded",
        # Files from 6 MiB on go up in parts, so that a test can send one in a few seconds.
        LIGHTBOX_MULTIPART_THRESHOLD_BYTES=str(6 * MIB),
        LIGHTBOX_MULTIPART_PART_BYTES=str(5 * MIB),
    )
    yield running
    assert running.stop() == 0, running.log_tail()


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    executable = os.environ.get("LIGHTBOX_BROWSER") or shutil.which("chromium")
    if executable is None:
        pytest.fail("the browser tests need Chromium: install it (./dev.sh test does) or set "
                    "LIGHTBOX_BROWSER to a Chromium executable")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=BROWSER_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def gallery(gallery_stack: Stack, browser: Browser, request: pytest.FixtureRequest
            ) -> Iterator[Gallery]:
    """The gallery for a new owner; after the test, nothing went elsewhere and nothing broke."""
    # Month names as the tests spell them.
    context = browser.new_context(viewport=VIEWPORT, locale="en-US")  # type: ignore[arg-type]
    page = context.new_page()
    artifacts = ARTIFACTS / request.node.name
    shutil.rmtree(artifacts, ignore_errors=True)
    opened = Gallery(page, gallery_stack, gallery_stack.create_key(unique_owner()), artifacts)
    yield opened
    opened.screenshot("end")
    context.close()
    assert opened.foreign_requests() == [], "the gallery reached beyond the stack"
    assert opened.unexpected_errors() == [], "the browser reported errors"
