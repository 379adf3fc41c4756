"""Deep zoom through the local stack: a large scan becomes ready with tiles, a browser's viewer
reads its info.json and a deep tile without credentials, grants open only what they were made
for, and a permanent delete leaves no tile in the bucket."""

from __future__ import annotations

import io
import uuid
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import pytest
import requests
from PIL import Image, ImageDraw

from tests.contract import CONTRACT
from tests.e2e.conftest import Client, Stack

pytestmark = pytest.mark.e2e


def scan(size: tuple[int, int]) -> tuple[bytes, Image.Image]:
    """A page of fine print over a gradient, as PNG (with bytes after its end that make it
    unlike any other upload), and the picture itself."""
    width, height = size
    ramp = np.linspace(180, 255, width, dtype=np.uint8)
    pixels = np.repeat(np.stack([ramp, ramp[::-1], np.full(width, 230, np.uint8)], -1)[None],
                       height, axis=0)
    picture = Image.fromarray(pixels, "RGB")
    draw = ImageDraw.Draw(picture)
    for top in range(5, height - 12, 14):
        draw.text((3 + top % 40, top), f"line {top:05d} of the fine print " * (width // 200),
                  fill=(20, 20, 60))
    buffer = io.BytesIO()
    picture.save(buffer, "PNG", compress_level=1)
    return buffer.getvalue() + uuid.uuid4().bytes, picture


def anonymous() -> requests.Session:
    """A browser's viewer: no API key; every answer of the API checked against the document."""
    session = requests.Session()
    session.hooks["response"].append(CONTRACT.check_response)
    return session


def tiled(client: Client, size: tuple[int, int]) -> tuple[dict[str, Any], Image.Image]:
    data, picture = scan(size)
    asset = client.wait_until_settled(client.upload("scan.png", "image/png", data), timeout=180)
    assert asset["status"] == "ready", asset
    return asset, picture


def stored_keys(stack: Stack, prefix: str) -> set[str]:
    pages = stack.client("s3").get_paginator("list_objects_v2").paginate(
        Bucket=stack.exports["LIGHTBOX_BUCKET"], Prefix=prefix)
    return {item["Key"] for page in pages for item in page.get("Contents", [])}


def test_a_large_scan_is_read_tile_by_tile_without_credentials_and_deleted_with_them(
        stack: Stack, client: Client) -> None:
    asset, picture = tiled(client, (6000, 4000))
    tiles = asset["tiles"]
    assert (tiles["width"], tiles["height"], tiles["tile_size"]) == (6000, 4000, 512)
    assert tiles["info_url"].startswith(f"{client.api}/v1/tiles/{asset['asset_id']}/")
    viewer = anonymous()
    info = viewer.get(tiles["info_url"], timeout=30)
    assert info.status_code == 200 and info.headers["Access-Control-Allow-Origin"]
    service = info.json()
    assert service["id"] == tiles["info_url"].removesuffix("/info.json")
    assert service["tiles"] == [{"width": 512, "height": 512, "scaleFactors": [1, 2, 4, 8, 16]}]

    # A tile deep in the page, at full size: the fine print, as the original has it.
    redirect = viewer.get(f"{service['id']}/2560,1536,512,512/512,512/0/default.jpg",
                          allow_redirects=False, timeout=30)
    assert redirect.status_code == 302
    tile = requests.get(redirect.headers["Location"], timeout=30)
    assert tile.status_code == 200 and tile.content[:3] == b"\xff\xd8\xff"
    shown = np.asarray(Image.open(io.BytesIO(tile.content)).convert("RGB"), np.int16)
    error = np.abs(shown - np.asarray(picture.crop((2560, 1536, 3072, 2048)), np.int16)).mean()
    # Half a line of print away, the region is another: JPEG's error is far smaller than that.
    shifted = np.asarray(picture.crop((2560, 1543, 3072, 2055)), np.int16)
    assert error < 8 and error * 3 < np.abs(shown - shifted).mean()

    prefix = urlsplit(redirect.headers["Location"]).path.split("/iiif/")[0].split("/", 2)[2]
    iiif = stored_keys(stack, f"{prefix}/iiif/")
    assert len(iiif) == 12 * 8 + 6 * 4 + 3 * 2 + 2 * 1 + 1
    deleted = client.http.delete(f"{client.api}/v1/assets/{asset['asset_id']}",
                                 params={"permanent": "true"}, timeout=30)
    assert deleted.status_code == 204
    assert stored_keys(stack, f"{prefix}/") == set()
    assert viewer.get(tiles["info_url"], timeout=30).status_code == 404


def test_a_grant_opens_only_its_own_asset_of_its_own_owner(
        stack: Stack, client: Client) -> None:
    stranger = stack.api_client(stack.create_key(f"stranger-{uuid.uuid4().hex[:8]}"))
    # Longer than 4096 pixels on one side: tiled, and cheap.
    mine, _ = tiled(client, (4200, 300))
    theirs, _ = tiled(stranger, (4200, 300))
    my_grant = mine["tiles"]["info_url"].split("/")[-2]
    their_grant = theirs["tiles"]["info_url"].split("/")[-2]
    expires, mac = my_grant.split(".")
    viewer = anonymous()
    for asset_id, grant in [(mine["asset_id"], their_grant), (theirs["asset_id"], my_grant),
                            (mine["asset_id"], f"{int(expires) + 60}.{mac}"),
                            (mine["asset_id"], f"{expires}.{mac[::-1]}")]:
        for path in ("info.json", "0,0,512,300/512,300/0/default.jpg"):
            response = viewer.get(f"{client.api}/v1/tiles/{asset_id}/{grant}/{path}",
                                  allow_redirects=False, timeout=30)
            assert response.status_code == 404, (asset_id, grant, path)
            assert response.json()["error"]["code"] == "asset_not_found"
    # The stranger's own grant still opens their own tiles, and mine mine.
    assert viewer.get(theirs["tiles"]["info_url"], timeout=30).status_code == 200
    assert viewer.get(mine["tiles"]["info_url"], timeout=30).status_code == 200
    trashed = client.http.delete(f"{client.api}/v1/assets/{mine['asset_id']}", timeout=30)
    assert trashed.status_code == 204
    assert viewer.get(mine["tiles"]["info_url"], timeout=30).status_code == 404
