from __future__ import annotations

import base64
import json
import uuid
from datetime import datetime

import pytest

from lightbox import filetypes
from lightbox.domain import Asset, Derivative, ImageInfo, Lane, NewAsset, Principal, Status
from lightbox.errors import AssetNotFound, InvalidField, RequestError
from lightbox.http.inputs import parse_list_query
from lightbox.ports import Pipeline
from lightbox.services.listing import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_URLS,
    AssetPage,
    ListQuery,
    decode_change_cursor,
    decode_page_cursor,
    encode_change_cursor,
    encode_page_cursor,
    get_asset,
    library_stats,
    list_assets,
)
from lightbox.values import AssetFilter, ChangeCursor, LegacyChangeCursor, PageCursor, SortOrder
from tests.fakes import FakeAssetRepository, FakeJobQueue, FakeObjectStore, pipeline_of

OWNER = "studio"


class Library:
    def __init__(self) -> None:
        self.assets = FakeAssetRepository()
        self.storage = FakeObjectStore()
        self.jobs = FakeJobQueue()

    @property
    def pipeline(self) -> Pipeline:
        return pipeline_of(self.assets, self.storage, self.jobs)

    def add(self, status: Status = Status.PENDING, owner: str = OWNER, **changes: object) -> Asset:
        asset = self.assets.add(NewAsset(uuid.uuid4(), owner, "photo.jpg", "image/jpeg", 100,
                                         None, None), max_pending=100)
        return self.assets.change(asset.id, status=status, **changes)

    def list(self, query: ListQuery) -> tuple[list[uuid.UUID], str | None, str]:
        page = list_assets(OWNER, query, pipeline=self.pipeline, url_ttl=60)
        return [view.asset.id for view in page.items], page.next_cursor, page.sync_cursor

    def all_pages(self, sort: SortOrder, limit: int = 3) -> list[uuid.UUID]:
        seen: list[uuid.UUID] = []
        cursor = None
        while True:
            ids, next_cursor, _ = self.list(ListQuery(limit=limit, cursor=cursor, sort=sort))
            seen.extend(ids)
            if next_cursor is None:
                return seen
            cursor = decode_page_cursor(next_cursor, sort)


def taken(day: int) -> ImageInfo:
    return ImageInfo(width=10, height=10, pages=1, bit_depth=8, color_mode="RGB",
                     taken_at=datetime(2020, 1, day, 12))


def test_pages_follow_each_other_newest_first_without_gaps_or_repeats() -> None:
    library = Library()
    created = [library.add() for _ in range(7)]
    library.add(owner="someone-else")
    assert library.all_pages(SortOrder.NEWEST) == [a.id for a in reversed(created)]
    assert library.all_pages(SortOrder.OLDEST) == [a.id for a in created]


def test_sorting_by_taken_time_falls_back_to_the_upload_time() -> None:
    library = Library()
    late = library.add(Status.READY, info=taken(20))
    early = library.add(Status.READY, info=taken(2))
    undated = library.add(Status.PENDING)  # uploaded now: after any 2020 photo
    assert library.all_pages(SortOrder.TAKEN_NEWEST, limit=2) == [undated.id, late.id, early.id]
    assert library.all_pages(SortOrder.TAKEN_OLDEST, limit=2) == [early.id, late.id, undated.id]


def test_the_last_full_page_has_no_next_cursor() -> None:
    library = Library()
    for _ in range(3):
        library.add()
    ids, next_cursor, _ = library.list(ListQuery(limit=3))
    assert len(ids) == 3 and next_cursor is None


def test_filters_combine_and_deleted_assets_never_show() -> None:
    library = Library()
    project = uuid.uuid4()
    ready = library.add(Status.READY, project_id=project, info=taken(5))
    library.add(Status.READY, info=taken(6))
    png = library.add(Status.FAILED, content_type="image/png", project_id=project)
    library.add(Status.DELETED, project_id=project)

    def ids(**filters: object) -> set[uuid.UUID]:
        return set(library.list(ListQuery(filters=AssetFilter(**filters)))[0])  # type: ignore[arg-type]

    assert len(ids()) == 3
    assert ids(status=Status.READY, project_id=project) == {ready.id}
    assert ids(project_id=project) == {ready.id, png.id}
    assert ids(content_type="image/png") == {png.id}
    assert ids(taken_from=datetime(2020, 1, 5), taken_until=datetime(2020, 1, 6)) == {ready.id}


