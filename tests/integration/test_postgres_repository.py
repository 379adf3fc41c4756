"""PostgresAssetRepository against a real PostgreSQL."""

from __future__ import annotations

import threading
import uuid
from dataclasses import replace
from datetime import datetime, timedelta

import psycopg
import pytest

import lightbox.adapters.assets as assets_adapter
from lightbox.adapters.assets import PostgresAssetRepository
from lightbox.adapters.postgres import Database
from lightbox.adapters.projects import PostgresProjectRepository
from lightbox.adapters.tile_grants import PostgresTileGrantKey
from lightbox.domain import (
    Declared,
    Derivative,
    ImageInfo,
    Location,
    NewAsset,
    Pyramid,
    Status,
)
from lightbox.errors import Conflict, DatabaseUnavailable, LightboxError
from lightbox.values import AssetFilter, SortOrder
from tests.support import unique_owner


def new_asset(owner: str, **changes: object) -> NewAsset:
    fields: dict[str, object] = dict(
        id=uuid.uuid4(), owner_id=owner, filename="DSC_0042.NEF.jpg", content_type="image/jpeg",
        size_bytes=24_000_000, declared_sha256=None, project_id=None,
    )
    fields.update(changes)
    return NewAsset(**fields)  # type: ignore[arg-type]


def processing(repo: PostgresAssetRepository, owner: str) -> uuid.UUID:
    asset = repo.add(new_asset(owner), max_pending=100)
    assert repo.mark_uploaded(owner, asset.id, "image/jpeg")
    assert repo.claim(owner, asset.id, lease_seconds=900) is not None
    return asset.id


def test_an_added_asset_reads_back_pending(
    repo: PostgresAssetRepository, database: Database, owner: str
) -> None:
    project = PostgresProjectRepository(database).add(owner, uuid.uuid4(), "Scans",
                                                      max_projects=100).id
    taken = datetime(2019, 7, 14, 16, 30, 5)
    added = repo.add(new_asset(owner, filename="été/../x.jpg", declared_sha256="ab" * 32,
                               project_id=project,
                               declared=Declared(taken, Location(-33.8568, 151.2153),
                                                 "Opera\nhouse")), max_pending=100)
    assert added.status is Status.PENDING
    assert repo.get(owner, added.id) == added
    assert added.filename == "été/../x.jpg" and added.project_id == project
    assert added.declared == Declared(taken, Location(-33.8568, 151.2153), "Opera\nhouse")
    assert added.created_at.tzinfo is not None


def test_assets_are_invisible_to_other_owners(
    repo: PostgresAssetRepository, database: Database, owner: str
) -> None:
    added = repo.add(new_asset(owner), max_pending=100)
    assert repo.get(unique_owner(), added.id) is None
    assert not repo.mark_uploaded(unique_owner(), added.id, "image/jpeg")
    catalog = PostgresAssetRepository(database)
    assert catalog.page(unique_owner(), filters=AssetFilter(), sort=SortOrder.NEWEST, limit=10,
                        after=None) == []


def test_each_transition_happens_once_and_only_from_its_state(
    repo: PostgresAssetRepository, owner: str
) -> None:
    asset = repo.add(new_asset(owner), max_pending=100)
    assert repo.claim(owner, asset.id, 900) is None  # not uploaded yet
    assert repo.mark_uploaded(owner, asset.id, "image/png")
    assert not repo.mark_uploaded(owner, asset.id, "image/png")

    claimed = repo.claim(owner, asset.id, 900)
    assert claimed is not None and claimed.status is Status.PROCESSING and claimed.attempts == 1
    assert repo.claim(owner, asset.id, 900) is None

    info = ImageInfo(width=6000, height=4000, pages=1, bit_depth=8, color_mode="RGB",
                     taken_at=datetime(2026, 7, 14, 18, 30, 5), camera_make="Make",
                     camera_model="Model", orientation=6, frames=48, duration=3.25,
                     has_location=True)
    derivative = Derivative(256, 1, "jpeg", 256, 171, f"derivatives/{owner}/{asset.id}/1-256.jpg",
                            12345)
    assert repo.mark_ready(owner, asset.id, info, [derivative], "1QcSHQRnh493V4dIh4eXh1h4kJUI",
                           render_spec="spec-a")
    assert not repo.mark_ready(owner, asset.id, info, [derivative], None, render_spec="spec-a")
    assert not repo.mark_failed(owner, asset.id, expected=Status.PROCESSING, reason="late")

    ready = repo.get(owner, asset.id)
    assert ready is not None
    assert ready.status is Status.READY and ready.content_type == "image/png"
    assert ready.info == info and ready.derivatives == (derivative,)
    assert ready.placeholder == "1QcSHQRnh493V4dIh4eXh1h4kJUI"
    assert ready.updated_at > ready.created_at


