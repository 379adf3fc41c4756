"""The ``lightbox`` command: click parses, rich draws, ``client`` and ``uploads`` do the work.

Tables and JSON go to standard output; progress and messages to standard error, so that
``lightbox ls --json | jq`` sees JSON alone. Exit codes: 0 done, 1 something failed (each
failure is said), 2 a wrong command line, 130 interrupted.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Self

import click
from rich.console import Console
from rich.filesize import decimal
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table
from rich.text import Text

from lightbox_cli import __version__, ids
from lightbox_cli.client import ApiError, ClientError, Json, LightboxClient
from lightbox_cli.clusters import clusters
from lightbox_cli.immich import ImmichAsset, ImmichClient, Importer, Journal, journal_path
from lightbox_cli.settings import (
    Settings,
    SettingsError,
    default_config_path,
    machine_time_zone,
    resolve,
    state_dir,
    write_config,
)
from lightbox_cli.tables import fit
from lightbox_cli.uploads import (
    TYPE_NAMES,
    FileResult,
    LocalFile,
    Outcome,
    Uploader,
    collect,
    unsettled,
    wait_until_settled,
)

STATUSES = ("pending", "uploaded", "processing", "ready", "failed", "duplicate", "trashed",
            "deleted")
SORTS = ("-created", "created", "-taken", "taken")
KINDS = ("photo", "raw", "video", "document")  # the API's kind=
# Up to this many files the summary lists every one; beyond it only those that need a look.
FULL_SUMMARY_FILES = 50
# Piped, ls lays its table out for the usual terminal (--json has every field whole).
LS_PIPED_WIDTH = 80
# The file name column of ls keeps this much room (or its longest name's) before a column
# of less need is let in.
LS_NAME_ROOM = 24
# Why an import left an object out, in the words of a person (the API's reason codes).
SKIP_REASONS = {
    "already_imported": "imported before",
    "sidecar": "sidecars (.json, .xmp, .aae ...)",
    "not_media": "not a photo or video",
    "folder": "folder markers",
    "empty": "empty",
    "too_large": "over the size limit",
    "gone": "removed while importing",
    "unreadable": "not readable by the library (archived, another's key)",
    "trashed": "in the Google Photos bin",
}
# An adopted asset in these states is done with; the others are still on their way.
SETTLED = ("ready", "failed", "duplicate", "deleted")
# How often import --wait and admin rerender --wait ask how far the work has come.
POLL_SECONDS = 1.0
# How long pause and resume wait for Lambda to settle the triggers before they answer.
SWITCH_SECONDS = 30.0
MEMBERS_AT_ONCE = 500  # the API's most assets per request to a project

# File names and messages come from users and servers: never read as markup. Piped into a
# file or another program, tables keep their lines whole.
out = Console(highlight=False, markup=False, width=None if sys.stdout.isatty() else 200)
err = Console(stderr=True, highlight=False, markup=False)


class Session:
    """The command line's connection settings, turned into a client when a command needs one."""

    def __init__(self, url: str | None, api_key: str | None, config: Path | None) -> None:
        self.url, self.api_key, self.config = url, api_key, config
        self._client: LightboxClient | None = None

    def settings(self) -> Settings:
        return resolve(self.url, self.api_key, self.config, os.environ, Path.cwd())

    def client(self) -> LightboxClient:
        if self._client is None:
            self._client = LightboxClient(**vars(self.settings()))
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