def test_urls_are_signed_for_the_original_and_each_derivative() -> None:
    library = Library()
    derivative = Derivative(256, 1, "jpeg", 256, 171, "derivatives/studio/x/1-256.jpg", 999)
    ready = library.add(Status.READY, derivatives=(derivative,))

    view = get_asset(OWNER, ready.id, pipeline=pipeline_of(library.assets, library.storage), url_ttl=60)
    assert view.original_url == f"https://bucket.test/originals/studio/{ready.id}?expires=60"
    assert [(t.size, t.url) for t in view.thumbnails] == [
        (256, "https://bucket.test/derivatives/studio/x/1-256.jpg?expires=60")
    ]


@pytest.mark.parametrize("status", [Status.PENDING, Status.DUPLICATE])
def test_no_original_url_when_there_is_no_original(status: Status) -> None:
    library = Library()
    asset = library.add(status)
    view = get_asset(OWNER, asset.id, pipeline=pipeline_of(library.assets, library.storage), url_ttl=60)
    assert view.original_url is None


def test_a_duplicate_shows_the_bytes_thumbnails_and_info_of_its_holder() -> None:
    library = Library()
    derivative = Derivative(256, 1, "jpeg", 256, 171, "derivatives/studio/h/1-256.jpg", 999)
    holder = library.add(Status.READY, derivatives=(derivative,), info=taken(3),
                         sha256="b" * 64, placeholder="thumbhash")
    copies = [library.add(Status.DUPLICATE, duplicate_of=holder.id) for _ in range(3)]
    library.assets.delete(OWNER, holder.id)  # its bytes stay while duplicates refer to it

    page = list_assets(OWNER, ListQuery(), pipeline=library.pipeline,
                       url_ttl=60)
    one = get_asset(OWNER, copies[0].id, pipeline=pipeline_of(library.assets, library.storage),
                    url_ttl=60)
    assert library.assets.get_many_calls == 1  # the page's holders, at once
    for view in [*page.items, one]:
        assert view.asset.id in {c.id for c in copies}
        assert view.original_url == f"https://bucket.test/originals/studio/{holder.id}?expires=60"
        assert [t.url for t in view.thumbnails] == [
            "https://bucket.test/derivatives/studio/h/1-256.jpg?expires=60"]
        assert (view.asset.info, view.asset.sha256, view.asset.placeholder) == (
            taken(3), "b" * 64, "thumbhash")


def test_a_page_without_duplicates_looks_up_no_holders() -> None:
    library = Library()
    library.add(Status.READY)
    list_assets(OWNER, ListQuery(), pipeline=library.pipeline, url_ttl=60)
    assert library.assets.get_many_calls == 0


def test_another_owners_asset_and_a_deleted_one_are_not_found() -> None:
    library = Library()
    theirs = library.add(owner="someone-else")
    deleted = library.add(Status.DELETED)
    for asset_id in (theirs.id, deleted.id, uuid.uuid4()):
        with pytest.raises(AssetNotFound):
            get_asset(OWNER, asset_id, pipeline=pipeline_of(library.assets, library.storage),
                      url_ttl=60)


def test_the_change_feed_returns_changes_after_the_sync_cursor_with_tombstones() -> None:
    library = Library()
    kept, removed = library.add(Status.READY), library.add(Status.READY)
    _, _, sync_cursor = library.list(ListQuery())
    added = library.add()
    library.assets.change(removed.id, status=Status.DELETED)
    library.add(owner="someone-else")

    ids, next_cursor, then = library.list(
        ListQuery(limit=1, changed_since=decode_change_cursor(sync_cursor)))
    assert ids == [added.id] and next_cursor == then  # more are waiting
    ids, next_cursor, then = library.list(
        ListQuery(limit=5, changed_since=decode_change_cursor(then)))
    assert ids == [removed.id] and next_cursor is None
    assert library.assets.assets[removed.id].status is Status.DELETED
    page = list_assets(OWNER, ListQuery(changed_since=decode_change_cursor(sync_cursor)),
                       pipeline=library.pipeline, url_ttl=60)
    tombstone = next(view for view in page.items if view.asset.id == removed.id)
    assert tombstone.original_url is None and tombstone.thumbnails == ()
    # Nothing new: the same cursor comes back (or one further), and nothing is listed.
    ids, next_cursor, _ = library.list(ListQuery(changed_since=decode_change_cursor(then)))
    assert ids == [] and next_cursor is None and kept.id not in ids