def test_an_expired_claim_can_be_taken_over(repo: PostgresAssetRepository, owner: str) -> None:
    asset_id = processing(repo, owner)
    assert repo.claim(owner, asset_id, lease_seconds=900) is None
    taken = repo.claim(owner, asset_id, lease_seconds=0)
    assert taken is not None and taken.attempts == 2


def test_release_returns_the_asset_to_uploaded_with_the_reason(
    repo: PostgresAssetRepository, owner: str
) -> None:
    asset_id = processing(repo, owner)
    assert repo.release(owner, asset_id, "attempt 1 failed: SlowDown")
    released = repo.get(owner, asset_id)
    assert released is not None
    assert released.status is Status.UPLOADED and released.error == "attempt 1 failed: SlowDown"
    assert released.claimed_at is None


def test_a_tombstone_keeps_no_place_or_caption_its_client_declared(
    repo: PostgresAssetRepository, owner: str
) -> None:
    declared = Declared(datetime(2019, 7, 14, 16, 30, 5), Location(43.2965, 5.3698), "Harbour")
    removed = repo.add(new_asset(owner, declared=declared), max_pending=100).id
    deleted = repo.add(new_asset(owner, declared=declared), max_pending=100).id
    assert repo.mark_removed(owner, removed)
    assert repo.delete(owner, deleted) is not None
    for asset_id in (removed, deleted):
        tombstone = repo.get(owner, asset_id)
        assert tombstone is not None and tombstone.status is Status.DELETED
        assert tombstone.declared == Declared()


def test_filling_in_what_was_declared_keeps_what_the_asset_had_and_changes_only_if_new(
    repo: PostgresAssetRepository, owner: str
) -> None:
    undated, dated = processing(repo, owner), processing(repo, owner)
    info = ImageInfo(width=4, height=3, pages=1, bit_depth=8, color_mode="RGB",
                     has_location=False)
    assert repo.mark_ready(owner, undated, info, [], None, render_spec="")
    exif = datetime(2021, 5, 1, 9, 0)
    assert repo.mark_ready(owner, dated, replace(info, taken_at=exif), [], None, render_spec="")
    declared = Declared(datetime(2019, 7, 14, 16, 30, 5), Location(43.3, 5.37), "Harbour")

    for asset_id in (undated, dated):
        repo.fill_declared(owner, asset_id, declared)
    filled, kept = repo.get(owner, undated), repo.get(owner, dated)
    assert filled is not None and filled.info is not None and kept is not None
    assert kept.info is not None
    assert (filled.info.taken_at, filled.info.has_location) == (declared.taken_at, True)
    assert (kept.info.taken_at, kept.info.has_location) == (exif, True)  # EXIF's date wins
    assert filled.declared == declared

    # Nothing new: no change, so no event in the sync feed.
    repo.fill_declared(owner, undated, Declared(description="Another"))
    again = repo.get(owner, undated)
    assert again is not None and again.change_seq == filled.change_seq
    assert again.declared.description == "Harbour"


def test_a_removed_original_deletes_its_asset_from_any_state_once(
    repo: PostgresAssetRepository, owner: str
) -> None:
    pending = repo.add(new_asset(owner), max_pending=100).id
    working = processing(repo, owner)
    failed = processing(repo, owner)
    assert repo.mark_failed(owner, failed, expected=Status.PROCESSING, reason="corrupt")

    for asset_id in (pending, working, failed):
        assert repo.mark_removed(owner, asset_id)
        assert not repo.mark_removed(owner, asset_id)
        deleted = repo.get(owner, asset_id)
        assert deleted is not None and deleted.status is Status.DELETED  # kept as a tombstone
    # Nothing leaves deleted: a late event cannot bring the asset back.
    assert not repo.mark_uploaded(owner, pending, "image/jpeg")
    assert repo.claim(owner, working, lease_seconds=0) is None
    assert not repo.release(owner, working, "late")


