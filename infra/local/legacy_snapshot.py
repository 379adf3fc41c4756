"""Keep the embedded bucket across restarts: the moto server holds objects only in memory.

At a clean stop every object is written under ``DATA/s3/``; the next start puts them back.
Restoring an original fires its bucket notification again, which upload-complete ignores
because the asset has long moved past ``pending``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

_MANIFEST = "manifest.json"


def save(s3: S3Client, bucket: str, directory: Path) -> int:
    staging = directory.with_name(directory.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    manifest: dict[str, dict[str, str | None]] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for item in page.get("Contents", []):
            response = s3.get_object(Bucket=bucket, Key=item["Key"])
            name = f"{len(manifest):08d}"
            with (staging / name).open("wb") as file:
                shutil.copyfileobj(response["Body"], file)
            manifest[name] = {"key": item["Key"], "content_type": response.get("ContentType")}
    (staging / _MANIFEST).write_text(json.dumps(manifest))
    shutil.rmtree(directory, ignore_errors=True)
    staging.rename(directory)
    return len(manifest)


def restore(s3: S3Client, bucket: str, directory: Path) -> int:
    manifest_path = directory / _MANIFEST
    if not manifest_path.exists():
        return 0
    manifest = json.loads(manifest_path.read_text())
    for name, item in manifest.items():
        extra = {"ContentType": item["content_type"]} if item["content_type"] else {}
        s3.upload_file(str(directory / name), bucket, item["key"], ExtraArgs=extra)
    return len(manifest)