def test_an_owners_cursors_never_move_with_another_owners_changes() -> None:
    library = Library()
    library.add()
    _, _, mine = library.list(ListQuery())
    for _ in range(5):
        library.add(owner="someone-else")
    _, _, still = library.list(ListQuery())
    assert still == mine
    ids, _, after = library.list(ListQuery(changed_since=decode_change_cursor(mine)))
    assert ids == [] and after == mine
    # The number counts the owner's own changes (an insert, then its status), no one else's.
    assert decode_change_cursor(mine) == ChangeCursor(2)


def test_a_cursor_of_the_earlier_feed_re_reads_what_it_may_not_have_seen() -> None:
    library = Library()
    first, second = library.add(), library.add()
    legacy = LegacyChangeCursor(xid=123_456, asset_id=uuid.uuid4())
    ids, next_cursor, then = library.list(ListQuery(changed_since=legacy))
    assert ids == [first.id, second.id] and next_cursor is None
    assert decode_change_cursor(then) == ChangeCursor(4)  # on the owner's sequence from now


def test_query_parameters_are_parsed() -> None:
    asset_id = uuid.uuid4()
    cursor = encode_page_cursor(SortOrder.TAKEN_OLDEST, PageCursor(datetime(2020, 1, 1), asset_id))
    query = parse_list_query({"limit": "10", "status": "ready", "cursor": cursor,
                              "sort": "taken", "content_type": "image/png",
                              "taken_from": "2020-01-01", "taken_until": "2020-02-01T12:00:00",
                              "project_id": str(asset_id)})
    assert query.limit == 10 and query.sort is SortOrder.TAKEN_OLDEST
    assert query.filters == AssetFilter(
        status=Status.READY, project_id=asset_id, content_type="image/png",
        taken_from=datetime(2020, 1, 1), taken_until=datetime(2020, 2, 1, 12))
    assert query.cursor == PageCursor(datetime(2020, 1, 1), asset_id)
    searched = parse_list_query({"kind": "video", "camera": " X-T5 ", "q": "Cafe\u0301_50%"})
    assert searched.filters == AssetFilter(content_types=filetypes.VIDEO, camera="X-T5",
                                           text="Café_50%")
    assert parse_list_query({}).limit == DEFAULT_PAGE_SIZE
    since = encode_change_cursor(ChangeCursor(41))
    assert parse_list_query({"changed_since": since}).changed_since == ChangeCursor(41)
    # A cursor of the feed before owner sequences is still read, to be mapped.
    legacy = base64.urlsafe_b64encode(json.dumps(["c", 7000, str(asset_id)]).encode()).decode()
    assert parse_list_query({"changed_since": legacy}).changed_since == LegacyChangeCursor(
        7000, asset_id)


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
        ({"sort": "name"}, InvalidField, "sort must be one of -created, created"),
        ({"cursor": encode_page_cursor(SortOrder.NEWEST, PageCursor(datetime(2020, 1, 1),
                                                                    uuid.uuid4())),
          "sort": "taken"}, InvalidField, "this cursor belongs to sort=-created"),
        ({"project_id": "7"}, InvalidField, "project_id must be a UUID"),
        ({"content_type": "text/html"}, InvalidField, "content_type must be one of"),
        ({"kind": "photos"}, InvalidField, "kind must be one of photo, raw, video, document"),
        ({"camera": "  "}, InvalidField, "camera must be 1 to 200 characters"),
        ({"q": "x" * 201}, InvalidField, "q must be 1 to 200 characters"),
        ({"q": "a\x00b"}, InvalidField, "q must be 1 to 200 characters"),
        ({"taken_from": "yesterday"}, InvalidField, "taken_from must be a date"),
        ({"changed_since": "W10"}, InvalidField, "changed_since is not a cursor"),
        ({"changed_since": encode_change_cursor(ChangeCursor(2**63)),
          }, InvalidField, "changed_since is not a cursor"),
        ({"changed_since": encode_change_cursor(ChangeCursor(1)),
          "status": "ready"}, InvalidField, "changed_since takes no filters"),
        ({"order": "name"}, RequestError, "unknown query parameters: order"),
    ],
)
def test_bad_query_parameters_say_what_is_wrong(
    params: dict[str, str], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        parse_list_query(params)


def test_a_tombstone_keeps_its_name() -> None:
    library = Library()
    asset = library.add(Status.READY)
    deleted = library.assets.delete(OWNER, asset.id)
    assert deleted is not None and deleted.status is Status.DELETED
    assert deleted.filename == "photo.jpg" and deleted.derivatives_prefix.endswith(f"{asset.id}/")


# --- pages bounded by their signed URLs -----------------------------------------------------

def many_paged_scans(library: Library, count: int) -> list[Asset]:
    """Ready scans of 5 pages with 2 sizes each: 11 signed URLs an asset."""
    derivatives = tuple(Derivative(size, page, "jpeg", size, size, f"derivatives/{page}-{size}.jpg", 9)
                        for page in range(1, 6) for size in (256, 1280))
    return [library.add(Status.READY, derivatives=derivatives) for _ in range(count)]


def urls_of(page: AssetPage) -> int:
    return sum((view.original_url is not None) + len(view.thumbnails) for view in page.items)


def test_a_page_stops_at_its_budget_of_signed_urls_and_the_cursor_goes_on() -> None:
    library = Library()
    created = many_paged_scans(library, 250)
    assert MAX_PAGE_URLS < 200 * 11  # a page of 200 of them is over budget
    query = ListQuery(limit=200)
    seen: list[uuid.UUID] = []
    while True:
        page = list_assets(OWNER, query, pipeline=library.pipeline,
                           url_ttl=60)
        assert urls_of(page) <= MAX_PAGE_URLS
        seen.extend(view.asset.id for view in page.items)
        if page.next_cursor is None:
            break
        query = ListQuery(limit=200, cursor=decode_page_cursor(page.next_cursor, query.sort))
    assert seen == [asset.id for asset in reversed(created)]


def test_a_changes_page_stops_at_its_budget_of_signed_urls_and_the_cursor_goes_on() -> None:
    library = Library()
    created = many_paged_scans(library, 250)
    assert MAX_PAGE_URLS < 200 * 11  # a page of 200 of them is over budget
    since = decode_change_cursor(encode_change_cursor(ChangeCursor(0)))
    seen: list[uuid.UUID] = []
    while True:
        page = list_assets(OWNER, ListQuery(limit=200, changed_since=since),
                           pipeline=library.pipeline, url_ttl=60)
        assert urls_of(page) <= MAX_PAGE_URLS
        seen.extend(view.asset.id for view in page.items)
        if page.next_cursor is None:
            break
        since = decode_change_cursor(page.next_cursor)
    assert seen == [asset.id for asset in created]


def test_an_owners_stats_tell_only_of_their_own_bytes_and_waiting_work() -> None:
    library = Library()
    for status in (Status.PENDING, Status.UPLOADED, Status.PROCESSING, Status.READY,
                   Status.DELETED):
        library.add(status)
    library.add(Status.UPLOADED, owner="someone-else")
    jobs = FakeJobQueue()
    jobs.lanes.append(Lane.STANDARD)  # the service's queue, which every owner shares
    stats = library_stats(Principal(OWNER), pipeline_of(library.assets, library.storage, jobs))
    assert stats.counts[Status.UPLOADED] == 1 and stats.counts[Status.DELETED] == 1
    # Originals held in the bucket: uploaded, processing and ready (not pending, not deleted).
    assert stats.stored_bytes == 300
    assert stats.waiting == 2  # uploaded and processing: work still to do for this owner
    assert stats.oldest_waiting is not None
    assert stats.queues is None

    admin = library_stats(Principal(OWNER, admin=True),
                          pipeline_of(library.assets, library.storage, jobs))
    assert admin.queues is not None and admin.queues[Lane.STANDARD].waiting == 1
    assert admin.stored_bytes == 300  # an admin's own library is still only theirs
