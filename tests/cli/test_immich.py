"""``lightbox import immich`` against an Immich on loopback (``fake_immich.py``) and a library
kept in memory (``test_commands.py``'s): what comes over, what stays, and runs again."""

from __future__ import annotations

import _thread
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from lightbox_cli import immich as immich_module
from lightbox_cli.client import ATTEMPTS
from lightbox_cli.immich import ImmichClient, ImmichError
from tests.cli.fake_immich import FakeImmich, jpeg, png, serve
from tests.cli.test_commands import Library, library, run
from tests.videos import clip

__all__ = ["library"]  # the fixture, used by name


@pytest.fixture
def immich(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[FakeImmich]:
    monkeypatch.setattr(immich_module, "backoff", lambda attempt: 0.01)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("LIGHTBOX_URL", "http://lightbox.invalid")
    monkeypatch.setenv("LIGHTBOX_API_KEY", "lightbox-key")
    monkeypatch.delenv("IMMICH_API_KEY", raising=False)
    yield from serve(FakeImmich())


def import_immich(immich: FakeImmich, *more: str, code: int = 0, key: str = "immich-key"
                  ) -> Any:
    return run("import", "immich", "--url", immich.url, "--api-key", key, *more, code=code)


def a_library(immich: FakeImmich) -> dict[str, str]:
    """Five assets of every kind the import meets, and one in the trash; ids by name."""
    ids = {
        "harbour.jpg": immich.add(
            jpeg((10, 90, 200), taken="2019:07:14 18:30:05"), "harbour.jpg", "image/jpeg",
            local="2019-07-14T18:30:05", offset_hours=2,
            exif={"dateTimeOriginal": "2019-07-14T16:30:05.000Z", "timeZone": "Europe/Paris",
                  "latitude": 43.3, "longitude": 5.37, "description": "Harbour\r\nat dusk"}),
        "scan.png": immich.add(png((250, 250, 240)), "scan.png", "image/png",
                               local="2001-02-03T04:05:06"),
        "archived.jpg": immich.add(jpeg((0, 0, 0)), "archived.jpg", "image/jpeg",
                                   local="2020-01-01T00:00:00", offset_hours=-5,
                                   visibility="archive"),
        "binned.jpg": immich.add(jpeg((255, 0, 0)), "binned.jpg", "image/jpeg",
                                 local="2021-05-05T12:00:00", trashed=True),
    }
    motion = immich.add(clip(Image.new("RGB", (64, 48), (200, 80, 40)), container="mov",
                             seconds=1.0), "IMG_0001.MOV", "video/quicktime",
                        local="2022-08-08T08:08:08", kind="VIDEO", visibility="hidden")
    ids["IMG_0001.JPG"] = immich.add(jpeg((20, 200, 20)), "IMG_0001.JPG", "image/jpeg",
                                     local="2022-08-08T08:08:08", motion=motion)
    ids["IMG_0001.MOV"] = motion
    immich.add_album("Summer", ids["harbour.jpg"], ids["archived.jpg"])
    immich.add_album("Best", ids["archived.jpg"], ids["IMG_0001.JPG"])
    return ids


def test_every_asset_comes_over_with_its_date_place_description_and_albums(
    immich: FakeImmich, library: Library,
) -> None:
    ids = a_library(immich)

    done = import_immich(immich)

    projects = {p["name"]: p["project_id"] for p in library.project_items.values()}
    assert sorted(projects) == ["Best", "Summer"]
    # An asset in two albums goes to both projects, as a Takeout photo in two album folders.
    assert sorted(library.presigned_to, key=str) == sorted([
        ("harbour.jpg", projects["Summer"]), ("archived.jpg", projects["Summer"]),
        ("archived.jpg", projects["Best"]), ("IMG_0001.JPG", projects["Best"]),
        ("IMG_0001.MOV", projects["Best"]), ("scan.png", None)], key=str)
    # The wall clock where each was taken, with that place's offset.
    assert {name: taken.isoformat() if taken else None
            for name, taken in library.declared_taken_at.items()} == {
        "harbour.jpg": "2019-07-14T18:30:05+02:00", "scan.png": "2001-02-03T04:05:06+00:00",
        "archived.jpg": "2020-01-01T00:00:00-05:00", "IMG_0001.JPG": "2022-08-08T08:08:08+00:00",
        "IMG_0001.MOV": "2022-08-08T08:08:08+00:00"}
    assert library.declared_notes["harbour.jpg"] == ((43.3, 5.37), "Harbour\nat dusk")
    assert library.declared_notes["scan.png"] == (None, None)
    assert ids["binned.jpg"] not in immich.downloads
    assert "in the Immich trash" in done.stderr and "binned.jpg" in done.stderr
    assert Counter(immich.downloads) == Counter(
        ids[name] for name in ("harbour.jpg", "scan.png", "archived.jpg", "IMG_0001.JPG",
                               "IMG_0001.MOV"))


def test_with_a_project_everything_goes_there_once(immich: FakeImmich, library: Library) -> None:
    a_library(immich)

    import_immich(immich, "--project", "From Immich")

    (project,) = library.project_items.values()
    assert project["name"] == "From Immich"
    assert sorted(library.presigned_to) == sorted(
        (name, project["project_id"]) for name in
        ("harbour.jpg", "scan.png", "archived.jpg", "IMG_0001.JPG", "IMG_0001.MOV"))


def test_a_second_run_downloads_and_uploads_nothing(immich: FakeImmich, library: Library) -> None:
    a_library(immich)
    import_immich(immich)
    downloaded, presigned = len(immich.downloads), len(library.called("presign"))

    again = import_immich(immich)

    assert len(immich.downloads) == downloaded
    assert len(library.called("presign")) == presigned
    assert "4 asset(s) an earlier run brought over were not downloaded again" in again.stderr


def test_without_its_journal_a_run_downloads_again_but_sends_no_byte_twice(
    immich: FakeImmich, library: Library, tmp_path: Path,
) -> None:
    a_library(immich)
    import_immich(immich)
    for journal in (tmp_path / "state").rglob("*.journal"):
        journal.unlink()
    sent = len(library.called("put_file"))

    again = import_immich(immich)

    assert len(library.called("put_file")) == sent
    assert "already in the library" in again.stdout


def test_an_import_cut_short_by_immich_finishes_on_the_next_run_without_duplicates(
    immich: FakeImmich, library: Library,
) -> None:
    for number in range(6):
        immich.add(jpeg((number * 40, 0, 0)), f"IMG_{number}.jpg", "image/jpeg",
                   local=f"2023-01-0{number + 1}T10:00:00")
    immich.serve_at_most = 2

    cut = import_immich(immich, "-j", "1", code=1)
    assert "going down" in cut.stdout
    immich.serve_at_most = None
    import_immich(immich, "-j", "1")

    assert len(immich.downloads) == 6
    assert sorted(name for (_, name) in library.called("presign")) == [
        f"IMG_{number}.jpg" for number in range(6)]


def test_an_import_interrupted_by_ctrl_c_finishes_on_the_next_run_without_duplicates(
    immich: FakeImmich, library: Library, monkeypatch: pytest.MonkeyPatch,
) -> None:
    for number in range(6):
        immich.add(png((0, number * 40, 0)), f"scan_{number}.png", "image/png",
                   local=f"2023-02-0{number + 1}T10:00:00")
    complete = library.complete
    completed = []

    def ctrl_c_at_the_third(asset_id: str) -> Any:
        completed.append(asset_id)
        if len(completed) == 3:
            _thread.interrupt_main()  # as a Ctrl-C does: in the main thread, while it waits
        return complete(asset_id)

    monkeypatch.setattr(library, "complete", ctrl_c_at_the_third)
    cut = import_immich(immich, "-j", "1", code=130)
    assert "Interrupted" in cut.stderr
    monkeypatch.setattr(library, "complete", complete)
    import_immich(immich, "-j", "1")

    held = Counter(asset["sha256"] for asset in library.items.values())
    assert len(held) == 6 and set(held.values()) == {1}
    assert {asset["status"] for asset in library.items.values()} == {"uploaded"}
    # Only what the cut run had not finished is downloaded again.
    assert len(immich.downloads) < 12


def test_a_key_immich_refuses_is_said_so(immich: FakeImmich, library: Library) -> None:
    a_library(immich)

    refused = import_immich(immich, key="wrong", code=1)

    assert "Immich refused the API key (401): check --api-key or IMMICH_API_KEY" in refused.stderr
    assert library.calls == []


def test_the_key_is_read_from_the_environment(
    immich: FakeImmich, library: Library, monkeypatch: pytest.MonkeyPatch,
) -> None:
    a_library(immich)
    monkeypatch.setenv("IMMICH_API_KEY", "immich-key")

    run("import", "immich", "--url", f"{immich.url}/api/")

    assert len(library.called("presign")) == 6


def test_an_asset_immich_fails_to_send_is_tried_again_then_named_and_the_rest_come_over(
    immich: FakeImmich, library: Library,
) -> None:
    ids = a_library(immich)
    immich.broken[ids["scan.png"]] = 500

    failed = import_immich(immich, code=1)

    assert immich.original_requests().count(ids["scan.png"]) == ATTEMPTS
    assert "scan.png" in failed.stdout and "it broke" in failed.stdout
    assert "scan.png" not in {name for name, _ in library.presigned_to}
    assert len(library.presigned_to) == 5
    del immich.broken[ids["scan.png"]]
    import_immich(immich)
    assert ("scan.png", None) in library.presigned_to


def test_an_asset_gone_from_immich_is_not_tried_again(
    immich: FakeImmich, library: Library,
) -> None:
    ids = a_library(immich)
    immich.broken[ids["scan.png"]] = 404

    failed = import_immich(immich, code=1)

    assert immich.original_requests().count(ids["scan.png"]) == 1
    assert "Immich answered 404" in failed.stdout


def test_the_pages_of_the_search_are_followed(
    immich: FakeImmich, library: Library, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(immich_module, "PAGE_SIZE", 2)
    for number in range(5):
        immich.add(jpeg((0, 0, number * 40)), f"page_{number}.jpg", "image/jpeg",
                   local=f"2023-03-0{number + 1}T10:00:00", visibility="archive")

    import_immich(immich)

    assert len(library.called("presign")) == 5


def test_an_immich_that_answers_too_late_is_said_so(immich: FakeImmich) -> None:
    asset_id = immich.add(png((1, 2, 3)), "late.png", "image/png", local="2023-04-01T10:00:00")
    immich.delay = 0.5

    with ImmichClient(immich.url, "immich-key", timeout=0.1) as client, \
            pytest.raises(ImmichError, match="did not answer in time"):
        client.download(asset_id, _Discard(), lambda count: None)


def test_any_other_source_is_a_usage_error(immich: FakeImmich, library: Library) -> None:
    wrong = run("import", "/srv/photos", code=2)
    assert "cannot import from '/srv/photos': SOURCE is s3://BUCKET/PREFIX or immich" in \
        wrong.stderr
    mixed = run("import", "s3://bucket/prefix", "--url", immich.url, code=2)
    assert "--url is for import immich" in mixed.stderr
    no_url = run("import", "immich", "--api-key", "immich-key", code=2)
    assert "needs --url" in no_url.stderr


class _Discard:
    def write(self, chunk: bytes) -> None:
        pass

    def restart(self) -> None:
        pass
