"""infra/aws/restore.py on a versioned bucket of a real S3 API (moto's server): the objects a
database restored to a moment refers to come back as they were then."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from infra.aws.restore import Entry, apply, plan
from infra.aws.restore import _entries as entries

T = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def at(seconds: int) -> datetime:
    return T + timedelta(seconds=seconds)


def test_the_plan_undeletes_copies_back_and_leaves_what_is_newer() -> None:
    history = [
        Entry("originals/o/deleted", "v1", at(-60), "e1"),
        Entry("originals/o/deleted", "m1", at(60), None),
        Entry("derivatives/o/rendered-again/1-256.jpg", "v1", at(-60), "e1"),
        Entry("derivatives/o/rendered-again/1-256.jpg", "v2", at(60), "e2"),
        Entry("originals/o/new", "v1", at(60), "e1"),
        Entry("originals/o/gone-before", "v1", at(-120), "e1"),
        Entry("originals/o/gone-before", "m1", at(-60), None),
        Entry("originals/o/kept", "v1", at(-60), "e1"),
        Entry("originals/o/deleted-twice", "v1", at(-60), "e1"),
        Entry("originals/o/deleted-twice", "m1", at(30), None),
        Entry("originals/o/deleted-twice", "m2", at(90), None),
    ]

    restore = plan(history, T)

    assert restore.undelete == {"originals/o/deleted": ["m1"],
                                "originals/o/deleted-twice": ["m1", "m2"]}
    assert restore.copy == [("derivatives/o/rendered-again/1-256.jpg", "v1")]
    assert (restore.newer, restore.unchanged) == (1, 2)


def test_in_one_second_the_later_version_and_a_delete_after_a_put_win() -> None:
    # S3 lists a key's versions newest first: v2 (listed first) was made after v1.
    history = [
        Entry("derivatives/o/a/1-256.jpg", "v2", at(-1), "e2", listed=1),
        Entry("derivatives/o/a/1-256.jpg", "v1", at(-1), "e1", listed=2),
        Entry("derivatives/o/a/1-256.jpg", "v3", at(60), "e3", latest=True, listed=0),
        Entry("originals/o/b", "m1", at(-1), None, listed=4),
        Entry("originals/o/b", "v1", at(-1), "e1", listed=3),
        Entry("originals/o/b", "v2", at(60), "e2", latest=True, listed=2),
    ]

    restore = plan(history, T)

    assert restore.copy == [("derivatives/o/a/1-256.jpg", "v2")]
    assert restore.newer == 1  # b was deleted at the moment, and put again since


def test_a_bucket_comes_back_to_a_moment_and_a_second_run_has_nothing_to_do(
        s3_client: Any) -> None:
    bucket = f"restore-{uuid.uuid4().hex[:12]}"
    s3_client.create_bucket(Bucket=bucket)
    s3_client.put_bucket_versioning(Bucket=bucket,
                                    VersioningConfiguration={"Status": "Enabled"})
    original, derivative = "originals/o/a", "derivatives/o/a/1-256.jpg"
    s3_client.put_object(Bucket=bucket, Key=original, Body=b"the only copy")
    s3_client.put_object(Bucket=bucket, Key=derivative, Body=b"rendered then")
    time.sleep(1.1)  # S3 keeps times to the second
    moment = datetime.now(UTC)
    time.sleep(1.1)
    s3_client.delete_object(Bucket=bucket, Key=original)
    s3_client.put_object(Bucket=bucket, Key=derivative, Body=b"rendered later")
    s3_client.put_object(Bucket=bucket, Key="originals/o/b", Body=b"uploaded later")

    restore = plan(entries(s3_client, bucket), moment)
    apply(s3_client, bucket, restore)

    def body(key: str) -> bytes:
        return bytes(s3_client.get_object(Bucket=bucket, Key=key)["Body"].read())

    assert body(original) == b"the only copy"
    assert body(derivative) == b"rendered then"
    assert body("originals/o/b") == b"uploaded later"  # newer: left for the operator
    again = plan(entries(s3_client, bucket), moment)
    assert (again.undelete, again.copy) == ({}, [])
