"""The ``lightbox`` command, installed in the venv, against the running stack.

Each test is an owner of its own (a key made with ``./dev.sh key``), so counts are exact.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import pty
import select
import shlex
import signal
import stat
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pyte
import pytest
from PIL import Image
from rich.console import Console
from rich.style import Style
from rich.text import Text

from tests.conftest import REPO
from tests.e2e.conftest import Client, Stack
from tests.support import image_bytes, unique_owner

pytestmark = pytest.mark.e2e

LIGHTBOX = Path(sys.executable).parent / "lightbox"


@dataclass
class Cli:
    stack: Stack
    api_key: str
    home: Path

    def env(self) -> dict[str, str]:
        return shell_env(self.home, LIGHTBOX_URL=self.stack.api, LIGHTBOX_API_KEY=self.api_key)

    def run(self, *args: str, cwd: Path | None = None, check: int | None = 0,
            timeout: float = 180, env: dict[str, str] | None = None,
            answer: str = "") -> subprocess.CompletedProcess[str]:
        """The command, with ``answer`` typed at its prompts (none: standard input is empty)."""
        done = subprocess.run([str(LIGHTBOX), *args], cwd=cwd or self.home, env=env or self.env(),
                              input=answer, capture_output=True, text=True, timeout=timeout,
                              check=False)
        if check is not None:
            assert done.returncode == check, f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"
        return done

    def lines(self, *args: str, check: int | None = 0) -> list[dict[str, Any]]:
        """A command's ``--json`` output: one object per line."""
        return [json.loads(line) for line in self.run(*args, "--json", check=check).stdout.splitlines()]

    def api(self) -> Client:
        return self.stack.api_client(self.api_key)


def shell_env(config_home: Path, **settings: str) -> dict[str, str]:
    """This shell's environment without its Lightbox settings or the user's config file."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIGHTBOX_")}
    return {**env, "XDG_CONFIG_HOME": str(config_home), **settings}


@pytest.fixture
def cli(stack: Stack, tmp_path: Path) -> Cli:
    return Cli(stack, stack.create_key(unique_owner()), tmp_path)


def write_images(folder: Path, count: int, *, start: int = 0) -> list[Path]:
    """``count`` different small JPEGs (each size makes other bytes)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for n in range(start, start + count):
        path = folder / f"photo-{n:03d}.jpg"
        path.write_bytes(image_bytes("JPEG", (64 + n, 48)))
        paths.append(path)
    return paths


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_takeout_folders_photo_takes_its_date_from_its_sidecar_unless_it_has_its_own(
    cli: Cli,
) -> None:
    folder = cli.home / "Takeout" / "Google Photos" / "Photos from 2019"
    folder.mkdir(parents=True)
    (folder / "scan.png").write_bytes(image_bytes("PNG", (64, 48)))  # says nothing itself
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9003] = "2021:05:01 09:00:00"  # DateTimeOriginal
    (folder / "IMG_0001.jpg").write_bytes(image_bytes("JPEG", (64, 48), exif=exif))
    for name in ("scan.png", "IMG_0001.jpg"):
        (folder / f"{name}.supplemental-metadata.json").write_text(json.dumps(
            {"title": name, "photoTakenTime": {"timestamp": "1563121805"},
             "description": f"{name} in Marseille",
             "geoData": {"latitude": 43.2965, "longitude": 5.3698, "altitude": 12.0}}))

    album = cli.home / "Takeout" / "Google Photos" / "Summer"
    album.mkdir()
    (album / "metadata.json").write_text(json.dumps({"title": "Summer 2019"}))
    (album / "scan.png").write_bytes((folder / "scan.png").read_bytes())  # as Google exports
    # Its sidecar too: Google writes the same one (under the older name here).
    (album / "scan.png.json").write_text(
        (folder / "scan.png.supplemental-metadata.json").read_text())

    cli.run("upload", str(cli.home / "Takeout"), "--wait")

    assets = cli.lines("ls", "--all")
    taken = {(a["filename"], a["taken_at"]) for a in assets}
    # The sidecar's instant as this machine's wall clock, as the CLI sends it.
    local = datetime.fromtimestamp(1563121805).isoformat()
    assert taken == {("scan.png", local), ("IMG_0001.jpg", "2021-05-01T09:00:00")}
    ready = [a for a in assets if a["status"] == "ready"]
    assert {(a["filename"], a["description"], a["has_location"]) for a in ready} == {
        ("scan.png", "scan.png in Marseille", True), ("IMG_0001.jpg", "IMG_0001.jpg in Marseille", True)}
    (summer,) = [p for p in cli.lines("projects", "ls") if p["name"] == "Summer 2019"]
    in_album = [a for a in assets if a["project_id"] == summer["project_id"]]
    assert [a["filename"] for a in in_album] == ["scan.png"]
    # Its bytes are kept once. The copies go up at once, in either order: the library's
    # first, and the album's is a duplicate showing it there; the album's first, and the
    # library's is that asset, already in the library.
    scans = sorted(a["status"] for a in assets if a["filename"] == "scan.png")
    assert scans in (["duplicate", "ready"], ["ready"])