def test_a_duplicate_is_not_deleted_by_the_removal_of_its_redundant_copy(
    repo: PostgresAssetRepository, owner: str
) -> None:
    sha = uuid.uuid4().hex * 2
    first, second = processing(repo, owner), processing(repo, owner)
    repo.record_content(owner, first, sha)
    assert repo.record_content(owner, second, sha) == first
    assert repo.mark_duplicate(owner, second, first)
    assert not repo.mark_removed(owner, second)


def backdate(database_url: str, asset_id: uuid.UUID, seconds: int) -> None:
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute(
            "UPDATE assets SET updated_at = now() - make_interval(secs => %s) WHERE id = %s",
            (seconds, asset_id),
        )


def test_waiting_finds_assets_left_in_a_state_too_long_oldest_first(
    repo: PostgresAssetRepository, owner: str, database_url: str
) -> None:
    fresh = repo.add(new_asset(owner), max_pending=100).id
    old = repo.add(new_asset(owner), max_pending=100).id
    older = repo.add(new_asset(owner), max_pending=100).id
    stuck = processing(repo, owner)
    backdate(database_url, old, 7200)
    backdate(database_url, older, 9000)
    backdate(database_url, stuck, 9000)

    def waiting(status: Status, limit: int = 10_000) -> list[uuid.UUID]:
        return [a.id for a in repo.waiting(status, 3600, limit) if a.owner_id == owner]

    assert waiting(Status.PENDING) == [older, old]
    assert fresh not in waiting(Status.PENDING)
    assert waiting(Status.PROCESSING) == [stuck]
    assert waiting(Status.UPLOADED) == []
    assert len(repo.waiting(Status.PENDING, 3600, 1)) == 1


def test_stranded_pages_through_everything_unchanged_since_a_moment_once_each(
    repo: PostgresAssetRepository, owner: str, database_url: str
) -> None:
    ids = [repo.add(new_asset(owner), max_pending=100).id for _ in range(5)]
    for age, asset_id in enumerate(ids):
        backdate(database_url, asset_id, 10_000 + age)  # the last is the oldest
    before = repo.get(owner, ids[0]).updated_at + timedelta(microseconds=1)  # type: ignore[union-attr]
    later = repo.add(new_asset(owner), max_pending=100).id

    seen: list[uuid.UUID] = []
    after = None
    while page := repo.stranded(Status.PENDING, before=before, after=after, limit=2):
        seen += [a.id for a in page]
        after = (page[-1].updated_at, page[-1].id)
    mine = [asset_id for asset_id in seen if asset_id in ids or asset_id == later]
    assert mine == ids[::-1]
    assert len(seen) == len(set(seen))


def test_renewing_a_waiting_asset_restarts_its_clock_for_one_caller_only(
    repo: PostgresAssetRepository, owner: str, database_url: str
) -> None:
    asset = repo.add(new_asset(owner), max_pending=100)
    backdate(database_url, asset.id, 7200)

    assert not repo.renew(owner, asset.id, Status.UPLOADED, 3600)  # not in that state
    assert repo.renew(owner, asset.id, Status.PENDING, 3600)
    assert not repo.renew(owner, asset.id, Status.PENDING, 3600)  # a second run comes too late
    assert asset.id not in [a.id for a in repo.waiting(Status.PENDING, 3600, 10_000)]


def test_a_live_upload_is_under_way_only_while_its_own_moved_lately(
    repo: PostgresAssetRepository, owner: str, database_url: str,
) -> None:
    live = repo.add(new_asset(owner), max_pending=100)
    assert repo.live_upload_under_way()
    # The same question where nothing else moved lately (undone with the transaction).
    with psycopg.connect(database_url) as connection:
        def under_way() -> bool:
            return bool(connection.execute(assets_adapter._LIVE_UNDER_WAY).fetchone()[0])

        connection.execute("UPDATE assets SET updated_at = now() - interval '61 seconds' "
                            "WHERE status IN ('pending', 'uploaded', 'processing')")
        assert not under_way()  # a presign never followed, a worker that died: not for ever
        connection.execute("UPDATE assets SET updated_at = now(), import_id = NULL, "
                           "status = 'ready' WHERE id = %s", (live.id,))
        assert not under_way()  # ready
        connection.execute("INSERT INTO imports (id, owner_id, source_bucket, source_prefix) "
                           "VALUES (%s, %s, 'b', 'p/')", (run := uuid.uuid4(), owner))
        connection.execute("UPDATE assets SET status = 'uploaded', import_id = %s, "
                           "source_bucket = 'b', source_key = 'p/x', source_etag = 'e' "
                           "WHERE id = %s", (run, live.id))
        assert not under_way()  # an import's
        connection.execute("UPDATE assets SET import_id = NULL, source_bucket = NULL, "
                           "source_key = NULL, source_etag = NULL WHERE id = %s", (live.id,))
        assert under_way()
        connection.rollback()


