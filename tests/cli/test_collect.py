"""Which files an upload takes: named files, and the images inside named folders."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lightbox_cli.uploads import TYPE_NAMES, collect


def touch(path: Path, data: bytes = b"x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_folders_are_walked_for_images_naming_each_thing_left_out_and_why(tmp_path: Path) -> None:
    touch(tmp_path / "a.JPG")
    touch(tmp_path / "deep" / "er" / "b.tiff")
    touch(tmp_path / "c.png")
    touch(tmp_path / "notes.txt")
    touch(tmp_path / "c.xmp")
    touch(tmp_path / ".thumbs" / "d.jpg")
    touch(tmp_path / ".e.jpg")
    touch(tmp_path / "empty.jpg", b"")
    (tmp_path / "gone.jpg").symlink_to(tmp_path / "nowhere.jpg")
    os.mkfifo(tmp_path / "pipe.jpg")

    found = collect([tmp_path])

    assert [f.path.relative_to(tmp_path).as_posix() for f in found.files] == ["a.JPG", "c.png", "deep/er/b.tiff"]
    assert [f.content_type for f in found.files] == ["image/jpeg", "image/png", "image/tiff"]
    assert [(path.relative_to(tmp_path).as_posix(), why.split(" (")[0]) for path, why in found.left_out] == [
        (".e.jpg", "hidden"),
        (".thumbs", "a hidden folder, not looked in"),
        ("c.xmp", "a sidecar"),
        ("empty.jpg", "empty file"),
        ("gone.jpg", "a link to nothing"),
        ("notes.txt", "not of the types to upload"),
        ("pipe.jpg", "not a regular file"),
    ]
    assert found.refused == []


def test_types_filter_what_is_taken(tmp_path: Path) -> None:
    touch(tmp_path / "a.jpg")
    touch(tmp_path / "b.tif")

    found = collect([tmp_path], [TYPE_NAMES["tiff"]])

    assert [f.path.name for f in found.files] == ["b.tif"]
    assert [(path.name, why) for path, why in found.left_out] == [
        ("a.jpg", "not of the types to upload (.tif, .tiff)")]


def test_named_files_that_cannot_be_uploaded_are_refused_with_why(tmp_path: Path) -> None:
    text = touch(tmp_path / "notes.txt")
    empty = touch(tmp_path / "empty.jpg", b"")
    os.mkfifo(tmp_path / "pipe.jpg")
    hidden = touch(tmp_path / ".hidden.jpg")

    found = collect([text, empty, tmp_path / "missing.jpg", tmp_path / "pipe.jpg", hidden])

    assert [f.path for f in found.files] == [hidden]  # named, so wanted
    assert [(path.name, why.split(" (")[0]) for path, why in found.refused] == [
        ("notes.txt", "not of the types to upload"),
        ("empty.jpg", "empty file"),
        ("missing.jpg", "no such file or folder"),
        ("pipe.jpg", "not a regular file"),
    ]


def test_a_file_named_twice_is_uploaded_once_and_folder_links_are_not_followed(tmp_path: Path) -> None:
    photo = touch(tmp_path / "photos" / "a.jpg")
    (tmp_path / "photos" / "loop").symlink_to(tmp_path / "photos")

    found = collect([photo, tmp_path / "photos", tmp_path / "photos" / "." / "a.jpg"])

    assert [f.path for f in found.files] == [photo]
    assert [(path.name, why) for path, why in found.left_out] == [
        ("loop", "a link to a folder, not followed (it could loop)")]


def test_a_folder_that_cannot_be_read_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    touch(tmp_path / "a.jpg")
    touch(tmp_path / "locked" / "b.jpg")
    scandir = os.scandir

    def refusing(path: Path) -> object:
        if Path(path).name == "locked":
            raise PermissionError(13, "Permission denied", str(path))
        return scandir(path)

    # Whoever runs the tests may read every folder (root does), so the refusal is staged.
    monkeypatch.setattr(os, "scandir", refusing)
    found = collect([tmp_path])

    assert [f.path.name for f in found.files] == ["a.jpg"]
    assert [(path.name, why) for path, why in found.left_out] == [
        ("locked", "cannot read this folder: Permission denied")]
