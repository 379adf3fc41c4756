"""Google Takeout sidecars matched to their photos, with the names Google really gives them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from lightbox_cli import takeout
from lightbox_cli.uploads import collect

LONG = "PXL_20230615_183055123.NIGHT.PORTRAIT-01.COVER.jpg"  # 50 characters


@pytest.mark.parametrize(
    ("photo", "sidecar"),
    [
        ("IMG_1234.jpg", "IMG_1234.jpg.json"),  # exports before 2024
        ("IMG_1234.jpg", "IMG_1234.jpg.supplemental-metadata.json"),
        ("PXL_20230615_183055123.jpg", "PXL_20230615_183055123.jpg.supplemental-metada.json"),
        ("IMG_1234(1).jpg", "IMG_1234.jpg(1).json"),  # the counter moves behind
        ("IMG_1234(1).jpg", "IMG_1234.jpg.supplemental-metadata(1).json"),
        ("IMG_1234-edited.jpg", "IMG_1234.jpg.supplemental-metadata.json"),  # the original's
        ("IMG_1234-bearbeitet.jpg", "IMG_1234.jpg.json"),
        (LONG, f"{LONG[:46]}.json"),  # a long name is cut, no suffix left
    ],
)
def test_a_photo_finds_the_sidecar_google_named_for_it(photo: str, sidecar: str) -> None:
    # Cut to 51 characters before the counter, whatever the suffix became.
    assert len(sidecar.replace("(1)", "")) <= 51
    assert sidecar in takeout.sidecar_names(photo)
    found = takeout.match(Path("/takeout") / photo, {sidecar: Path("/takeout") / sidecar,
                                                      "other.jpg.json": Path("/other.jpg.json")})
    assert found == Path("/takeout") / sidecar


def test_a_live_photos_video_shares_its_stills_sidecar() -> None:
    name = "IMG_5678.HEIC.supplemental-metadata.json"
    assert takeout.match(Path("IMG_5678.MP4"), {name: Path(name)}) == Path(name)


def test_a_photo_without_a_sidecar_of_its_own_takes_none() -> None:
    sidecars = {"IMG_1.HEIC.json": Path("IMG_1.HEIC.json"), "IMG_1.JPG.json": Path("x")}
    assert takeout.match(Path("IMG_2.jpg"), sidecars) is None
    assert takeout.match(Path("IMG_1.MP4"), sidecars) is None  # two stills: which is unsure


def sidecar(title: str, taken: int | str | None) -> str:
    document: dict[str, object] = {
        "title": title, "description": "",
        "creationTime": {"timestamp": "1697872351", "formatted": "Oct 21, 2023, 7:12:31 AM UTC"},
        "geoData": {"latitude": 0.0, "longitude": 0.0, "altitude": 0.0},
    }
    if taken is not None:
        document["photoTakenTime"] = {"timestamp": str(taken), "formatted": "…"}
    return json.dumps(document)


@pytest.mark.parametrize(
    ("taken", "expected"),
    [
        (1563121805, datetime(2019, 7, 14, 16, 30, 5, tzinfo=UTC)),
        (0, None),  # Google's "unknown"
        ("yesterday", None),
        (None, None),
    ],
)
def test_the_date_is_photo_taken_time_in_utc(taken: int | str | None,
                                             expected: datetime | None) -> None:
    document = json.loads(sidecar("IMG.jpg", taken))
    assert takeout.taken_at(document) == expected


@pytest.mark.parametrize(
    ("fields", "place", "description"),
    [
        ({"geoData": {"latitude": 48.8583736, "longitude": 2.291901, "altitude": 82.1},
          "description": " Eiffel "}, (48.8583736, 2.291901), "Eiffel"),
        # 0, 0 is Google's "unknown"; then the file's own, as Google read it.
        ({"geoData": {"latitude": 0.0, "longitude": 0.0},
          "geoDataExif": {"latitude": -33.8568, "longitude": 151.2153}},
         (-33.8568, 151.2153), None),
        ({"geoData": {"latitude": 0.0, "longitude": 0.0}, "description": ""}, None, None),
        ({"geoData": {"latitude": "48.8", "longitude": 2}}, None, None),
        ({"geoData": {"latitude": 148.8, "longitude": 2}}, None, None),
        ({}, None, None),
    ],
)
def test_the_place_and_the_caption_are_read(fields: dict[str, object],
                                            place: tuple[float, float] | None,
                                            description: str | None) -> None:
    notes = takeout.notes({"title": "IMG.jpg", **fields})
    assert (notes.place, notes.description) == (place, description)


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


@pytest.mark.parametrize(
    ("name", "title", "restored"),
    [
        ("PXL_20230615_ORIGINA.jpg", "PXL_20230615_ORIGINAL.jpg", "PXL_20230615_ORIGINAL.jpg"),
        ("IMG_1.jpg", "IMG_1.jpg", "IMG_1.jpg"),
        ("IMG_1.jpg", "Beach day", "IMG_1.jpg"),  # a caption, not a name
        ("IMG_1.jpg", "IMG_12.png", "IMG_1.jpg"),  # another kind of file
        ("IMG_1.jpg", "IMG_12/../x.jpg", "IMG_1.jpg"),
        ("IMG_1.jpg", None, "IMG_1.jpg"),
    ],
)
def test_a_name_google_cut_is_restored_from_the_title(name: str, title: str | None,
                                                     restored: str) -> None:
    assert takeout.restored_name(name, title) == restored


@pytest.mark.parametrize(
    "content",
    [
        b"[" * 100_000,  # nested past Python's stack
        b'{"title": "x", "geoData": {"latitude": 1' + b"0" * 400 + b', "longitude": 2}}',
        b'{"title": "x", "geoData": {"latitude": NaN, "longitude": Infinity}}',
        b'{"title": "' + b"x" * (2 * 1024 * 1024) + b'"}',  # larger than any sidecar
        b"\xff\xfe not text",
    ],
    ids=["deep", "huge-number", "nan", "huge", "not-utf8"],
)
def test_a_hostile_json_file_is_just_not_a_sidecar(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "IMG.jpg.json"
    path.write_bytes(content)
    document = takeout.read(path)
    assert document is None or takeout.notes(document).place is None


def test_a_json_link_to_a_device_is_not_read(tmp_path: Path) -> None:
    link = tmp_path / "IMG.jpg.json"
    link.symlink_to("/dev/zero")
    assert takeout.read(link) is None


def test_a_caption_is_made_one_the_library_takes() -> None:
    notes = takeout.notes({"title": "IMG.jpg", "description": "Tide\r\nlow\x07 " + "x" * 3000})
    assert notes.description is not None
    assert notes.description.startswith("Tide\nlow ") and len(notes.description) == 2000


def test_the_date_is_the_instant_in_this_machines_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    monkeypatch.setenv("TZ", "Europe/Paris")
    time.tzset()
    try:
        taken = takeout.taken_at({"photoTakenTime": {"timestamp": "1563121805"}})
    finally:
        monkeypatch.undo()
        time.tzset()
    assert taken is not None and taken.isoformat() == "2019-07-14T18:30:05+02:00"
