"""Google Takeout's sidecar rules (shared by an import from a bucket and an upload from a
disk): the names Google really gives sidecars, and what the library takes from them."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

import lightbox_takeout as takeout

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
    assert takeout.match(photo, {sidecar, "other.jpg.json"}) == sidecar


def test_a_live_photos_video_shares_its_stills_sidecar() -> None:
    name = "IMG_5678.HEIC.supplemental-metadata.json"
    assert takeout.match("IMG_5678.MP4", {name}) == name


def test_a_photo_without_a_sidecar_of_its_own_takes_none() -> None:
    sidecars = {"IMG_1.HEIC.json", "IMG_1.JPG.json"}
    assert takeout.match("IMG_2.jpg", sidecars) is None
    assert takeout.match("IMG_1.MP4", sidecars) is None  # two stills: which is unsure


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
    document = {"title": "IMG.jpg", "photoTakenTime": {"timestamp": str(taken)}}
    assert takeout.taken_at(document, UTC) == expected


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
def test_a_hostile_json_file_is_just_not_a_sidecar(content: bytes) -> None:
    document = takeout.parse(content)
    assert document is None or takeout.notes(document).place is None


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


def test_the_date_is_the_instant_in_the_zone_asked_for() -> None:
    taken = takeout.taken_at({"photoTakenTime": {"timestamp": "1563121805"}},
                             ZoneInfo("America/New_York"))
    assert taken is not None and taken.isoformat() == "2019-07-14T12:30:05-04:00"

