"""The ``lightbox`` commands as a user runs them, against a library kept in memory."""

from __future__ import annotations

import hashlib
import json
import re
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from lightbox_cli import main
from lightbox_cli.client import ApiError

Json = dict[str, Any]


def an_asset(asset_id: str, filename: str, **fields: Any) -> Json:
    return {"asset_id": asset_id, "status": "ready", "filename": filename,
            "content_type": "image/jpeg", "size_bytes": 123_456, "sha256": None,
            "project_id": None, "duplicate_of": None, "width": 4000, "height": 3000, "pages": 1,
            "bit_depth": 8, "color_mode": "RGB", "taken_at": "2024-05-31T14:00:12Z",
            "camera_make": "Fujifilm", "camera_model": "X-T5", "orientation": 1,
            "frames": 1, "duration": None, "has_location": False,
            "created_at": "2024-06-01T09:30:00Z", "updated_at": "2024-06-01T09:30:02Z",
            "error": None, "original_url": f"http://bucket.invalid/{asset_id}",
            "thumbnails": [{"size": 256, "page": 1, "format": "jpeg", "width": 256,
                            "height": 192, "url": "http://bucket.invalid/t"}], **fields}


class Library:
    """What the client would reach, in memory; each call is noted in ``calls``."""

    def __init__(self) -> None:
        self.items: dict[str, Json] = {}
        self.project_items: dict[str, Json] = {}
        self.calls: list[tuple[str, ...]] = []
        # What `complete` finds an uploaded file to be, by file name (else "uploaded").
        self.rendered: dict[str, Json] = {}
        # The taken_at each presign declared, by file name.
        self.declared_taken_at: dict[str, datetime | None] = {}
        self.declared_notes: dict[str, tuple[tuple[float, float] | None, str | None]] = {}
        self.presigned_to: list[tuple[str, str | None]] = []  # (file name, project id)
        self.import_reports: list[Json] = []
        self.rerender_pages: list[Json] = []
        self.still_outdated: list[int] = []
        self.refuse_admin = False
        self._lock = threading.Lock()

    def add(self, *assets: Json) -> None:
        self.items.update((a["asset_id"], a) for a in assets)

    def add_projects(self, *projects: Json) -> None:
        self.project_items.update((p["project_id"], p) for p in projects)

    def _note(self, *call: str) -> None:
        with self._lock:
            self.calls.append(call)

    def called(self, name: str) -> list[tuple[str, ...]]:
        return [call for call in self.calls if call[0] == name]

    def close(self) -> None:
        pass

    # --- assets

    def assets(self, *, limit: int | None = None, page_size: int = 100,
               **filters: str | None) -> Iterator[Json]:
        self._note("assets", *(f"{k}={v}" for k, v in filters.items() if v is not None))
        found = [a for a in self.items.values()
                 if (filters.get("status") or a["status"] not in ("deleted", "trashed"))
                 and all(a.get(k) == v for k, v in filters.items() if v is not None and k != "sort")]
        yield from found[:limit]

    def asset(self, asset_id: str) -> Json:
        self._note("asset", asset_id)
        if asset_id not in self.items:
            raise ApiError(404, "asset_not_found", f"no asset {asset_id}")
        return self.items[asset_id]

    def delete(self, asset_id: str, *, permanent: bool = False) -> None:
        self._note("delete", asset_id, *(["permanent"] if permanent else []))
        self.asset(asset_id)["status"] = "deleted" if permanent else "trashed"

    def restore(self, asset_id: str) -> Json:
        self._note("restore", asset_id)
        asset = self.asset(asset_id)
        asset["status"] = "ready"
        return asset

    def empty_trash(self) -> Json:
        self._note("empty_trash")
        trashed = [a for a in self.items.values() if a["status"] == "trashed"][:2]
        for asset in trashed:
            asset["status"] = "deleted"
        return {"deleted": len(trashed),
                "more": any(a["status"] == "trashed" for a in self.items.values())}

    def retry(self, asset_id: str) -> Json:
        self._note("retry", asset_id)
        return {"asset_id": asset_id, "status": "processing"}

    def stats(self) -> Json:
        return {"assets": {"ready": len(self.items)},
                "queues": {"thumbnails_standard": {"waiting": 0, "in_flight": 0, "delayed": 0}}}

    # --- projects

    def projects(self) -> list[Json]:
        self._note("projects")
        return list(self.project_items.values())

    def project_named(self, name: str) -> Json | None:
        self._note("project_named", name)
        return next((p for p in self.project_items.values() if p["name"].lower() == name.lower()), None)

    def project(self, project_id: str) -> Json:
        return self.project_items[project_id]

    def create_project(self, name: str) -> Json:
        self._note("create_project", name)
        if len(name) > 200:
            raise ApiError(422, "invalid_field", "name must be at most 200 characters")
        project = {"project_id": str(uuid.uuid4()), "name": name, "asset_count": 0,
                   "created_at": "2024-06-01T09:30:00Z"}
        self.project_items[project["project_id"]] = project
        return project

    def add_to_project(self, project_id: str, asset_ids: list[str]) -> Json:
        self._note("add_to_project", project_id, *asset_ids)
        members = self.project_items[project_id].setdefault("members", set())
        added = len(set(asset_ids) - members)
        members.update(asset_ids)
        return {"project": self.project_items[project_id], "added": added}

    def remove_from_project(self, project_id: str, asset_ids: list[str]) -> Json:
        self._note("remove_from_project", project_id, *asset_ids)
        members = self.project_items[project_id].setdefault("members", set())
        removed = len(set(asset_ids) & members)
        members.difference_update(asset_ids)
        return {"project": self.project_items[project_id], "removed": removed}

    def share_project(self, project_id: str, *, expires_at: str | None,
                      allow_original: bool) -> Json:
        self._note("share_project", project_id, str(expires_at), str(allow_original))
        return {"share_id": str(uuid.uuid4()), "url": "https://photos.example/#shared=t0k3n",
                "expires_at": expires_at, "allow_original": allow_original}

    def shares(self, project_id: str) -> list[Json]:
        return [{"share_id": uuid_starting("5a4e0001"), "created_at": "2024-06-01T09:30:00Z",
                 "expires_at": None, "allow_original": False,
                 "revoked_at": "2024-06-02T10:00:00Z"}]

    def revoke_share(self, project_id: str, share_id: str) -> None:
        self._note("revoke_share", project_id, share_id)

    def rename_project(self, project_id: str, name: str) -> Json:
        self._note("rename_project", project_id, name)
        self.project_items[project_id]["name"] = name
        return self.project_items[project_id]

    def delete_project(self, project_id: str, *, cascade: bool = False) -> None:
        self._note("delete_project", project_id)
        del self.project_items[project_id]

    # --- uploads

    def presign(self, filename: str, content_type: str, size_bytes: int, sha256: str,
                project_id: str | None = None, *, taken_at: datetime | None = None,
                place: tuple[float, float] | None = None, description: str | None = None
                ) -> Json:
        self._note("presign", filename)
        self.declared_taken_at[filename] = taken_at
        self.declared_notes[filename] = (place, description)
        self.presigned_to.append((filename, project_id))
        with self._lock:
            held = next((a for a in self.items.values() if a["sha256"] == sha256), None)
            if held is not None:
                return {"asset_id": held["asset_id"], "status": held["status"], "duplicate": True}
            asset_id = str(uuid.uuid4())
            self.items[asset_id] = an_asset(asset_id, filename, status="pending", sha256=sha256,
                                            size_bytes=size_bytes, project_id=project_id)
        return {"asset_id": asset_id, "status": "pending",
                "upload": {"method": "PUT", "url": f"http://bucket.invalid/{asset_id}",
                           "headers": {}}}

    def put_file(self, url: str, headers: dict[str, str], path: Path, *, offset: int,
                 length: int, progress: Callable[[int], None]) -> None:
        self._note("put_file", path.name)
        # A first attempt the bucket slowed down, taken back, then the one that lands.
        progress(length)
        progress(-length)
        progress(length)

    def complete(self, asset_id: str) -> Json:
        asset = self.items[asset_id]
        asset.update(self.rendered.get(asset["filename"], {"status": "uploaded"}))
        return {"asset_id": asset_id, "status": asset["status"]}

    # --- imports: each report the library gives of a run, in turn; the last one stays

    def start_import(self, source: str, project_id: str | None, time_zone: str) -> Json:
        self._note("start_import", source, str(project_id), time_zone)
        return self.import_reports[0]

    def import_status(self, import_id: str) -> Json:
        self._note("import_status", import_id)
        if len(self.import_reports) > 1:
            self.import_reports.pop(0)
        return self.import_reports[0]

    # --- rerender: the pages of jobs the service sends, then how many assets are still left

    def rerender_page(self, cursor: str | None) -> Json:
        self._note("rerender_page", str(cursor))
        if self.refuse_admin:
            raise ApiError(403, "forbidden", "only an admin's key may rerender the library")
        return self.rerender_pages.pop(0)

    def rerender_progress(self) -> Json:
        self._note("rerender_progress")
        return {"render_spec": "5f1c", "outdated": self.still_outdated.pop(0)}

    def abort(self, asset_id: str) -> None:
        self._note("abort", asset_id)
        with self._lock:  # as the API does: the pending asset is gone, its bytes unheld
            del self.items[asset_id]


