"""``GET /v1/assets/{id}/similar`` and ``GET /v1/similar`` through the library app, on the fakes
(whose search is a scan of every hash): nearest first, the owner's ready assets only, answers
as documented, distances bounded, groups paged."""

from __future__ import annotations

import types
import uuid
from collections.abc import Iterator
from typing import Any

import library
import pytest

from lightbox.config import Config
from lightbox.domain import ImageInfo, NewAsset, Status
from lightbox.services import listing
from tests.contract import Contract
from tests.fakes import FakeAssetRepository, FakeJobQueue, FakeObjectStore, FakeProjectRepository
from tests.support import ApiClient, ApiResponse

OWNER, STRANGER = "local", "stranger"
CONFIG = Config.from_env({"LIGHTBOX_BUCKET": "lightbox-test"})
CONTRACT = Contract.load()
BASE = 0x0F0F_3C3C_5A5A_9999
INFO = ImageInfo(width=4000, height=3000, pages=1, bit_depth=8, color_mode="RGB")


class Stack(types.SimpleNamespace):
    assets: FakeAssetRepository
    projects: FakeProjectRepository

    def add(self, bits_off: int | None = 0, *, owner: str = OWNER,
            status: Status = Status.READY, project_id: uuid.UUID | None = None) -> uuid.UUID:
        """An asset whose hash is BASE with its lowest ``bits_off`` bits flipped (None: none)."""
        asset = self.assets.add(NewAsset(uuid.uuid4(), owner, f"IMG_{bits_off}.jpg",
                                         "image/jpeg", 1000, None, project_id), max_pending=100)
        value = None if bits_off is None else BASE ^ ((1 << bits_off) - 1)
        self.assets.change(asset.id, status=status, info=INFO, perceptual_hash=value)
        return asset.id


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    from lightbox.wiring import Container

    assets = FakeAssetRepository()
    projects = FakeProjectRepository(assets)
    monkeypatch.setattr(library, "container", Container(
        CONFIG, assets=assets, storage=FakeObjectStore(), jobs=FakeJobQueue(),
        projects=projects))
    yield Stack(assets=assets, projects=projects)


def get(path: str, owner: str = OWNER) -> ApiResponse:
    with ApiClient(library.app, owner=owner) as client:
        response = client.get(path)
    CONTRACT.check("GET", path, response.status_code, response.body)
    return response


def similar_of(asset_id: uuid.UUID, query: str = "", owner: str = OWNER) -> ApiResponse:
    return get(f"/v1/assets/{asset_id}/similar{query}", owner)


def found(response: ApiResponse) -> list[tuple[str, int]]:
    assert response.status_code == 200, response.body
    return [(item["asset"]["asset_id"], item["distance"])
            for item in response.json_body["items"]]


def test_similar_assets_come_nearest_first_with_their_distance(stack: Stack) -> None:
    reference = stack.add(0)
    far, near, nearer = stack.add(9), stack.add(3), stack.add(1)
    stack.add(11)  # past the default distance of 10
    assert found(similar_of(reference)) == [(str(nearer), 1), (str(near), 3), (str(far), 9)]
    assert found(similar_of(reference, "?distance=3")) == [(str(nearer), 1), (str(near), 3)]
    assert found(similar_of(reference, "?distance=0")) == []
    assert found(similar_of(reference, "?limit=1")) == [(str(nearer), 1)]
    item = similar_of(reference).json_body["items"][0]["asset"]
    assert item["status"] == "ready" and item["original_url"]  # the listing's asset shape


def test_only_the_owners_ready_assets_are_similar(stack: Stack) -> None:
    reference = stack.add(0)
    stack.add(0, owner=STRANGER)
    stack.add(1, status=Status.FAILED)
    deleted = stack.add(1)
    stack.assets.delete(OWNER, deleted)
    stack.add(None)
    assert found(similar_of(reference)) == []


@pytest.mark.parametrize("whose", ["another owner's", "unknown", "deleted", "not a uuid"])
def test_an_asset_of_another_owner_or_none_is_not_found(stack: Stack, whose: str) -> None:
    asset_id: Any = {"another owner's": stack.add(0, owner=STRANGER),
                     "unknown": uuid.uuid4(), "deleted": stack.add(0),
                     "not a uuid": "IMG_0001"}[whose]
    if whose == "deleted":
        stack.assets.delete(OWNER, asset_id)
    response = similar_of(asset_id)
    assert response.status_code == 404
    assert response.json_body["error"]["code"] == "asset_not_found"


