"""``python -m infra.aws.restore -e dev|prod --at TIME [--apply]``: the bucket's originals and
derivatives as they were at TIME, to go with the database restored to the same moment.

The template keeps every version of the bucket's objects for ``DeletedObjectDays``. A database
brought back to TIME (RDS point-in-time recovery) lists assets whose objects were deleted
since, and this brings those objects back: a delete marker made after TIME is removed, which
makes the version before it current again at no cost; an object overwritten after TIME (a
derivative rendered again) gets its version of TIME copied over it. Objects made after TIME
are left, and counted: the restored database does not know them, and the reaper does not
touch what it does not know.

Without ``--apply`` it prints what it would do and changes nothing. S3 keeps times to the
second: give a moment before the damage's second, not in it.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import boto3

# What Lightbox writes: originals, and what it makes of them.
PREFIXES = ("originals/", "derivatives/")


@dataclass(frozen=True)
class Entry:
    """One version of a key, or one delete marker."""

    key: str
    version_id: str
    modified: datetime
    etag: str | None  # None: a delete marker
    latest: bool = False  # the key's current version or marker, as S3 says
    # Where S3 listed it among its kind (versions, or markers), newest first: what tells
    # apart two of a key made in the same second.
    listed: int = 0

    @property
    def deleted(self) -> bool:
        return self.etag is None


@dataclass
class Plan:
    # Delete markers to remove, by key: each key's version of TIME becomes current again.
    undelete: dict[str, list[str]] = field(default_factory=dict)
    # Versions to copy over their key: (key, version id of TIME).
    copy: list[tuple[str, str]] = field(default_factory=list)
    # Keys that did not exist at TIME and do now.
    newer: int = 0
    # Keys as they were at TIME already.
    unchanged: int = 0


def plan(entries: Iterable[Entry], at: datetime) -> Plan:
    by_key: dict[str, list[Entry]] = defaultdict(list)
    for entry in entries:
        by_key[entry.key].append(entry)
    result = Plan()
    for key, history in by_key.items():
        # Oldest first; in one second, versions before markers (an object is put before it
        # is deleted) and each kind in the order S3 listed it.
        history.sort(key=lambda entry: (entry.modified, entry.deleted, -entry.listed))
        then = [entry for entry in history if entry.modified <= at]
        after = [entry for entry in history if entry.modified > at]
        if not then or then[-1].deleted:
            # Absent at TIME: what came later, if anything, is newer than the database.
            if any(not entry.deleted for entry in after):
                result.newer += 1
            else:
                result.unchanged += 1
        elif not after or _current(history).etag == then[-1].etag:
            # As it was, or copied back to as it was by an earlier run.
            result.unchanged += 1
        elif all(entry.deleted for entry in after):
            result.undelete[key] = [entry.version_id for entry in after]
        else:
            result.copy.append((key, then[-1].version_id))
    return result


def _current(history: list[Entry]) -> Entry:
    # S3 keeps times to the second (or the millisecond): entries of one second are told apart
    # by its own word on which is current.
    return next((entry for entry in history if entry.latest), history[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.aws.restore",
                                     description="The bucket as it was at a moment.")
    parser.add_argument("-e", "--environment", required=True, choices=["dev", "prod"])
    parser.add_argument("--at", required=True, type=_moment,
                        help="the moment, with its offset: 2026-12-01T10:00:00+00:00")
    parser.add_argument("--apply", action="store_true", help="change the bucket (default: "
                        "print what would change)")
    args = parser.parse_args(argv)
    s3 = boto3.client("s3")
    bucket = _bucket(f"lightbox-{args.environment}")
    restore = plan(_entries(s3, bucket), args.at)
    if args.apply:
        apply(s3, bucket, restore)
    print(json.dumps({"bucket": bucket, "at": args.at.isoformat(), "applied": args.apply,
                      "undeleted": len(restore.undelete), "copied": len(restore.copy),
                      "newer": restore.newer, "unchanged": restore.unchanged}))
    return 0


def apply(s3: Any, bucket: str, restore: Plan) -> None:
    for key, markers in restore.undelete.items():
        for version_id in markers:
            s3.delete_object(Bucket=bucket, Key=key, VersionId=version_id)
    for key, version_id in restore.copy:
        # A derivative: small, so one server-side copy (S3 copies up to 5 GB at once).
        s3.copy_object(Bucket=bucket, Key=key,
                       CopySource={"Bucket": bucket, "Key": key, "VersionId": version_id})


def _entries(s3: Any, bucket: str) -> Iterator[Entry]:
    pages = s3.get_paginator("list_object_versions")
    listed = 0
    for prefix in PREFIXES:
        for page in pages.paginate(Bucket=bucket, Prefix=prefix):
            for version in page.get("Versions", []):
                listed += 1
                yield Entry(version["Key"], version["VersionId"], version["LastModified"],
                            version["ETag"], version["IsLatest"], listed)
            for marker in page.get("DeleteMarkers", []):
                listed += 1
                yield Entry(marker["Key"], marker["VersionId"], marker["LastModified"], None,
                            marker["IsLatest"], listed)


def _bucket(stack: str) -> str:
    outputs = boto3.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0][
        "Outputs"]
    return str(next(o["OutputValue"] for o in outputs if o["OutputKey"] == "BucketName"))


def _moment(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError("give the moment's offset, e.g. +00:00")
    return moment


if __name__ == "__main__":
    sys.exit(main())