@pytest.fixture
def library(monkeypatch: pytest.MonkeyPatch) -> Library:
    held = Library()
    monkeypatch.setattr(main.Session, "client", lambda session: held)
    return held


def run(*args: str, answer: str = "", code: int = 0) -> Result:
    result = CliRunner().invoke(main.cli, list(args), input=answer)
    assert result.exit_code == code, f"exit {result.exit_code}\n{result.stdout}\n{result.stderr}"
    return result


def uuid_starting(start: str) -> str:
    return start + str(uuid.uuid4())[len(start):]


# --- tables ---------------------------------------------------------------------------------------

def test_ls_searches_by_kind_camera_and_file_name_on_the_server(library: Library) -> None:
    run("ls", "--kind", "raw", "--camera", "x-t5", "--search", "DSCF")
    assert library.called("assets") == [
        ("assets", "sort=-created", "kind=raw", "camera=x-t5", "q=DSCF")]
    assert "kind" in run("ls", "--kind", "photos", code=2).stderr


def test_ls_fits_80_columns_with_short_ids_and_long_names_cut_in_the_middle(library: Library) -> None:
    long_name = "PXL_20240531_140012345_a_very_long_description_of_the_evening_at_the_lake.jpg"
    library.add(
        an_asset(uuid_starting("0a6f3b1e"), long_name, status="processing"),
        an_asset(uuid_starting("9c2d0000"), "IMG_0001.JPG"))

    lines = run("ls").stdout.splitlines()

    assert max(map(len, lines)) <= 80, lines
    assert lines[0].split() == ["ID", "Status", "File", "Type", "Size", "Uploaded"]
    long_row = next(line for line in lines if line.startswith("0a6f3b1e "))
    assert re.search(r" PXL_20240531…\S*_lake\.jpg ", long_row), long_row
    assert any(line.startswith("9c2d0000  ready ") and "IMG_0001.JPG" in line for line in lines)


