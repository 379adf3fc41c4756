"""Start the whole local stack in dependency order, and stop it in the reverse order."""

from __future__ import annotations

import logging
import os
import re
import shutil
import sysconfig
from collections.abc import Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import boto3

from infra.local import legacy_snapshot
from infra.local.bridge import Bridge
from infra.local.control import ControlPlane
from infra.local.credentials import LocalSecrets, local_secrets
from infra.local.functions import InvocationError, LocalFunction, function_arn
from infra.local.gateway import Gateway, cors_headers
from infra.local.keys import ensure_dev_key
from infra.local.resources import Provisioned, provision
from infra.local.running import read_exports, write_record
from infra.local.scheduler import Scheduler
from infra.local.seaweedfs import FilerNotifications, SeaweedServer, Target
from infra.local.services import (
    EmbeddedPostgres,
    LocalStackServer,
    MotoServer,
    ServerRecords,
    port_is_free,
)
from infra.template import Resolver, Template
from lightbox.adapters.migrations import apply_migrations

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sqs import SQSClient

log = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[2]
GALLERY = REPO / "web" / "gallery"
LOCALSTACK_PYTHON = REPO / ".venv-localstack" / "bin" / "python"
EMBEDDED = "embedded"
# The webhook target docker-compose.yml configures in MinIO.
MINIO_WEBHOOK_ARN = "arn:minio:sqs::LIGHTBOX:webhook"
# SeaweedFS's server, installed with the venv's other tools.
WEED = Path(sysconfig.get_path("scripts")) / "weed"
STACK_NAME = "lightbox-local"
REGION = "us-east-1"
# The function that runs operators' commands, the start-up recovery among them.
RECOVERY_FUNCTION = "AdminFunction"
BACKEND_FILE = "s3-backend"
# Background functions (an import's pages and renders) run at the lowest CPU priority: on one
# machine they share the CPUs and servers that Lambda and S3 would give them alone, and a
# user's own uploads must not wait behind them.
BACKGROUND_NICENESS = 19
# What frees the servers they share: each of their steps first waits, up to this, while a
# user's own upload is on its way (services/courtesy.py).
BACKGROUND_GIVE_WAY = {"LIGHTBOX_GIVE_WAY_SECONDS": "3"}
# Functions' logs as a person reads them in a terminal (the template leaves them JSON, for
# CloudWatch); an exported LIGHTBOX_LOG_FORMAT=json shows what Lambda would print.
READABLE_LOGS = {"LIGHTBOX_LOG_FORMAT": "text"}
# LocalStack community keeps nothing between runs (persistence is a Pro feature).
EPHEMERAL_BACKENDS = frozenset({"localstack"})
# What a function's process inherits from the runtime besides its own variables.
_INHERITED = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "TZ")
_RESOURCE_VARIABLE = re.compile(r"^LIGHTBOX_(BUCKET|API_URL|WEBHOOK_TOKEN|.*_QUEUE_URL)$")


class StackError(Exception):
    pass


@dataclass(frozen=True)
class Options:
    data_dir: Path
    port: int = 8000
    s3: str = EMBEDDED  # embedded, localstack, minio, or the URL of an S3 + SQS endpoint
    database_url: str | None = None
    concurrency: int = 2
    schedule_seconds: int | None = None  # run scheduled functions this often instead


class Server(Protocol):
    @property
    def pid(self) -> int | None: ...

    def stop(self) -> None: ...


