"""PostgresAssetRepository, PostgresProjectRepository and PostgresApiKeyRepository against a real
PostgreSQL: listing, the change feed under concurrent writers, deletion, projects, keys."""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import psycopg
import pytest

from lightbox import filetypes
from lightbox.adapters.api_keys import PostgresApiKeyRepository
from lightbox.adapters.assets import PostgresAssetRepository
from lightbox.adapters.migrations import apply_migrations
from lightbox.adapters.postgres import Database
from lightbox.adapters.projects import PostgresProjectRepository
from lightbox.domain import Asset, ImageInfo, NewAsset, Principal, Status
from lightbox.errors import ProjectExists
from lightbox.services import auth
from lightbox.values import AssetFilter, LegacyChangeCursor, PageCursor, SortOrder, StatusTotal
from tests.conftest import REPO, database_of_its_own
from tests.support import unique_owner

NIL = uuid.UUID(int=0)


@pytest.fixture
def catalog(database: Database) -> PostgresAssetRepository:
    return PostgresAssetRepository(database)


@pytest.fixture
def projects(database: Database) -> PostgresProjectRepository:
    return PostgresProjectRepository(database)


def add(repo: PostgresAssetRepository, owner: str, **changes: object) -> Asset:
    fields: dict[str, object] = dict(
        id=uuid.uuid4(), owner_id=owner, filename="a.jpg", content_type="image/jpeg",
        size_bytes=1000, declared_sha256=None, project_id=None)
    fields.update(changes)
    return repo.add(NewAsset(**fields), max_pending=100)  # type: ignore[arg-type]


def ready(repo: PostgresAssetRepository, owner: str, taken: datetime | None) -> Asset:
    asset = add(repo, owner)
    assert repo.mark_uploaded(owner, asset.id, "image/jpeg")
    assert repo.claim(owner, asset.id, 900)
    info = ImageInfo(width=4, height=3, pages=1, bit_depth=8, color_mode="RGB", taken_at=taken)
    assert repo.mark_ready(owner, asset.id, info, [], None, render_spec="")
    found = repo.get(owner, asset.id)
    assert found is not None
    return found


def every_page(catalog: PostgresAssetRepository, owner: str, sort: SortOrder,
               filters: AssetFilter | None = None, limit: int = 2) -> list[uuid.UUID]:
    seen: list[uuid.UUID] = []
    after = None
    while True:
        page = catalog.page(owner, filters=filters or AssetFilter(), sort=sort, limit=limit,
                            after=after)
        if not page:
            return seen
        seen.extend(asset.id for asset in page)
        after = PageCursor(sort.key_of(page[-1]), page[-1].id)


def test_keyset_pages_in_each_order_skip_nothing_and_repeat_nothing(
    repo: PostgresAssetRepository, catalog: PostgresAssetRepository, owner: str
) -> None:
    added = [add(repo, owner) for _ in range(5)]
    late = ready(repo, owner, datetime(2021, 6, 1))
    early = ready(repo, owner, datetime(2019, 6, 1))
    by_creation = sorted([*added, late, early], key=lambda a: (a.created_at, a.id))
    assert every_page(catalog, owner, SortOrder.NEWEST) == [a.id for a in reversed(by_creation)]
    assert every_page(catalog, owner, SortOrder.OLDEST) == [a.id for a in by_creation]
    by_taken = [early.id, late.id, *(a.id for a in sorted(added, key=lambda a: (a.created_at, a.id)))]
    assert every_page(catalog, owner, SortOrder.TAKEN_OLDEST) == by_taken
    assert every_page(catalog, owner, SortOrder.TAKEN_NEWEST) == list(reversed(by_taken))