def test_a_wider_table_takes_every_column(library: Library, monkeypatch: pytest.MonkeyPatch) -> None:
    library.add(an_asset(uuid_starting("0a6f3b1e"), "IMG_0001.JPG"))
    monkeypatch.setattr(main, "LS_PIPED_WIDTH", 120)

    lines = run("ls").stdout.splitlines()

    assert lines[0].split() == ["ID", "Status", "File", "Type", "Size", "Pixels", "Taken", "Uploaded"]
    assert lines[1].split() == ["0a6f3b1e", "ready", "IMG_0001.JPG", "jpeg", "123.5", "kB",
                                "4000×3000", "2024-05-31", "14:00", "2024-06-01", "09:30"]


def test_short_ids_are_longer_when_those_shown_share_their_first_8_digits(library: Library) -> None:
    one, other = "0a6f3b1e-5000-4000-8000-000000000000", "0a6f3b1e-5100-4000-8000-000000000000"
    library.add(an_asset(one, "one.jpg"), an_asset(other, "other.jpg"))

    ids = [line.split()[0] for line in run("ls").stdout.splitlines()[1:]]

    assert sorted(ids) == ["0a6f3b1e-50", "0a6f3b1e-51"]


def test_show_tells_an_animation_by_its_frames_and_seconds(library: Library) -> None:
    still, moving = uuid_starting("0a6f3b1e"), uuid_starting("9c2d4e5f")
    library.add(an_asset(still, "photo.jpg"),
                an_asset(moving, "cat.gif", content_type="image/gif", frames=48, duration=3.2))

    assert "Animation" not in run("show", still).stdout
    assert re.search(r"Animation\s+48 frames, 3.2 s a loop", run("show", moving).stdout)


def test_show_gives_a_clips_duration_and_codec(library: Library) -> None:
    short, long = uuid_starting("0a6f3b1e"), uuid_starting("9c2d4e5f")
    library.add(an_asset(short, "clip.mp4", content_type="video/mp4", duration=3.0,
                         codec="h264", frame_rate=29.97, has_audio=True, frames=90),
                an_asset(long, "talk.mov", content_type="video/quicktime", duration=3725.4,
                         codec="hevc", frame_rate=30.0, has_audio=False))

    shown = run("show", short).stdout
    assert re.search(r"Video\s+0:03, H.264, 29.97 fps, with sound", shown)
    assert "Animation" not in shown  # a clip's duration is not a loop's
    assert re.search(r"Video\s+1:02:05, HEVC, 30 fps, silent", run("show", long).stdout)


