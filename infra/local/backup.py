"""``./dev.sh backup --to FILE`` and ``./dev.sh restore --from FILE``: a local library whole —
its database, its bucket, its keys and secrets — in one archive, and back into a data directory.

The stack must be stopped: a running PostgreSQL and SeaweedFS change their files while they
would be copied, and a copy of files in motion is no backup. Stopped, the data directory is
consistent at every moment (both write ahead and fsync), so the archive is its files as they
are. Logs and process records are left out. A library on an external database
(``DATABASE_URL``) keeps its database elsewhere, which is backed up there; this refuses it.
"""

from __future__ import annotations

import tarfile
from pathlib import Path

from infra.local.running import read_exports

# What is this run's, not the library's.
_LEFT_OUT = frozenset({"logs", "pids", "stack.json"})


class BackupError(Exception):
    pass


def backup(data_dir: Path, archive: Path) -> int:
    """Write ``archive`` from ``data_dir``; how many files it holds."""
    _refuse_running(data_dir)
    if not (data_dir / "postgres").is_dir():
        raise BackupError(f"{data_dir} holds no database of its own (its stack ran on "
                          "DATABASE_URL): back that database up where it is, with pg_dump")
    if archive.exists():
        raise BackupError(f"{archive} exists; choose another name")
    files = 0
    partial = archive.with_name(archive.name + ".partial")
    with tarfile.open(partial, "w") as tar:
        for path in sorted(data_dir.iterdir()):
            if path.name not in _LEFT_OUT:
                tar.add(path, arcname=path.name)
        files = sum(1 for member in tar.getmembers() if member.isfile())
    partial.replace(archive)  # an archive is whole, or absent
    return files


def restore(archive: Path, data_dir: Path) -> int:
    """Unpack ``archive`` into ``data_dir``, which must be empty or absent; how many files."""
    if data_dir.exists() and any(data_dir.iterdir()):
        raise BackupError(f"{data_dir} is not empty: restore into a new directory, so that "
                          "no library is overwritten")
    data_dir.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive) as tar:
        names = {member.name.split("/", 1)[0] for member in tar.getmembers()}
        if "postgres" not in names:
            raise BackupError(f"{archive} is no Lightbox backup: it has no postgres/")
        # The tar filter refuses paths that would leave the directory and keeps each file's
        # owner: as root, the embedded PostgreSQL runs as a user of its own, who must own its
        # files again.
        tar.extractall(data_dir, filter="tar")
        return sum(1 for member in tar.getmembers() if member.isfile())


def _refuse_running(data_dir: Path) -> None:
    if read_exports(data_dir.resolve()) is not None:
        raise BackupError(f"a stack is running on {data_dir}: stop it first (Ctrl-C), so that "
                          "its database and bucket are copied at rest")