@pytest.mark.parametrize("sort", [SortOrder.NEWEST, SortOrder.OLDEST])
def test_keyset_pages_stay_stable_while_assets_are_added(
    repo: PostgresAssetRepository, catalog: PostgresAssetRepository, owner: str, sort: SortOrder
) -> None:
    """Every asset there before the first page is listed exactly once, however many arrive
    between pages (at the top for newest first, at the bottom for oldest first)."""
    before = {add(repo, owner).id for _ in range(9)}
    seen: list[uuid.UUID] = []
    after = None
    while True:
        page = catalog.page(owner, filters=AssetFilter(), sort=sort, limit=2, after=after)
        if not page:
            break
        seen.extend(asset.id for asset in page)
        after = PageCursor(sort.key_of(page[-1]), page[-1].id)
        if len(seen) <= 8:  # new arrivals during the first pages (oldest first, it must end)
            for _ in range(3):
                add(repo, owner)
    assert len(seen) == len(set(seen))
    assert before <= set(seen)


def test_filters_narrow_the_listing_and_deleted_assets_stay_hidden(
    repo: PostgresAssetRepository, catalog: PostgresAssetRepository,
    projects: PostgresProjectRepository, owner: str,
) -> None:
    album = projects.add(owner, uuid.uuid4(), "Album", max_projects=100)
    in_album = add(repo, owner, project_id=album.id)
    png = add(repo, owner, content_type="image/png")
    dated = ready(repo, owner, datetime(2020, 3, 1, 10))
    gone = add(repo, owner)
    assert catalog.delete(owner, gone.id) is not None

    def ids(**filters: object) -> set[uuid.UUID]:
        return set(every_page(catalog, owner, SortOrder.NEWEST,
                              AssetFilter(**filters)))  # type: ignore[arg-type]

    assert ids() == {in_album.id, png.id, dated.id}
    assert ids(project_id=album.id) == {in_album.id}
    assert ids(content_type="image/png") == {png.id}
    assert ids(status=Status.READY) == {dated.id}
    assert ids(status=Status.DELETED) == {gone.id}
    assert ids(taken_from=datetime(2020, 3, 1), taken_until=datetime(2020, 3, 2)) == {dated.id}
    assert ids(taken_from=datetime(2020, 3, 2)) == set()


def write_randomly(database_url: str, owner: str, seed: int, stop: threading.Event,
                   errors: list[BaseException]) -> None:
    """Insert, change and delete assets until told to stop, some transactions held open
    while later ones commit."""
    rng = random.Random(seed)
    mine: list[uuid.UUID] = []
    try:
        with psycopg.connect(database_url) as connection:
            while not stop.is_set():
                with connection.transaction():
                    if not mine or rng.random() < 0.5:
                        mine.append(uuid.uuid4())
                        connection.execute(
                            "INSERT INTO assets (id, owner_id, filename, content_type, "
                            "size_bytes) VALUES (%s, %s, 'a.jpg', 'image/jpeg', 1)",
                            (mine[-1], owner))
                    else:
                        connection.execute(
                            "UPDATE assets SET status = %s, updated_at = now() WHERE id = %s",
                            (rng.choice(["uploaded", "failed", "deleted"]), rng.choice(mine)))
                    stop.wait(rng.choice([0, 0, 0, 0.02, 0.05]))
    except BaseException as exc:
        errors.append(exc)


def follow(catalog: PostgresAssetRepository, owner: str, cursor: int,
           seen: dict[uuid.UUID, Status]) -> int:
    """Read the feed in small pages until caught up, as a client does; the next cursor."""
    while True:
        changes = catalog.changes(owner, after=cursor, limit=7)
        for asset in changes:
            seen[asset.id] = asset.status
        if changes:
            # As the listing service does: on to the last change read, even from a short page.
            cursor = changes[-1].change_seq
        if len(changes) < 7:
            return cursor


def test_the_change_feed_never_misses_a_change_under_concurrent_writers(
    database_url: str, catalog: PostgresAssetRepository, owner: str
) -> None:
    """Four writers commit in any order while a reader follows the feed. When the writers
    stop, the reader's view equals the table: every asset, in its last state."""
    stop = threading.Event()
    errors: list[BaseException] = []
    writers = [threading.Thread(target=write_randomly,
                                args=(database_url, owner, seed, stop, errors))
               for seed in range(4)]
    for thread in writers:
        thread.start()
    seen: dict[uuid.UUID, Status] = {}
    cursor = 0
    try:
        # An owner's writers wait for each other's open transactions: run until they made 60.
        deadline = time.monotonic() + 60
        while len(seen) < 60 and time.monotonic() < deadline:
            cursor = follow(catalog, owner, cursor, seen)
            stop.wait(0.01)
    finally:
        stop.set()
        for thread in writers:
            thread.join()
    assert not errors, errors
    follow(catalog, owner, cursor, seen)
    with psycopg.connect(database_url) as connection:
        truth = {row[0]: Status(row[1]) for row in connection.execute(
            "SELECT id, status FROM assets WHERE owner_id = %s", (owner,))}
    assert len(truth) > 50
    assert seen == truth


