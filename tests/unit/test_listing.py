import dataclasses
import uuid

import pytest

from lightbox.domain import Asset, Derivative, NewAsset, Status
from lightbox.errors import AssetNotFound, InvalidField, RequestError
from lightbox.services.listing import (
    DEFAULT_PAGE_SIZE,
    ListQuery,
    decode_cursor,
    encode_cursor,
    get_asset,
    list_assets,
    parse_list_query,
)
from tests.fakes import FakeAssetRepository, FakeObjectStore

OWNER = "studio"


def add(assets: FakeAssetRepository, status: Status = Status.PENDING, owner: str = OWNER,
        **changes: object) -> Asset:
    asset = assets.add(NewAsset(uuid.uuid4(), owner, "photo.jpg", "image/jpeg", 100, None, None))
    asset = dataclasses.replace(asset, status=status, **changes)  # type: ignore[arg-type]
    assets.put(asset)
    return asset


def test_pages_follow_each_other_newest_first_without_gaps_or_repeats() -> None:
    assets, storage = FakeAssetRepository(), FakeObjectStore()
    created = [add(assets) for _ in range(7)]
    add(assets, owner="someone-else")

    seen, cursor = [], None
    while True:
        page = list_assets(OWNER, ListQuery(limit=3, cursor=cursor), assets=assets,
                           storage=storage, url_ttl=60)
        seen.extend(view.asset.id for view in page.items)
        if page.next_cursor is None:
            break
        cursor = decode_cursor(page.next_cursor)
    assert seen == [asset.id for asset in reversed(created)]


def test_the_last_full_page_has_no_next_cursor() -> None:
    assets, storage = FakeAssetRepository(), FakeObjectStore()
    for _ in range(3):
        add(assets)
    page = list_assets(OWNER, ListQuery(limit=3), assets=assets, storage=storage, url_ttl=60)
    assert len(page.items) == 3 and page.next_cursor is None


def test_a_status_filter_lists_only_that_status_and_deleted_assets_never_show() -> None:
    assets, storage = FakeAssetRepository(), FakeObjectStore()
    ready = add(assets, Status.READY)
    add(assets, Status.FAILED)
    add(assets, Status.DELETED)

    everything = list_assets(OWNER, ListQuery(), assets=assets, storage=storage, url_ttl=60)
    assert len(everything.items) == 2
    only_ready = list_assets(OWNER, ListQuery(status=Status.READY), assets=assets,
                             storage=storage, url_ttl=60)
    assert [view.asset.id for view in only_ready.items] == [ready.id]


def test_urls_are_signed_for_the_original_and_each_derivative() -> None:
    assets, storage = FakeAssetRepository(), FakeObjectStore()
    derivative = Derivative(256, 1, "jpeg", 256, 171, "derivatives/studio/x/1-256.jpg", 999)
    ready = add(assets, Status.READY, derivatives=(derivative,))

    view = get_asset(OWNER, ready.id, assets=assets, storage=storage, url_ttl=60)
    assert view.original_url == f"https://bucket.test/originals/studio/{ready.id}?expires=60"
    assert [(t.size, t.url) for t in view.thumbnails] == [
        (256, "https://bucket.test/derivatives/studio/x/1-256.jpg?expires=60")
    ]


@pytest.mark.parametrize("status", [Status.PENDING, Status.DUPLICATE])
def test_no_original_url_when_there_is_no_original(status: Status) -> None:
    assets, storage = FakeAssetRepository(), FakeObjectStore()
    asset = add(assets, status)
    assert get_asset(OWNER, asset.id, assets=assets, storage=storage, url_ttl=60).original_url is None


def test_another_owners_asset_and_a_deleted_one_are_not_found() -> None:
    assets, storage = FakeAssetRepository(), FakeObjectStore()
    theirs = add(assets, owner="someone-else")
    deleted = add(assets, Status.DELETED)
    for asset_id in (theirs.id, deleted.id, uuid.uuid4()):
        with pytest.raises(AssetNotFound):
            get_asset(OWNER, asset_id, assets=assets, storage=storage, url_ttl=60)


def test_query_parameters_are_parsed() -> None:
    assets = FakeAssetRepository()
    cursor = encode_cursor(add(assets))
    query = parse_list_query({"limit": "10", "status": "ready", "cursor": cursor})
    assert query.limit == 10 and query.status is Status.READY
    assert query.cursor == decode_cursor(cursor)
    assert parse_list_query({}).limit == DEFAULT_PAGE_SIZE


@pytest.mark.parametrize(
    ("params", "error", "message"),
    [
        ({"limit": "0"}, InvalidField, "limit must be a whole number from 1 to 200"),
        ({"limit": "201"}, InvalidField, "from 1 to 200"),
        ({"limit": "ten"}, InvalidField, "from 1 to 200"),
        ({"limit": "²"}, InvalidField, "from 1 to 200"),
        ({"status": "done"}, InvalidField, "status must be one of pending, uploaded"),
        ({"cursor": "not-a-cursor"}, InvalidField, "cursor is not one this API returned"),
        ({"cursor": "W10"}, InvalidField, "cursor is not one this API returned"),
        ({"sort": "name"}, RequestError, "unknown query parameters: sort"),
    ],
)
def test_bad_query_parameters_say_what_is_wrong(
    params: dict[str, str], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        parse_list_query(params)