class LightboxGroup(click.Group):
    """Maps the client's errors to a message and exit code 1, once, for every command."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SettingsError as exc:
            raise click.ClickException(str(exc)) from None
        except ApiError as exc:
            if exc.status == 401:
                raise click.ClickException(
                    "the API refused the key (401): check --api-key, LIGHTBOX_API_KEY or the "
                    "config file") from None
            raise click.ClickException(exc.message) from None
        except (ClientError, ids.IdError) as exc:
            raise click.ClickException(exc.message) from None


pass_session = click.make_pass_decorator(Session)


@click.group(cls=LightboxGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--url", help="The API's base URL (else LIGHTBOX_URL, the config file, the "
              "local stack).")
@click.option("--api-key", help="An API key (else LIGHTBOX_API_KEY, the config file, the "
              "local stack's).")
@click.option("--config", type=click.Path(path_type=Path, dir_okay=False),
              help="The config file (else LIGHTBOX_CONFIG, else ~/.config/lightbox/config.toml).")
@click.version_option(__version__, prog_name="lightbox")
@click.pass_context
def cli(ctx: click.Context, url: str | None, api_key: str | None, config: Path | None) -> None:
    """Upload to, browse and manage a Lightbox photo and scan library.

    Commands take an asset or project id whole or by its first characters (at least 4, as
    many as it takes to be the only one), as git takes commit hashes.
    """
    session = Session(url, api_key, config)
    ctx.obj = session
    ctx.call_on_close(session.close)


@cli.command()
@click.option("--url", "login_url", required=True, help="The API's base URL.")
@click.option("--api-key", "login_key", prompt=True, hide_input=True,
              help="The key (asked for when left out, so it stays out of the shell history).")
@pass_session
def login(session: Session, login_url: str, login_key: str) -> None:
    """Check a URL and key, then keep them in the config file for later commands."""
    settings = Settings(login_url.rstrip("/"), login_key)
    with LightboxClient(settings.url, settings.api_key) as client:
        client.stats()
    path = session.config or default_config_path(os.environ)
    write_config(path, settings)
    err.print(f"Signed in to {settings.url}; saved in {path}.")


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--project", help="A project's name or whole id; a new name creates it.")
@click.option("--type", "types", default=",".join(TYPE_NAMES), show_default=True,
              help="Which image types to upload, comma-separated.")
@click.option("-j", "--jobs", default=4, show_default=True, type=click.IntRange(1, 32),
              help="Files uploaded at once.")
@click.option("--wait", is_flag=True, help="Wait until every upload is ready or failed.")
@click.option("--timeout", default=600.0, show_default=True, type=click.FloatRange(min=1),
              help="Seconds --wait waits at most.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per file, no table.")
@pass_session
def upload(session: Session, paths: tuple[Path, ...], project: str | None, types: str,
           jobs: int, wait: bool, timeout: float, as_json: bool) -> None:
    """Upload files and folders (recursively); files the library has are skipped.

    What a folder holds that is not uploaded (other types, sidecars, hidden files, empty
    files, links to folders ...) is named with why. Files whose bytes failed in the library
    before are not sent again and are said again, without failing this run.
    """
    collection = collect(paths, _content_types(types))
    refused = [FileResult(LocalFile(path, "", 0), Outcome.FAILED, detail=why)
               for path, why in collection.refused]
    _print_left_out(collection.left_out)
    if not collection.files and not refused:
        raise click.ClickException("nothing to upload")
    client = session.client()
    project_id = _project_id(client, project, create=True) if project else None
    # A Takeout album's files go to the project of its name, unless --project says where.
    albums = sorted({f.album for f in collection.files if f.album}) if not project else []
    album_projects = _album_projects(client, albums)
    started = time.monotonic()
    since = client.sync_cursor() if wait else ""
    known_failures = {asset["sha256"]: asset for asset in
                      client.assets(status="failed", limit=None, page_size=200)
                      if asset["sha256"]}
    with _UploadProgress(collection.files) as progress:
        uploader = Uploader(client, progress, jobs=jobs, project_id=project_id,
                            album_projects=album_projects, known_failures=known_failures)
        results = uploader.upload(collection.files)
    interrupted = uploader.interrupted
    if wait and not interrupted:
        try:
            results = _wait(client, results, since, timeout)
        except KeyboardInterrupt:
            interrupted = True
    results = refused + results
    if as_json:
        for result in results:
            _print_json(_result_json(result))
    else:
        _print_summary(results, uploader.sent_bytes, time.monotonic() - started)
    if interrupted:
        err.print("Interrupted: the same command again uploads what is left.")
        sys.exit(130)
    if not all(result.ok for result in results):
        sys.exit(1)


@cli.command("import")
@click.argument("source")
@click.option("--url", "source_url", help="Immich: the address of the server to import from.")
@click.option("--api-key", "source_key", envvar="IMMICH_API_KEY", show_envvar=True,
              help="Immich: its API key (one that may read assets and albums).")
@click.option("--project", help="A project's name or whole id for everything; else each album "
              "goes to the project of its name.")
@click.option("-j", "--jobs", default=4, show_default=True, type=click.IntRange(1, 32),
              help="Immich: files downloaded, then uploaded, at once.")
@click.option("--wait", is_flag=True, help="s3://: follow the import until every object is "
              "adopted or skipped and every photo is ready or failed.")
@click.option("--timeout", default=3600.0, show_default=True, type=click.FloatRange(min=1),
              help="Seconds --wait follows at most.")
@click.option("--json", "as_json", is_flag=True, help="s3://: the import as JSON, no summary.")
@click.option("--time-zone", default=machine_time_zone, show_default="this machine's",
              help="s3://: where a Google Takeout's photos were taken (an IANA name, as "
              "Europe/Paris): its sidecars' dates become wall clocks there.")
@pass_session
def import_library(session: Session, source: str, source_url: str | None,
                   source_key: str | None, project: str | None, jobs: int, wait: bool,
                   timeout: float, as_json: bool, time_zone: str) -> None:
    """Import a library: SOURCE `s3://BUCKET/PREFIX`, or `immich` with --url and --api-key.

    s3://: the library adopts every photo and clip under the prefix itself, copying inside
    the storage service (nothing is downloaded here, and the source is left as it is); the
    deployment says which prefixes an owner may import from. A Google Takeout's sidecars give
    its photos their dates, places, captions and names, its albums become projects (unless
    --project names one), and what was in its bin stays out.
    Sidecars, folders and anything else are skipped, counted by reason. A second run adds only
    what is new.

    immich: each original, its date, place and description come over, and its albums as
    projects; the trash stays behind. Run it again to finish an interrupted import: what an
    earlier run brought over is not downloaded again.
    """
    if source.startswith("s3://"):
        if source_url:
            raise click.UsageError("--url is for import immich; an s3:// source needs none")
        _import_bucket(session.client(), source, project, time_zone, wait=wait,
                       timeout=timeout, as_json=as_json)
        return
    if source != "immich":
        raise click.UsageError(f"cannot import from {source!r}: SOURCE is s3://BUCKET/PREFIX "
                               "or immich")
    if not source_url:
        raise click.UsageError("import immich needs --url, the Immich server's address")
    if not source_key:
        raise click.UsageError("import immich needs --api-key or IMMICH_API_KEY")
    client = session.client()
    with ImmichClient(source_url, source_key) as immich:
        owner = str(immich.me()["id"])
        albums = immich.albums(owner)
        project_id = _project_id(client, project, create=True) if project else None
        album_projects = _album_projects(client, sorted(
            {name for names in albums.values() for name in names})) if not project else {}
        destination = f"{session.settings().url} {project_id or 'by album'}"
        journal = Journal(journal_path(state_dir(os.environ), immich.url, owner, destination),
                          f"Immich {immich.url} (user {owner}) into {destination}")
        known_failures = {asset["sha256"]: asset for asset in
                          client.assets(status="failed", limit=None, page_size=200)
                          if asset["sha256"]}
        started = time.monotonic()
        with (tempfile.TemporaryDirectory(prefix="lightbox-import-") as spool,
              _ImportProgress() as progress):
            uploader = Uploader(client, progress, jobs=jobs, project_id=project_id,
                                album_projects=album_projects, known_failures=known_failures)
            report = Importer(immich, uploader, journal, progress, spool=Path(spool),
                              jobs=jobs, albums=albums, by_album=not project).run()
    _print_by_reason(report.left_out, "asset")
    if report.already:
        err.print(f"{report.already} asset(s) an earlier run brought over were not downloaded "
                  "again.")
    _print_summary(report.results, uploader.sent_bytes, time.monotonic() - started,
                   label=lambda file: file.name)
    if report.interrupted:
        err.print("Interrupted: the same command again imports what is left.")
        sys.exit(130)
    if not all(result.ok for result in report.results):
        sys.exit(1)


def _import_bucket(client: LightboxClient, source: str, project: str | None, time_zone: str,
                   *, wait: bool, timeout: float, as_json: bool) -> None:
    project_id = _project_id(client, project, create=True) if project else None
    report = client.start_import(source, project_id, time_zone)
    if not as_json:
        err.print(f"Importing {report['source']} (import {report['import_id']}).")
    if wait:
        try:
            report = _follow_import(client, report, timeout)
        except KeyboardInterrupt:
            err.print("Stopped following: the import goes on in the library.")
            sys.exit(130)
    if as_json:
        _print_json(report)
    else:
        err.print(_import_summary(report), soft_wrap=True)
    if report["status"] == "failed" or report["assets"].get("failed"):
        sys.exit(1)


def _follow_import(client: LightboxClient, report: Json, timeout: float) -> Json:
    progress = _count_progress()
    deadline = time.monotonic() + timeout
    with progress:
        task = progress.add_task("Listing", total=None)
        while True:
            settled = sum(report["assets"].get(status, 0) for status in SETTLED)
            listing = report["status"] == "listing"
            progress.update(task, description=_import_line(report), completed=settled,
                            total=None if listing else report["adopted"])
            if not listing and settled >= report["adopted"]:
                return report
            if time.monotonic() > deadline:
                raise click.ClickException(
                    f"the import is still under way after {timeout:.0f} s; it goes on in the "
                    "library")
            time.sleep(POLL_SECONDS)
            report = client.import_status(report["import_id"])


def _import_line(report: Json) -> str:
    return (f"Listed {report['listed']}, adopted {report['adopted']}, "
            f"{report['assets'].get('ready', 0)} ready")


def _import_summary(report: Json) -> str:
    assets = report["assets"]
    states = ", ".join(f"{count} {status}" for status, count in sorted(assets.items()))
    line = (f"{report['source']}: {report['listed']} listed, {report['adopted']} adopted"
            + (f" ({states})" if states else ""))
    skipped = report["skipped"]
    if skipped:
        reasons = ", ".join(f"{count} {SKIP_REASONS.get(reason, reason)}"
                            for reason, count in sorted(skipped.items(),
                                                        key=lambda item: -item[1]))
        line += f"; skipped {sum(skipped.values())}: {reasons}"
    if report["status"] == "listing":
        line += "; still listing"
    if report["error"]:
        line += f"\nThe import failed: {report['error']}"
    return line + "."


def _wait(client: LightboxClient, results: list[FileResult], since: str, timeout: float
          ) -> list[FileResult]:
    progress = _count_progress()
    with progress:
        task = progress.add_task("Processing", total=len(unsettled(results)))
        return wait_until_settled(client, results, since, timeout,
                                  lambda _: progress.advance(task))


@cli.command("ls")
@click.option("--status", type=click.Choice(STATUSES))
@click.option("--project", help="A project's name or id (or its first characters).")
@click.option("--type", "content_type", type=click.Choice(sorted(TYPE_NAMES)))
@click.option("--sort", type=click.Choice(SORTS), default="-created", show_default=True)
@click.option("--taken-from", help="Taken at or after (2024-05-31 or 2024-05-31T14:00).")
@click.option("--taken-until", help="Taken before.")
@click.option("--kind", type=click.Choice(KINDS), help="Photos (RAWs too), RAWs, videos or "
              "documents.")
@click.option("--camera", help="Text in the camera's make and model, any case (x-t5).")
@click.option("--search", "text", help="Text in the file name, any case.")
@click.option("-n", "--limit", default=50, show_default=True, type=click.IntRange(min=1),
              help="How many assets at most.")
@click.option("--all", "everything", is_flag=True, help="Every asset (no limit).")
@click.option("--page-size", default=100, show_default=True, type=click.IntRange(1, 200),
              help="Assets per request.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per asset, no table.")
@pass_session
def list_assets(session: Session, status: str | None, project: str | None,
                content_type: str | None, sort: str, taken_from: str | None,
                taken_until: str | None, kind: str | None, camera: str | None,
                text: str | None, limit: int, everything: bool, page_size: int,
                as_json: bool) -> None:
    """List assets, newest first; pages are followed for you.

    The table fits the terminal (80 columns when piped): ids are short, as git shows them,
    a long file name is cut in the middle, and the columns of less need (Type, Pixels, the
    date the list is not sorted by) are left out when there is no room.
    """
    client = session.client()
    assets = client.assets(
        limit=None if everything else limit, page_size=page_size, status=status,
        project_id=_project_id(client, project) if project else None,
        content_type=TYPE_NAMES[content_type] if content_type else None, sort=sort,
        taken_from=taken_from, taken_until=taken_until, kind=kind, camera=camera, q=text)
    if as_json:
        for asset in assets:
            _print_json(asset)
        return
    rows = list(assets)
    if not rows:
        err.print("No assets.")
        return
    _print_table(_asset_table(rows, out.width if out.is_terminal else LS_PIPED_WIDTH, sort))


def _asset_table(assets: Sequence[Json], width: int, sort: str) -> Table:
    short = ids.short_ids(asset["asset_id"] for asset in assets)
    columns = {
        "ID": [short[asset["asset_id"]] for asset in assets],
        "Status": [asset["status"] for asset in assets],
        "File": [asset["filename"] for asset in assets],
        "Type": [asset["content_type"].split("/")[-1] for asset in assets],  # jpeg, pdf
        "Size": [decimal(asset["size_bytes"]) for asset in assets],
        "Pixels": [_pixels(asset) for asset in assets],
        "Taken": [_minutes(asset["taken_at"]) for asset in assets],
        "Uploaded": [_minutes(asset["created_at"]) for asset in assets],
    }
    if not any(columns["Taken"]):
        del columns["Taken"]
    # The date the list is sorted by is the one to keep.
    dates = ["Taken", "Uploaded"] if sort.endswith("taken") else ["Uploaded", "Taken"]
    shown = fit(columns, width, flexible="File", needed=["ID", "Status"],
                wanted=["Size", *dates, "Pixels", "Type"], flexible_room=LS_NAME_ROOM)
    table = Table(box=None, header_style="bold", pad_edge=False)
    for heading in shown:
        table.add_column(heading, no_wrap=True)
    for row in zip(*shown.values(), strict=True):
        table.add_row(*row)
    return table


@cli.command()
@click.argument("asset_id")
@click.option("--json", "as_json", is_flag=True, help="The asset as the API returns it.")
@pass_session
def show(session: Session, asset_id: str, as_json: bool) -> None:
    """Show one asset: its metadata and derivatives."""
    client = session.client()
    asset = client.asset(_asset_id(client, asset_id))
    if as_json:
        _print_json(asset, indent=2)
        return
    details = Table.grid(padding=(0, 2))
    details.add_column(style="bold")
    details.add_column()
    for label, value in _details(asset):
        if value not in (None, ""):
            details.add_row(label, str(value))
    _print_table(details)
    if asset["thumbnails"]:
        thumbnails = Table("Size", "Page", "Format", "Pixels", box=None, header_style="bold")
        for thumb in asset["thumbnails"]:
            thumbnails.add_row(f"{thumb['size']} px", str(thumb["page"]), thumb["format"],
                               f"{thumb['width']}×{thumb['height']}")
        _print_table(thumbnails)


@cli.command()
@click.argument("asset_id")
@click.option("--thumb", "size", type=int, help="A thumbnail of this size (px) instead of the "
              "original.")
@click.option("--page", default=1, show_default=True, type=click.IntRange(min=1),
              help="The page of a multi-page TIFF (with --thumb).")
@click.option("-o", "--output", type=click.Path(path_type=Path),
              help="Where to write it (a file, or a folder); default: its name, here.")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@pass_session
def get(session: Session, asset_id: str, size: int | None, page: int, output: Path | None,
        force: bool) -> None:
    """Download an asset's original, or one of its thumbnails."""
    client = session.client()
    asset = client.asset(_asset_id(client, asset_id))
    url, name = _download_source(asset, size, page)
    target = output / name if output and output.is_dir() else output or Path(name)
    if target.exists() and not force:
        raise click.ClickException(f"{target} exists (--force overwrites it)")
    partial = target.with_name(f".{target.name}.partial")
    with _transfer_progress() as progress, partial.open("wb") as file:
        task = progress.add_task(f"Downloading {name}", total=None)

        def advance(count: int, total: int) -> None:
            progress.update(task, advance=count, total=total or None)

        try:
            client.download(url, file, advance)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    partial.replace(target)
    err.print(f"Saved {target} ({decimal(target.stat().st_size)}).")


