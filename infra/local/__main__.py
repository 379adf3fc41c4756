"""``python -m infra.local up|env|key|redrive|localstack``: what ``./dev.sh up``, ``env``,
``key``, ``redrive`` and ``localstack`` run.

Function workers are spawned processes, which import this module again: it imports the
runtime only inside ``main`` so that they stay lean.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shlex
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from infra.local.stack import Options

REPO = Path(__file__).resolve().parents[2]
# The runtime applies migrations with the functions' own code.
sys.path.insert(0, str(REPO / "functions"))

log = logging.getLogger("infra.local")


def main(argv: list[str] | None = None) -> int:
    args = arguments().parse_args(argv)
    if args.command == "localstack":
        return _run_localstack(args.port, args.data)
    from infra.local.stack import Options, default_data_dir

    data_dir: Path = args.data or default_data_dir(getattr(args, "s3", "embedded"))
    if args.command == "env":
        return _print_env(data_dir)
    if args.command == "key":
        return _run_key_command(args, data_dir)
    if args.command == "redrive":
        return _redrive(data_dir)
    if args.command in ("backup", "restore"):
        return _backup_or_restore(args, data_dir)
    database_url = os.environ.get("DATABASE_URL") or None
    if database_url and str(data_dir.resolve() / "postgres") in database_url:
        database_url = None  # a shell's exports from this very stack: not an external database
    return _run(Options(data_dir=data_dir, port=args.port, s3=args.s3,
                        database_url=database_url, concurrency=args.concurrency,
                        schedule_seconds=args.schedule_seconds), verbose=args.verbose)


def arguments() -> argparse.ArgumentParser:
    """./dev.sh's commands and their options (docker-compose.yml runs them too)."""
    parser = argparse.ArgumentParser(prog="./dev.sh", description="Lightbox on this machine.")
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="run the stack until Ctrl-C")
    up.add_argument("--port", type=int, default=8000, help="API port (0 picks a free one)")
    up.add_argument("--s3", default="embedded", metavar="BACKEND",
                    help="embedded (default), localstack, minio, or the URL of S3 + SQS")
    up.add_argument("--data", type=Path, help="where state is kept (default: .data, or "
                    ".data-localstack, .data-minio, .data-remote for the other backends)")
    up.add_argument("--schedule-seconds", type=int, metavar="N",
                    help="run scheduled functions (the reaper) every N seconds")
    up.add_argument("--concurrency", type=int, default=2, help="processes per function")
    up.add_argument("--verbose", action="store_true",
                    help="log each queue delivery and bucket notification, with timings")
    env = commands.add_parser("env", help="print export lines for the running stack")
    env.add_argument("--s3", default="embedded", metavar="BACKEND")
    env.add_argument("--data", type=Path)
    from infra.local import keys

    keys.add_arguments(commands.add_parser("key", help="manage API keys of the local stack"))
    redrive = commands.add_parser(
        "redrive", help="send back what the running stack's dead-letter queues hold")
    redrive.add_argument("--s3", default="embedded", metavar="BACKEND")
    redrive.add_argument("--data", type=Path)
    saved = commands.add_parser("backup", help="write the stopped stack's library, whole, to an "
                                "archive")
    saved.add_argument("--to", type=Path, required=True, help="the archive to write (a tar)")
    saved.add_argument("--data", type=Path)
    restored = commands.add_parser("restore", help="unpack a backup into a new data directory")
    restored.add_argument("--from", dest="archive", type=Path, required=True)
    restored.add_argument("--data", type=Path, required=True,
                          help="the directory to restore into: new, or empty")
    cloud = commands.add_parser(
        "localstack", help="LocalStack and PostgreSQL to deploy template.yaml to; the deployed "
        "functions run as processes of this host")
    cloud.add_argument("--port", type=int, default=4566, help="LocalStack's port")
    cloud.add_argument("--data", type=Path, default=REPO / ".data-deployed",
                       help="where state is kept (default: .data-deployed)")
    return parser


