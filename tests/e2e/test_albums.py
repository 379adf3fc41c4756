"""Albums, the timeline and shared links as clients meet them, through the local stack (every
answer checked against the OpenAPI document): a photo in two albums, a month found by its
cursor, and a link that opens one album, read-only, to someone with no key at all."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import requests

from tests.contract import CONTRACT
from tests.e2e.conftest import Client, Stack
from tests.e2e.test_api import unique_image
from tests.support import tampered, unique_owner

pytestmark = pytest.mark.e2e


@pytest.fixture
def owner(stack: Stack) -> Client:
    return stack.api_client(stack.create_key(unique_owner()))


def anonymous() -> requests.Session:
    """A browser that was sent a link: no key; its answers checked against the document."""
    session = requests.Session()
    session.hooks["response"].append(CONTRACT.check_response)
    return session


def make_album(client: Client, name: str) -> str:
    made = client.http.post(f"{client.api}/v1/projects", json={"name": name}, timeout=30)
    assert made.status_code == 201, made.text
    return str(made.json()["project_id"])


def photo(client: Client, name: str, taken_at: str) -> str:
    asset_id = client.upload(name, "image/jpeg", unique_image("JPEG", (320, 200)),
                             taken_at=taken_at)
    assert client.wait_until_settled(asset_id)["status"] == "ready"
    return asset_id


def members(client: Client, album: str) -> set[str]:
    page = client.http.get(f"{client.api}/v1/assets", params={"project_id": album}, timeout=30)
    return {item["asset_id"] for item in page.json()["items"]}


def test_a_photo_of_one_summer_is_found_by_its_month_and_put_in_two_albums(
    owner: Client,
) -> None:
    api = owner.api
    summer = photo(owner, "beach.jpg", "2019-07-14T16:00:00+02:00")
    winter = photo(owner, "snow.jpg", "2021-01-03T09:00:00+01:00")
    timeline = owner.http.get(f"{api}/v1/timeline", timeout=30).json()["months"]
    assert [(m["month"], m["count"]) for m in timeline] == [("2021-01", 1), ("2019-07", 1)]
    july = owner.http.get(f"{api}/v1/assets", timeout=30,
                          params={"sort": "-taken", "cursor": timeline[1]["cursor"]}).json()
    assert [item["asset_id"] for item in july["items"]] == [summer]

    beach, family = make_album(owner, "Beach"), make_album(owner, "Family")
    for album in (beach, family):
        added = owner.http.post(f"{api}/v1/projects/{album}/assets",
                                json={"asset_ids": [summer]}, timeout=30)
        assert added.status_code == 200 and added.json()["added"] == 1, added.text
    assert set(owner.asset(summer)["project_ids"]) == {beach, family}
    assert members(owner, beach) == members(owner, family) == {summer}
    assert owner.http.get(f"{api}/v1/timeline", params={"project_id": beach},
                          timeout=30).json()["months"][0]["month"] == "2019-07"

    # One asset that is not the owner's (or in the trash) and nothing is added.
    owner.http.delete(f"{api}/v1/assets/{winter}", timeout=30)
    refused = owner.http.post(f"{api}/v1/projects/{beach}/assets",
                              json={"asset_ids": [winter]}, timeout=30)
    assert refused.status_code == 404, refused.text
    left = owner.http.request("DELETE", f"{api}/v1/projects/{beach}/assets",
                              json={"asset_ids": [summer]}, timeout=30)
    assert left.json()["removed"] == 1 and left.json()["project"]["asset_count"] == 0
    assert owner.asset(summer)["project_ids"] == [family]


def test_a_link_opens_one_album_read_only_until_it_is_revoked(
    owner: Client, stack: Stack
) -> None:
    api = owner.api
    shared, private = make_album(owner, "Shared"), make_album(owner, "Private")
    inside = photo(owner, "inside.jpg", "2020-08-01T12:00:00Z")
    outside = photo(owner, "outside.jpg", "2020-08-02T12:00:00Z")
    owner.http.post(f"{api}/v1/projects/{shared}/assets", json={"asset_ids": [inside]},
                    timeout=30)
    owner.http.post(f"{api}/v1/projects/{private}/assets", json={"asset_ids": [outside]},
                    timeout=30)
    made = owner.http.post(f"{api}/v1/projects/{shared}/shares", json={}, timeout=30)
    assert made.status_code == 201, made.text
    share = made.json()
    assert share["url"] == f"{api}/#shared={share['token']}"

    browser = anonymous()
    opened = browser.get(f"{api}/v1/shared/{share['token']}", timeout=30)
    assert opened.status_code == 200, opened.text
    page: dict[str, Any] = opened.json()
    assert page["album"] == {"name": "Shared", "asset_count": 1}
    assert [item["asset_id"] for item in page["assets"]] == [inside]
    assert page["assets"][0]["original_url"] is None  # thumbnails only, unless allowed
    thumbnail = requests.get(page["assets"][0]["thumbnails"][0]["url"], timeout=30)
    assert thumbnail.status_code == 200 and thumbnail.content[:2] == b"\xff\xd8"

    # The token is no key: it opens nothing else of the owner's.
    as_key = requests.get(f"{api}/v1/assets",
                          headers={"Authorization": f"Bearer {share['token']}"}, timeout=30)
    assert as_key.status_code == 401
    assert browser.get(f"{api}/v1/shared/{tampered(share['token'])}", timeout=30).status_code == 404
    assert browser.get(f"{api}/v1/shared/{uuid.uuid4()}", timeout=30).status_code == 404

    with_originals = owner.http.post(f"{api}/v1/projects/{shared}/shares",
                                     json={"allow_original": True}, timeout=30).json()
    original = browser.get(f"{api}/v1/shared/{with_originals['token']}",
                           timeout=30).json()["assets"][0]["original_url"]
    assert requests.get(original, timeout=30).content == requests.get(
        owner.asset(inside)["original_url"], timeout=30).content

    listed = owner.http.get(f"{api}/v1/projects/{shared}/shares", timeout=30).json()["items"]
    assert {s["share_id"] for s in listed} == {share["share_id"], with_originals["share_id"]}
    assert all("token" not in s for s in listed)
    revoked = owner.http.delete(f"{api}/v1/projects/{shared}/shares/{share['share_id']}",
                                timeout=30)
    assert revoked.status_code == 204
    assert browser.get(f"{api}/v1/shared/{share['token']}", timeout=30).status_code == 404
    # Deleting the album ends its shares too.
    owner.http.request("DELETE", f"{api}/v1/projects/{shared}/assets",
                       json={"asset_ids": [inside]}, timeout=30)
    assert owner.http.delete(f"{api}/v1/projects/{shared}", timeout=30).status_code == 204
    assert browser.get(f"{api}/v1/shared/{with_originals['token']}",
                       timeout=30).status_code == 404
