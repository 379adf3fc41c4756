"""The "nothing lost" audit of a running stack: its database, its bucket and its dead-letter
queues must agree with what the clients sent, whatever happened on the way.

- every asset sent has exactly one row, and no row exists that nobody sent;
- each ended ``ready`` with the sha256 of the bytes sent, its original in the bucket at its
  declared size and every derivative it lists there at its recorded size — or ``duplicate``
  of a ready asset with the same bytes, whose redundant original is gone;
- the bucket holds nothing else: no original without its row, no derivative no row lists;
- no message waits in a dead-letter queue.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.rows import dict_row

from infra.local.stack import client_of

_ROWS = """
    SELECT id::text AS id, status, sha256, size_bytes, duplicate_of::text AS duplicate_of,
           derivatives, error, owner_id
    FROM assets
"""


@dataclass(frozen=True)
class Sent:
    """What a client sent: the asset it was given and the sha256 of the bytes it PUT."""

    asset_id: str
    sha256: str


def audit(exports: Mapping[str, str], sent: list[Sent],
          unacknowledged: Sequence[Sent] = (), *, crashed: bool = False) -> list[str]:
    """Every disagreement found, as sentences; an empty list means nothing was lost.

    ``unacknowledged`` uploads were presigned but their PUT got no answer (the stack died
    under it): each must end as if it arrived whole, or ``failed`` with nothing stored. After
    a ``crashed`` stack, a row whose presign was never answered may exist with nothing stored:
    ``failed`` once the reaper expired it, ``pending`` while its URL may still be used.
    """
    rows = _rows(exports["DATABASE_URL"])
    objects = _objects(exports)
    problems: list[str] = []

    sent_ids = {item.asset_id for item in [*sent, *unacknowledged]}
    if len(sent_ids) != len(sent) + len(unacknowledged):
        problems.append("the API handed out the same asset id twice")
    problems += [f"asset {item.asset_id} was sent but has no row" for item in sent
                 if item.asset_id not in rows]
    problems += [f"row {asset_id} ({row['status']}) was never sent" for asset_id, row in
                 rows.items() if asset_id not in sent_ids
                 and not (crashed and row["status"] in ("pending", "failed")
                          and not _original_of(row, objects))]

    expected_objects: dict[str, int] = {}
    for item in sent:
        row = rows.get(item.asset_id)
        if row is None:
            continue
        problems += _check_row(item, row, rows, objects, expected_objects)
    for item in unacknowledged:
        row = rows.get(item.asset_id)
        if row is None or (row["status"] == "failed" and not _original_of(row, objects)):
            continue
        problems += _check_row(item, row, rows, objects, expected_objects)

    problems += [f"orphan object {key} belongs to no row" for key in sorted(objects)
                 if key not in expected_objects]
    problems += [f"{queue} holds {count} dead letters"
                 for queue, count in dead_letters(exports).items() if count]
    return problems


def _check_row(item: Sent, row: dict[str, Any], rows: Mapping[str, dict[str, Any]],
               objects: Mapping[str, int], expected: dict[str, int]) -> list[str]:
    asset = f"asset {item.asset_id}"
    original = f"originals/{row['owner_id']}/{item.asset_id}"
    if row["status"] == "duplicate":
        return _check_duplicate(item, row, rows, original in objects)
    if row["status"] != "ready":
        return [f"{asset} ended {row['status']}: {row['error']}"]
    problems = []
    if row["sha256"] != item.sha256:
        problems.append(f"{asset} records sha256 {row['sha256']}, the client sent {item.sha256}")
    if not row["derivatives"]:
        problems.append(f"{asset} is ready without derivatives")
    stored = {original: row["size_bytes"], **{d["key"]: d["bytes"] for d in row["derivatives"]}}
    expected.update(stored)
    for key, size in stored.items():
        if key not in objects:
            problems.append(f"{asset}: {key} is missing from the bucket")
        elif objects[key] != size:
            problems.append(f"{asset}: {key} holds {objects[key]} bytes, not {size}")
    return problems


def _check_duplicate(item: Sent, row: dict[str, Any], rows: Mapping[str, dict[str, Any]],
                     original_remains: bool) -> list[str]:
    first = rows.get(row["duplicate_of"] or "")
    problems = []
    if first is None or first["status"] != "ready" or first["sha256"] != item.sha256:
        problems.append(f"asset {item.asset_id} is a duplicate of {row['duplicate_of']}, "
                        "which is not a ready asset with the same bytes")
    if original_remains:
        problems.append(f"asset {item.asset_id} is a duplicate but its original remains")
    return problems


def _original_of(row: Mapping[str, Any], objects: Mapping[str, int]) -> bool:
    return f"originals/{row['owner_id']}/{row['id']}" in objects


def dead_letters(exports: Mapping[str, str]) -> dict[str, int]:
    """Messages waiting in each dead-letter queue, by the name of its variable."""
    sqs = client_of(exports, "sqs")
    counts = {}
    for name, url in exports.items():
        if name.endswith("_DEAD_LETTER_QUEUE_URL"):
            attributes = sqs.get_queue_attributes(
                QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]
            counts[name] = int(attributes["ApproximateNumberOfMessages"])
    return counts


def _rows(database_url: str) -> dict[str, dict[str, Any]]:
    with psycopg.connect(database_url, row_factory=dict_row) as connection:
        return {row["id"]: row for row in connection.execute(_ROWS)}


def _objects(exports: Mapping[str, str]) -> dict[str, int]:
    s3 = client_of(exports, "s3")
    objects = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=exports["LIGHTBOX_BUCKET"]):
        objects.update({item["Key"]: item["Size"] for item in page.get("Contents", [])})
    return objects
