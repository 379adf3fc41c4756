"""Move the objects of an earlier embedded bucket into the object store.

Earlier versions kept the embedded bucket in memory (moto) and wrote it to ``DATA/s3/`` (a
``manifest.json`` and one numbered file per object) only at a clean stop. The first start on
such a data directory puts every object into the durable store, then renames the snapshot
to ``s3.migrated`` (kept until the user deletes it), so this happens once. Putting an
original again announces it again, which upload-complete ignores: the asset has long moved
past ``pending``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

_MANIFEST = "manifest.json"


def migrate(s3: S3Client, bucket: str, directory: Path) -> int | None:
    """The number of objects moved, or None when ``directory`` holds no snapshot."""
    manifest_path = directory / _MANIFEST
    if not manifest_path.exists():
        return None
    manifest = json.loads(manifest_path.read_text())
    for name, item in manifest.items():
        extra = {"ContentType": item["content_type"]} if item["content_type"] else {}
        s3.upload_file(str(directory / name), bucket, item["key"], ExtraArgs=extra)
    directory.rename(directory.with_name(directory.name + ".migrated"))
    return len(manifest)