def test_a_listing_sync_cursor_catches_what_changes_after_the_listing(
    repo: PostgresAssetRepository, catalog: PostgresAssetRepository, owner: str
) -> None:
    before = add(repo, owner)
    sequence = catalog.sequence(owner)
    after = add(repo, owner)
    assert catalog.delete(owner, before.id) is not None
    changes = catalog.changes(owner, after=sequence, limit=10)
    assert {a.id: a.status for a in changes} == {after.id: Status.PENDING,
                                                 before.id: Status.DELETED}


def test_each_owner_has_a_sequence_of_their_own_that_others_never_move(
    repo: PostgresAssetRepository, catalog: PostgresAssetRepository, owner: str
) -> None:
    other = unique_owner()
    assert catalog.sequence(owner) == 0
    mine = [add(repo, owner) for _ in range(3)]
    assert [asset.change_seq for asset in mine] == [1, 2, 3]  # nothing of anyone else's
    for _ in range(5):
        add(repo, other)
    assert catalog.sequence(owner) == 3 and catalog.sequence(other) == 5
    assert catalog.changes(owner, after=3, limit=10) == []
    assert catalog.delete(owner, mine[0].id) is not None
    assert [(a.id, a.change_seq) for a in catalog.changes(owner, after=3, limit=10)] == [
        (mine[0].id, 4)]
    assert catalog.sequence(other) == 5


def test_a_writer_waits_for_the_owners_earlier_writer_and_never_for_another_owners(
    database_url: str, catalog: PostgresAssetRepository, owner: str
) -> None:
    """An owner's changes commit in sequence order: a later number is taken only once the
    transaction holding the earlier one has ended, so a reader that saw it cannot skip it."""
    other = unique_owner()
    insert = INSERT
    first, second, theirs = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    committed = threading.Event()
    with psycopg.connect(database_url) as slow:
        slow.execute(insert, (first, owner))  # its transaction stays open
        with psycopg.connect(database_url, autocommit=True) as stranger:
            stranger.execute(insert, (theirs, other))  # not held up by the open transaction

        def later_writer() -> None:
            with psycopg.connect(database_url, autocommit=True) as connection:
                connection.execute(insert, (second, owner))
            committed.set()

        writer = threading.Thread(target=later_writer)
        writer.start()
        assert not committed.wait(0.5)  # waits for the owner's open transaction
        assert catalog.changes(owner, after=0, limit=10) == []
        slow.commit()
    writer.join(timeout=10)
    assert committed.is_set()
    assert [(a.id, a.change_seq) for a in catalog.changes(owner, after=0, limit=10)] == [
        (first, 1), (second, 2)]
    assert [a.id for a in catalog.changes(other, after=0, limit=10)] == [theirs]


INSERT = ("INSERT INTO assets (id, owner_id, filename, content_type, size_bytes) "
          "VALUES (%s, %s, 'a.jpg', 'image/jpeg', 1)")