def _run(options: Options, *, verbose: bool = False) -> int:
    from infra.local.stack import DevStack, StackError
    from lightbox.errors import LightboxError

    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for chatty in ("pgserver", "botocore"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
    if verbose:
        log.setLevel(logging.DEBUG)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    stack = DevStack(options)
    try:
        running = stack.start()
    except (OSError, StackError, LightboxError) as exc:
        hint = " (DATABASE_URL is set: is that database up?)" if options.database_url else ""
        log.error("could not start: %s%s", exc, hint)
        return 1
    if options.database_url:
        log.info("DATABASE_URL is set: using that database instead of the embedded one")
    print(
        f"\nLightbox is running.\n"
        f"  API:       {running.api_url}   (curl {running.api_url}/health)\n"
        f"  Gallery:   {running.api_url}/   (sign in with the API key below)\n"
        f"  S3 + SQS:  {running.s3_endpoint}\n"
        f"  Database:  {running.database_url}\n"
        f"  API key:   {running.api_key}   (owner local{', new' if running.new_key else ''}; "
        f"saved in {options.data_dir / 'dev-api-key'})\n"
        f"  Data:      {options.data_dir}\n"
        f"In another shell: eval \"$(./dev.sh env)\". Stop with Ctrl-C.\n",
        flush=True,
    )
    stop.wait()
    log.info("stopping")
    stack.stop()
    return 0


def _run_localstack(port: int, data_dir: Path) -> int:
    """LocalStack with every service the template uses, and PostgreSQL, until Ctrl-C; what
    LocalStack logs, the deployed functions' logs among it, goes to the terminal."""
    from infra.local.services import TEMPLATE_SERVICES, EmbeddedPostgres, LocalStackServer
    from infra.local.stack import LOCALSTACK_PYTHON

    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    log_path = data_dir / "logs" / "localstack.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    postgres = EmbeddedPostgres(data_dir / "postgres")
    database_url = postgres.start()
    localstack = LocalStackServer(LOCALSTACK_PYTHON, data_dir / "localstack", log_path,
                                  port=port, services=TEMPLATE_SERVICES)
    try:
        endpoint = localstack.start()
    except (OSError, ChildProcessError) as exc:
        log.error("could not start LocalStack: %s", exc)
        postgres.stop()
        return 1
    print(
        f"\nLocalStack is running; functions deployed to it run as processes of this host.\n"
        f"  Endpoint:  {endpoint}\n"
        f"  Database:  {database_url}\n"
        f"  Log:       {log_path}\n"
        f"Deploy template.yaml to it from another shell:\n"
        f"  PATH=\"$PWD/.venv-localstack/bin:$PATH\" AWS_ACCESS_KEY_ID=test "
        f"AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 \\\n"
        f"    LIGHTBOX_DATABASE_URL={shlex.quote(database_url)} "
        f"./deploy.sh -e dev --endpoint-url {endpoint}\n"
        f"Stop with Ctrl-C.\n",
        flush=True,
    )
    _follow(log_path, stop)
    localstack.stop()
    postgres.stop()
    return 0


def _follow(path: Path, stop: threading.Event) -> None:
    """Print what is written to ``path`` until ``stop`` is set."""
    with path.open("rb") as log_file:
        log_file.seek(0, os.SEEK_END)
        while not stop.is_set():
            line = log_file.readline()
            if line:
                sys.stdout.write(line.decode(errors="replace"))
                sys.stdout.flush()
            else:
                stop.wait(0.2)


def _run_key_command(args: argparse.Namespace, data_dir: Path) -> int:
    from infra.local import keys
    from lightbox.errors import LightboxError

    try:
        return keys.run(args, data_dir)
    except LightboxError as exc:
        print(f"./dev.sh key: {exc.message}", file=sys.stderr)
        return 1


def _backup_or_restore(args: argparse.Namespace, data_dir: Path) -> int:
    from infra.local.backup import BackupError, backup, restore

    try:
        if args.command == "backup":
            files = backup(data_dir, args.to)
            print(f"{args.to}: {files} files of the library in {data_dir}")
        else:
            files = restore(args.archive, data_dir)
            print(f"{data_dir}: {files} files restored; ./dev.sh up --data {data_dir} runs it")
    except (BackupError, OSError) as exc:
        print(f"./dev.sh {args.command}: {exc}", file=sys.stderr)
        return 1
    return 0


def _redrive(data_dir: Path) -> int:
    """The admin function's redrive, run here with the running stack's settings."""
    exports = _running_stack(data_dir)
    if exports is None:
        return 1
    os.environ.update(exports)
    import admin  # functions/admin.py, configured from the environment just set

    print(json.dumps(admin.handler({"command": "redrive"}, None)))
    return 0


def _print_env(data_dir: Path) -> int:
    exports = _running_stack(data_dir)
    if exports is None:
        return 1
    for name, value in exports.items():
        print(f"export {name}={shlex.quote(value)}")
    return 0


def _running_stack(data_dir: Path) -> dict[str, str] | None:
    """The exports of the stack running on ``data_dir``; None, saying so, if none runs."""
    from infra.local.running import read_exports

    exports = read_exports(data_dir)
    if exports is None:
        print(f"no Lightbox stack is running on {data_dir}; start one with ./dev.sh up",
              file=sys.stderr)
    return exports


if __name__ == "__main__":
    sys.exit(main())
