"""``lightbox import s3://...`` on the running stack: photos already in the bucket become assets
without a byte passing through the client, once."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Stack
from tests.e2e.test_cli import Cli
from tests.support import image_bytes, unique_owner

pytestmark = pytest.mark.e2e


@dataclass(frozen=True)
class Importer:
    """An owner of their own, their command, and the media bucket their imports come from."""

    cli: Cli
    owner: str
    s3: Any
    bucket: str

    @property
    def prefix(self) -> str:
        return f"imports/{self.owner}/"

    def put(self, objects: dict[str, bytes]) -> None:
        """Objects by key under the owner's ``imports/``."""
        for key, data in objects.items():
            self.s3.put_object(Bucket=self.bucket, Key=self.prefix + key, Body=data)


@pytest.fixture
def importer(stack: Stack, tmp_path: Path) -> Importer:
    owner = unique_owner()
    return Importer(Cli(stack, stack.create_key(owner), tmp_path), owner, stack.client("s3"),
                    stack.exports["LIGHTBOX_BUCKET"])


def test_photos_already_in_the_bucket_become_ready_assets_through_one_import(
    stack: Stack, importer: Importer,
) -> None:
    cli, s3, bucket, prefix = importer.cli, importer.s3, importer.bucket, importer.prefix
    photos = {f"2019/IMG_{n:04}.JPG": image_bytes("JPEG", (64 + n, 48)) for n in range(24)}
    importer.put(photos)
    importer.put({"2019/IMG_0000.JPG.json": b'{"title": "x"}', "notes.txt": b"not a photo",
                  "README": b"not a photo either"})

    first = json.loads(cli.run("import", f"s3://{bucket}/{prefix}", "--wait", "--json",
                               timeout=300).stdout)

    assert (first["status"], first["listed"], first["adopted"]) == ("listed", 27, 24)
    assert first["assets"] == {"ready": 24}
    assert first["skipped"] == {"sidecar": 2, "not_media": 1}
    assets = cli.lines("ls", "--all")
    assert sorted(a["filename"] for a in assets) == sorted(k.rsplit("/", 1)[1] for k in photos)
    assert {a["status"] for a in assets} == {"ready"}
    by_name = {k.rsplit("/", 1)[1]: hashlib.sha256(v).hexdigest() for k, v in photos.items()}
    assert {a["filename"]: a["sha256"] for a in assets} == by_name
    # The source is left as it was.
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=prefix)["Contents"]
    assert len(listed) == 27

    second = json.loads(cli.run("import", f"s3://{bucket}/{prefix}", "--wait", "--json").stdout)
    assert (second["listed"], second["adopted"]) == (27, 0)
    assert second["skipped"] == {"already_imported": 24, "sidecar": 2, "not_media": 1}
    assert len(cli.lines("ls", "--all")) == 24
    # The API's answer for the run is on contract.
    assert cli.api().http.get(f"{stack.api}/v1/imports/{second['import_id']}",
                              timeout=30).status_code == 200


def test_another_owners_prefix_and_the_librarys_own_objects_are_refused(
    importer: Importer,
) -> None:
    cli, owner, bucket = importer.cli, importer.owner, importer.bucket
    for source in (f"s3://{bucket}/imports/someone-else/", f"s3://{bucket}/originals/"):
        refused = cli.run("import", source, check=1)
        assert f"is not a source you may import from (allowed: s3://{bucket}/imports/{owner}/)" \
            in refused.stderr


def test_a_takeout_in_the_bucket_brings_its_sidecars_dates_captions_places_and_albums(
    importer: Importer,
) -> None:
    cli, bucket = importer.cli, importer.bucket
    photos = "Takeout/Google Photos/"
    album = {
        "IMG_2.png": image_bytes("PNG", (68, 48)),
        "IMG_2.png.json": json.dumps({"title": "IMG_2.png",
                                      "photoTakenTime": {"timestamp": "1563121805"}}).encode(),
        "metadata.json": json.dumps({"title": "Trip 2019", "description": ""}).encode(),
    }
    importer.put({f"{photos}Trip/{name}": data for name, data in album.items()})
    objects = {
        # A PNG says no date of its own: the sidecar's is the one it gets.
        "Screenshot_1.png": image_bytes("PNG", (64, 48)),
        "Screenshot_1.png.supplemental-metadata.json": json.dumps({
            "title": "Screenshot_1.png", "description": "Boarding pass",
            "photoTakenTime": {"timestamp": "1563121805"},
            "geoData": {"latitude": 48.8583736, "longitude": 2.291901},
        }).encode(),
        "binned.png": image_bytes("PNG", (66, 48)),
        "binned.png.json": json.dumps({"title": "binned.png", "trashed": True,
                                       "photoTakenTime": {"timestamp": "1563121805"}}).encode(),
    }
    importer.put({f"{photos}Photos from 2019/{name}": data for name, data in objects.items()})

    report = json.loads(cli.run("import", f"s3://{bucket}/{importer.prefix}", "--wait", "--json",
                                "--time-zone", "Europe/Paris", timeout=300).stdout)

    assert (report["adopted"], report["assets"]) == (2, {"ready": 2})
    assert report["skipped"] == {"sidecar": 4, "trashed": 1}
    assets = {a["filename"]: a for a in cli.lines("ls", "--all")}
    screenshot = assets["Screenshot_1.png"]
    assert (screenshot["taken_at"], screenshot["description"], screenshot["has_location"],
            screenshot["project_id"]) == ("2019-07-14T18:30:05", "Boarding pass", True, None)
    [trip] = cli.lines("projects", "ls")
    assert (trip["name"], assets["IMG_2.png"]["project_id"]) == ("Trip 2019", trip["project_id"])
