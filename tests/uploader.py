"""Uploads as a well-behaved app sends them: presign, then PUT the bytes to the URL, each
retried with backoff on a 429, a 5xx or a dropped connection, as the CLI and the gallery do.

Used by the load and fault suites, which need many uploads from concurrent clients and the
moment each PUT finished.
"""

from __future__ import annotations

import hashlib
import io
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import requests
import tifffile
from PIL import Image

from tests.audit import Sent

# How long a request is tried again: longer than any outage the fault suite stages (S3 failing
# most requests for 15 s), as an app that keeps its user's upload would. Eight attempts with
# backoff spanned 14 s, and a full run once lost a PUT to the last second of the outage.
RETRY_SECONDS = 60
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class Upload:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class Receipt:
    sent: Sent
    started: float  # wall-clock seconds, as the server's timestamps
    put_done: float


class Uploader:
    """One client: its own connection pool and key."""

    def __init__(self, api: str, api_key: str) -> None:
        self.api = api
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {api_key}"

    def upload(self, item: Upload) -> Receipt:
        started = time.time()
        sent = self.put(self.presign(item), item)
        return Receipt(sent, started, time.time())

    def presign(self, item: Upload) -> dict[str, Any]:
        ticket: dict[str, Any] = self._retrying(lambda: self.http.post(
            f"{self.api}/v1/uploads", json={"filename": item.filename,
                                             "content_type": item.content_type,
                                             "size_bytes": len(item.data)},
            timeout=30), expect=201).json()
        assert "parts" not in ticket["upload"], "the suites send files below multipart size"
        return ticket

    def put(self, ticket: dict[str, Any], item: Upload) -> Sent:
        upload = ticket["upload"]
        self._retrying(lambda: requests.put(upload["url"], data=item.data,
                                            headers=upload["headers"], timeout=60), expect=200)
        return Sent(ticket["asset_id"], hashlib.sha256(item.data).hexdigest())

    def assets(self) -> list[dict[str, Any]]:
        """Every asset of this client's owner, page by page."""
        items: list[dict[str, Any]] = []
        cursor = None
        while True:
            page = self._retrying(partial(self.http.get, f"{self.api}/v1/assets", timeout=30,
                                          params={"limit": "200", "cursor": cursor}),
                                  expect=200).json()
            items += page["items"]
            cursor = page.get("next_cursor")
            if not cursor:
                return items

    def counts(self) -> dict[str, int]:
        stats = self._retrying(lambda: self.http.get(f"{self.api}/v1/stats", timeout=30),
                               expect=200).json()
        counts: dict[str, int] = stats["assets"]
        return counts

    def wait_until_settled(self, total: int, timeout: float) -> dict[str, int]:
        """Poll until ``total`` assets exist and none is still on its way; the final counts."""
        deadline = time.monotonic() + timeout
        while True:
            counts = self.counts()
            on_the_way = sum(counts.get(s, 0) for s in ("pending", "uploaded", "processing"))
            if sum(counts.values()) >= total and on_the_way == 0:
                return counts
            if time.monotonic() > deadline:
                raise AssertionError(f"not settled after {timeout:.0f} s: {counts}")
            time.sleep(0.5)

    @staticmethod
    def _retrying(send: Callable[[], requests.Response], *, expect: int) -> requests.Response:
        deadline = time.monotonic() + RETRY_SECONDS
        attempt = 0
        while True:
            try:
                response = send()
            except requests.ConnectionError:
                response = None
            if response is not None and response.status_code not in RETRY_STATUSES:
                assert response.status_code == expect, response.text
                return response
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"gave up after {attempt + 1} attempts in {RETRY_SECONDS} s: "
                    f"{response.status_code if response is not None else 'no answer'}")
            time.sleep(min(4.0, 0.1 * 2**attempt))
            attempt += 1


def upload_all(api: str, api_key: str, items: Sequence[Upload], clients: int) -> list[Receipt]:
    """``items`` dealt out to ``clients`` concurrent clients, each sending its share in turn."""
    def send(share: Sequence[Upload]) -> list[Receipt]:
        uploader = Uploader(api, api_key)
        return [uploader.upload(item) for item in share]

    with ThreadPoolExecutor(clients) as pool:
        shares = pool.map(send, [items[n::clients] for n in range(clients)])
        return [receipt for share in shares for receipt in share]


def photos(count: int, *, copies: int = 0, seed: int = 8) -> list[Upload]:
    """``count`` images: distinct ones, mostly camera-sized JPEGs, some PNGs and two-page 16-bit
    TIFFs; and the last ``copies`` the same bytes as others, which must end as duplicates.
    Another ``seed`` makes other images."""
    rng = np.random.default_rng(seed)
    items = []
    for n in range(count - copies):
        pixels = rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)
        image = Image.fromarray(pixels).resize((1024, 768), Image.Resampling.BICUBIC)
        buffer = io.BytesIO()
        if n % 50 == 49:
            tifffile.imwrite(buffer, np.stack([np.asarray(image, np.uint16) * 257] * 2),
                             photometric="rgb")
            items.append(Upload(f"scan-{n}.tif", "image/tiff", buffer.getvalue()))
        elif n % 15 == 14:
            image.save(buffer, "PNG")
            items.append(Upload(f"drawing-{n}.png", "image/png", buffer.getvalue()))
        else:
            image.save(buffer, "JPEG", quality=90)
            items.append(Upload(f"photo-{n}.jpg", "image/jpeg", buffer.getvalue()))
    # Dealt out round-robin, the copy of item k goes to another client than item k.
    return items + [Upload(f"copy-of-{item.filename}", item.content_type, item.data)
                    for item in items[1 : 1 + copies]]
