"""Albums against a real PostgreSQL: an asset in several projects (migration 0016), the
timeline's months, and shares of a project (migration 0017)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from lightbox.adapters.assets import PostgresAssetRepository
from lightbox.adapters.migrations import apply_migrations
from lightbox.adapters.postgres import Database
from lightbox.adapters.projects import PostgresProjectRepository
from lightbox.adapters.shares import PostgresShareRepository
from lightbox.domain import Project, Share, Status
from lightbox.errors import AssetNotFound, LimitReached
from lightbox.services import listing, sharing
from lightbox.values import AssetFilter, SortOrder
from tests.integration.test_catalog import add, every_page, ready
from tests.integration.test_migrations import copy_of_migrations
from tests.support import unique_owner


@pytest.fixture
def projects(database: Database) -> PostgresProjectRepository:
    return PostgresProjectRepository(database)


@pytest.fixture
def shares(database: Database) -> PostgresShareRepository:
    return PostgresShareRepository(database)


def album(projects: PostgresProjectRepository, owner: str, name: str) -> Project:
    return projects.add(owner, uuid.uuid4(), name, max_projects=100)


def members(repo: PostgresAssetRepository, owner: str, project: Project) -> set[uuid.UUID]:
    return set(every_page(repo, owner, SortOrder.NEWEST, AssetFilter(project_id=project.id)))


def test_an_asset_is_in_two_albums_and_leaves_one(
    repo: PostgresAssetRepository, projects: PostgresProjectRepository, owner: str
) -> None:
    summer, family = album(projects, owner, "Summer"), album(projects, owner, "Family")
    uploaded_into = add(repo, owner, project_id=summer.id)
    other = add(repo, owner)
    assert uploaded_into.project_ids == (summer.id,)  # its own, before the trigger's row shows

    assert projects.add_members(owner, family.id, [uploaded_into.id, other.id, other.id]) == 2
    assert projects.add_members(owner, family.id, [other.id]) == 0  # already there: no change
    both = repo.get(owner, uploaded_into.id)
    assert both is not None and set(both.project_ids) == {summer.id, family.id}
    assert members(repo, owner, summer) == {uploaded_into.id}
    assert members(repo, owner, family) == {uploaded_into.id, other.id}
    assert projects.get(owner, family.id).asset_count == 2  # type: ignore[union-attr]

    # Leaving the album it came in with, it has no project_id; it stays in the other.
    assert projects.remove_members(owner, summer.id, [uploaded_into.id, other.id]) == 1
    left = repo.get(owner, uploaded_into.id)
    assert left is not None and left.project_id is None and left.project_ids == (family.id,)
    assert members(repo, owner, summer) == set()


def test_a_change_of_albums_is_in_the_change_feed(
    repo: PostgresAssetRepository, projects: PostgresProjectRepository, owner: str
) -> None:
    trip = album(projects, owner, "Trip")
    asset = add(repo, owner)
    before = repo.sequence(owner)
    projects.add_members(owner, trip.id, [asset.id])
    changed = repo.changes(owner, after=before, limit=10)
    assert [(a.id, a.project_ids) for a in changed] == [(asset.id, (trip.id,))]
    after_add = repo.sequence(owner)
    projects.remove_members(owner, trip.id, [asset.id])
    assert [a.project_ids for a in repo.changes(owner, after=after_add, limit=10)] == [()]


def test_nothing_is_added_unless_every_asset_is_a_live_one_of_the_owner(
    repo: PostgresAssetRepository, projects: PostgresProjectRepository, owner: str
) -> None:
    trip = album(projects, owner, "Trip")
    mine, trashed = add(repo, owner), add(repo, owner)
    assert repo.trash(owner, trashed.id) is not None
    strangers = add(repo, unique_owner())
    for intruder in (trashed.id, strangers.id, uuid.uuid4()):
        with pytest.raises(AssetNotFound):
            projects.add_members(owner, trip.id, [mine.id, intruder])
    assert members(repo, owner, trip) == set()
    # Nor into a stranger's project, nor out of it.
    assert projects.add_members(unique_owner(), trip.id, [mine.id]) is None
    assert projects.add_members(owner, trip.id, [mine.id]) == 1
    assert projects.remove_members(strangers.owner_id, trip.id, [mine.id]) is None
    assert members(repo, owner, trip) == {mine.id}


def test_a_move_leaves_the_album_it_moved_from_and_keeps_the_others(
    repo: PostgresAssetRepository, projects: PostgresProjectRepository, owner: str
) -> None:
    first, second, kept = (album(projects, owner, name) for name in ("First", "Second", "Kept"))
    asset = add(repo, owner, project_id=first.id)
    projects.add_members(owner, kept.id, [asset.id])
    moved = repo.update(owner, asset.id, filename=None, move=True, project_id=second.id)
    assert moved is not None
    found = repo.get(owner, asset.id)
    assert found is not None and set(found.project_ids) == {second.id, kept.id}
    assert found.project_id == second.id


def test_a_project_with_members_is_not_empty_and_its_deletion_lets_them_go(
    repo: PostgresAssetRepository, projects: PostgresProjectRepository, owner: str
) -> None:
    doomed, kept = album(projects, owner, "Doomed"), album(projects, owner, "Kept")
    asset = add(repo, owner)
    projects.add_members(owner, doomed.id, [asset.id])
    projects.add_members(owner, kept.id, [asset.id])
    assert not projects.delete_if_empty(owner, doomed.id)
    projects.remove_members(owner, doomed.id, [asset.id])
    assert projects.delete_if_empty(owner, doomed.id)
    found = repo.get(owner, asset.id)
    assert found is not None and found.project_ids == (kept.id,)


def test_migration_0016_keeps_every_asset_in_its_project(
    fresh_database: str, tmp_path: Path
) -> None:
    directory = copy_of_migrations(tmp_path)
    later = sorted(path for path in directory.glob("*.sql") if path.name >= "0016")
    sql = {path: path.read_text() for path in later}
    for path in later:
        path.unlink()
    apply_migrations(fresh_database, directory)
    project, asset, loose = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    with psycopg.connect(fresh_database) as connection:
        connection.execute("INSERT INTO projects (id, owner_id, name) VALUES (%s, 'o', 'p')",
                           (project,))
        for asset_id, project_id in ((asset, project), (loose, None)):
            connection.execute(
                "INSERT INTO assets (id, owner_id, project_id, filename, content_type, "
                "size_bytes) VALUES (%s, 'o', %s, 'a.jpg', 'image/jpeg', 1)",
                (asset_id, project_id))
    for path, text in sql.items():
        path.write_text(text)
    apply_migrations(fresh_database, directory)
    database = Database(fresh_database)
    try:
        moved = PostgresAssetRepository(database).get("o", asset)
        assert moved is not None and moved.project_ids == (project,)
        assert PostgresProjectRepository(database).get("o", project).asset_count == 1  # type: ignore[union-attr]
    finally:
        database.close()


def test_the_timeline_counts_months_and_each_cursor_starts_at_its_month(
    repo: PostgresAssetRepository, owner: str
) -> None:
    taken = [datetime(2019, 7, 3), datetime(2019, 7, 31, 23, 59), datetime(2019, 8, 1),
             datetime(2021, 12, 31, 12), datetime(2021, 12, 1)]
    assets = {when: ready(repo, owner, when) for when in taken}
    months = listing.timeline(owner, AssetFilter(), repo)
    assert [(f"{m.start:%Y-%m}", m.count) for m in months] == [
        ("2021-12", 2), ("2019-08", 1), ("2019-07", 2)]
    july = months[2]
    cursor = listing.decode_page_cursor(july.cursor, SortOrder.TAKEN_NEWEST)
    page = repo.page(owner, filters=AssetFilter(), sort=SortOrder.TAKEN_NEWEST, limit=10,
                     after=cursor)
    assert [a.id for a in page] == [assets[taken[1]].id, assets[taken[0]].id]


def test_a_share_opens_its_album_until_revoked_and_expired_ones_open_nothing(
    repo: PostgresAssetRepository, projects: PostgresProjectRepository,
    shares: PostgresShareRepository, owner: str, database_url: str
) -> None:
    trip = album(projects, owner, "Trip")
    shown = ready(repo, owner, datetime(2020, 1, 1))
    projects.add_members(owner, trip.id, [shown.id])
    made = sharing.share_project(owner, trip.id, sharing.ShareRequest(), shares=shares)
    opened = shares.open(sharing.token_hash(made.token))
    assert opened is not None and opened.project_id == trip.id and not opened.allow_original
    assert [s.id for s in shares.list(owner, trip.id)] == [made.share.id]
    # Another owner can neither see nor revoke it.
    assert shares.list(unique_owner(), trip.id) == []
    assert shares.revoke(unique_owner(), trip.id, made.share.id) is None
    revoked = shares.revoke(owner, trip.id, made.share.id)
    assert revoked is not None and revoked.revoked_at is not None
    assert shares.open(sharing.token_hash(made.token)) is None

    soon = datetime.now(UTC) + timedelta(milliseconds=300)
    expiring = sharing.share_project(owner, trip.id, sharing.ShareRequest(expires_at=soon),
                                     shares=shares)
    assert shares.open(sharing.token_hash(expiring.token)) is not None
    with psycopg.connect(database_url) as connection:  # its expiry, passed
        connection.execute("UPDATE shares SET expires_at = now() - interval '1 second' "
                           "WHERE id = %s", (expiring.share.id,))
    assert shares.open(sharing.token_hash(expiring.token)) is None


def test_a_share_of_a_strangers_project_is_not_made_and_live_shares_are_bounded(
    projects: PostgresProjectRepository, shares: PostgresShareRepository, owner: str
) -> None:
    trip = album(projects, owner, "Trip")
    stranger = unique_owner()
    share = Share(id=uuid.uuid4(), owner_id=stranger, project_id=trip.id, allow_original=True,
                  created_at=datetime.now(UTC))
    assert shares.add(share, b"x" * 32, max_active=5) is None
    for number in range(2):
        shares.add(Share(id=uuid.uuid4(), owner_id=owner, project_id=trip.id,
                         allow_original=False, created_at=datetime.now(UTC)),
                   bytes([number]) * 32, max_active=2)
    with pytest.raises(LimitReached):
        shares.add(Share(id=uuid.uuid4(), owner_id=owner, project_id=trip.id,
                         allow_original=False, created_at=datetime.now(UTC)),
                   b"z" * 32, max_active=2)


def test_a_shared_page_holds_only_what_has_something_to_show(
    repo: PostgresAssetRepository, projects: PostgresProjectRepository, owner: str
) -> None:
    trip = album(projects, owner, "Trip")
    shown = ready(repo, owner, datetime(2020, 1, 1))
    waiting, trashed = add(repo, owner), ready(repo, owner, datetime(2020, 2, 1))
    projects.add_members(owner, trip.id, [shown.id, waiting.id, trashed.id])
    repo.trash(owner, trashed.id)
    page = repo.page(owner, filters=AssetFilter(project_id=trip.id, shown_only=True),
                     sort=SortOrder.TAKEN_NEWEST, limit=10, after=None)
    assert [(a.id, a.status) for a in page] == [(shown.id, Status.READY)]