def test_a_folder_uploads_and_becomes_ready_and_a_second_run_sends_nothing(cli: Cli) -> None:
    photos = cli.home / "Pictures"
    write_images(photos, 2)
    (photos / "scans").mkdir()
    (photos / "scans" / "letter.tif").write_bytes(image_bytes("TIFF", (300, 400), pages=3))
    (photos / "scans" / "notes.txt").write_text("not an image")
    (photos / ".cache").mkdir()
    (photos / ".cache" / "hidden.jpg").write_bytes(image_bytes("JPEG", (10, 10)))

    first = cli.run("upload", str(photos), "--wait")

    assert "3 ready" in first.stdout and "Leaving out 1 file and 1 folder:" in first.stderr
    said = [line.strip() for line in first.stderr.splitlines()]
    # Each named as the command was given it, relative to the folder it ran in.
    assert said[said.index("a hidden folder, not looked in") + 1] == "Pictures/.cache"
    other = next(n for n, line in enumerate(said)
                 if line.startswith("not of the types to upload (.3gp, .arw, .avif"))
    assert said[other + 1] == "Pictures/scans/notes.txt"
    assets = cli.lines("ls", "--all")
    assert sorted(a["filename"] for a in assets) == ["letter.tif", "photo-000.jpg", "photo-001.jpg"]
    assert {a["status"] for a in assets} == {"ready"}
    assert next(a for a in assets if a["filename"] == "letter.tif")["pages"] == 3
    by_name = {a["filename"]: a for a in assets}
    assert by_name["photo-000.jpg"]["sha256"] == sha256(photos / "photo-000.jpg")

    again = cli.lines("upload", str(photos), "--wait")

    assert [(Path(r["path"]).name, r["outcome"]) for r in again] == [
        ("photo-000.jpg", "skipped"), ("photo-001.jpg", "skipped"), ("letter.tif", "skipped")]
    assert {r["asset_id"] for r in again} == {a["asset_id"] for a in assets}
    counts = json.loads(cli.run("stats", "--json").stdout)["assets"]
    assert counts["ready"] == 3 and counts["pending"] == 0 and counts["duplicate"] == 0


def test_an_upload_killed_midway_is_finished_by_running_it_again(cli: Cli) -> None:
    photos = write_images(cli.home / "batch", 40)
    api = cli.api()
    crashed = subprocess.Popen([str(LIGHTBOX), "upload", str(cli.home / "batch"), "--jobs", "1"],
                               env=cli.env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and crashed.poll() is None:
            sent = api.http.get(f"{api.api}/v1/assets", params={"limit": 5}, timeout=10).json()
            if len(sent["items"]) >= 3:
                break
            time.sleep(0.02)
        crashed.send_signal(signal.SIGKILL)
    finally:
        crashed.wait()
    assert crashed.returncode == -signal.SIGKILL, "the upload finished before it could be killed"
    # What the crash left: a few sent, maybe one pending whose PUT was cut short.
    before = cli.lines("ls", "--all")
    assert 3 <= len(before) < len(photos)

    resumed = cli.lines("upload", str(cli.home / "batch"), "--wait")

    outcomes = [r["outcome"] for r in resumed]
    assert set(outcomes) <= {"ready", "skipped"} and outcomes.count("ready") >= len(photos) - len(before)
    ready = [a for a in cli.lines("ls", "--all") if a["status"] == "ready"]
    # Every file once: none lost, none uploaded twice.
    assert sorted(a["sha256"] for a in ready) == sorted(sha256(p) for p in photos)


def test_a_broken_file_fails_with_its_reason_and_a_second_run_only_says_so(cli: Cli) -> None:
    folder = cli.home / "mixed"
    write_images(folder, 1)
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"not a jpeg at all" * 50)

    first = cli.lines("upload", str(folder), "--wait", check=1)

    failed = next(r for r in first if Path(r["path"]).name == "broken.jpg")
    assert failed["outcome"] == "failed" and failed["status"] == "failed" and failed["detail"]
    assert next(r for r in first if r is not failed)["outcome"] == "ready"

    # Nothing new fails: the run is a success that says what failed before.
    again = cli.lines("upload", str(folder), "--wait")

    repeated = next(r for r in again if Path(r["path"]).name == "broken.jpg")
    assert repeated["outcome"] == "failed before" and repeated["detail"].startswith(failed["detail"])
    assert repeated["asset_id"] == failed["asset_id"]
    assert len(cli.lines("ls", "--status", "failed")) == 1