@cli.command()
@click.argument("asset_ids", nargs=-1, required=True)
@click.option("--permanent", is_flag=True, help="Delete for good, from the trash or not: "
              "originals and thumbnails go too.")
@click.option("--yes", is_flag=True, help="With --permanent: do not ask first.")
@pass_session
def rm(session: Session, asset_ids: tuple[str, ...], permanent: bool, yes: bool) -> None:
    """Move assets to the trash (`lightbox restore` brings them back), or delete them for
    good with --permanent. The trash is emptied after 30 days, or by `lightbox trash empty`."""
    client = session.client()
    # Every id is resolved before anything is deleted: a wrong one stops them all.
    resolved = _asset_ids(client, asset_ids, in_trash=permanent)
    if not permanent:
        _for_each(resolved, client.delete, "Moved to the trash:")
        return
    if not yes:
        # Nothing brings them back: say what the ids turned out to be.
        short = ids.short_ids(resolved)
        for asset_id in resolved:
            err.print(f"  {short[asset_id]}  {_described(client, asset_id)}", markup=False)
        click.confirm(f"Delete {len(resolved)} asset(s) for good, with their originals and "
                      "thumbnails?", abort=True, err=True)
    _for_each(resolved, lambda asset_id: client.delete(asset_id, permanent=True), "Deleted")


