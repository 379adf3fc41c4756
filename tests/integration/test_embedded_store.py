"""The embedded object store (SeaweedFS) and what the local runtime keeps in the data
directory to survive a crash: the notification cursor, the servers' pids, its secrets."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

import boto3
import pytest
from botocore.config import Config as BotoConfig

from infra.local import legacy_snapshot
from infra.local.credentials import local_secrets
from infra.local.running import FILE as STACK_FILE
from infra.local.running import read_exports
from infra.local.seaweedfs import FilerNotifications, SeaweedServer, Target
from infra.local.services import EmbeddedPostgres, ServerRecords
from infra.local.stack import WEED
from infra.template import Notification
from lightbox.adapters.s3 import S3ObjectStore, S3SourceBucket
from lightbox.errors import SourceChanged
from tests.conftest import REPO

BUCKET = "originals-test"


def store(directory: Path) -> SeaweedServer:
    secrets = local_secrets(directory)
    return SeaweedServer(WEED, directory / "seaweedfs", directory / "seaweedfs.log",
                         access_key=secrets.s3_access_key, secret_key=secrets.s3_secret_key)


def s3_of(server: SeaweedServer, directory: Path) -> Any:
    secrets = local_secrets(directory)
    return boto3.client("s3", endpoint_url=server.endpoint, region_name="us-east-1",
                        aws_access_key_id=secrets.s3_access_key,
                        aws_secret_access_key=secrets.s3_secret_key)


@pytest.fixture
def seaweed(tmp_path: Path) -> Iterator[SeaweedServer]:
    server = store(tmp_path)
    server.start()
    yield server
    server.stop()


def test_the_stores_collector_runs_as_its_heap_grows_not_without_end(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Go counts the memory it maps toward GOMEMLIMIT, resident or not, and `weed mini` maps
    # about 250 MB: under a lower limit (it was 128 MiB) the collector ran after every few
    # allocations, six times the CPU per request, and a burst could leave the server and its
    # log's tail spinning, answering nothing. gctrace logs each collection.
    monkeypatch.setenv("GODEBUG", "gctrace=1")
    monkeypatch.delenv("GOMEMLIMIT", raising=False)
    server = store(tmp_path)
    server.start()
    try:
        s3 = s3_of(server, tmp_path)
        s3.create_bucket(Bucket=BUCKET)
        photo = os.urandom(240_000)
        log = tmp_path / "seaweedfs.log"
        before = log.read_text().count("\ngc ")
        for n in range(100):
            s3.put_object(Bucket=BUCKET, Key=f"originals/o/{n}", Body=photo)
            s3.get_object(Bucket=BUCKET, Key=f"originals/o/{n}")["Body"].read()
        collections = log.read_text().count("\ngc ") - before
    finally:
        server.stop()
    # 24 MB in and out: a few collections as the heap grows, not one every few requests.
    assert collections < 50, f"{collections} collections for 200 requests"


def test_an_acknowledged_object_survives_a_sigkill_of_the_store(tmp_path: Path) -> None:
    server = store(tmp_path)
    server.start()
    s3 = s3_of(server, tmp_path)
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="originals/o/a", Body=b"only copy")
    assert server.pid is not None
    os.kill(server.pid, signal.SIGKILL)
    server.stop()

    restarted = store(tmp_path)
    restarted.start()
    try:
        # The same ports: URLs signed before the crash still reach the store.
        assert restarted.endpoint == server.endpoint
        body = s3_of(restarted, tmp_path).get_object(Bucket=BUCKET, Key="originals/o/a")["Body"]
        assert body.read() == b"only copy"
    finally:
        restarted.stop()


@pytest.mark.parametrize("stop", ["SIGTERM", "SIGKILL"])
def test_every_object_reads_back_at_the_first_try_once_a_restart_returns(
    tmp_path: Path, stop: str
) -> None:
    # The master learns of the volumes on disk from the volume server's first heartbeat, a
    # moment after every port answers: until then, a GET of an existing object is a 500.
    server = store(tmp_path)
    server.start()
    s3 = s3_of(server, tmp_path)
    s3.create_bucket(Bucket=BUCKET)
    for n in range(3):
        s3.put_object(Bucket=BUCKET, Key=f"originals/o/{n}", Body=b"only copy %d" % n)
    assert server.pid is not None
    if stop == "SIGKILL":
        os.kill(server.pid, signal.SIGKILL)
    server.stop()

    restarted = store(tmp_path)
    restarted.start()
    try:
        once = boto3.client("s3", endpoint_url=restarted.endpoint, region_name="us-east-1",
                            aws_access_key_id=local_secrets(tmp_path).s3_access_key,
                            aws_secret_access_key=local_secrets(tmp_path).s3_secret_key,
                            config=BotoConfig(retries={"mode": "standard", "max_attempts": 1}))
        for n in range(3):
            body = once.get_object(Bucket=BUCKET, Key=f"originals/o/{n}")["Body"]
            assert body.read() == b"only copy %d" % n
    finally:
        restarted.stop()


def test_the_store_refuses_other_credentials(seaweed: SeaweedServer, tmp_path: Path) -> None:
    stranger = boto3.client("s3", endpoint_url=seaweed.endpoint, region_name="us-east-1",
                            aws_access_key_id="test", aws_secret_access_key="test")
    with pytest.raises(stranger.exceptions.ClientError):
        stranger.create_bucket(Bucket=BUCKET)
    assert oct((tmp_path / "secrets.json").stat().st_mode & 0o777) == "0o600"


def test_objects_written_while_the_notifications_were_down_are_announced_after(
    seaweed: SeaweedServer, tmp_path: Path, sqs_client: Any
) -> None:
    s3 = s3_of(seaweed, tmp_path)
    s3.create_bucket(Bucket=BUCKET)
    queue = sqs_client.create_queue(QueueName=f"ingest-{time.time_ns()}")["QueueUrl"]
    target = Target(Notification("IngestQueue", ("s3:ObjectCreated:*", "s3:ObjectRemoved:*"),
                                 "originals/"), queue)

    def notifications() -> FilerNotifications:
        return FilerNotifications(WEED, seaweed.filer_address, bucket=BUCKET, targets=[target],
                                  sqs=sqs_client, cursor_path=tmp_path / "cursor",
                                  log_path=tmp_path / "tail.log", region="us-east-1")

    running = notifications()
    running.start()
    s3.put_object(Bucket=BUCKET, Key="originals/o/first", Body=b"1")
    first = {("ObjectCreated:Put", "originals/o/first")}
    assert received(sqs_client, queue, first) == first
    running.close()

    s3.put_object(Bucket=BUCKET, Key="originals/o/while down", Body=b"2")
    s3.put_object(Bucket=BUCKET, Key="derivatives/o/ignored", Body=b"3")
    s3.delete_object(Bucket=BUCKET, Key="originals/o/first")
    resumed = notifications()
    resumed.start()
    missed = {("ObjectCreated:Put", "originals/o/while down"),
              ("ObjectRemoved:Delete", "originals/o/first")}
    try:
        events = received(sqs_client, queue, missed)
    finally:
        resumed.close()
    # At least once: the resumed tail may repeat the last event before the cursor.
    assert events - first == missed


def received(sqs: Any, queue: str, expected: set[tuple[str, str]],
             timeout: float = 30) -> set[tuple[str, str]]:
    """The (event, key) pairs announced, once ``expected`` are among them or time is up."""
    events: set[tuple[str, str]] = set()
    deadline = time.monotonic() + timeout
    while not expected <= events and time.monotonic() < deadline:
        for message in sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10,
                                           WaitTimeSeconds=1).get("Messages", []):
            for record in json.loads(message["Body"])["Records"]:
                events.add((record["eventName"], unquote_plus(record["s3"]["object"]["key"])))
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
    return events


def test_a_server_left_running_by_a_crash_is_stopped_and_a_reused_pid_is_left_alone(
    tmp_path: Path,
) -> None:
    records = ServerRecords(tmp_path / "pids")
    orphan = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        records.record("orphan", orphan.pid)
        # A record whose pid the system has since given to another process.
        (tmp_path / "pids" / "recycled.json").write_text(
            json.dumps({"pid": bystander.pid, "started": 1.0}))

        assert records.stop_leftovers() == ["orphan"]
        assert orphan.poll() is not None  # stopped, and reaped by the stop
        assert bystander.poll() is None
        assert list((tmp_path / "pids").iterdir()) == []
    finally:
        for process in (orphan, bystander):
            process.kill()
            process.wait()


def test_a_stale_postmaster_pid_of_another_process_does_not_block_postgres(
    tmp_path: Path,
) -> None:
    pgdata = tmp_path / "postgres"
    postgres = EmbeddedPostgres(pgdata)
    postgres.start()
    postgres.stop()
    # A crash left the pid file; the system gave its pid to this very test process.
    (pgdata / "postmaster.pid").write_text(f"{os.getpid()}\n{pgdata}\n")
    postgres = EmbeddedPostgres(pgdata)
    url = postgres.start()
    try:
        import psycopg

        with psycopg.connect(url) as connection:
            assert connection.execute("SELECT 1").fetchone() == (1,)
    finally:
        postgres.stop()


def test_a_postgres_left_running_by_a_crash_is_stopped_and_started_afresh(
    tmp_path: Path,
) -> None:
    import psutil
    import psycopg

    pgdata = tmp_path / "postgres"
    # A run that started PostgreSQL and died without stopping it.
    subprocess.run([sys.executable, "-c", (
        "import os, sys; from pathlib import Path; sys.path[:0] = ['functions', '.'];"
        "from infra.local.services import EmbeddedPostgres;"
        f"EmbeddedPostgres(Path({str(pgdata)!r})).start(); os._exit(0)")],
        cwd=REPO, check=True, timeout=120)
    left = psutil.Process(int((pgdata / "postmaster.pid").read_text().split()[0]))

    postgres = EmbeddedPostgres(pgdata)
    url = postgres.start()
    try:
        assert not left.is_running()
        with psycopg.connect(url) as connection:
            assert connection.execute("SELECT 1").fetchone() == (1,)
    finally:
        postgres.stop()


def test_a_stack_file_left_by_a_crash_does_not_block_the_next_start(tmp_path: Path) -> None:
    # The dead stack's pid now belongs to a live process (this one), started at another time.
    (tmp_path / STACK_FILE).write_text(json.dumps(
        {"pid": os.getpid(), "started": 1.0, "exports": {"LIGHTBOX_URL": "x"}}))
    assert read_exports(tmp_path) is None


def test_an_earlier_in_memory_buckets_snapshot_moves_into_the_store_once(
    seaweed: SeaweedServer, tmp_path: Path
) -> None:
    snapshot = tmp_path / "s3"
    snapshot.mkdir()
    (snapshot / "00000000").write_bytes(b"an original")
    (snapshot / "00000001").write_bytes(b"a thumbnail")
    (snapshot / "manifest.json").write_text(json.dumps({
        "00000000": {"key": "originals/o/a", "content_type": "image/jpeg"},
        "00000001": {"key": "derivatives/o/a/1-256.jpg", "content_type": None},
    }))
    s3 = s3_of(seaweed, tmp_path)
    s3.create_bucket(Bucket=BUCKET)

    assert legacy_snapshot.migrate(s3, BUCKET, snapshot) == 2
    original = s3.get_object(Bucket=BUCKET, Key="originals/o/a")
    assert (original["Body"].read(), original["ContentType"]) == (b"an original", "image/jpeg")
    assert s3.get_object(Bucket=BUCKET, Key="derivatives/o/a/1-256.jpg")["Body"].read() == (
        b"a thumbnail")
    assert not snapshot.exists() and (tmp_path / "s3.migrated" / "manifest.json").exists()
    assert legacy_snapshot.migrate(s3, BUCKET, snapshot) is None


@pytest.mark.parametrize("limit", [64 * 1024**2, 1024**2], ids=["one request", "in parts"])
def test_the_store_copies_only_the_version_an_import_listed(
    seaweed: SeaweedServer, tmp_path: Path, limit: int,
) -> None:
    s3 = s3_of(seaweed, tmp_path)
    s3.create_bucket(Bucket=BUCKET)
    data = os.urandom(11 * 1024**2)
    s3.put_object(Bucket=BUCKET, Key="imports/scan.tif", Body=data)
    [listed] = S3SourceBucket(lambda: s3, BUCKET).list_page("imports/", after=None,
                                                            limit=10).objects
    store = S3ObjectStore(lambda: s3, BUCKET, signer=None,  # type: ignore[arg-type]  # no URLs
                          copy_limit=limit, copy_part_bytes=5 * 1024**2)

    store.copy_in(BUCKET, listed, "originals/x/copy", content_type="image/tiff")
    assert s3.get_object(Bucket=BUCKET, Key="originals/x/copy")["Body"].read() == data

    s3.put_object(Bucket=BUCKET, Key="imports/scan.tif", Body=data[:-1])  # replaced since
    with pytest.raises(SourceChanged, match="changed after it was listed"):
        store.copy_in(BUCKET, listed, "originals/x/other", content_type="image/tiff")
    assert "Contents" not in s3.list_objects_v2(Bucket=BUCKET, Prefix="originals/x/other")