@dataclass(frozen=True)
class AwsBackend:
    s3_endpoint: str
    sqs_endpoint: str
    access_key: str = field(default_factory=lambda: os.environ.get("AWS_ACCESS_KEY_ID", "test"))
    secret_key: str = field(
        default_factory=lambda: os.environ.get("AWS_SECRET_ACCESS_KEY", "test"))
    notification_arns: dict[str, str] | None = None
    # The bearer token the local webhook (/hooks/minio) accepts.
    webhook_token: str = ""
    # The embedded object store, which announces objects itself (it has no notifications).
    seaweed: SeaweedServer | None = None

    def environment(self) -> dict[str, str]:
        return {
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ENDPOINT_URL_S3": self.s3_endpoint,
            "AWS_ENDPOINT_URL_SQS": self.sqs_endpoint,
        }

    def clients(self) -> tuple[S3Client, SQSClient]:
        session = boto3.session.Session(aws_access_key_id=self.access_key,
                                        aws_secret_access_key=self.secret_key,
                                        region_name=REGION)
        return (session.client("s3", endpoint_url=self.s3_endpoint),
                session.client("sqs", endpoint_url=self.sqs_endpoint))


@dataclass(frozen=True)
class RunningStack:
    api_url: str
    s3_endpoint: str
    database_url: str
    exports: dict[str, str]
    api_key: str
    new_key: bool


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
        started_at = datetime.now(UTC)
        if read_exports(data) is not None:
            raise StackError(f"a stack is already running on {data}; stop it or use --data")
        if options.port and not port_is_free(options.port):
            raise StackError(f"port {options.port} is in use; choose another with --port")
        (data / "logs").mkdir(parents=True, exist_ok=True)
        _bind_backend(data, options.s3)
        servers = ServerRecords(data / "pids")
        servers.stop_leftovers()
        secrets = local_secrets(data)

        database_url = options.database_url
        if database_url is None:
            if options.s3 in EPHEMERAL_BACKENDS and (data / "postgres").exists():
                log.info("%s keeps no objects between runs: the library starts empty",
                         options.s3)
                shutil.rmtree(data / "postgres")
            postgres = EmbeddedPostgres(data / "postgres")
            database_url = postgres.start()
            cleanup.callback(postgres.stop)
        applied = apply_migrations(database_url, REPO / "migrations")
        log.info("database schema up to date (%d migrations applied now)", len(applied))
        api_key, new_key = ensure_dev_key(database_url, data)

        aws = self._aws_backend(data, servers, secrets)
        s3, sqs = aws.clients()
        template = Template.load(REPO / "template.yaml")
        function_arns = {name: function_arn(name) for name in template.functions}
        resources, resolver = provision(
            template, stack=STACK_NAME, region=REGION,
            parameters={"CreateDatabase": "false", "ExternalDatabaseUrl": database_url},
            s3=s3, sqs=sqs, function_arns=function_arns,
            notification_arns=aws.notification_arns,
            notifications=aws.seaweed is None,
        )
        if aws.seaweed is not None:
            self._announce_objects(aws.seaweed, template, resources, sqs, data)
            migrated = legacy_snapshot.migrate(s3, resources.bucket, data / "s3")
            if migrated is not None:
                log.warning("moved %d objects of the earlier in-memory bucket (%s) into the "
                            "object store; the old copy is kept in %s.migrated", migrated,
                            data / "s3", data / "s3")

        control = self._control_plane(template, function_arns, resources, data)
        local_env = {**aws.environment(), "LIGHTBOX_WEBHOOK_TOKEN": aws.webhook_token,
                     "AWS_ENDPOINT_URL_LAMBDA": control.url,
                     "AWS_ENDPOINT_URL_EVENTBRIDGE": control.url}
        functions = self._functions(template, resolver, local_env)
        if options.s3 not in EPHEMERAL_BACKENDS:
            _recover(functions[RECOVERY_FUNCTION], started_at)

        bridge = Bridge(list(template.triggers), functions, sqs=sqs,
                        queue_urls=resources.queue_urls, queue_arns=resources.queue_arns,
                        region=REGION, control=control)
        bridge.start()
        cleanup.callback(bridge.close)

        scheduler = Scheduler(template.schedules, functions, region=REGION,
                              every=options.schedule_seconds, control=control)
        scheduler.start()
        cleanup.callback(scheduler.close)

        gateway = Gateway(template.routes, functions, port=options.port,
                          cors=cors_headers(template, resolver), gallery=GALLERY)
        gateway.start()
        cleanup.callback(gateway.close)

        exports = {
            **local_env,
            "DATABASE_URL": database_url,
            "LIGHTBOX_URL": gateway.url,
            "LIGHTBOX_API_KEY": api_key,
            "LIGHTBOX_BUCKET": resources.bucket,
            **{f"LIGHTBOX_{_snake(queue)}_URL": url for queue, url in resources.queue_urls.items()},
        }
        cleanup.callback(write_record(data, exports).unlink, missing_ok=True)
        return RunningStack(gateway.url, aws.s3_endpoint, database_url, exports, api_key,
                            new_key)

    def _control_plane(self, template: Template, function_arns: Mapping[str, str],
                       resources: Provisioned, data: Path) -> ControlPlane:
        """The queues' triggers and the schedules, which lightbox admin pause|resume
        switches."""
        control = ControlPlane(template.triggers, template.schedules,
                               function_arns=function_arns, queue_arns=resources.queue_arns,
                               state_file=data / "processing.json")
        control.start()
        self._cleanup.callback(control.close)
        return control

    def _functions(self, template: Template, resolver: Resolver,
                   local_env: Mapping[str, str]) -> dict[str, LocalFunction]:
        functions = {}
        for name, spec in template.functions.items():
            environment = {key: resolver.resolve(value) for key, value in spec.environment.items()}
            function = LocalFunction(
                name,
                handler=spec.handler,
                code_uri=str(spec.code_uri),
                environment=function_environment(name, environment, local_env,
                                                 background=spec.background),
                timeout=spec.timeout,
                memory=spec.memory,
                concurrency=self._options.concurrency,
                niceness=BACKGROUND_NICENESS if spec.background else 0,
            )
            self._cleanup.callback(function.close)
            functions[name] = function
        return functions

    def _aws_backend(self, data: Path, servers: ServerRecords,
                     secrets: LocalSecrets) -> AwsBackend:
        """Start (or find) S3 and SQS as --s3 asks."""
        choice = self._options.s3
        if choice in (EMBEDDED, "minio"):
            # Queues in memory: the database knows what was waiting, and the start-up
            # recovery sends it again.
            moto = MotoServer(data / "logs" / "moto.log")
            sqs_endpoint = moto.start()
            self._keep(servers, "moto", moto)
            if choice == EMBEDDED:
                seaweed = SeaweedServer(WEED, data / "seaweedfs", data / "logs" / "seaweedfs.log",
                                        access_key=secrets.s3_access_key,
                                        secret_key=secrets.s3_secret_key)
                s3_endpoint = seaweed.start()
                self._keep(servers, "seaweedfs", seaweed)
                return AwsBackend(s3_endpoint, sqs_endpoint, access_key=secrets.s3_access_key,
                                  secret_key=secrets.s3_secret_key,
                                  webhook_token=secrets.webhook_token, seaweed=seaweed)
            # MinIO keeps the originals and calls the webhook with the token it was started
            # with (docker-compose.yml reads LIGHTBOX_WEBHOOK_TOKEN); the embedded SQS carries
            # jobs.
            token = os.environ.get("LIGHTBOX_WEBHOOK_TOKEN")
            if not token:
                raise StackError("set LIGHTBOX_WEBHOOK_TOKEN to the secret MinIO was started "
                                 "with (see docker-compose.yml)")
            return AwsBackend(
                os.environ.get("LIGHTBOX_MINIO_URL", "http://127.0.0.1:9000"), sqs_endpoint,
                access_key=os.environ.get("MINIO_ROOT_USER", "minioadmin"),
                secret_key=os.environ.get("MINIO_ROOT_PASSWORD", "minioadmin"),
                notification_arns={"IngestQueue": MINIO_WEBHOOK_ARN},
                webhook_token=token,
            )
        if choice == "localstack":
            localstack = LocalStackServer(LOCALSTACK_PYTHON, data / "localstack",
                                          data / "logs" / "localstack.log")
            endpoint = localstack.start()
            self._keep(servers, "localstack", localstack)
            # LocalStack checks presigned URLs' signatures against its own test credentials,
            # whatever AWS credentials the shell holds.
            return AwsBackend(endpoint, endpoint, access_key="test", secret_key="test",
                              webhook_token=secrets.webhook_token)
        # The URL of any S3 + SQS endpoint.
        return AwsBackend(choice, choice, webhook_token=secrets.webhook_token)

    def _keep(self, servers: ServerRecords, name: str, server: Server) -> None:
        """Stop a started server with the stack, and remember it by pid until it is stopped,
        so that a crash cannot orphan it."""
        if server.pid is not None:
            servers.record(name, server.pid)
            self._cleanup.callback(servers.forget, name)  # callbacks run last first
        self._cleanup.callback(server.stop)

    def _announce_objects(self, seaweed: SeaweedServer, template: Template,
                          resources: Provisioned, sqs: SQSClient, data: Path) -> None:
        """The bucket notifications template.yaml declares, made from the filer's log."""
        targets = [Target(notification, resources.queue_urls[notification.queue])
                   for notification in template.bucket.notifications]
        notifications = FilerNotifications(
            WEED, seaweed.filer_address, bucket=resources.bucket, targets=targets, sqs=sqs,
            cursor_path=data / "seaweedfs-events.cursor",
            log_path=data / "logs" / "seaweedfs-events.log", region=REGION,
        )
        notifications.start()
        self._cleanup.callback(notifications.close)