@cli.command()
@click.argument("asset_ids", nargs=-1, required=True)
@pass_session
def restore(session: Session, asset_ids: tuple[str, ...]) -> None:
    """Bring assets back from the trash, as they were."""
    client = session.client()
    _for_each(_asset_ids(client, asset_ids, in_trash=True, only_trash=True), client.restore,
              "Restored")


@cli.group()
def trash() -> None:
    """What is in the trash: list it, or empty it."""


@trash.command("ls")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per asset.")
@click.pass_context
def list_trash(ctx: click.Context, as_json: bool) -> None:
    """List the trash, as `ls --status trashed`."""
    ctx.invoke(list_assets, status="trashed", as_json=as_json)


@trash.command("empty")
@click.option("--yes", is_flag=True, help="Do not ask first.")
@pass_session
def empty_trash(session: Session, yes: bool) -> None:
    """Delete for good everything in the trash."""
    client = session.client()
    if not yes:
        click.confirm("Delete everything in the trash for good, with its originals and "
                      "thumbnails?", abort=True, err=True)
    deleted, more = 0, True
    while more:
        answer = client.empty_trash()
        deleted, more = deleted + answer["deleted"], answer["more"]
    err.print(f"Deleted {deleted} asset(s) for good.")


def _described(client: LightboxClient, asset_id: str) -> str:
    try:
        asset = client.asset(asset_id)
    except ApiError as exc:
        if exc.status == 404:
            return "(no such asset)"
        raise
    return f"{asset['filename']} ({asset['status']})"


@cli.command()
@click.argument("asset_ids", nargs=-1, required=True)
@pass_session
def retry(session: Session, asset_ids: tuple[str, ...]) -> None:
    """Check and render failed assets again."""
    client = session.client()
    _for_each(_asset_ids(client, asset_ids), client.retry, "Retrying")


