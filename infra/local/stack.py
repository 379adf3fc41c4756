"""Start the whole local stack in dependency order, and stop it in the reverse order."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import boto3

from infra.local import snapshot
from infra.local.bridge import Bridge
from infra.local.functions import LocalFunction
from infra.local.gateway import Gateway
from infra.local.resources import provision
from infra.local.services import EmbeddedPostgres, MotoServer, port_is_free
from infra.local.template import Template
from lightbox.adapters.migrations import apply_migrations

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sqs import SQSClient

log = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[2]
STACK_NAME = "lightbox-local"
REGION = "us-east-1"
STACK_FILE = "stack.json"
# What a function's process inherits from the runtime besides its own variables.
_INHERITED = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "TZ")


class StackError(Exception):
    pass


@dataclass(frozen=True)
class Options:
    data_dir: Path
    port: int = 8000
    s3_endpoint: str | None = None
    database_url: str | None = None
    concurrency: int = 2


@dataclass(frozen=True)
class RunningStack:
    api_url: str
    s3_endpoint: str
    database_url: str
    exports: dict[str, str]


class DevStack:
    def __init__(self, options: Options) -> None:
        self._options = options
        self._cleanup = ExitStack()

    def start(self) -> RunningStack:
        try:
            return self._start()
        except BaseException:
            self._cleanup.close()
            raise

    def stop(self) -> None:
        self._cleanup.close()

    def _start(self) -> RunningStack:
        options, cleanup = self._options, self._cleanup
        data = options.data_dir.resolve()
        if read_exports(data) is not None:
            raise StackError(f"a stack is already running on {data}; stop it or use --data")
        if options.port and not port_is_free(options.port):
            raise StackError(f"port {options.port} is in use; choose another with --port")
        (data / "logs").mkdir(parents=True, exist_ok=True)

        database_url = options.database_url
        if database_url is None:
            postgres = EmbeddedPostgres(data / "postgres")
            database_url = postgres.start()
            cleanup.callback(postgres.stop)
        applied = apply_migrations(database_url, REPO / "migrations")
        log.info("database schema up to date (%d migrations applied now)", len(applied))

        endpoint = options.s3_endpoint
        if endpoint is None:
            moto = MotoServer(data / "logs" / "moto.log")
            endpoint = moto.start()
            cleanup.callback(moto.stop)
        aws_env = {
            "AWS_ACCESS_KEY_ID": os.environ.get("AWS_ACCESS_KEY_ID", "test"),
            "AWS_SECRET_ACCESS_KEY": os.environ.get("AWS_SECRET_ACCESS_KEY", "test"),
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ENDPOINT_URL": endpoint,
        }
        session = boto3.session.Session(
            aws_access_key_id=aws_env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=aws_env["AWS_SECRET_ACCESS_KEY"],
            region_name=REGION,
        )
        s3: S3Client = session.client("s3", endpoint_url=endpoint)
        sqs: SQSClient = session.client("sqs", endpoint_url=endpoint)

        template = Template.load(REPO / "template.yaml")
        resources, resolver = provision(
            template, stack=STACK_NAME, region=REGION,
            parameters={"DatabaseUrl": database_url}, s3=s3, sqs=sqs,
        )
        if options.s3_endpoint is None:
            restored = snapshot.restore(s3, resources.bucket, data / "s3")
            log.info("restored %d objects into the embedded bucket", restored)
            cleanup.callback(self._save_bucket, s3, resources.bucket, data / "s3")

        functions = {}
        for name, spec in template.functions.items():
            environment = {key: resolver.resolve(value) for key, value in spec.environment.items()}
            function = LocalFunction(
                name,
                handler=spec.handler,
                code_uri=str(spec.code_uri),
                environment=_function_environment(name, environment, aws_env),
                timeout=spec.timeout,
                memory=spec.memory,
                concurrency=options.concurrency,
            )
            cleanup.callback(function.close)
            functions[name] = function

        bridge = Bridge(list(template.triggers), functions, sqs=sqs,
                        queue_urls=resources.queue_urls, queue_arns=resources.queue_arns,
                        region=REGION)
        bridge.start()
        cleanup.callback(bridge.close)

        gateway = Gateway(template.routes, functions, port=options.port)
        gateway.start()
        cleanup.callback(gateway.close)

        exports = {
            **aws_env,
            "DATABASE_URL": database_url,
            "LIGHTBOX_API_URL": gateway.url,
            "LIGHTBOX_BUCKET": resources.bucket,
            "LIGHTBOX_INGEST_QUEUE_URL": resources.queue_urls["IngestQueue"],
            "LIGHTBOX_THUMBNAIL_QUEUE_URL": resources.queue_urls["ThumbnailQueue"],
        }
        stack_file = data / STACK_FILE
        stack_file.write_text(json.dumps({"pid": os.getpid(), "exports": exports}, indent=2))
        cleanup.callback(stack_file.unlink, missing_ok=True)
        return RunningStack(gateway.url, endpoint, database_url, exports)

    @staticmethod
    def _save_bucket(s3: S3Client, bucket: str, directory: Path) -> None:
        saved = snapshot.save(s3, bucket, directory)
        log.info("saved %d objects of the embedded bucket to %s", saved, directory)


def _function_environment(
    name: str, template_env: Mapping[str, str], aws_env: Mapping[str, str]
) -> dict[str, str]:
    inherited = {key: os.environ[key] for key in _INHERITED if key in os.environ}
    # A LIGHTBOX_* variable set for ./dev.sh up overrides the template's value.
    overrides = {key: value for key, value in os.environ.items() if key.startswith("LIGHTBOX_")}
    return {
        **inherited,
        **aws_env,
        **template_env,
        **overrides,
        "AWS_LAMBDA_FUNCTION_NAME": name,
    }


def read_exports(data_dir: Path) -> dict[str, str] | None:
    """The exports of the stack running on ``data_dir``, or None if none runs."""
    try:
        state = json.loads((data_dir / STACK_FILE).read_text())
        os.kill(int(state["pid"]), 0)
    except (FileNotFoundError, ProcessLookupError, ValueError, KeyError):
        return None
    except PermissionError:
        pass  # the process exists, started by another user
    exports: dict[str, str] = state["exports"]
    return exports