def test_show_says_when_where_it_was_taken_is_recorded_and_its_description(
    library: Library,
) -> None:
    here, nowhere = uuid_starting("0a6f3b1e"), uuid_starting("9c2d4e5f")
    library.add(an_asset(here, "beach.jpg", has_location=True, description="Low tide"),
                an_asset(nowhere, "scan.jpg", description=None))

    shown = run("show", here).stdout
    assert re.search(r"Location\s+recorded \(never in thumbnails\)", shown)
    assert re.search(r"Description\s+Low tide", shown)
    assert "Location" not in run("show", nowhere).stdout
    assert "Description" not in run("show", nowhere).stdout


def test_no_table_ends_its_lines_with_spaces(library: Library, tmp_path: Path) -> None:
    asset_id = uuid_starting("0a6f3b1e")
    library.add(an_asset(asset_id, "a-rather-long-name-for-a-photo.jpg"))
    library.add_projects({"project_id": uuid_starting("5e1f0000"), "name": "Trip",
                          "asset_count": 1, "created_at": "2024-06-01T09:30:00Z"})
    (tmp_path / "photo.jpg").write_bytes(b"\xff\xd8 a photo")

    for command in (["ls"], ["show", asset_id], ["projects", "ls"], ["stats"],
                    ["upload", str(tmp_path / "photo.jpg")]):
        output = run(*command).stdout
        assert output and all(line == line.rstrip() for line in output.splitlines()), (command, output)


# --- ids: whole, or their first characters ---------------------------------------------------------

def test_commands_take_the_first_characters_of_an_asset_id(library: Library, tmp_path: Path) -> None:
    photo, scan = uuid_starting("0a6f3b1e"), uuid_starting("9c2d4e5f")
    library.add(an_asset(photo, "photo.jpg"), an_asset(scan, "scan.tif"))

    assert "photo.jpg" in run("show", "0a6f").stdout
    assert "photo.jpg" in run("show", "0A6F-3B1E").stdout  # as the UUID is written, any case
    assert library.called("asset")[-1] == ("asset", photo)
    run("retry", "0a6f3b", "9c2d")
    assert library.called("retry") == [("retry", photo), ("retry", scan)]
    run("rm", "--yes", "9c2d4e")
    assert library.called("delete") == [("delete", scan)]