@cli.group(invoke_without_command=True)
@click.pass_context
def projects(ctx: click.Context) -> None:
    """List projects (albums), create, rename and delete them, put assets in and take them out,
    and share them with a link."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(list_projects)


@projects.command("ls")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per project.")
@pass_session
def list_projects(session: Session, as_json: bool = False) -> None:
    """List projects with their asset counts."""
    items = session.client().projects()
    if as_json:
        for project in items:
            _print_json(project)
        return
    if not items:
        err.print("No projects.")
        return
    short = ids.short_ids(project["project_id"] for project in items)
    table = Table(box=None, header_style="bold", pad_edge=False)
    table.add_column("ID", no_wrap=True)
    for heading in ("Name", "Assets", "Created"):
        table.add_column(heading)
    for project in items:
        table.add_row(short[project["project_id"]], project["name"],
                      str(project["asset_count"]), _minutes(project["created_at"]))
    _print_table(table)


@projects.command("create")
@click.argument("name")
@pass_session
def create_project(session: Session, name: str) -> None:
    """Create a project."""
    project = session.client().create_project(name)
    out.print(project["project_id"])
    err.print(f"Created project {project['name']!r}.")


@projects.command("rename")
@click.argument("project")
@click.argument("name")
@pass_session
def rename_project(session: Session, project: str, name: str) -> None:
    """Rename a project (given by name or id)."""
    client = session.client()
    renamed = client.rename_project(_project_id(client, project), name)
    err.print(f"Renamed to {renamed['name']!r}.")


@projects.command("rm")
@click.argument("project")
@click.option("--cascade", is_flag=True, help="Delete its assets too (else it must be empty).")
@click.option("--yes", is_flag=True, help="Do not ask before deleting assets.")
@pass_session
def delete_project(session: Session, project: str, cascade: bool, yes: bool) -> None:
    """Delete a project (given by name or id)."""
    client = session.client()
    found = client.project(_project_id(client, project))  # what the name or id turned out to be
    if cascade and not yes:
        short = ids.short_ids([found["project_id"]])[found["project_id"]]
        click.confirm(f"Delete project {found['name']!r} ({short}) and its "
                      f"{found['asset_count']} asset(s)?", abort=True, err=True)
    client.delete_project(found["project_id"], cascade=cascade)
    err.print(f"Deleted project {found['name']!r}.")


@projects.command("add")
@click.argument("project")
@click.argument("asset_ids", nargs=-1, required=True)
@pass_session
def add_to_project(session: Session, project: str, asset_ids: tuple[str, ...]) -> None:
    """Put assets in a project (given by name or id); they stay in their other projects."""
    client = session.client()
    project_id, wanted = _project_id(client, project), _asset_ids(client, asset_ids)
    added = _in_batches(client.add_to_project, project_id, wanted, "added")
    err.print(f"Added {added} asset(s); {len(wanted) - added} were in it already.")


@projects.command("remove")
@click.argument("project")
@click.argument("asset_ids", nargs=-1, required=True)
@pass_session
def remove_from_project(session: Session, project: str, asset_ids: tuple[str, ...]) -> None:
    """Take assets out of a project; they stay in the library."""
    client = session.client()
    project_id, wanted = _project_id(client, project), _asset_ids(client, asset_ids)
    removed = _in_batches(client.remove_from_project, project_id, wanted, "removed")
    err.print(f"Removed {removed} asset(s).")


def _in_batches(change: Callable[[str, Sequence[str]], Json], project_id: str,
                wanted: Sequence[str], counted: str) -> int:
    """Put in or take out ``wanted``, as many at a time as the API takes; how many changed."""
    return sum(change(project_id, wanted[start:start + MEMBERS_AT_ONCE])[counted]
               for start in range(0, len(wanted), MEMBERS_AT_ONCE))


@projects.command("share")
@click.argument("project")
@click.option("--expires", "expires_at", metavar="TIME",
              help="When the link stops working: a date and time with its offset "
                   "(2025-08-31T23:59:59+02:00); default never, until revoked.")
@click.option("--originals", is_flag=True, help="Let the link serve originals, not only "
              "thumbnails.")
@pass_session
def share_project(session: Session, project: str, expires_at: str | None,
                  originals: bool) -> None:
    """Make a read-only link to a project; the link is printed once."""
    client = session.client()
    share = client.share_project(_project_id(client, project), expires_at=expires_at,
                                 allow_original=originals)
    out.print(share["url"], soft_wrap=True)
    err.print(f"Shared until {share['expires_at'] or 'revoked'}"
              f"{', originals too' if originals else ', thumbnails only'}.")


@projects.command("shares")
@click.argument("project")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per share.")
@pass_session
def list_shares(session: Session, project: str, as_json: bool = False) -> None:
    """List a project's links (their tokens are never shown again)."""
    client = session.client()
    items = client.shares(_project_id(client, project))
    if as_json:
        for share in items:
            _print_json(share)
        return
    if not items:
        err.print("No shares.")
        return
    table = Table(box=None, header_style="bold", pad_edge=False)
    for heading in ("ID", "Created", "Expires", "Originals", "Revoked"):
        table.add_column(heading, no_wrap=heading == "ID")
    for share in items:
        table.add_row(share["share_id"], _minutes(share["created_at"]),
                      _minutes(share["expires_at"]) or "never",
                      "yes" if share["allow_original"] else "no", _minutes(share["revoked_at"]))
    _print_table(table)


@projects.command("unshare")
@click.argument("project")
@click.argument("share_id")
@pass_session
def revoke_share(session: Session, project: str, share_id: str) -> None:
    """Revoke a link: it opens nothing from now on."""
    client = session.client()
    client.revoke_share(_project_id(client, project), share_id)
    err.print("Revoked.")


@cli.command()
@click.option("--distance", type=click.IntRange(min=0),
              help="Bits (of 64) in which perceptual hashes may differ: 0-11, the server's "
                   "default 10.")
@click.option("--project", help="Only this project's assets: its name or id.")
@click.option("--json", "as_json", is_flag=True,
              help="One JSON array per group: its assets, each with its nearest distance.")
@pass_session
def dupes(session: Session, distance: int | None, project: str | None, as_json: bool) -> None:
    """List groups of near-duplicates: the same photo re-encoded, resized or lightly edited.

    Photos near one another are one group, so a photo is in one group at most; Bits is how
    near it is to the nearest other of its group. Exact copies are duplicates already, and
    photos rendered before near-duplicates were looked for are in no group until rendered
    again.
    """
    client = session.client()
    found = clusters(client.similar_groups(
        distance=distance, project_id=_project_id(client, project) if project else None))
    if as_json:
        for cluster in found:
            click.echo(json.dumps(cluster, ensure_ascii=False))
        return
    if not found:
        err.print("No near-duplicates.")
        return
    members = [asset for cluster in found for asset in cluster]
    short = ids.short_ids(asset["asset_id"] for asset in members)
    columns = {
        "Group": [str(number) for number, cluster in enumerate(found, 1) for _ in cluster],
        "ID": [short[asset["asset_id"]] for asset in members],
        "Bits": [str(asset["nearest"]) for asset in members],
        "File": [asset["filename"] for asset in members],
        "Size": [decimal(asset["size_bytes"]) for asset in members],
        "Pixels": [f"{asset['width']}×{asset['height']}" if asset["width"] else ""
                   for asset in members],
        "Taken": [_minutes(asset["taken_at"]) for asset in members],
    }
    shown = fit(columns, out.width if out.is_terminal else LS_PIPED_WIDTH, flexible="File",
                needed=["Group", "ID", "Bits"], wanted=["Size", "Pixels", "Taken"],
                flexible_room=LS_NAME_ROOM)
    table = Table(box=None, header_style="bold", pad_edge=False)
    for heading in shown:
        table.add_column(heading, no_wrap=True)
    for row in zip(*shown.values(), strict=True):
        table.add_row(*row)
    _print_table(table)
    err.print(f"{len(found)} groups, {len(members)} photos.")


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="The stats as the API returns them.")
@pass_session
def stats(session: Session, as_json: bool) -> None:
    """Count assets per status and show the thumbnail queues."""
    answer = session.client().stats()
    if as_json:
        _print_json(answer, indent=2)
        return
    table = Table("Status", "Assets", box=None, header_style="bold")
    for status in STATUSES:
        table.add_row(status, str(answer["assets"].get(status, 0)))
    _print_table(table)
    queues = Table("Queue", "Waiting", "In flight", "Delayed", box=None, header_style="bold")
    for name, depth in answer["queues"].items():
        queues.add_row(name, str(depth["waiting"]), str(depth["in_flight"]),
                       str(depth["delayed"]))
    _print_table(queues)