def test_a_file_above_the_multipart_threshold_goes_up_in_parts(cli: Cli) -> None:
    # Uncompressed, 69 MB: over the 64 MiB from which presign hands out parts.
    big = cli.home / "scan.tif"
    Image.new("RGB", (4800, 4800), (90, 140, 200)).save(big, "TIFF")

    results = cli.lines("upload", str(big), "--wait")

    assert [r["outcome"] for r in results] == ["ready"]
    asset = cli.api().asset(results[0]["asset_id"])
    assert asset["size_bytes"] == big.stat().st_size > 64 * 1024 * 1024
    assert asset["sha256"] == sha256(big) and asset["width"] == 4800


def test_browse_download_and_manage_the_library(cli: Cli) -> None:
    photos = write_images(cli.home / "trip", 3)
    cli.run("upload", str(cli.home / "trip"), "--project", "Trip to Porto", "--wait")

    listed = cli.lines("ls", "--project", "trip to porto", "--page-size", "2")
    assert sorted(a["filename"] for a in listed) == [p.name for p in photos]
    projects = cli.lines("projects", "ls")
    assert [(p["name"], p["asset_count"]) for p in projects] == [("Trip to Porto", 3)]
    table = cli.run("ls").stdout
    assert all(f"\n{a['asset_id'][:8]}  " in table for a in listed) and "photo-001.jpg" in table
    assert max(map(len, table.splitlines())) <= 80

    first = next(a for a in listed if a["filename"] == "photo-000.jpg")
    # Its first characters are enough, as the table shows them.
    shown = cli.run("show", first["asset_id"][:8]).stdout
    assert "photo-000.jpg" in shown and "64×48" in shown and first["sha256"] in shown

    downloads = cli.home / "downloads"
    downloads.mkdir()
    cli.run("get", first["asset_id"], "-o", str(downloads))
    assert (downloads / "photo-000.jpg").read_bytes() == photos[0].read_bytes()
    assert cli.run("get", first["asset_id"], "-o", str(downloads), check=1).stderr.count("exists")
    cli.run("get", first["asset_id"], "--thumb", "256", "-o", str(downloads))
    with Image.open(io.BytesIO((downloads / "photo-000-256px.jpg").read_bytes())) as thumb:
        assert thumb.format == "JPEG" and thumb.size == (64, 48)  # never upscaled
    assert "no 999 px thumbnail" in cli.run("get", first["asset_id"], "--thumb", "999", check=1).stderr

    cli.run("rm", first["asset_id"][:8])  # to the trash: nothing asked
    assert "trashed" in cli.run("show", first["asset_id"]).stdout
    assert [a["asset_id"] for a in cli.lines("trash", "ls")] == [first["asset_id"]]
    cli.run("restore", first["asset_id"][:8])  # found in the trash by its first characters
    assert cli.lines("trash", "ls") == []
    asked = cli.run("rm", "--permanent", first["asset_id"], answer="n\n", check=1)
    assert "Delete 1 asset(s) for good" in asked.stderr and "Aborted" in asked.stderr
    cli.run("show", first["asset_id"])  # still there
    cli.run("rm", "--permanent", first["asset_id"], answer="y\n")
    assert "(404 asset_not_found)" in cli.run("show", first["asset_id"], check=1).stderr
    ready = next(a for a in listed if a is not first)
    assert "invalid_state" in cli.run("retry", ready["asset_id"][:8], check=1).stderr

    assert "project_not_empty" in cli.run("projects", "rm", "Trip to Porto", check=1).stderr
    cli.run("projects", "rename", "Trip to Porto", "Porto 2024")
    cli.run("projects", "rm", "Porto 2024", "--cascade", "--yes")
    assert cli.lines("projects", "ls") == [] and cli.lines("ls", "--all") == []
    assert len(cli.lines("trash", "ls")) == 2  # the project's photos, kept there
    assert "Deleted 2 asset(s) for good." in cli.run("trash", "empty", "--yes").stderr
    assert json.loads(cli.run("stats", "--json").stdout)["assets"]["deleted"] == 3


