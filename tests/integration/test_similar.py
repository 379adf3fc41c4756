"""Near-duplicates through the band indexes of a real PostgreSQL: exactly what a scan of every
hash finds, through an index, of one owner only, never a tombstone."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator

import psycopg
import pytest

from lightbox.adapters.assets import PostgresAssetRepository
from lightbox.adapters.migrations import apply_migrations
from lightbox.adapters.postgres import Database
from lightbox.domain import ImageInfo, NewAsset
from lightbox.services.listing import MAX_SIMILAR_DISTANCE
from tests.conftest import REPO, database_of_its_own
from tests.support import unique_owner

OWNER = "owner-similar"
INFO = ImageInfo(width=4000, height=3000, pages=1, bit_depth=8, color_mode="RGB")


def flipped(value: int, bits: int, rng: random.Random) -> int:
    """``value`` with ``bits`` of its 64 bits flipped, chosen at random."""
    for bit in rng.sample(range(64), bits):
        value ^= 1 << bit
    return value


def random_hashes(count: int, *, seed: int) -> dict[uuid.UUID, int]:
    """Mostly random hashes, and clusters of near ones: each centre with copies 1-12 bits off."""
    rng = random.Random(seed)
    hashes = {uuid.UUID(int=rng.getrandbits(128)): rng.getrandbits(64) for _ in range(count)}
    for centre in rng.sample(sorted(hashes.values()), count // 50):
        for bits in range(1, 13):
            hashes[uuid.UUID(int=rng.getrandbits(128))] = flipped(centre, bits, rng)
    return hashes


def load(url: str, owner: str, hashes: dict[uuid.UUID, int], *, status: str = "ready") -> None:
    with psycopg.connect(url) as connection, connection.cursor().copy(
            "COPY assets (id, owner_id, status, filename, content_type, size_bytes, "
            "perceptual_hash) FROM STDIN") as copy:
        for asset_id, value in hashes.items():
            signed = value - (1 << 64) if value >= 1 << 63 else value
            copy.write_row((asset_id, owner, status, "IMG.jpg", "image/jpeg", 1000, signed))


def brute_force(hashes: dict[uuid.UUID, int], reference: uuid.UUID,
                distance: int) -> list[tuple[int, uuid.UUID]]:
    return sorted(((hashes[reference] ^ value).bit_count(), asset_id)
                  for asset_id, value in hashes.items()
                  if asset_id != reference and (hashes[reference] ^ value).bit_count() <= distance)


@pytest.fixture(scope="module")
def library(postgres_url: str) -> Iterator[tuple[str, dict[uuid.UUID, int]]]:
    """A database of its own: 3000 random hashes and 60 clusters of one owner, the same hashes
    under other ids for another owner, and tombstones with the same hashes."""
    with database_of_its_own(postgres_url) as url:
        apply_migrations(url, REPO / "migrations")
        hashes = random_hashes(3000, seed=20)
        load(url, OWNER, hashes)
        copies = {uuid.uuid4(): value for value in hashes.values()}
        load(url, "owner-stranger", copies)
        load(url, OWNER, {uuid.uuid4(): value for value in list(hashes.values())[:500]},
             status="failed")
        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute("VACUUM ANALYZE assets")
        yield url, hashes


@pytest.fixture
def library_repo(library: tuple[str, dict[uuid.UUID, int]]) -> Iterator[PostgresAssetRepository]:
    database = Database(library[0])
    yield PostgresAssetRepository(database)
    database.close()


@pytest.mark.parametrize("distance", range(MAX_SIMILAR_DISTANCE + 2))
def test_the_index_finds_exactly_what_a_scan_of_every_hash_finds(
    library: tuple[str, dict[uuid.UUID, int]], library_repo: PostgresAssetRepository,
    distance: int,
) -> None:
    _, hashes = library
    rng = random.Random(distance)
    references = rng.sample(sorted(hashes), 40)
    found_any = 0
    for reference in references:
        found = library_repo.similar(OWNER, reference, distance=distance, limit=10_000)
        assert [(gap, asset.id) for asset, gap in found] == brute_force(hashes, reference,
                                                                        distance)
        assert all(asset.owner_id == OWNER and asset.status == "ready" for asset, _ in found)
        found_any += bool(found)
    if distance >= 4:  # the clusters are dense enough that some references have neighbours
        assert found_any


def test_a_walk_in_pages_finds_every_pair_once(
    library: tuple[str, dict[uuid.UUID, int]], library_repo: PostgresAssetRepository,
) -> None:
    _, hashes = library
    distance = 9
    ordered = sorted(hashes)
    expected = {(first, second, (hashes[first] ^ hashes[second]).bit_count())
                for index, first in enumerate(ordered) for second in ordered[index + 1:]
                if (hashes[first] ^ hashes[second]).bit_count() <= distance}
    pairs = set()
    after = None
    while True:
        scan = library_repo.similar_pairs(OWNER, distance=distance, after=after, scan=700,
                                          per_asset=100)
        pairs |= {(pair.asset_id, pair.similar_id, pair.distance) for pair in scan.pairs}
        if scan.last is None:
            break
        assert scan.scanned <= 700
        after = scan.last
    assert expected and pairs == expected


def test_the_queries_probe_the_band_indexes(library: tuple[str, dict[uuid.UUID, int]]) -> None:
    from lightbox.adapters.assets import _SIMILAR, _SIMILAR_PAIRS, _masks

    url, hashes = library
    params = {"owner": OWNER, "id": next(iter(hashes)), "distance": 10, "masks": _masks(10),
              "limit": 50, "after": uuid.UUID(int=0), "scan": 200, "per_asset": 50,
              "project": None}
    with psycopg.connect(url) as connection:
        for query in (_SIMILAR, _SIMILAR_PAIRS.format(project="", project_of_found="")):
            plan = "\n".join(row[0] for row in connection.execute(
                ("EXPLAIN " + query).encode(), params).fetchall())
            for band in range(4):
                assert f"Index Only Scan using assets_phash_band{band}" in plan
            assert "Seq Scan" not in plan


def test_another_owners_assets_never_appear(
    library: tuple[str, dict[uuid.UUID, int]], library_repo: PostgresAssetRepository,
) -> None:
    _, hashes = library
    for reference in list(hashes)[:50]:
        assert library_repo.similar("owner-stranger", reference, distance=11, limit=100) == []
        for asset, _ in library_repo.similar(OWNER, reference, distance=11, limit=100):
            assert asset.id in hashes
    scan = library_repo.similar_pairs(OWNER, distance=11, after=None, scan=5000, per_asset=100)
    assert {pair.asset_id for pair in scan.pairs} | {pair.similar_id for pair in scan.pairs} \
        <= set(hashes)


def ready(repo: PostgresAssetRepository, owner: str, value: int | None,
          project_id: uuid.UUID | None = None) -> uuid.UUID:
    asset = repo.add(NewAsset(id=uuid.uuid4(), owner_id=owner, filename="IMG.jpg",
                              content_type="image/jpeg", size_bytes=1000, declared_sha256=None,
                              project_id=project_id), max_pending=100)
    assert repo.mark_uploaded(owner, asset.id, "image/jpeg")
    assert repo.claim(owner, asset.id, lease_seconds=900) is not None
    assert repo.mark_ready(owner, asset.id, INFO, [], None, render_spec="spec",
                           perceptual_hash=value)
    return asset.id


def test_a_hash_is_stored_with_ready_and_read_back_whole(
    repo: PostgresAssetRepository, owner: str,
) -> None:
    high = (1 << 64) - 2  # the first bit set: a negative bigint in the database
    asset_id = ready(repo, owner, high)
    stored = repo.get(owner, asset_id)
    assert stored is not None and stored.perceptual_hash == high
    twin = ready(repo, owner, high ^ 0b101)
    assert [(asset.id, gap) for asset, gap in repo.similar(owner, asset_id, distance=2,
                                                           limit=10)] == [(twin, 2)]


def test_a_tombstone_matches_nothing_and_forgets_its_hash(
    repo: PostgresAssetRepository, owner: str,
) -> None:
    value = random.Random(7).getrandbits(64)
    kept, deleted, removed = (ready(repo, owner, value) for _ in range(3))
    assert repo.delete(owner, deleted) is not None
    assert repo.mark_removed(owner, removed)
    assert [asset.id for asset, _ in repo.similar(owner, kept, distance=0, limit=10)] == []
    assert repo.similar(owner, deleted, distance=11, limit=10) == []
    for tombstone in (deleted, removed):
        gone = repo.get(owner, tombstone)
        assert gone is not None and gone.perceptual_hash is None
    scan = repo.similar_pairs(owner, distance=11, after=None, scan=10, per_asset=10)
    assert scan.pairs == () and scan.scanned == 1


def test_assets_without_a_hash_are_left_out_and_find_nothing(
    repo: PostgresAssetRepository, owner: str,
) -> None:
    unhashed = ready(repo, owner, None)
    hashed = ready(repo, owner, 0)
    assert repo.similar(owner, unhashed, distance=11, limit=10) == []
    assert repo.similar(owner, hashed, distance=64, limit=10) == []
    scan = repo.similar_pairs(owner, distance=11, after=None, scan=10, per_asset=10)
    assert (scan.scanned, scan.last) == (1, hashed)


def test_a_walk_within_a_project_pairs_only_its_assets(
    repo: PostgresAssetRepository, database: Database, owner: str,
) -> None:
    from lightbox.adapters.projects import PostgresProjectRepository

    project = PostgresProjectRepository(database).add(owner, uuid.uuid4(), "Trip",
                                                      max_projects=10).id
    inside = sorted([ready(repo, owner, 0b1111, project), ready(repo, owner, 0b0111, project)])
    ready(repo, owner, 0b1110)  # near both, outside the project
    scan = repo.similar_pairs(owner, distance=3, after=None, scan=10, per_asset=10,
                              project_id=project)
    assert [(pair.asset_id, pair.similar_id) for pair in scan.pairs] == [tuple(inside)]
    assert scan.scanned == 2
    everywhere = repo.similar_pairs(owner, distance=3, after=None, scan=10, per_asset=10)
    assert len(everywhere.pairs) == 3


def test_a_new_owner_has_nothing_to_walk(repo: PostgresAssetRepository) -> None:
    scan = repo.similar_pairs(unique_owner(), distance=11, after=None, scan=10, per_asset=10)
    assert (scan.pairs, scan.scanned, scan.last) == ((), 0, None)