@cli.group()
def admin() -> None:
    """What an admin's key may do to the whole service."""


@admin.command("rerender")
@click.option("--wait", is_flag=True, help="Follow the rerender until no ready asset is left on "
              "another spec.")
@click.option("--timeout", default=3600.0, show_default=True, type=click.FloatRange(min=1),
              help="Seconds --wait follows the rerender.")
@click.option("--json", "as_json", is_flag=True, help="The last answer as JSON, no summary.")
@pass_session
def rerender(session: Session, wait: bool, timeout: float, as_json: bool) -> None:
    """Render every ready asset again whose thumbnails were made with other sizes, formats or
    qualities than the service's now, in the backfill lane. Run it after changing them; run
    it again to go on with whatever is still out of date."""
    client = session.client()
    answer = client.rerender_page(None)
    outdated, sent = answer["outdated"], answer["sent"]
    while answer["next_cursor"]:
        answer = client.rerender_page(answer["next_cursor"])
        sent += answer["sent"]
    if not as_json:
        err.print(f"{outdated} ready assets were on another spec than {answer['render_spec']}; "
                  f"{sent} rerender jobs sent.")
    if wait:
        try:
            answer = _follow_rerender(client, outdated, timeout)
        except KeyboardInterrupt:
            err.print("Stopped following: the rerender goes on in the backfill lane.")
            sys.exit(130)
    if as_json:
        _print_json({**answer, "sent": sent})
    elif wait:
        err.print("Every ready asset is on the current spec.")


@admin.command("pause")
@click.option("--json", "as_json", is_flag=True, help="The answer as JSON.")
@pass_session
def pause(session: Session, as_json: bool) -> None:
    """Stop the functions that work through the queues and the schedule. Uploads are still
    taken; their work waits in the queues, in order, until lightbox admin resume."""
    _switch_processing(session, paused=True, as_json=as_json)


@admin.command("resume")
@click.option("--json", "as_json", is_flag=True, help="The answer as JSON.")
@pass_session
def resume(session: Session, as_json: bool) -> None:
    """Start again what lightbox admin pause stopped: what waited is taken up in order."""
    _switch_processing(session, paused=False, as_json=as_json)


@admin.command("processing")
@click.option("--json", "as_json", is_flag=True, help="The answer as JSON.")
@pass_session
def processing(session: Session, as_json: bool) -> None:
    """Whether the functions behind uploads are running, paused, or on their way."""
    _show_processing(session.client().processing(), as_json=as_json)


def _switch_processing(session: Session, *, paused: bool, as_json: bool) -> None:
    client = session.client()
    answer = client.set_paused(paused)
    wanted = "disabled" if paused else "enabled"
    deadline = time.monotonic() + SWITCH_SECONDS
    # Lambda settles a mapping in seconds; the answer is worth waiting for.
    while answer["state"] != wanted and time.monotonic() < deadline:
        time.sleep(POLL_SECONDS)
        answer = client.processing()
    _show_processing(answer, as_json=as_json)


def _show_processing(answer: Json, *, as_json: bool) -> None:
    if as_json:
        _print_json(answer)
        return
    table = Table("Function", "Started by", "State", box=None, header_style="bold")
    for trigger in answer["triggers"]:
        table.add_row(trigger["function"], trigger["source"], trigger["state"])
    _print_table(table)
    err.print({"enabled": "Processing is running.", "disabled": "Processing is paused.",
               "changing": "Processing is changing: run the command again if it stays so."}
              [answer["state"]])


def _follow_rerender(client: LightboxClient, outdated: int, timeout: float) -> Json:
    progress = _count_progress()
    deadline = time.monotonic() + timeout
    with progress:
        task = progress.add_task("Rerendering", total=outdated)
        while True:
            answer = client.rerender_progress()
            progress.update(task, completed=max(0, outdated - answer["outdated"]))
            if answer["outdated"] == 0:
                return answer
            if time.monotonic() > deadline:
                raise click.ClickException(
                    f"{answer['outdated']} ready assets are still on another spec after "
                    f"{timeout:.0f} s; run lightbox admin rerender again to go on")
            time.sleep(POLL_SECONDS)


def _content_types(types: str) -> list[str]:
    names = [name.strip().lower() for name in types.split(",") if name.strip()]
    unknown = [name for name in names if name not in TYPE_NAMES]
    if unknown or not names:
        raise click.BadParameter(f"choose from {', '.join(TYPE_NAMES)}, not {types!r}",
                                 param_hint="--type")
    return [TYPE_NAMES[name] for name in names]


def _album_projects(client: LightboxClient, albums: Sequence[str]) -> dict[str, str]:
    """The project of each album, by its name alone (made when missing); an album whose name
    the library refuses leaves its photos out of projects, not out of the library."""
    projects = {}
    for album in albums:
        try:
            found = client.project_named(album)
            if found is None:
                found = client.create_project(album)
                err.print(f"Created project {found['name']!r}.")
        except ClientError as exc:
            err.print(f"The album {album!r} is not made a project: {exc.message}")
            continue
        projects[album] = str(found["project_id"])
    return projects


