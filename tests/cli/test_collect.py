"""Which files an upload takes: named files, and the images inside named folders."""

from __future__ import annotations

from pathlib import Path

from lightbox_cli.uploads import TYPE_NAMES, collect


def touch(path: Path, data: bytes = b"x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_folders_are_walked_for_images_leaving_out_hidden_and_other_files(tmp_path: Path) -> None:
    touch(tmp_path / "a.JPG")
    touch(tmp_path / "deep" / "er" / "b.tiff")
    touch(tmp_path / "c.png")
    touch(tmp_path / "notes.txt")
    touch(tmp_path / ".thumbs" / "d.jpg")
    touch(tmp_path / ".e.jpg")
    touch(tmp_path / "empty.jpg", b"")

    found = collect([tmp_path])

    assert [f.path.relative_to(tmp_path).as_posix() for f in found.files] == ["a.JPG", "c.png", "deep/er/b.tiff"]
    assert [f.content_type for f in found.files] == ["image/jpeg", "image/png", "image/tiff"]
    assert found.ignored == 2  # notes.txt and the empty file; hidden ones are not looked at
    assert found.refused == []


def test_types_filter_what_is_taken(tmp_path: Path) -> None:
    touch(tmp_path / "a.jpg")
    touch(tmp_path / "b.tif")

    found = collect([tmp_path], [TYPE_NAMES["tiff"]])

    assert [f.path.name for f in found.files] == ["b.tif"]


def test_named_files_that_cannot_be_uploaded_are_refused_with_why(tmp_path: Path) -> None:
    text = touch(tmp_path / "notes.txt")
    empty = touch(tmp_path / "empty.jpg", b"")

    found = collect([text, empty, tmp_path / "missing.jpg"])

    assert found.files == []
    assert [(path.name, why.split(" (")[0]) for path, why in found.refused] == [
        ("notes.txt", "not an image of the types to upload"),
        ("empty.jpg", "empty file"),
        ("missing.jpg", "no such file or folder"),
    ]


def test_a_file_named_twice_is_uploaded_once_and_folder_links_are_not_followed(tmp_path: Path) -> None:
    photo = touch(tmp_path / "photos" / "a.jpg")
    (tmp_path / "photos" / "loop").symlink_to(tmp_path / "photos")

    found = collect([photo, tmp_path / "photos", tmp_path / "photos" / "." / "a.jpg"])

    assert [f.path for f in found.files] == [photo]
