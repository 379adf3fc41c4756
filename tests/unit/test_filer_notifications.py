"""The embedded store's bucket notifications: filer metadata changes read as S3 records."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any

from infra.local.seaweedfs import Cursor, Target, _json_objects, records_of, volume_ids
from infra.template import Notification
from lightbox.events import Action, object_events

BUCKET = "lightbox-local-originals"
ROOT = f"/buckets/{BUCKET}"


def entry(name: str, *, size: int = 10, md5: str = "aa", etag: str | None = "abc",
          directory: bool = False) -> dict[str, Any]:
    extended = {"Seaweed-X-Amz-ETag": base64.b64encode(f'"{etag}"'.encode()).decode()} if etag else {}
    return {"name": name, "isDirectory": directory,
            "attributes": {"fileSize": size, "md5": md5}, "extended": extended}


def change(directory: str, old: dict[str, Any] | None, new: dict[str, Any] | None,
           new_parent: str = "") -> dict[str, Any]:
    return {"directory": directory, "tsNs": 1_700_000_000_123_456_789,
            "eventNotification": {"oldEntry": old, "newEntry": new, "newParentPath": new_parent}}


def names(change_: dict[str, Any]) -> list[tuple[str, str]]:
    return [(key, record["eventName"]) for key, record in records_of(change_, BUCKET, "us-east-1")]


def test_a_new_object_is_a_put_record_the_ingest_parser_reads() -> None:
    records = list(records_of(change(f"{ROOT}/originals/local", None, entry("a b+c.jpg", size=42)),
                              BUCKET, "us-east-1"))

    assert [key for key, _ in records] == ["originals/local/a b+c.jpg"]
    record = records[0][1]
    assert record["eventName"] == "ObjectCreated:Put"
    assert record["s3"]["object"]["size"] == 42
    assert record["s3"]["object"]["eTag"] == "abc"
    [event] = object_events(json.dumps({"Records": [record]}))
    assert (event.bucket, event.key, event.action) == (BUCKET, "originals/local/a b+c.jpg",
                                                       Action.CREATED)


def test_a_removed_object_is_a_delete_record() -> None:
    assert names(change(f"{ROOT}/originals/local", entry("x"), None)) == [
        ("originals/local/x", "ObjectRemoved:Delete")]


def test_new_tags_or_metadata_on_the_same_bytes_are_no_event() -> None:
    same = entry("x")
    tagged = {**entry("x"), "extended": {**same["extended"], "X-Amz-Tagging-k": "v"}}
    assert names(change(f"{ROOT}/originals/local", same, tagged)) == []


def test_an_overwrite_with_other_bytes_is_a_put() -> None:
    assert names(change(f"{ROOT}/originals/local", entry("x"), entry("x", md5="bb"))) == [
        ("originals/local/x", "ObjectCreated:Put")]


def test_a_rename_is_a_delete_and_a_put() -> None:
    renamed = change(f"{ROOT}/originals/a", entry("x"), entry("y"), new_parent=f"{ROOT}/originals/b")
    assert names(renamed) == [("originals/a/x", "ObjectRemoved:Delete"),
                              ("originals/b/y", "ObjectCreated:Put")]


def test_directories_parts_and_other_buckets_are_no_event() -> None:
    assert names(change(f"{ROOT}/originals", None, entry("local", directory=True))) == []
    assert names(change(f"{ROOT}/.uploads/123", None, entry("0001.part"))) == []
    assert names(change("/buckets/other/originals", None, entry("x"))) == []


def test_a_target_takes_the_events_and_prefix_its_notification_names() -> None:
    target = Target(Notification(queue="IngestQueue", events=("s3:ObjectCreated:*",),
                                 prefix="originals/"), "url")
    assert target.wants("originals/local/x", "ObjectCreated:Put")
    assert not target.wants("originals/local/x", "ObjectRemoved:Delete")
    assert not target.wants("derivatives/local/x", "ObjectCreated:Put")


def test_the_tail_output_is_read_as_one_object_after_another() -> None:
    first, second = {"directory": "/a", "tsNs": 1}, {"directory": "/b {x}", "tsNs": 2}
    text = json.dumps(first, indent=2) + "\n" + json.dumps(second, indent=2) + "\n"
    assert list(_json_objects(io.BytesIO(text.encode()))) == [first, second]


def test_the_cursor_survives_a_restart_and_ignores_a_torn_write(tmp_path: Path) -> None:
    cursor = Cursor(tmp_path / "cursor")
    assert cursor.read() is None
    cursor.write(123)
    (tmp_path / "cursor.partial").write_text("12")  # a write a crash cut short
    assert Cursor(tmp_path / "cursor").read() == 123


def test_the_volumes_on_disk_are_found_by_their_file_names(tmp_path: Path) -> None:
    for name in ("2.dat", "2.idx", "lightbox-dev-000000000000-us-east-1_1.dat",
                 "lightbox-dev-000000000000-us-east-1_1.idx", "bucket_with_underscores_7.dat",
                 "filerldb2", "mini.options", "notes_x.dat"):
        (tmp_path / name).touch()
    assert volume_ids(tmp_path) == {1, 2, 7}
