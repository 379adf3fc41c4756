"""A Takeout folder on a disk: its photos take their sidecars' dates and albums, and its JSON
files are never uploaded."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from lightbox_cli.uploads import collect, read_takeout_json


def sidecar(title: str, taken: int | str | None) -> str:
    document: dict[str, object] = {
        "title": title, "description": "",
        "creationTime": {"timestamp": "1697872351", "formatted": "Oct 21, 2023, 7:12:31 AM UTC"},
        "geoData": {"latitude": 0.0, "longitude": 0.0, "altitude": 0.0},
    }
    if taken is not None:
        document["photoTakenTime"] = {"timestamp": str(taken), "formatted": "…"}
    return json.dumps(document)


def test_a_takeout_folder_gives_its_photos_their_dates_and_albums_and_its_json_is_never_uploaded(
    tmp_path: Path,
) -> None:
    photos = tmp_path / "Takeout" / "Google Photos"
    year, album = photos / "Photos from 2019", photos / "Summer"
    for folder in (year, album):
        folder.mkdir(parents=True)
        (folder / "IMG_1.png").write_bytes(b"\x89PNG\r\n\x1a\n one")
        (folder / "IMG_1.png.supplemental-metadata.json").write_text(
            sidecar("IMG_1.png", 1563121805))
    (year / "IMG_2.png").write_bytes(b"\x89PNG\r\n\x1a\n two")  # its sidecar is missing
    (year / "binned.png").write_bytes(b"\x89PNG\r\n\x1a\n bin")
    (year / "binned.png.json").write_text(
        json.dumps({**json.loads(sidecar("binned.png", 1563121805)), "trashed": True}))
    cut = "PXL_20230615_183055123.NIGHT.PORTRAIT-01.COVER"  # 47 characters kept of the name
    (year / f"{cut}.jpg").write_bytes(b"\xff\xd8\xff cut")
    (year / f"{cut[:46]}.json").write_text(sidecar(f"{cut}_ORIGINAL.jpg", 1563121805))
    (album / "metadata.json").write_text(json.dumps({"title": "Summer 2019", "description": ""}))
    (year / "notes.json").write_text('{"not": "google"}')
    # A folder of someone's own JSON with a title is no album: no sidecar is beside it.
    mine = tmp_path / "Takeout" / "mine"
    mine.mkdir()
    (mine / "settings.json").write_text('{"title": "My settings"}')
    (mine / "IMG_9.png").write_bytes(b"\x89PNG\r\n\x1a\n mine")

    found = collect([tmp_path / "Takeout"])

    noted = {f.path.relative_to(photos.parent).as_posix(): (f.taken_at, f.album, f.name)
             for f in found.files}
    when = datetime(2019, 7, 14, 16, 30, 5, tzinfo=UTC)
    assert noted == {
        "Google Photos/Photos from 2019/IMG_1.png": (when, None, "IMG_1.png"),
        "Google Photos/Photos from 2019/IMG_2.png": (None, None, "IMG_2.png"),
        f"Google Photos/Photos from 2019/{cut}.jpg": (when, None, f"{cut}_ORIGINAL.jpg"),
        "Google Photos/Summer/IMG_1.png": (when, "Summer 2019", "IMG_1.png"),
        "mine/IMG_9.png": (None, None, "IMG_9.png"),
    }
    why = {path.relative_to(photos).as_posix(): reason for path, reason in found.left_out
           if path.is_relative_to(photos)}
    assert why["Summer/metadata.json"] == "a Google Takeout album's description"
    assert why["Summer/IMG_1.png.supplemental-metadata.json"].startswith(
        "a Google Takeout sidecar")
    assert why["Photos from 2019/binned.png"] == "in the Google Photos bin (trashed)"
    assert why["Photos from 2019/notes.json"].startswith("not of the types to upload")


def test_a_json_link_to_a_device_is_not_read(tmp_path: Path) -> None:
    link = tmp_path / "IMG.jpg.json"
    link.symlink_to("/dev/zero")
    assert read_takeout_json(link) is None