def test_a_cursor_issued_before_the_owner_sequences_re_reads_rather_than_misses(
    postgres_url: str, fresh_database: str, tmp_path: Path
) -> None:
    """A client keeps a cursor of the transaction-id feed across the upgrade (migration 0006):
    it is mapped into its owner's sequence so that everything it had not seen comes again."""
    earlier = tmp_path / "migrations"
    earlier.mkdir()
    for path in sorted((REPO / "migrations").glob("*.sql")):
        if path.name < "0006":
            (earlier / path.name).write_text(path.read_text())
    apply_migrations(fresh_database, earlier)
    owner = unique_owner()
    with psycopg.connect(fresh_database, autocommit=True) as connection:
        for _ in range(6):
            connection.execute(INSERT, (uuid.uuid4(), owner))  # a transaction each
        connection.execute(INSERT, (uuid.uuid4(), unique_owner()))
        order = connection.execute(
            "SELECT change_xid::text::bigint, id FROM assets WHERE owner_id = %s "
            "ORDER BY change_xid, id", (owner,)).fetchall()
        row = connection.execute(
            "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint").fetchone()
        assert row is not None
        horizon = row[0]  # a caught-up client's cursor, as the old listing gave it
        read_up_to = LegacyChangeCursor(xid=order[2][0], asset_id=order[2][1])
        connection.execute("UPDATE assets SET filename = 'b.jpg' WHERE id = %s", (order[1][1],))
    apply_migrations(fresh_database, REPO / "migrations")
    new = uuid.uuid4()
    with psycopg.connect(fresh_database, autocommit=True) as connection:
        connection.execute("UPDATE assets SET filename = 'c.jpg' WHERE id = %s", (order[0][1],))
        connection.execute(INSERT, (new, owner))
    database = Database(fresh_database)
    try:
        catalog = PostgresAssetRepository(database)

        def changed_after(legacy: LegacyChangeCursor) -> set[uuid.UUID]:
            since = catalog.sequence_at(owner, legacy)
            return {asset.id for asset in catalog.changes(owner, after=since, limit=100)}

        unseen = {order[1][1], order[3][1], order[4][1], order[5][1], order[0][1], new}
        assert changed_after(read_up_to) == unseen  # and not what it had read, unchanged
        assert changed_after(LegacyChangeCursor(xid=horizon, asset_id=NIL)) >= {
            order[1][1], order[0][1], new}
        assert catalog.sequence(owner) == 8  # the owner's 6 changes, 2 more: no one else's
    finally:
        database.close()


def test_delete_leaves_a_tombstone_until_purged_and_says_what_to_remove(
    repo: PostgresAssetRepository, catalog: PostgresAssetRepository, owner: str
) -> None:
    asset = add(repo, owner, multipart_upload_id="upload-1")
    deleted = catalog.delete(owner, asset.id)
    assert deleted is not None and deleted.status is Status.DELETED
    assert deleted.multipart_upload_id == "upload-1"  # so that the purge aborts it
    assert catalog.delete(owner, asset.id) is None  # once
    assert catalog.delete(unique_owner(), asset.id) is None
    assert asset.id in {a.id for a in catalog.unpurged(0, 1000)}
    catalog.mark_purged(owner, asset.id)
    assert asset.id not in {a.id for a in catalog.unpurged(0, 1000)}


def test_update_renames_and_moves_only_a_live_asset_of_its_owner(
    repo: PostgresAssetRepository, catalog: PostgresAssetRepository,
    projects: PostgresProjectRepository, owner: str,
) -> None:
    album = projects.add(owner, uuid.uuid4(), "Album", max_projects=100)
    asset = add(repo, owner)
    moved = catalog.update(owner, asset.id, filename=None, move=True, project_id=album.id)
    assert moved is not None and moved.project_id == album.id and moved.filename == "a.jpg"
    renamed = catalog.update(owner, asset.id, filename="b.jpg", move=False, project_id=None)
    assert renamed is not None and renamed.filename == "b.jpg" and renamed.project_id == album.id
    unfiled = catalog.update(owner, asset.id, filename=None, move=True, project_id=None)
    assert unfiled is not None and unfiled.project_id is None
    assert catalog.update(unique_owner(), asset.id, filename="x", move=False,
                          project_id=None) is None


def test_retry_resets_only_a_failed_asset(
    repo: PostgresAssetRepository, catalog: PostgresAssetRepository, owner: str
) -> None:
    asset = add(repo, owner)
    assert not catalog.reset_failed(owner, asset.id)
    assert repo.mark_failed(owner, asset.id, expected=Status.PENDING, reason="broken")
    assert catalog.reset_failed(owner, asset.id)
    again = repo.get(owner, asset.id)
    assert again is not None and again.status is Status.PENDING and again.error is None