def test_a_wrong_key_or_no_stack_is_said_plainly(cli: Cli) -> None:
    refused = cli.run("--api-key", "lbk_" + "x" * 43, "ls", check=1)
    assert "refused the key (401)" in refused.stderr

    nowhere = cli.run("--url", "http://127.0.0.1:9", "ls", check=1)
    assert "no answer from http://127.0.0.1:9" in nowhere.stderr


def test_login_checks_the_key_and_keeps_it_for_later_commands(cli: Cli) -> None:
    config = cli.home / "lightbox" / "config.toml"
    bare = {k: v for k, v in cli.env().items() if k not in ("LIGHTBOX_URL", "LIGHTBOX_API_KEY")}
    assert "which Lightbox?" in cli.run("ls", env=bare, check=1).stderr

    wrong = cli.run("login", "--url", cli.stack.api, "--api-key", "lbk_wrong", env=bare, check=1)
    assert "refused the key" in wrong.stderr and not config.exists()
    # The key typed at the prompt, as a person would, not on the command line.
    done = subprocess.run([str(LIGHTBOX), "login", "--url", cli.stack.api], input=f"{cli.api_key}\n",
                          env=bare, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr

    assert stat.S_IMODE(config.stat().st_mode) == 0o600 and cli.api_key in config.read_text()
    assert json.loads(cli.run("stats", "--json", env=bare).stdout)["assets"]["ready"] == 0


def test_dev_sh_cli_finds_the_local_stack_and_its_key(stack: Stack, tmp_path: Path) -> None:
    env = shell_env(tmp_path, LIGHTBOX_LOCAL_STACK=str(stack.data_dir))
    photo = write_images(tmp_path / "here", 1)[0]

    # Run from another folder: the path is the caller's, the stack the one dev.sh names.
    done = subprocess.run([str(REPO / "dev.sh"), "cli", "upload", "here", "--json"], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=120, check=False)

    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["path"] == str(photo) and result["outcome"] in ("uploaded", "skipped")
    assert stack.api_client().asset(result["asset_id"])["filename"] == photo.name


def test_the_exports_of_dev_sh_env_are_all_the_command_needs(stack: Stack, tmp_path: Path) -> None:
    printed = subprocess.run([str(REPO / "dev.sh"), "env", "--data", str(stack.data_dir)],
                             capture_output=True, text=True, timeout=60, check=True).stdout
    exports = dict(shlex.split(line)[1].split("=", 1) for line in printed.splitlines())
    env = shell_env(tmp_path, **exports)

    # From a folder with no stack above it: only the exports say where Lightbox is.
    done = subprocess.run([str(LIGHTBOX), "stats", "--json"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60, check=False)

    assert done.returncode == 0, done.stderr
    assert exports["LIGHTBOX_URL"] == stack.api and "ready" in json.loads(done.stdout)["assets"]


def test_a_terminal_session_draws_progress_then_a_summary(cli: Cli) -> None:
    photos = write_images(cli.home / "Pictures", 5)
    (cli.home / "Pictures" / "scans").mkdir()
    (cli.home / "Pictures" / "scans" / "letter.tif").write_bytes(image_bytes("TIFF", (900, 1200), pages=3))
    screen = pyte.Screen(110, 24)
    stream = pyte.ByteStream(screen)

    drawn = b""
    for command in (["upload", "Pictures", "--wait"], ["ls", "-n", "4"]):
        stream.feed(f"$ lightbox {' '.join(command)}\r\n".encode())
        output = run_in_terminal(cli, command, columns=screen.columns, lines=screen.lines)
        stream.feed(output)
        drawn += output

    # The live progress was drawn (and then cleared: the final screen shows the summary).
    assert b"Uploading" in drawn and b"files" in drawn
    text = "\n".join(screen.display)
    assert "6 ready" in text and "Pictures/scans/letter.tif" in text and "Uploading" not in text
    assert all(p.relative_to(cli.home).as_posix() in text for p in photos)
    svg = screen_svg(screen, "lightbox upload Pictures --wait")
    for folder in (REPO / "test-artifacts" / "cli", *(
            [Path(os.environ["LIGHTBOX_SCREENSHOTS"])] if os.environ.get("LIGHTBOX_SCREENSHOTS") else [])):
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "cli.svg").write_text(svg)


def run_in_terminal(cli: Cli, command: list[str], *, columns: int, lines: int) -> bytes:
    """The bytes the CLI writes to a real terminal of this size (progress bars included)."""
    leader, follower = pty.openpty()
    env = {**cli.env(), "COLUMNS": str(columns), "LINES": str(lines), "TERM": "xterm-256color"}
    process = subprocess.Popen([str(LIGHTBOX), *command], cwd=cli.home, env=env,
                               stdin=follower, stdout=follower, stderr=follower)
    os.close(follower)
    output = b""
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            if select.select([leader], [], [], 0.5)[0]:
                try:
                    chunk = os.read(leader, 65536)
                except OSError:  # the terminal closes when the process ends
                    break
                if not chunk:
                    break
                output += chunk
            elif process.poll() is not None:
                break
    finally:
        os.close(leader)
        process.wait(timeout=30)
    assert process.returncode == 0, output.decode(errors="replace")
    return output


def screen_svg(screen: pyte.Screen, title: str) -> str:
    """The screen as an SVG picture of a terminal, colours and bold included."""
    console = Console(record=True, width=screen.columns, file=io.StringIO(), force_terminal=True,
                      color_system="truecolor")
    last = max((y for y, line in enumerate(screen.display) if line.strip()), default=0)
    for y in range(last + 2):  # a blank line below, or the picture clips the last one
        line = Text()
        for x in range(screen.columns):
            char = screen.buffer[y][x]
            line.append(char.data, Style(color=_colour(char.fg), bold=char.bold))
        line.rstrip()
        console.print(line)
    return console.export_svg(title=title)


def _colour(name: str) -> str | None:
    if name == "default":
        return None
    if len(name) == 6 and all(c in "0123456789abcdefABCDEF" for c in name):
        return f"#{name}"
    return name.replace("bright", "bright_") if name.startswith("bright") else name


def test_project_names_are_resolved_by_the_server_as_it_compares_them(cli: Cli) -> None:
    # Full-width letters are the plain ones for the server (NFKC), not for str.casefold.
    film = cli.api().http.post(f"{cli.stack.api}/v1/projects", json={"name": "ＦＩＬＭ Straße"},
                               timeout=30).json()
    photos = write_images(cli.home / "film", 1)
    cli.run("upload", str(cli.home / "film"), "--project", "film strasse", "--wait")

    assert [(p["name"], p["asset_count"]) for p in cli.lines("projects", "ls")] == [
        ("ＦＩＬＭ Straße", 1)]
    listed = cli.lines("ls", "--project", "FILM STRASSE")
    assert [(a["filename"], a["project_id"]) for a in listed] == [
        (photos[0].name, film["project_id"])]
    assert "no project is called 'Film'" in cli.run("ls", "--project", "Film", check=1).stderr


def test_a_pause_keeps_uploads_waiting_and_a_resume_finishes_them(
        cli: Cli, tmp_path: Path) -> None:
    admin = Cli(cli.stack, cli.stack.api_key, tmp_path)  # ./dev.sh up's key: an admin's
    refused = cli.run("admin", "pause", check=None)  # an owner's key, not an admin's
    assert refused.returncode != 0 and "admin" in refused.stderr, refused.stderr
    paused = json.loads(admin.run("admin", "pause", "--json").stdout)
    try:
        assert paused["state"] == "disabled", paused
        assert {t["function"] for t in paused["triggers"]} >= {
            "UploadCompleteFunction", "ThumbnailFunction", "ReaperFunction"}
        client = cli.api()
        first = client.upload("first.jpg", "image/jpeg", image_bytes("JPEG", (320, 200)))
        second = client.upload("second.jpg", "image/jpeg", image_bytes("JPEG", (200, 320)))
        time.sleep(6)  # bucket events, polls and a schedule's round, had they been running
        assert [client.asset(a)["status"] for a in (first, second)] == ["pending", "pending"]
    finally:
        resumed = json.loads(admin.run("admin", "resume", "--json").stdout)
    assert resumed["state"] == "enabled", resumed
    settled = [client.wait_until_settled(a) for a in (first, second)]
    assert [asset["status"] for asset in settled] == ["ready", "ready"]