def plan_of(database_url: str, query: str) -> str:
    """The plan PostgreSQL picks when a sequential scan is the last resort."""
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute("SET enable_seqscan = off")
        return "\n".join(row[0] for row in connection.execute(f"EXPLAIN {query}".encode()))


@pytest.mark.parametrize(("query", "index"), [
    (assets_adapter._LIVE_UNDER_WAY, "assets_waiting_live"),
    (assets_adapter._WAITING_LIVE, "assets_waiting_live"),
    (assets_adapter._WAITING_IMPORTED, "assets_waiting_imported"),
])
def test_waiting_uses_its_partial_index(database_url: str, query: str, index: str) -> None:
    """Users' own assets and an import's each have theirs (migration 0011)."""
    plan = plan_of(database_url, query.replace("%(status)s", "'uploaded'")
                   .replace("%(age)s", "600").replace("%(limit)s", "200"))
    assert f"Scan using {index}" in plan  # an index scan, or one of the index only


def test_the_second_asset_with_the_same_bytes_learns_the_first(
    repo: PostgresAssetRepository, owner: str
) -> None:
    sha = uuid.uuid4().hex * 2
    first, second = processing(repo, owner), processing(repo, owner)
    assert repo.record_content(owner, first, sha) is None
    assert repo.record_content(owner, second, sha) == first
    assert repo.mark_duplicate(owner, second, first)

    found = repo.find_by_content(owner, sha)
    assert found is not None and found.id == first
    assert repo.find_by_content(unique_owner(), sha) is None


def test_an_asset_becomes_a_duplicate_only_of_a_live_holder(
    repo: PostgresAssetRepository, owner: str, database_url: str
) -> None:
    sha = uuid.uuid4().hex * 2
    holder, copy = processing(repo, owner), processing(repo, owner)
    repo.record_content(owner, holder, sha)
    assert repo.record_content(owner, copy, sha) == holder
    marked: list[bool] = []
    with psycopg.connect(database_url) as deleting:  # a deletion under way, not yet committed
        deleting.execute("UPDATE assets SET status = 'deleted' WHERE id = %s", (holder,))
        marker = threading.Thread(
            target=lambda: marked.append(repo.mark_duplicate(owner, copy, holder)))
        marker.start()
        marker.join(timeout=0.5)
        assert marker.is_alive()  # waits for the deletion to end
        deleting.commit()
    marker.join()

    assert marked == [False]
    current = repo.get(owner, copy)
    assert current is not None and current.status is Status.PROCESSING


def test_a_duplicate_is_added_once_per_project_and_only_of_a_live_holder(
    repo: PostgresAssetRepository, database: Database, owner: str
) -> None:
    sha = uuid.uuid4().hex * 2
    holder = processing(repo, owner)
    repo.record_content(owner, holder, sha)
    project = PostgresProjectRepository(database).add(owner, uuid.uuid4(), "Trip", max_projects=100)
    copy = repo.add_duplicate(new_asset(owner, project_id=project.id, filename="b.jpg"), holder)

    assert copy is not None
    assert (copy.status, copy.duplicate_of, copy.project_id, copy.sha256, copy.filename) == (
        Status.DUPLICATE, holder, project.id, sha, "b.jpg")
    again = repo.add_duplicate(new_asset(owner, project_id=project.id), holder)
    assert again is not None and again.id == copy.id
    assert {a.id for a in PostgresAssetRepository(database).get_many(owner, [holder, copy.id])} == {
        holder, copy.id}
    assert PostgresAssetRepository(database).get_many(unique_owner(), [holder]) == []

    assert PostgresAssetRepository(database).delete(owner, holder) is not None
    assert repo.add_duplicate(new_asset(owner), holder) is None