def test_totals_per_status_count_size_and_age_of_the_owners_assets_only(
    repo: PostgresAssetRepository, catalog: PostgresAssetRepository, owner: str
) -> None:
    add(repo, owner, size_bytes=100)
    add(repo, owner, size_bytes=20)
    first = ready(repo, owner, None)
    later = ready(repo, owner, None)
    add(repo, unique_owner(), size_bytes=5000)  # another owner's: not counted
    totals = catalog.totals(owner)
    assert set(totals) == set(Status)
    assert (totals[Status.PENDING].count, totals[Status.PENDING].size_bytes) == (2, 120)
    assert (totals[Status.READY].count, totals[Status.READY].size_bytes) == (2, 2000)
    assert totals[Status.READY].oldest_update == min(first.updated_at, later.updated_at)
    assert totals[Status.FAILED] == StatusTotal(count=0, size_bytes=0, oldest_update=None)


@pytest.mark.parametrize(("first", "same"), [
    ("Straße", "STRASSE"),
    ("STRAẞE", "strasse"),
    ("ΟΔΟΣ", "οδος"),
    ("ＦＩＬＭ", "film"),
    ("ﬁnal cut", "FINAL CUT"),
    ("Été", "ÉTÉ"),
])
def test_names_that_are_one_name_under_the_rule_collide_and_find_each_other(
    projects: PostgresProjectRepository, owner: str, first: str, same: str,
) -> None:
    album = projects.add(owner, uuid.uuid4(), first, max_projects=100)
    with pytest.raises(ProjectExists):
        projects.add(owner, uuid.uuid4(), same, max_projects=100)
    other = projects.add(owner, uuid.uuid4(), f"{first} 2", max_projects=100)
    with pytest.raises(ProjectExists):
        projects.rename(owner, other.id, same)
    found = projects.find_by_name(owner, same)
    assert found is not None and found.id == album.id and found.name == first
    assert projects.find_by_name(owner, f"{same} 3") is None
    assert projects.find_by_name(unique_owner(), same) is None


def test_projects_are_per_owner_with_unique_names_and_delete_only_when_empty(
    repo: PostgresAssetRepository, catalog: PostgresAssetRepository,
    projects: PostgresProjectRepository, owner: str,
) -> None:
    album = projects.add(owner, uuid.uuid4(), "Holidays", max_projects=100)
    with pytest.raises(ProjectExists):
        projects.add(owner, uuid.uuid4(), "holidays", max_projects=100)
    other = unique_owner()
    projects.add(other, uuid.uuid4(), "Holidays", max_projects=100)  # another owner's namespace
    asset = add(repo, owner, project_id=album.id)
    listed = projects.list(owner)
    assert [(p.name, p.asset_count) for p in listed] == [("Holidays", 1)]
    assert projects.get(other, album.id) is None
    assert not projects.delete_if_empty(owner, album.id)
    assert catalog.delete(owner, asset.id) is not None
    assert projects.delete_if_empty(owner, album.id)
    tombstone = repo.get(owner, asset.id)
    assert tombstone is not None and tombstone.project_id is None  # the tombstone stays


def test_api_keys_are_found_by_hash_until_revoked(database: Database) -> None:
    keys = PostgresApiKeyRepository(database)
    owner = unique_owner()
    new = auth.create_key(owner, "laptop", keys=keys)
    assert new.secret.startswith("lbk_") and len(new.secret) > 40
    assert keys.principal_of(auth.hash_key(new.secret)) == Principal(owner, admin=False)
    assert keys.principal_of(auth.hash_key(new.secret + "x")) is None
    (listed,) = keys.list(owner)
    assert listed.prefix == new.secret[:10] and listed.last_used_at is not None
    assert not listed.admin
    with psycopg.connect(database._url) as connection:
        stored = connection.execute("SELECT secret_hash FROM api_keys WHERE id = %s",
                                    (new.key.id,)).fetchone()
    assert stored is not None and new.secret.encode() not in bytes(stored[0])
    assert keys.revoke(unique_owner(), new.key.id) is None  # not another owner's to revoke
    assert keys.revoke(owner, new.key.id) is not None
    assert keys.principal_of(auth.hash_key(new.secret)) is None