@pytest.mark.parametrize(("status", "says"), [
    (Status.READY, "render it again"), (Status.PROCESSING, "only a ready asset"),
    (Status.FAILED, "only a ready asset"),
])
def test_an_asset_without_a_hash_is_a_conflict_saying_why(stack: Stack, status: Status,
                                                         says: str) -> None:
    stack.add(0)
    response = similar_of(stack.add(None, status=status))
    assert response.status_code == 409
    assert response.json_body["error"]["code"] == "invalid_state"
    assert says in response.json_body["error"]["message"]


def test_a_duplicate_points_at_the_asset_holding_its_bytes(stack: Stack) -> None:
    holder = stack.add(0)
    duplicate = stack.add(None, status=Status.DUPLICATE)
    stack.assets.change(duplicate, duplicate_of=holder)
    response = similar_of(duplicate)
    assert response.status_code == 409 and str(holder) in response.json_body["error"]["message"]


@pytest.mark.parametrize(("query", "status"), [
    ("?distance=12", 422), ("?distance=-1", 422), ("?distance=ten", 422), ("?distance=", 422),
    ("?distance=007", 422), ("?limit=201", 422), ("?near=3", 400),
    ("?distance=1&distance=2", 400),
])
def test_a_distance_past_what_the_index_answers_is_refused(stack: Stack, query: str,
                                                           status: int) -> None:
    response = similar_of(stack.add(0), query)
    assert response.status_code == status
    if status == 422:
        assert response.json_body["error"]["code"] == "invalid_field"
    if query == "?distance=12":
        assert "from 0 to 11" in response.json_body["error"]["message"]


def groups_of(query: str = "", owner: str = OWNER) -> list[dict[str, Any]]:
    """Every group, following the cursor to the end."""
    groups: list[dict[str, Any]] = []
    cursor = None
    while True:
        separator = "&" if query else "?"
        response = get(f"/v1/similar{query}"
                       + (f"{separator}cursor={cursor}" if cursor else ""), owner)
        assert response.status_code == 200, response.body
        groups.extend(response.json_body["groups"])
        cursor = response.json_body["next_cursor"]
        if cursor is None:
            return groups


def pair(first: uuid.UUID, second: uuid.UUID, gap: int) -> tuple[str, str, int]:
    """A pair as groups tell it: under the first of the two in id order."""
    low, high = sorted((str(first), str(second)))
    return low, high, gap


def pairs_of(groups: list[dict[str, Any]]) -> set[tuple[str, str, int]]:
    return {(group["asset"]["asset_id"], near["asset"]["asset_id"], near["distance"])
            for group in groups for near in group["similar"]}


def test_groups_page_through_the_library_telling_each_pair_once(
    stack: Stack, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(listing, "SIMILAR_WALK", 2)
    ids = [stack.add(bits) for bits in (0, 2, 5, 30)]
    stack.add(0, owner=STRANGER)
    first, second, third, _ = ids
    expected = {pair(first, second, 2), pair(first, third, 5), pair(second, third, 3)}
    groups = groups_of()
    assert pairs_of(groups) == expected
    assert pairs_of(groups_of("?distance=2")) == {pair(first, second, 2)}
    assert groups_of(owner=STRANGER) == []
    assert set(groups[0]["asset"]) == {"asset_id", "filename", "content_type", "size_bytes",
                                       "project_id", "width", "height", "taken_at"}


def test_groups_within_a_project_leave_out_the_rest(stack: Stack) -> None:
    trip = stack.projects.add(OWNER, uuid.uuid4(), "Trip", max_projects=10).id
    inside = [stack.add(0, project_id=trip), stack.add(1, project_id=trip)]
    stack.add(0)
    assert pairs_of(groups_of(f"?project_id={trip}")) == {pair(*inside, 1)}
    assert len(pairs_of(groups_of())) == 3


def test_a_groups_cursor_belongs_to_its_distance(
    stack: Stack, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(listing, "SIMILAR_WALK", 1)
    stack.add(0)
    stack.add(1)
    cursor = get("/v1/similar?distance=4").json_body["next_cursor"]
    assert cursor
    other = get(f"/v1/similar?distance=5&cursor={cursor}")
    assert other.status_code == 422 and "distance=4" in other.json_body["error"]["message"]
    assert get("/v1/similar?cursor=nonsense").status_code == 422
    assert get("/v1/similar?distance=12").status_code == 422
