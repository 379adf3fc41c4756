"""The migration runner against real PostgreSQL databases of their own."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import psycopg
import pytest

from lightbox.adapters.migrations import apply_migrations, discover
from lightbox.errors import DatabaseUnavailable, MigrationError
from tests.conftest import REPO

MIGRATIONS = REPO / "migrations"


def copy_of_migrations(tmp_path: Path) -> Path:
    directory = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, directory)
    return directory


def test_the_repository_migrations_are_numbered_in_order() -> None:
    versions = [m.version for m in discover(MIGRATIONS)]
    assert versions == sorted(versions) and versions[0] == "0001"


def test_migrations_apply_once_and_are_recorded(fresh_database: str) -> None:
    first = apply_migrations(fresh_database, MIGRATIONS)
    second = apply_migrations(fresh_database, MIGRATIONS)

    assert first == [m.version for m in discover(MIGRATIONS)]
    assert second == []
    with psycopg.connect(fresh_database) as connection:
        recorded = connection.execute("SELECT version FROM schema_migrations ORDER BY 1").fetchall()
        assert [row[0] for row in recorded] == first
        assert connection.execute("SELECT count(*) FROM assets").fetchone() == (0,)


def test_processes_starting_together_apply_each_migration_once(fresh_database: str) -> None:
    results: list[list[str]] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(6)

    def start() -> None:
        barrier.wait()
        try:
            results.append(apply_migrations(fresh_database, MIGRATIONS))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sorted(results, key=len)[-1] == [m.version for m in discover(MIGRATIONS)]
    assert sum(len(applied) for applied in results) == len(discover(MIGRATIONS))


def test_a_new_migration_is_applied_after_the_existing_ones(
    fresh_database: str, tmp_path: Path
) -> None:
    directory = copy_of_migrations(tmp_path)
    apply_migrations(fresh_database, directory)
    (directory / "9999_add_note.sql").write_text("ALTER TABLE assets ADD COLUMN note text;")

    assert apply_migrations(fresh_database, directory) == ["9999"]
    with psycopg.connect(fresh_database) as connection:
        connection.execute("SELECT note FROM assets")


def test_editing_an_applied_migration_stops_the_run(fresh_database: str, tmp_path: Path) -> None:
    directory = copy_of_migrations(tmp_path)
    apply_migrations(fresh_database, directory)
    first = sorted(directory.glob("0001_*.sql"))[0]
    first.write_text(first.read_text() + "\n-- an edit\n")

    with pytest.raises(MigrationError, match="changed after it was applied"):
        apply_migrations(fresh_database, directory)


def test_a_failing_migration_leaves_nothing_half_done(fresh_database: str, tmp_path: Path) -> None:
    directory = copy_of_migrations(tmp_path)
    (directory / "9999_broken.sql").write_text(
        "CREATE TABLE half_done (id int); SELECT * FROM no_such_table;"
    )
    with pytest.raises(MigrationError, match="no_such_table"):
        apply_migrations(fresh_database, directory)
    with psycopg.connect(fresh_database) as connection:
        tables = connection.execute("SELECT to_regclass('half_done')").fetchone()
        versions = connection.execute("SELECT version FROM schema_migrations").fetchall()
    assert tables == (None,)
    assert ("9999",) not in versions


def test_a_misnamed_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "add-stuff.sql").write_text("SELECT 1;")
    with pytest.raises(MigrationError, match=r"NNNN_description\.sql"):
        discover(tmp_path)


def test_an_unreachable_database_is_unavailable() -> None:
    with pytest.raises(DatabaseUnavailable):
        apply_migrations("postgresql://nobody@127.0.0.1:1/none?connect_timeout=1", MIGRATIONS)


def test_project_names_that_become_one_name_are_renamed_apart(
    fresh_database: str, tmp_path: Path
) -> None:
    directory = copy_of_migrations(tmp_path)
    key_migration = directory / "0005_project_name_key.sql"
    later = [path for path in directory.glob("*.sql") if path.name >= key_migration.name]
    sql = {path: path.read_text() for path in later}
    for path in later:
        path.unlink()
    apply_migrations(fresh_database, directory)
    # Apart under lower(), the old rule; one name each under the new one.
    legacy = [("a", "Straße"), ("a", "STRASSE"), ("a", "strasse (2)"), ("a", "ß" * 100),
              ("a", "SS" * 100), ("a", "ＦＩＬＭ"), ("a", "film"), ("b", "STRASSE")]
    with psycopg.connect(fresh_database) as connection:
        for minute, (owner, name) in enumerate(legacy):
            connection.execute(
                "INSERT INTO projects (id, owner_id, name, created_at) VALUES "
                "(gen_random_uuid(), %s, %s, now() + make_interval(mins => %s))",
                (owner, name, minute))
    for path, text in sql.items():
        path.write_text(text)

    apply_migrations(fresh_database, directory)

    with psycopg.connect(fresh_database) as connection:
        names = connection.execute(
            "SELECT owner_id, name FROM projects ORDER BY created_at").fetchall()
    assert names == [("a", "Straße"), ("a", "STRASSE (3)"), ("a", "strasse (2)"),
                     ("a", "ß" * 100), ("a", "S" * 196 + " (2)"), ("a", "ＦＩＬＭ"),
                     ("a", "film (2)"), ("b", "STRASSE")]