def test_concurrent_workers_with_the_same_bytes_leave_exactly_one_original(
    repo: PostgresAssetRepository, database_url: str, owner: str
) -> None:
    sha = uuid.uuid4().hex * 2
    ids = [processing(repo, owner) for _ in range(8)]
    results: dict[uuid.UUID, uuid.UUID | None] = {}
    barrier = threading.Barrier(len(ids))

    def worker(asset_id: uuid.UUID) -> None:
        database = Database(database_url)  # one connection per worker, as in Lambda
        barrier.wait()
        results[asset_id] = PostgresAssetRepository(database).record_content(owner, asset_id, sha)
        database.close()

    threads = [threading.Thread(target=worker, args=(asset_id,)) for asset_id in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    originals = [asset_id for asset_id, existing in results.items() if existing is None]
    assert len(originals) == 1
    assert all(existing == originals[0] for existing in results.values() if existing is not None)


def test_an_unreachable_database_is_unavailable_not_a_crash() -> None:
    repo = PostgresAssetRepository(
        Database("postgresql://nobody@127.0.0.1:1/none", connect_timeout=1)
    )
    with pytest.raises(DatabaseUnavailable, match="database unavailable"):
        repo.get("owner", uuid.uuid4())


def test_a_broken_connection_is_replaced_on_the_next_call(
    database: Database, repo: PostgresAssetRepository, database_url: str, owner: str
) -> None:
    added = repo.add(new_asset(owner), max_pending=100)
    with database.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid() AS pid")
        row = cursor.fetchone()
    assert row is not None
    with psycopg.connect(database_url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (row["pid"],))
    with pytest.raises(DatabaseUnavailable):
        repo.get(owner, added.id)
    assert repo.get(owner, added.id) == added


def test_a_password_source_is_asked_at_every_new_connection(database_url: str) -> None:
    asked: list[int] = []

    def password() -> str:
        asked.append(1)
        return "token-of-the-moment"

    database = Database(database_url, password=password)
    for _ in range(2):
        with database.cursor() as cursor:
            cursor.execute("SELECT 1")
    assert len(asked) == 1  # one connection, reused
    database.close()
    with database.cursor() as cursor:
        cursor.execute("SELECT 1")
    database.close()
    assert len(asked) == 2


def test_a_tiled_asset_is_found_by_id_alone_only_while_ready_and_out_of_the_trash(
    repo: PostgresAssetRepository, database: Database, owner: str
) -> None:
    asset_id = processing(repo, owner)
    info = ImageInfo(width=20000, height=14000, pages=1, bit_depth=8, color_mode="RGB")
    untiled_id = processing(repo, owner)
    assert repo.mark_ready(owner, untiled_id, info, [], None, render_spec="s")
    assert repo.get_tiled(untiled_id) is None and repo.get(owner, untiled_id).tiles is None  # type: ignore[union-attr]
    assert repo.get_tiled(asset_id) is None  # not ready yet
    assert repo.mark_ready(owner, asset_id, info, [], None, render_spec="s",
                           tiles=Pyramid(20000, 14000))
    found = repo.get_tiled(asset_id)
    assert found is not None and found.owner_id == owner and found.tiles == Pyramid(20000, 14000)
    assert repo.trash(owner, asset_id) is not None
    assert repo.get_tiled(asset_id) is None
    assert repo.restore(owner, asset_id) is not None
    lease = repo.take_rerender(owner, asset_id, "t", 900)
    assert lease is not None and lease.asset.tiles == Pyramid(20000, 14000)
    assert repo.replace_derivatives(lease, [], None, "t", tiles=None) == ()
    assert repo.get_tiled(asset_id) is None and repo.get(owner, asset_id).tiles is None  # type: ignore[union-attr]
    with pytest.raises(LightboxError, match="assets_tiles_whole"):  # a pyramid is whole or none
        database.execute("UPDATE assets SET tiles_width = 1 WHERE id = %(id)s", {"id": asset_id})


def test_the_tile_grant_key_is_32_random_bytes_made_once_for_the_deployment(
    database: Database
) -> None:
    secret = PostgresTileGrantKey(lambda: database).secret()
    assert len(secret) == 32 and secret == PostgresTileGrantKey(lambda: database).secret()
    assert secret != bytes(32)
    with pytest.raises(Conflict, match="tile_grant_key_pkey"):  # one key, never a second
        database.execute("INSERT INTO tile_grant_key (secret) VALUES (%(s)s)", {"s": bytes(32)})
