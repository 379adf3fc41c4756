"""``./dev.sh backup --to FILE`` and ``./dev.sh restore --from FILE``: a local library whole —
its database, its bucket, its keys and secrets — in one archive, and back into a data directory.

The stack must be stopped: a running PostgreSQL and SeaweedFS change their files while they
would be copied, and a copy of files in motion is no backup. Stopped, the data directory is
consistent at every moment (both write ahead and fsync), so the archive is its files as they
are. Logs and process records are left out. A library on an external database
(``DATABASE_URL``) keeps its database elsewhere, which is backed up there; this refuses it.
"""

from __future__ import annotations

import os
import tarfile
from pathlib import Path

from infra.local.running import read_exports
from infra.local.services import ServerRecords

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
        # The data filter refuses paths and links that would leave the directory.
        try:
            tar.extractall(data_dir, filter="data")
        except tarfile.TarError as exc:
            raise BackupError(f"{archive} was refused part-way, and {data_dir} holds what came "
                              f"before: {exc}") from exc
        for member in tar.getmembers():
            if member.isdir():
                # The data filter leaves directories at the default mode; PostgreSQL refuses
                # a data directory that others may read.
                os.chmod(data_dir / member.name, member.mode & 0o777)
            if os.geteuid() == 0 and member.name.split("/", 1)[0] == "postgres":
                # As root, the embedded PostgreSQL runs as a user of its own, who must own
                # its files again; nothing else in the archive has an owner that matters.
                os.lchown(data_dir / member.name, member.uid, member.gid)
        return sum(1 for member in tar.getmembers() if member.isfile())


def _refuse_running(data_dir: Path) -> None:
    """A stack, one of its servers, or its PostgreSQL alone (./dev.sh key starts it for a
    moment) is running, or was killed and left its database to recover at the next start."""
    servers = ServerRecords(data_dir / "pids").running()
    if read_exports(data_dir.resolve()) is not None or servers:
        raise BackupError(f"a stack is running on {data_dir}: stop it first (Ctrl-C), so that "
                          "its database and bucket are copied at rest")
    if (data_dir / "postgres" / "postmaster.pid").exists():
        raise BackupError(f"the database in {data_dir} is running or was not stopped cleanly: "
                          "start the stack and stop it (./dev.sh up, then Ctrl-C) first")