def test_get_takes_the_first_characters_of_an_asset_id(
    library: Library, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    photo = uuid_starting("0a6f3b1e")
    library.add(an_asset(photo, "photo.jpg"))
    downloaded: list[str] = []
    monkeypatch.setattr(Library, "download", lambda self, url, file, progress: downloaded.append(url),
                        raising=False)

    run("get", "0a6f3b", "-o", str(tmp_path / "copy.jpg"))

    assert downloaded == [f"http://bucket.invalid/{photo}"]


def test_a_whole_id_is_not_looked_up(library: Library) -> None:
    photo = uuid_starting("0a6f3b1e")
    library.add(an_asset(photo, "photo.jpg"))

    run("show", photo.upper())

    assert library.called("assets") == [] and library.called("asset") == [("asset", photo)]


def test_first_characters_that_start_no_id_or_several_say_so(library: Library) -> None:
    one, other = uuid_starting("a1b2c3d4"), uuid_starting("a1b2c3ff")
    library.add(an_asset(one, "x.jpg"), an_asset(other, "y.jpg"))

    assert "no asset starts with 0a6f" in run("show", "0a6f", code=1).stderr
    ambiguous = run("show", "a1b2", code=1).stderr
    assert "a1b2 is ambiguous: a1b2c3d4 x.jpg, a1b2c3ff y.jpg" in ambiguous
    assert "'IMG_1.jpg' is not an asset id" in run("show", "IMG_1.jpg", code=1).stderr
    assert "'a1b' is not an asset id" in run("show", "a1b", code=1).stderr
    # One listing for all the ids of a command, and nothing deleted when one of them is wrong.
    library.calls.clear()
    assert "no asset starts with 0a6f" in run("rm", "--yes", "a1b2c3d4", "0a6f", code=1).stderr
    assert library.called("assets") == [("assets",)] and library.called("delete") == []


def test_rm_permanent_shows_what_the_ids_turned_out_to_be_before_it_asks(
    library: Library,
) -> None:
    photo, scan = uuid_starting("0a6f3b1e"), uuid_starting("9c2d4e5f")
    library.add(an_asset(photo, "photo.jpg"), an_asset(scan, "scan.tif", status="trashed"))

    asked = run("rm", "--permanent", "9c2d", photo, answer="n\n", code=1).stderr

    assert "9c2d4e5f  scan.tif (trashed)" in asked and "0a6f3b1e  photo.jpg (ready)" in asked
    assert "Delete 2 asset(s) for good" in asked and library.called("delete") == []
    run("rm", "--permanent", "--yes", "9c2d")  # found in the trash too
    assert library.called("delete") == [("delete", scan, "permanent")]


def test_rm_moves_to_the_trash_without_asking_and_restore_brings_back(library: Library) -> None:
    photo, scan = uuid_starting("0a6f3b1e"), uuid_starting("9c2d4e5f")
    library.add(an_asset(photo, "photo.jpg"), an_asset(scan, "scan.tif"))

    moved = run("rm", "0a6f", "9c2d").stderr

    assert f"Moved to the trash: {photo}." in moved
    assert library.called("delete") == [("delete", photo), ("delete", scan)]
    assert "photo.jpg" in run("trash", "ls").stdout
    assert "photo.jpg" not in run("ls").stdout
    assert f"Restored {photo}." in run("restore", "0a6f").stderr  # looked for in the trash
    assert library.called("assets")[-1] == ("assets", "status=trashed")
    assert library.items[photo]["status"] == "ready"


def test_trash_empty_asks_then_empties_it_a_batch_at_a_time(library: Library) -> None:
    library.add(*(an_asset(uuid_starting(f"0a6f{n:04}"), f"{n}.jpg", status="trashed")
                  for n in range(5)))
    assert "Delete everything in the trash for good" in run("trash", "empty", answer="n\n",
                                                          code=1).stderr
    assert library.called("empty_trash") == []
    assert "Deleted 5 asset(s) for good." in run("trash", "empty", "--yes").stderr
    assert len(library.called("empty_trash")) == 3


def test_projects_rm_names_the_project_it_found_before_it_asks(library: Library) -> None:
    trip = {"project_id": uuid_starting("5e1f2a3b"), "name": "Trip to Porto", "asset_count": 3,
            "created_at": "2024-06-01T09:30:00Z"}
    library.add_projects(trip)

    asked = run("projects", "rm", "5e1f", "--cascade", answer="n\n", code=1).stderr
    assert "Delete project 'Trip to Porto' (5e1f2a3b) and its 3 asset(s)?" in asked
    assert library.called("delete_project") == []
    assert "Deleted project 'Trip to Porto'." in run("projects", "rm", "5e1f", "--cascade",
                                                     "--yes").stderr


def test_projects_are_taken_by_name_or_by_the_first_characters_of_their_id(library: Library) -> None:
    trip = {"project_id": uuid_starting("5e1f2a3b"), "name": "Trip", "asset_count": 0,
            "created_at": "2024-06-01T09:30:00Z"}
    cafe = {"project_id": uuid_starting("0a6f3b1e"), "name": "cafe", "asset_count": 0,
            "created_at": "2024-06-01T09:30:00Z"}
    library.add_projects(trip, cafe)

    run("projects", "rename", "5e1f", "Porto")
    assert library.called("rename_project") == [("rename_project", trip["project_id"], "Porto")]
    assert "Porto" in run("projects", "ls").stdout.splitlines()[1]
    # A name wins over the start of another project's id.
    run("projects", "rm", "cafe")
    assert library.called("delete_project") == [("delete_project", cafe["project_id"])]
    assert "no project is called 'beef' and no project id starts with it" in run(
        "projects", "rm", "beef", code=1).stderr


def test_projects_add_and_remove_take_ids_by_their_first_characters_in_batches(
    library: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    trip = {"project_id": uuid_starting("5e1f2a3b"), "name": "Trip", "asset_count": 0,
            "created_at": "2024-06-01T09:30:00Z"}
    library.add_projects(trip)
    photos = [an_asset(uuid_starting(f"ab{n:02d}"), f"{n}.jpg") for n in range(3)]
    library.add(*photos)
    monkeypatch.setattr(main, "MEMBERS_AT_ONCE", 2)

    added = run("projects", "add", "Trip", "ab00", "ab01", photos[2]["asset_id"]).stderr
    assert "Added 3 asset(s); 0 were in it already." in added
    assert [call[2:] for call in library.called("add_to_project")] == [
        (photos[0]["asset_id"], photos[1]["asset_id"]), (photos[2]["asset_id"],)]
    assert "Added 0 asset(s); 1 were in it already." in run("projects", "add", "Trip",
                                                            "ab01").stderr
    assert "Removed 1 asset(s)." in run("projects", "remove", "5e1f", "ab01").stderr


def test_projects_share_prints_the_link_once_and_shares_lists_without_it(
    library: Library,
) -> None:
    trip = {"project_id": uuid_starting("5e1f2a3b"), "name": "Trip", "asset_count": 0,
            "created_at": "2024-06-01T09:30:00Z"}
    library.add_projects(trip)
    made = run("projects", "share", "Trip", "--originals",
               "--expires", "2030-01-01T00:00:00Z")
    assert made.stdout.strip() == "https://photos.example/#shared=t0k3n"
    assert "originals too" in made.stderr
    assert library.called("share_project") == [
        ("share_project", trip["project_id"], "2030-01-01T00:00:00Z", "True")]
    listed = run("projects", "shares", "Trip").stdout
    assert "never" in listed and "2024-06-02 10:00" in listed and "t0k3n" not in listed
    share_id = str(uuid.uuid4())
    assert "Revoked." in run("projects", "unshare", "Trip", share_id).stderr
    assert library.called("revoke_share") == [("revoke_share", trip["project_id"], share_id)]


def test_upload_into_a_project_named_like_an_id_creates_it(library: Library, tmp_path: Path) -> None:
    trip = {"project_id": uuid_starting("20240000"), "name": "Trip", "asset_count": 0,
            "created_at": "2024-06-01T09:30:00Z"}
    library.add_projects(trip)
    (tmp_path / "photo.jpg").write_bytes(b"\xff\xd8 a photo")

    run("upload", str(tmp_path / "photo.jpg"), "--project", "2024")

    assert library.called("create_project") == [("create_project", "2024")]


# --- upload ---------------------------------------------------------------------------------------

def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_upload_of_a_takeout_folder_declares_each_photos_date_place_and_caption(
    library: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "Takeout" / "Google Photos" / "Photos from 2019"
    write(folder / "IMG_1.png", b"\x89PNG\r\n\x1a\n one")
    write(folder / "IMG_1.png.supplemental-metadata.json",
          b'{"title": "IMG_1.png", "photoTakenTime": {"timestamp": "1563121805"}, '
          b'"description": "Harbour", "geoData": {"latitude": 43.3, "longitude": 5.37}}')
    write(folder / "IMG_2.png", b"\x89PNG\r\n\x1a\n two")

    done = run("upload", "Takeout")

    assert library.declared_taken_at == {
        "IMG_1.png": datetime(2019, 7, 14, 16, 30, 5, tzinfo=UTC), "IMG_2.png": None}
    assert library.declared_notes == {"IMG_1.png": ((43.3, 5.37), "Harbour"),
                                      "IMG_2.png": (None, None)}
    assert "a Google Takeout sidecar (its date goes with its photo)" in done.stderr
    # Sent at once, in whatever order their threads run: each once.
    assert sorted(call for call in library.calls if call[0] == "presign") == [
        ("presign", "IMG_1.png"), ("presign", "IMG_2.png")]


def test_upload_of_a_takeout_folder_puts_each_albums_photos_in_a_project_of_its_name(
    library: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    photos = tmp_path / "Takeout" / "Google Photos"
    same = b"\x89PNG\r\n\x1a\n the same photo"
    write(photos / "Photos from 2019" / "IMG_1.png", same)  # also in the album, as Google does
    write(photos / "Summer" / "IMG_1.png", same)
    write(photos / "Summer" / "IMG_2.png", b"\x89PNG\r\n\x1a\n the album's alone")
    write(photos / "Summer" / "metadata.json", b'{"title": "Summer 2019", "description": ""}')
    for copy in ("Photos from 2019/IMG_1.png", "Summer/IMG_1.png", "Summer/IMG_2.png"):
        write(photos / f"{copy}.json", b'{"title": "x", "photoTakenTime": {"timestamp": "1"}}')

    done = run("upload", "Takeout")

    assert "Created project 'Summer 2019'." in done.stderr
    (summer,) = [p["project_id"] for p in library.project_items.values()]
    # Both copies are asked for: the library keeps the bytes once and shows them in both.
    assert sorted(library.presigned_to, key=str) == sorted(
        [("IMG_1.png", None), ("IMG_1.png", summer), ("IMG_2.png", summer)], key=str)


def test_an_album_whose_name_the_library_refuses_still_uploads_its_photos(
    library: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    album = tmp_path / "Takeout" / "Long"
    write(album / "IMG_2.png", b"\x89PNG\r\n\x1a\n alone")
    write(album / "IMG_2.png.json", b'{"title": "IMG_2.png", "photoTakenTime": {"timestamp": "1"}}')
    write(album / "metadata.json", b'{"title": "' + b"x" * 300 + b'"}')

    done = run("upload", "Takeout")

    said = " ".join(done.stderr.split())  # as the terminal folded it
    assert "is not made a project: name must be at most 200 characters" in said
    assert library.presigned_to == [("IMG_2.png", None)]


def test_upload_with_a_project_puts_a_whole_takeout_there_albums_and_all(
    library: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "Takeout" / "Summer" / "IMG_2.png", b"\x89PNG\r\n\x1a\n alone")
    write(tmp_path / "Takeout" / "Summer" / "metadata.json", b'{"title": "Summer 2019"}')
    write(tmp_path / "Takeout" / "Summer" / "IMG_2.png.json",
          b'{"title": "IMG_2.png", "photoTakenTime": {"timestamp": "1"}}')

    run("upload", "Takeout", "--project", "Imported")

    (imported,) = [p for p in library.project_items.values()]
    assert imported["name"] == "Imported"
    assert library.presigned_to == [("IMG_2.png", imported["project_id"])]


def test_upload_names_each_file_it_leaves_out_and_why(
    library: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "Pictures" / "a.jpg", b"\xff\xd8 a")
    write(tmp_path / "Pictures" / "notes.txt", b"notes")
    write(tmp_path / "Pictures" / "a.xmp", b"<x:xmpmeta/>")
    write(tmp_path / "Pictures" / ".cache" / "b.jpg", b"\xff\xd8 b")

    done = run("upload", "Pictures")

    assert "Leaving out 2 files and 1 folder:" in done.stderr
    said = [line.strip() for line in done.stderr.splitlines()]
    assert said[said.index("a hidden folder, not looked in") + 1] == "Pictures/.cache"
    assert said[said.index("a sidecar (notes on a photo, not an image)") + 1] == "Pictures/a.xmp"
    other = next(n for n, line in enumerate(said)
                 if line.startswith("not of the types to upload (.3gp, .arw, .avif"))
    assert said[other + 1] == "Pictures/notes.txt"
    assert library.called("presign") == [("presign", "a.jpg")]


def test_a_second_run_after_a_failure_says_what_failed_before_and_exits_0(
        library: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "Pictures" / "good.jpg", b"\xff\xd8 good")
    write(tmp_path / "Pictures" / "broken.jpg", b"\xff\xd8 broken")
    library.rendered["broken.jpg"] = {"status": "failed", "error": "not a JPEG: truncated"}

    first = run("upload", "Pictures", code=1)
    assert re.search(r"broken\.jpg +failed .*not a JPEG: truncated", first.stdout), first.stdout

    again = run("upload", "Pictures")

    row = next(line for line in again.stdout.splitlines() if "broken.jpg" in line)
    assert "failed before" in row and "not a JPEG: truncated" in row and "lightbox retry" in row
    assert "1 failed before, 1 skipped" in again.stdout
    # Asked for once: the second run knew its bytes had failed.
    assert sorted(library.called("presign")) == [
        ("presign", "broken.jpg"), ("presign", "good.jpg"), ("presign", "good.jpg")]


def test_a_file_that_fails_in_this_run_still_fails_it(library: Library, tmp_path: Path) -> None:
    write(tmp_path / "broken.jpg", b"\xff\xd8 broken")
    library.rendered["broken.jpg"] = {"status": "failed", "error": "not a JPEG: truncated"}
    failed = an_asset(str(uuid.uuid4()), "old.jpg", status="failed", error="unreadable",
                      sha256=sha256(write(tmp_path / "old.jpg", b"\xff\xd8 old").read_bytes()))
    library.add(failed)

    results = run("upload", str(tmp_path), "--json", code=1).stdout

    assert '"outcome": "failed before"' in results and '"outcome": "failed"' in results


def test_bytes_sent_are_those_the_bucket_took_once_each(library: Library, tmp_path: Path) -> None:
    # 100 bytes that become an image, 200 found broken, 400 found to be a duplicate once they
    # are there, and 800 the library had already: 700 bytes sent, each once.
    for name, size in (("new.jpg", 100), ("broken.jpg", 200), ("twin.jpg", 400), ("held.jpg", 800)):
        write(tmp_path / name, name.encode() + b"-" * (size - len(name)))
    library.rendered["new.jpg"] = {"status": "ready"}
    library.rendered["broken.jpg"] = {"status": "failed", "error": "truncated"}
    library.rendered["twin.jpg"] = {"status": "duplicate", "duplicate_of": "0a6f3b1e"}
    library.add(an_asset(str(uuid.uuid4()), "held.jpg",
                         sha256=sha256((tmp_path / "held.jpg").read_bytes())))

    summary = run("upload", str(tmp_path), code=1).stdout.splitlines()[-1]

    assert summary.startswith("1 failed, 1 ready, 2 skipped; 700 bytes sent in "), summary


# --- import s3:// ------------------------------------------------------------------------------

def an_import(status: str = "listing", listed: int = 0, adopted: int = 0,
              skipped: Json | None = None, error: str | None = None, **assets: int) -> Json:
    return {"import_id": "6f1c1d52-0000-4000-8000-000000000001", "source": "s3://archive/2019/",
            "project_id": None, "time_zone": "UTC", "status": status, "listed": listed,
            "adopted": adopted, "assets": assets, "skipped": skipped or {}, "error": error,
            "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:09Z"}


@pytest.fixture
def fast_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(main, "POLL_SECONDS", 0)


def test_import_wait_follows_the_run_until_every_photo_is_settled(
    library: Library, fast_polls: None,
) -> None:
    library.import_reports = [
        an_import(),
        an_import(listed=1000, adopted=990, uploaded=990, skipped={"sidecar": 10}),
        an_import("listed", 1400, 1380, {"sidecar": 12, "not_media": 8}, uploaded=300,
                  processing=2, ready=1078),
        an_import("listed", 1400, 1380, {"sidecar": 12, "not_media": 8}, ready=1379,
                  duplicate=1),
    ]
    result = run("import", "s3://archive/2019/", "--wait", "--time-zone", "Europe/Paris")

    assert len(library.called("import_status")) == 3  # until nothing was on its way
    assert library.called("start_import") == [
        ("start_import", "s3://archive/2019/", "None", "Europe/Paris")]
    assert ("s3://archive/2019/: 1400 listed, 1380 adopted (1 duplicate, 1379 ready); skipped "
            "20: 12 sidecars (.json, .xmp, .aae ...), 8 not a photo or video.") in result.stderr


@pytest.mark.parametrize(("tz", "sent"), [
    ("Asia/Tokyo", "Asia/Tokyo"),
    (":America/New_York", "America/New_York"),  # POSIX's form of a zone file's name
    ("CET-1CEST", "UTC"),  # a POSIX rule, not a name the library can read
])
def test_import_sends_this_machines_time_zone_unless_told(
    library: Library, monkeypatch: pytest.MonkeyPatch, tz: str, sent: str,
) -> None:
    monkeypatch.setenv("TZ", tz)
    library.import_reports = [an_import("listed", 2, 2, ready=2)]
    run("import", "s3://archive/2019/")
    assert library.called("start_import") == [("start_import", "s3://archive/2019/", "None",
                                               sent)]


def test_import_without_wait_says_what_it_started_and_how_far_it_is(library: Library) -> None:
    library.import_reports = [an_import(listed=0)]
    result = run("import", "s3://archive/2019/")
    assert "Importing s3://archive/2019/ (import 6f1c1d52-" in result.stderr
    assert "0 listed, 0 adopted; still listing." in result.stderr
    assert library.called("import_status") == []


def test_an_import_with_failed_photos_or_a_failed_listing_exits_1_saying_why(
    library: Library, fast_polls: None,
) -> None:
    library.import_reports = [an_import("listed", 3, 3, ready=2, failed=1)]
    assert "(1 failed, 2 ready)" in run("import", "s3://archive/2019/", "--wait",
                                        code=1).stderr
    library.import_reports = [an_import("failed", error="cannot list s3://archive/2019/: "
                                                        "no bucket archive")]
    failed = run("import", "s3://archive/2019/", code=1)
    assert "The import failed: cannot list s3://archive/2019/: no bucket archive" in failed.stderr


def test_import_json_prints_the_run_as_the_api_gives_it(library: Library) -> None:
    report = an_import("listed", 2, 0, {"already_imported": 2})
    library.import_reports = [report]
    result = run("import", "s3://archive/2019/", "--json")
    assert json.loads(result.stdout) == report
    assert result.stderr == ""


def test_import_into_a_project_creates_it_by_name(library: Library) -> None:
    library.import_reports = [an_import("listed")]
    run("import", "s3://archive/2019/", "--project", "Archive 2019", "--time-zone", "UTC")
    [project] = library.project_items.values()
    assert project["name"] == "Archive 2019"
    assert library.called("start_import") == [("start_import", "s3://archive/2019/",
                                                project["project_id"], "UTC")]


# --- admin rerender ----------------------------------------------------------------------------

def test_admin_rerender_sends_every_page_then_follows_until_nothing_is_left(
    library: Library, fast_polls: None,
) -> None:
    library.rerender_pages = [
        {"render_spec": "5f1c", "outdated": 450, "sent": 200, "next_cursor": "c1"},
        {"render_spec": "5f1c", "outdated": 450, "sent": 200, "next_cursor": "c2"},
        {"render_spec": "5f1c", "outdated": 450, "sent": 50, "next_cursor": None},
    ]
    library.still_outdated = [450, 120, 0]
    result = run("admin", "rerender", "--wait")
    assert [call[1] for call in library.called("rerender_page")] == ["None", "c1", "c2"]
    assert len(library.called("rerender_progress")) == 3
    assert "450 ready assets were on another spec than 5f1c; 450 rerender jobs sent." in \
        result.stderr
    assert "Every ready asset is on the current spec." in result.stderr


def test_admin_rerender_with_an_owners_key_says_it_needs_an_admins(library: Library) -> None:
    library.refuse_admin = True
    refused = run("admin", "rerender", code=1)
    assert "only an admin's key may rerender the library" in refused.stderr