def _recover(function: LocalFunction, started_at: datetime) -> None:
    """Put right what a crash left waiting: the embedded queues start empty, and work that
    was queued, in flight or never sent is known to the database (admin ``recover``)."""
    try:
        report = function.invoke({"command": "recover", "before": started_at.isoformat()})
    except InvocationError as exc:
        log.error("recovery after the last run failed; the reaper will retry: %s", exc)
        return
    log.info("recovered after the last run: %s", report)


def default_data_dir(s3: str) -> Path:
    """Each backend keeps its own library: a database describes the objects of one bucket."""
    if s3 == EMBEDDED:
        return REPO / ".data"
    return REPO / (f".data-{s3}" if s3 in ("localstack", "minio") else ".data-remote")


def _bind_backend(data: Path, s3: str) -> None:
    marker = data / BACKEND_FILE
    bound = marker.read_text().strip() if marker.exists() else None
    if bound is not None and bound != s3:
        raise StackError(f"{data} holds a library whose objects are in {bound}, not {s3}; "
                         f"use another --data for --s3 {s3}")
    marker.write_text(s3 + "\n")


def function_environment(
    name: str, template_env: Mapping[str, str], local_env: Mapping[str, str], *,
    background: bool,
) -> dict[str, str]:
    """A function's variables: the runtime's few, the local stack's, the template's, then a
    LIGHTBOX_* setting exported for ./dev.sh up."""
    inherited = {key: os.environ[key] for key in _INHERITED if key in os.environ}
    # A LIGHTBOX_* setting exported for ./dev.sh up overrides the template's value; the
    # names of resources do not (a shell may still hold a previous stack's).
    overrides = {key: value for key, value in os.environ.items()
                 if key.startswith("LIGHTBOX_") and not _RESOURCE_VARIABLE.match(key)}
    return {
        **inherited,
        **READABLE_LOGS,
        **local_env,
        **(BACKGROUND_GIVE_WAY if background else {}),
        **template_env,
        **overrides,
        "AWS_LAMBDA_FUNCTION_NAME": name,
    }


def _snake(name: str) -> str:
    """IngestQueue → INGEST_QUEUE."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).upper()


def client_of(exports: Mapping[str, str], service: str) -> Any:
    """A boto3 client for a running stack's S3 or SQS, from the exports it published."""
    return boto3.session.Session(
        aws_access_key_id=exports["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=exports["AWS_SECRET_ACCESS_KEY"],
        region_name=exports["AWS_REGION"],
    ).client(service, endpoint_url=exports[f"AWS_ENDPOINT_URL_{service.upper()}"])  # type: ignore[call-overload]