def _project_id(client: LightboxClient, project: str, *, create: bool = False) -> str:
    """The id of a project given by id, by name (the server decides which name is the same)
    or, unless a new name creates a project, by the first characters of its id."""
    whole = ids.whole(project)
    if whole is not None:
        return whole
    found = client.project_named(project)
    if found is not None:
        return str(found["project_id"])
    # With create, a name like "2024" makes that project rather than find one by its id.
    if not create and ids.is_prefix(project):
        return _resolve(ids.prefix(project, "a project"),
                        [(p["project_id"], p["name"]) for p in client.projects()], project,
                        f"no project is called {project!r} and no project id starts with it")
    if not create:
        raise click.ClickException(f"no project is called {project!r}")
    created = client.create_project(project)
    err.print(f"Created project {created['name']!r}.")
    return str(created["project_id"])


def _asset_id(client: LightboxClient, asset_id: str) -> str:
    return _asset_ids(client, [asset_id])[0]


def _asset_ids(client: LightboxClient, typed: Sequence[str], *, in_trash: bool = False,
               only_trash: bool = False) -> list[str]:
    """Whole asset ids for ids typed whole or by their first characters.

    The API takes whole ids only, so first characters are matched against a listing of the
    library (one for all of them, in pages of the most the API gives), and of the trash
    (``in_trash``), or of the trash alone (``only_trash``); whole ids need none.
    """
    wholes = {text: ids.whole(text) for text in typed}
    prefixes = {text: ids.prefix(text, "an asset") for text in typed if wholes[text] is None}
    statuses = ["trashed"] if only_trash else [None, "trashed"] if in_trash else [None]
    listed = ([(a["asset_id"], a["filename"]) for status in statuses
               for a in client.assets(limit=None, page_size=200, status=status)]
              if prefixes else [])
    found, problems = {}, []
    for text, digits in prefixes.items():
        try:
            found[text] = _resolve(digits, listed, text, f"no asset starts with {text}")
        except ids.IdError as exc:
            problems.append(exc.message)
    if problems:
        raise ids.IdError("\n".join(problems))
    return [wholes[text] or found[text] for text in typed]


def _resolve(digits: str, candidates: Sequence[tuple[str, str]], text: str, none: str) -> str:
    """The one id of ``candidates`` (id, label) that starts with ``digits``; else IdError,
    saying ``none`` or naming the candidates."""
    matches = ids.matching(digits, candidates)
    if not matches:
        raise ids.IdError(none)
    if len(matches) > 1:
        raise ids.IdError(ids.ambiguous(text, matches))
    return matches[0][0]


def _download_source(asset: Json, size: int | None, page: int) -> tuple[str, str]:
    """The URL to fetch and a safe local file name for it."""
    # The name comes from whoever uploaded the file: only its last part is used, never a path.
    stem, dot, suffix = Path(asset["filename"].replace("\\", "/")).name.rpartition(".")
    if not dot:
        stem, suffix = suffix, ""
    stem = stem.strip(". ") or asset["asset_id"]
    if size is None:
        if not asset["original_url"]:
            raise click.ClickException(
                f"asset {asset['asset_id']} has no original to download ({asset['status']})")
        return asset["original_url"], f"{stem}.{suffix}" if suffix else stem
    thumbs = [t for t in asset["thumbnails"] if t["size"] == size and t["page"] == page]
    if not thumbs:
        sizes = sorted({t["size"] for t in asset["thumbnails"]})
        raise click.ClickException(
            f"asset {asset['asset_id']} has no {size} px thumbnail of page {page} "
              f"(sizes: {', '.join(map(str, sizes)) or 'none yet'})")
    thumb = min(thumbs, key=lambda t: t["format"] != "jpeg")
    extension = "jpg" if thumb["format"] == "jpeg" else thumb["format"]
    page_part = f"-p{page}" if page > 1 else ""
    return thumb["url"], f"{stem}-{size}px{page_part}.{extension}"


def _for_each(asset_ids: Sequence[str], action: Callable[[str], object], verb: str) -> None:
    failed = 0
    for asset_id in asset_ids:
        try:
            action(asset_id)
        except ApiError as exc:
            if exc.status == 401:
                raise
            failed += 1
            err.print(f"{asset_id}: {exc.message}", style="red")
        else:
            err.print(f"{verb} {asset_id}.")
    if failed:
        sys.exit(1)


def _print_table(table: Table) -> None:
    """A table; piped, without the spaces rich pads its lines' ends with."""
    if out.is_terminal:
        out.print(table)
        return
    with out.capture() as captured:
        out.print(table)
    click.echo("\n".join(line.rstrip() for line in captured.get().splitlines()))


def _print_json(value: Json, indent: int | None = None) -> None:
    """Exactly the JSON, on one line unless indented: for programs, not for rich."""
    click.echo(json.dumps(value, ensure_ascii=False, indent=indent))


def _minutes(timestamp: str | None) -> str:
    return timestamp[:16].replace("T", " ") if timestamp else ""


