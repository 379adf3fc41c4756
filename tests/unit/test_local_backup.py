"""./dev.sh backup and restore (infra/local/backup.py) on made-up data directories: what they
refuse. The whole drill, on a real stack, is in tests/e2e/test_lifecycle.py."""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

import pytest

from infra.local.backup import BackupError, backup, restore
from infra.local.services import ServerRecords


def library(root: Path) -> Path:
    data = root / "data"
    (data / "postgres").mkdir(parents=True, mode=0o700)  # as PostgreSQL insists
    (data / "postgres" / "PG_VERSION").write_text("16\n")
    (data / "seaweedfs").mkdir()
    (data / "seaweedfs" / "volume.dat").write_bytes(b"objects")
    (data / "logs").mkdir()
    (data / "logs" / "moto.log").write_text("noise")
    return data


def test_a_stopped_library_round_trips_without_its_logs(tmp_path: Path) -> None:
    archive = tmp_path / "library.tar"
    assert backup(library(tmp_path), archive) == 2
    restored = tmp_path / "restored"
    assert restore(archive, restored) == 2
    assert (restored / "seaweedfs" / "volume.dat").read_bytes() == b"objects"
    assert not (restored / "logs").exists()
    assert (restored / "postgres").stat().st_mode & 0o777 == 0o700
    with pytest.raises(BackupError, match="exists"):
        backup(library(tmp_path / "again"), archive)  # never over an archive


def test_a_database_still_running_or_killed_is_refused(tmp_path: Path) -> None:
    data = library(tmp_path)
    (data / "postgres" / "postmaster.pid").write_text("4242\n")
    with pytest.raises(BackupError, match="not stopped cleanly"):
        backup(data, tmp_path / "library.tar")
    assert not (tmp_path / "library.tar").exists()


def test_a_server_of_the_stack_still_running_is_refused(tmp_path: Path) -> None:
    data = library(tmp_path)
    ServerRecords(data / "pids").record("moto", os.getpid())  # a live process of that start
    assert "moto" in ServerRecords(data / "pids").running()
    with pytest.raises(BackupError, match="stop it first"):
        backup(data, tmp_path / "library.tar")


def test_a_restore_never_writes_into_a_library_or_outside_its_directory(tmp_path: Path) -> None:
    archive = tmp_path / "library.tar"
    backup(library(tmp_path), archive)
    occupied = tmp_path / "occupied"
    occupied.mkdir()
    (occupied / "secrets.json").write_text("{}")
    with pytest.raises(BackupError, match="not empty"):
        restore(archive, occupied)

    hostile = tmp_path / "hostile.tar"
    with tarfile.open(hostile, "w") as tar:
        directory = tarfile.TarInfo("postgres")
        directory.type = tarfile.DIRTYPE
        tar.addfile(directory)
        link = tarfile.TarInfo("secrets.json")
        link.type, link.linkname = tarfile.SYMTYPE, str(tmp_path / "outside")
        tar.addfile(link)
        escape = tarfile.TarInfo("../escaped")
        tar.addfile(escape, io.BytesIO(b""))
    with pytest.raises(BackupError, match="refused"):
        restore(hostile, tmp_path / "fresh")
    assert not (tmp_path / "escaped").exists() and not (tmp_path / "outside").exists()