def test_an_admin_key_is_stored_as_one_and_names_an_admin(database: Database) -> None:
    keys = PostgresApiKeyRepository(database)
    owner = unique_owner()
    new = auth.create_key(owner, "console", admin=True, keys=keys)
    assert keys.principal_of(auth.hash_key(new.secret)) == Principal(owner, admin=True)
    assert [key.admin for key in keys.list(owner)] == [True]


@pytest.fixture(scope="module")
def filled_database(postgres_url: str) -> Iterator[str]:
    """A database of its own with 20 000 assets of 10 owners, analysed: plans as in use."""
    with database_of_its_own(postgres_url) as url:
        apply_migrations(url, REPO / "migrations")
        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute("""
                INSERT INTO assets (id, owner_id, status, filename, content_type, size_bytes,
                                    taken_at, created_at)
                SELECT gen_random_uuid(), 'owner-' || (g % 10), 'ready', 'a.jpg', 'image/jpeg',
                       1, timestamp '2020-01-01' + g * interval '1 hour',
                       now() - g * interval '1 minute'
                FROM generate_series(1, 20000) AS g
            """)
            connection.execute("ANALYZE assets")
        yield url


def plan_of(database_url: str, query: str) -> str:
    with psycopg.connect(database_url) as connection:
        rows = connection.execute(f"EXPLAIN {query}".encode()).fetchall()
    return "\n".join(row[0] for row in rows)


@pytest.mark.parametrize(("query", "index"), [
    ("SELECT id FROM assets WHERE owner_id = 'owner-1' AND status <> 'deleted' "
     "AND (created_at, id) < (now(), gen_random_uuid()) ORDER BY created_at DESC, id DESC "
     "LIMIT 51", "assets_owner_recent"),
    ("SELECT id FROM assets WHERE owner_id = 'owner-1' AND status <> 'deleted' "
     "AND (taken_sort, id) > ('2020-01-01', gen_random_uuid()) ORDER BY taken_sort, id "
     "LIMIT 51", "assets_owner_taken"),
    ("SELECT id FROM assets WHERE owner_id = 'owner-1' AND change_seq > 5 ORDER BY change_seq "
     "LIMIT 51", "assets_owner_change_seq"),
])
def test_listing_queries_use_their_index(filled_database: str, query: str, index: str) -> None:
    plan = plan_of(filled_database, query)
    assert index in plan and "Sort" not in plan, plan


# --- the trash --------------------------------------------------------------------------------

def test_the_trash_keeps_an_asset_as_it_was_out_of_listings_and_counts(
    repo: PostgresAssetRepository, catalog: PostgresAssetRepository,
    projects: PostgresProjectRepository, owner: str,
) -> None:
    album = projects.add(owner, uuid.uuid4(), "Album", max_projects=100)
    kept = ready(repo, owner, None)
    trashed = ready(repo, owner, None)
    for asset in (kept, trashed):
        catalog.update(owner, asset.id, filename=None, move=True, project_id=album.id)
    before = repo.get(owner, trashed.id)
    assert before is not None

    moved = catalog.trash(owner, trashed.id)
    assert moved is not None and moved.shown_status is Status.TRASHED
    assert (moved.status, moved.project_id, moved.info) == (Status.READY, album.id, before.info)
    assert moved.change_seq > before.change_seq
    again = catalog.trash(owner, trashed.id)  # no change the second time
    assert again is not None and (again.trashed_at, again.change_seq) == (
        moved.trashed_at, moved.change_seq)
    assert catalog.trash(unique_owner(), trashed.id) is None

    everything = SortOrder.NEWEST
    assert every_page(catalog, owner, everything) == [kept.id]
    assert every_page(catalog, owner, everything,
                      AssetFilter(status=Status.READY, project_id=album.id)) == [kept.id]
    assert every_page(catalog, owner, everything, AssetFilter(status=Status.TRASHED)) == [
        trashed.id]
    totals = catalog.totals(owner)
    assert (totals[Status.READY].count, totals[Status.TRASHED].count) == (1, 1)
    assert totals[Status.TRASHED].size_bytes == trashed.size_bytes
    assert projects.get(owner, album.id).asset_count == 1  # type: ignore[union-attr]

    restored = catalog.restore(owner, trashed.id)
    assert restored is not None and restored.trashed_at is None
    assert (restored.status, restored.project_id, restored.info) == (
        Status.READY, album.id, before.info)
    assert catalog.restore(owner, trashed.id) == restored  # not in the trash: as it is