def _shown_path(path: Path) -> str:
    """Relative to the current folder when it is inside it, as the user typed it."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _pixels(asset: Json) -> str:
    if not asset["width"]:
        return ""
    pages = f" ×{asset['pages']}" if (asset["pages"] or 1) > 1 else ""
    return f"{asset['width']}×{asset['height']}{pages}"


def _animation(asset: Json) -> str:
    seconds = asset.get("duration")  # .get: a server older than animations has neither field
    if seconds is None or _is_video(asset):
        return ""
    frames = asset.get("frames")
    return f"{frames or 'uncounted'} frames, {seconds:g} s a loop"


def _video(asset: Json) -> str:
    """"1:02:05, HEVC, 29.97 fps, with sound" for a clip; empty for an image."""
    seconds = asset.get("duration")
    if not _is_video(asset) or seconds is None:
        return ""
    minutes, second = divmod(round(seconds), 60)
    hours, minute = divmod(minutes, 60)
    length = f"{hours}:{minute:02}:{second:02}" if hours else f"{minute}:{second:02}"
    parts = [length, (asset.get("codec") or "").upper().replace("H264", "H.264")]
    if asset.get("frame_rate"):
        parts.append(f"{asset['frame_rate']:g} fps")
    parts.append("with sound" if asset.get("has_audio") else "silent")
    return ", ".join(part for part in parts if part)


def _is_video(asset: Json) -> bool:
    return str(asset["content_type"]).startswith("video/")


def _details(asset: Json) -> Iterable[tuple[str, object]]:
    camera = " ".join(filter(None, (asset["camera_make"], asset["camera_model"])))
    yield from (
        ("ID", asset["asset_id"]), ("Status", asset["status"]), ("Error", asset["error"]),
        ("File", asset["filename"]), ("Type", asset["content_type"]),
        ("Size", f"{decimal(asset['size_bytes'])} ({asset['size_bytes']} bytes)"),
        ("Pixels", _pixels(asset)), ("Animation", _animation(asset)), ("Video", _video(asset)),
        ("Bit depth", asset["bit_depth"]),
        ("Colour", asset["color_mode"]), ("Taken", asset["taken_at"]), ("Camera", camera),
        ("Orientation", asset["orientation"]),
        ("Location", "recorded (never in thumbnails)" if asset.get("has_location") else ""),
        ("Description", asset.get("description")),
        ("SHA-256", asset["sha256"]),
        ("Project", asset["project_id"]), ("Duplicate of", asset["duplicate_of"]),
        ("Uploaded", asset["created_at"]), ("Updated", asset["updated_at"]),
    )


def _result_json(result: FileResult) -> Json:
    return {"path": str(result.file.path), "outcome": str(result.outcome),
            "asset_id": result.asset_id, "status": result.status, "detail": result.detail or None}


def _print_left_out(left_out: Sequence[tuple[Path, str]]) -> None:
    """Each path left out, under its reason."""
    folders = sum(path.is_dir() for path, _ in left_out)
    _print_by_reason([(_shown_path(path), why) for path, why in left_out], "file",
                     folders=folders)


def _print_by_reason(left_out: Sequence[tuple[str, str]], noun: str, folders: int = 0) -> None:
    """Each thing left out (named as shown), under its reason."""
    if not left_out:
        return
    counted = [f"{count} {kind}{'s' if count > 1 else ''}" for count, kind in
               ((len(left_out) - folders, noun), (folders, "folder")) if count]
    err.print(f"Leaving out {' and '.join(counted)}:")
    by_reason: dict[str, list[str]] = {}
    for name, why in left_out:
        by_reason.setdefault(why, []).append(name)
    # Whole lines, so that a path piped elsewhere stays one.
    for why, left in by_reason.items():
        err.print(f"  {why}", soft_wrap=True)
        for name in left:
            err.print(f"    {name}", soft_wrap=True)


def _print_summary(results: Sequence[FileResult], sent: int, seconds: float,
                   label: Callable[[LocalFile], str] = lambda file: _shown_path(file.path)
                   ) -> None:
    counts = Counter(result.outcome for result in results)
    shown = [r for r in results
             if len(results) <= FULL_SUMMARY_FILES or r.noteworthy]
    if shown:
        table = Table(box=None, header_style="bold")
        table.add_column("File", overflow="fold")
        table.add_column("Result")
        table.add_column("Asset", no_wrap=True, min_width=36)
        table.add_column("Detail", overflow="fold")
        for result in shown:
            outcome = Text(result.outcome, style="red" if not result.ok
                           else "yellow" if result.noteworthy else "")
            table.add_row(label(result.file), outcome, result.asset_id or "",
                          result.detail)
        _print_table(table)
    summary = ", ".join(f"{count} {outcome}" for outcome, count in sorted(counts.items()))
    out.print(f"{summary}; {decimal(sent)} sent in {seconds:.1f} s.")


def _count_progress() -> Progress:
    """A bar of things done out of a total, on a terminal only; gone when done."""
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=err, transient=True,
                    disable=not err.is_terminal)


def _transfer_progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
                    TransferSpeedColumn(), TimeRemainingColumn(), console=err, transient=True,
                    disable=not err.is_terminal)


class _UploadProgress:
    """Draws the uploads: one bar for every byte and file, one per file under way."""

    def __init__(self, files: Sequence[LocalFile]) -> None:
        self._progress = _transfer_progress()
        self._files = len(files)
        self._done = 0
        self._overall = self._progress.add_task(self._label(), total=sum(f.size for f in files))
        self._tasks: dict[LocalFile, TaskID] = {}

    def __enter__(self) -> Self:
        self._progress.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._progress.stop()

    def started(self, file: LocalFile) -> None:
        self._tasks[file] = self._progress.add_task(f"  {file.path.name}", total=file.size)

    def sent(self, file: LocalFile, count: int) -> None:
        self._progress.update(self._tasks[file], advance=count)
        self._progress.update(self._overall, advance=count)

    def finished(self, result: FileResult) -> None:
        self._progress.remove_task(self._tasks.pop(result.file))
        self._done += 1
        self._progress.update(self._overall, description=self._label())

    def _label(self) -> str:
        return f"Uploading {self._done}/{self._files} files"


class _ImportProgress(_UploadProgress):
    """Draws an import: one line for the assets done and every byte received, one per
    download and one per upload under way."""

    def __init__(self) -> None:
        super().__init__([])
        self._progress.update(self._overall, total=None)  # bytes from Immich, sizes unknown
        self._downloads: dict[ImmichAsset, TaskID] = {}

    def started(self, file: LocalFile) -> None:
        self._tasks[file] = self._progress.add_task(f"  ↑ {file.name}", total=file.size)

    def sent(self, file: LocalFile, count: int) -> None:
        self._progress.update(self._tasks[file], advance=count)

    def finished(self, result: FileResult) -> None:
        self._progress.remove_task(self._tasks.pop(result.file))

    def found(self, count: int) -> None:
        self._files += count
        self._progress.update(self._overall, description=self._label())

    def downloading(self, asset: ImmichAsset) -> None:
        self._downloads[asset] = self._progress.add_task(f"  ↓ {asset.name}", total=None)

    def received(self, asset: ImmichAsset, count: int) -> None:
        self._progress.update(self._downloads[asset], advance=count)
        self._progress.update(self._overall, advance=count)

    def downloaded(self, asset: ImmichAsset) -> None:
        self._progress.remove_task(self._downloads.pop(asset))

    def done(self, asset: ImmichAsset) -> None:
        self._done += 1
        self._progress.update(self._overall, description=self._label())

    def _label(self) -> str:
        return f"Importing {self._done}/{self._files} assets"