def test_what_is_deleted_from_the_trash_is_what_stayed_there_long_enough(
    repo: PostgresAssetRepository, catalog: PostgresAssetRepository, owner: str,
    database_url: str,
) -> None:
    old, recent, restored = (ready(repo, owner, None) for _ in range(3))
    for asset in (old, recent, restored):
        catalog.trash(owner, asset.id)
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute("UPDATE assets SET trashed_at = now() - interval '31 days' "
                           "WHERE id = ANY(%s)", ([old.id, restored.id],))
    catalog.restore(owner, restored.id)
    month = 30 * 86_400

    assert [a.id for a in catalog.trashed(owner, older_than_seconds=month, limit=10)] == [old.id]
    assert {a.id for a in catalog.trashed(owner, older_than_seconds=0, limit=10)} == {
        old.id, recent.id}
    assert old.id in {a.id for a in catalog.trashed(None, older_than_seconds=month, limit=10_000)}
    assert catalog.trashed(unique_owner(), older_than_seconds=0, limit=10) == []
    # Deleted only if still in the trash for that long.
    assert catalog.delete(owner, recent.id, trashed_for_seconds=month) is None
    assert catalog.delete(owner, restored.id, trashed_for_seconds=0) is None
    gone = catalog.delete(owner, old.id, trashed_for_seconds=month)
    assert gone is not None and gone.status is Status.DELETED
    assert repo.get(owner, old.id).trashed_at is None  # type: ignore[union-attr]


# --- search -----------------------------------------------------------------------------------

def test_assets_are_found_by_kind_camera_and_filename_text_taken_as_written(
    repo: PostgresAssetRepository, catalog: PostgresAssetRepository, owner: str,
) -> None:
    def shot(filename: str, content_type: str, make: str | None, model: str | None) -> uuid.UUID:
        asset = add(repo, owner, filename=filename, content_type=content_type)
        assert repo.mark_uploaded(owner, asset.id, content_type)
        assert repo.claim(owner, asset.id, 900)
        info = ImageInfo(width=4, height=3, pages=1, bit_depth=8, color_mode="RGB",
                         camera_make=make, camera_model=model)
        assert repo.mark_ready(owner, asset.id, info, [], None, render_spec="")
        return asset.id

    fuji = shot("DSCF0001.RAF", "image/x-fuji-raf", "FUJIFILM", "X-T5")
    phone = shot("IMG_0001.HEIC", "image/heic", "Apple", "iPhone 15 Pro")
    clip = shot("IMG_0002.MOV", "video/quicktime", "Apple", "iPhone 15 Pro")
    scan = shot("tax 2019_50%.pdf", "application/pdf", None, None)
    other = shot("tax 2019X50 .pdf", "application/pdf", None, None)  # a LIKE of "_" and "%"

    def found(**filters: object) -> set[uuid.UUID]:
        return set(every_page(catalog, owner, SortOrder.NEWEST, AssetFilter(**filters)))

    assert found(content_types=filetypes.KINDS["photo"]) == {fuji, phone}
    assert found(content_types=filetypes.KINDS["raw"]) == {fuji}
    assert found(content_types=filetypes.KINDS["video"]) == {clip}
    assert found(content_types=filetypes.KINDS["document"]) == {scan, other}
    assert found(camera="fujifilm x-t") == {fuji}
    assert found(camera="IPHONE") == {phone, clip}
    assert found(camera="iphone", content_types=filetypes.KINDS["video"]) == {clip}
    assert found(text="img_") == {phone, clip}
    assert found(text="2019_50%") == {scan}
    assert found(text="dscf0001.raf") == {fuji}
    assert found(text="nothing") == set()
