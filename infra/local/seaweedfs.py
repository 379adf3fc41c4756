"""The embedded object store: SeaweedFS's ``weed mini`` (S3 on 127.0.0.1, every object on
disk before the PUT is answered), and bucket notifications made from its filer's metadata log.

SeaweedFS has no S3 bucket-notification configuration. Its filer logs every metadata change
and ``weed filer.meta.tail`` follows that log from any point in time, so the runtime turns
the changes under the bucket into the records S3 would send (``ObjectCreated:Put``,
``ObjectRemoved:Delete``), sends them to the queues ``template.yaml`` names, and keeps a
cursor in the data directory. After a restart the tail resumes from the cursor: an object
written while the runtime was down is announced then (at least once; the services act once).
The filer flushes its log to disk about once a minute, so the last events before a crash can
still be missing from it: the start-up recovery (``admin`` ``recover``) covers those.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import quote_plus

from infra.local.credentials import write_private
from infra.local.services import free_port, port_is_free, terminate, wait_for_port
from infra.template import Notification

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

log = logging.getLogger(__name__)

# What SeaweedFS's S3 gateway stores as an object's ETag, base64 in the entry's extended
# attributes (objects written in one PUT only; a multipart object's is computed).
_ETAG_ATTRIBUTE = "Seaweed-X-Amz-ETag"
# A soft limit for Go's collector: without it `weed mini` grows to about 550 MB under a few
# hundred uploads (bench/footprint.py). Go counts about 250 MB of it that is mapped but not
# resident, so a lower limit keeps the collector running without end: at 128 MiB, 600 S3
# requests cost 6.0 CPU-seconds instead of 1.0, and an idle server used 14 % of a core
# (bench/pipeline.py). GOMEMLIMIT set in the environment wins.
_MEMORY_LIMIT = "384MiB"
_TAIL_MEMORY_LIMIT = "32MiB"
# Seconds between restarts of a tail that ended, so a failing filer is not hammered.
_RETRY_SECONDS = 1.0
# Re-read this far back on resume: events of the same nanosecond as the cursor, and a clock
# that stepped back, are sent again rather than missed (the services act once).
_RESUME_OVERLAP_SECONDS = 1
# The cursor is saved at most this often: under a burst of writes (an import copies thousands
# of originals) a file written per change held the notifications seconds behind. A crash
# re-sends what came after the last save, which the services act on once.
_CURSOR_SECONDS = 0.5


class SeaweedServer:
    """``weed mini`` with its data in ``data_dir``, every port on 127.0.0.1 and free."""

    def __init__(self, weed: Path, data_dir: Path, log_path: Path, *, access_key: str,
                 secret_key: str) -> None:
        self._weed = weed
        self._data_dir = data_dir
        self._log_path = log_path
        self._access_key = access_key
        self._secret_key = secret_key
        self._process: subprocess.Popen[bytes] | None = None
        self._ports_path = data_dir.with_name(data_dir.name + "-ports.json")
        self._ports: _Ports | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self._running_ports.s3}"

    @property
    def filer_address(self) -> str:
        """How ``weed`` commands name the filer: host:httpPort.grpcPort."""
        ports = self._running_ports
        return f"127.0.0.1:{ports.filer}.{ports.filer_grpc}"

    @property
    def _running_ports(self) -> _Ports:
        if self._ports is None:
            raise RuntimeError("SeaweedFS has not been started")
        return self._ports

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def start(self, timeout: float = 60) -> str:
        if not self._weed.exists():
            raise FileNotFoundError(f"SeaweedFS's weed is not installed at {self._weed}; "
                                    "./dev.sh setup installs it")
        self._data_dir.mkdir(parents=True, exist_ok=True)
        config = self._data_dir / "s3.json"
        write_private(config, json.dumps({"identities": [{
            "name": "lightbox",
            "credentials": [{"accessKey": self._access_key, "secretKey": self._secret_key}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
        }]}))
        self._ports = ports = _Ports.of(self._ports_path)
        command = [
            str(self._weed), "mini", f"-dir={self._data_dir}",
            "-ip=127.0.0.1", "-ip.bind=127.0.0.1", f"-s3.config={config}",
            f"-s3.port={ports.s3}", f"-s3.port.grpc={ports.s3_grpc}",
            f"-filer.port={ports.filer}", f"-filer.port.grpc={ports.filer_grpc}",
            f"-master.port={ports.master}", f"-master.port.grpc={ports.master_grpc}",
            f"-volume.port={ports.volume}", f"-volume.port.grpc={ports.volume_grpc}",
            f"-admin.port={ports.admin}", "-admin.ui=false",
            "-webdav=false", "-s3.port.iceberg=0", "-s3.port.lance=0",
            "-master.telemetry=false",
        ]
        with self._log_path.open("ab") as output:
            self._process = subprocess.Popen(
                command, stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
                cwd=self._data_dir, env={"GOMEMLIMIT": _MEMORY_LIMIT, **os.environ},
            )
        try:
            wait_for_port(ports.s3, timeout=timeout)
            wait_for_port(ports.filer_grpc, timeout=timeout)
            self._wait_for_volumes(ports.master, timeout)
        except TimeoutError as exc:
            self.stop()
            raise ChildProcessError(f"SeaweedFS did not start ({exc}); see {self._log_path}") \
                from None
        log.info("SeaweedFS (S3) on %s, data in %s, pid %d", self.endpoint, self._data_dir,
                 self._process.pid)
        return self.endpoint

    def stop(self) -> None:
        if self._process is not None:
            terminate(self._process)
            self._process = None

    def _wait_for_volumes(self, master_port: int, timeout: float) -> None:
        """Until the master knows every volume on disk, which it learns from the volume
        server's first heartbeat a moment after every port answers, reading an object stored
        in one of them fails with a 500 (and the filer's log tail skips what it holds)."""
        deadline = time.monotonic() + timeout
        waiting = volume_ids(self._data_dir)
        while waiting := {volume for volume in waiting if not _located(master_port, volume)}:
            if time.monotonic() > deadline:
                raise TimeoutError(f"the master never found volumes {sorted(waiting)}")
            time.sleep(0.1)


def volume_ids(data_dir: Path) -> set[int]:
    """The volumes on disk: ``N.dat``, or ``COLLECTION_N.dat`` for a bucket's."""
    ids = set()
    for path in data_dir.glob("*.dat"):
        number = path.stem.rpartition("_")[2]
        if number.isdigit():
            ids.add(int(number))
    return ids


def _located(master_port: int, volume: int) -> bool:
    url = f"http://127.0.0.1:{master_port}/dir/lookup?volumeId={volume}"
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:
            return bool(json.load(answer).get("locations"))
    except (OSError, ValueError):  # not yet: a 404, a refused connection, a partial answer
        return False


@dataclass(frozen=True)
class _Ports:
    """The ports of every server ``weed mini`` runs (it would take fixed defaults).

    Kept in the data directory and taken again at the next start when they are free, so that
    URLs signed before a restart (an upload under way, a page of thumbnails) still reach it.
    """

    admin: int
    s3: int
    s3_grpc: int
    filer: int
    filer_grpc: int
    master: int
    master_grpc: int
    volume: int
    volume_grpc: int

    @classmethod
    def of(cls, path: Path) -> _Ports:
        try:
            kept = cls(**json.loads(path.read_text()))
        except (FileNotFoundError, TypeError, ValueError):
            kept = None
        if kept is not None and all(port_is_free(port) for port in kept.all()):
            return kept
        if kept is not None:
            log.warning("SeaweedFS's ports of the last run are taken: URLs signed before "
                        "this start no longer reach it")
        admin = _port_with_grpc_twin()
        chosen = cls(admin, *_distinct_free_ports(8, {admin, admin + 10000}))
        path.write_text(json.dumps(asdict(chosen)))
        return chosen

    def all(self) -> list[int]:
        # The admin server's worker dials its gRPC port at http port + 10000.
        return [*asdict(self).values(), self.admin + 10000]


def _port_with_grpc_twin() -> int:
    for _ in range(100):
        port = free_port()
        if port + 10000 < 65536 and port_is_free(port + 10000):
            return port
    raise OSError("no free pair of ports for SeaweedFS's admin server")


def _distinct_free_ports(count: int, taken: set[int]) -> list[int]:
    ports: list[int] = []
    while len(ports) < count:
        port = free_port()
        if port not in taken and port not in ports:
            ports.append(port)
    return ports


# --- bucket notifications ------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """A queue that ``template.yaml`` sends some of the bucket's events to."""

    notification: Notification
    queue_url: str

    def wants(self, key: str, event_name: str) -> bool:
        if not key.startswith(self.notification.prefix):
            return False
        return any(_matches(pattern.removeprefix("s3:"), event_name)
                   for pattern in self.notification.events)


def _matches(pattern: str, event_name: str) -> bool:
    if pattern.endswith(":*"):
        return event_name.startswith(pattern[:-1])
    return pattern == event_name


class FilerNotifications:
    """Follows the filer's metadata log under the bucket and sends S3 event records."""

    def __init__(
        self,
        weed: Path,
        filer_address: str,
        *,
        bucket: str,
        targets: Sequence[Target],
        sqs: SQSClient,
        cursor_path: Path,
        log_path: Path,
        region: str,
    ) -> None:
        self._weed = weed
        self._filer = filer_address
        self._bucket = bucket
        self._targets = targets
        self._sqs = sqs
        self._cursor = Cursor(cursor_path)
        self._log_path = log_path
        self._region = region
        self._stop = threading.Event()
        self._saved_at = 0.0  # when the cursor was last saved (monotonic)
        self._process: subprocess.Popen[bytes] | None = None
        self._thread = threading.Thread(target=self._run, name="filer-notifications",
                                        daemon=True)

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        process = self._process
        if process is not None and process.poll() is None:
            process.terminate()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._follow()
            except Exception:
                log.exception("following the filer's metadata log failed; restarting")
            self._stop.wait(_RETRY_SECONDS)

    def _follow(self) -> None:
        since_ns = self._cursor.read()
        if since_ns is None:
            # A new data directory: nothing before now can matter.
            since_ns = time.time_ns()
            self._cursor.write(since_ns)
        ago = max(0, time.time() - since_ns / 1e9) + _RESUME_OVERLAP_SECONDS
        # Only where some target looks (originals/): derivatives and objects waiting to be
        # imported are written by the thousand and concern no queue. S3's prefixes are
        # strings, not paths: compared character by character.
        watched = os.path.commonprefix(  # noqa: RUF071
            [target.notification.prefix for target in self._targets])
        command = [str(self._weed), "filer.meta.tail", f"-filer={self._filer}",
                   f"-pathPrefix=/buckets/{self._bucket}/{watched}", f"-timeAgo={ago:.3f}s"]
        with self._log_path.open("ab") as errors:
            self._process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors,
                                             start_new_session=True,
                                             env={"GOMEMLIMIT": _TAIL_MEMORY_LIMIT, **os.environ})
        assert self._process.stdout is not None
        try:
            for change in _json_objects(self._process.stdout):
                if self._stop.is_set():
                    return
                self._announce(change)
        finally:
            if self._process.poll() is None:
                self._process.terminate()
            self._process.wait()
            self._process.stdout.close()

    def _announce(self, change: dict[str, Any]) -> None:
        timestamp_ns = int(change.get("tsNs") or 0)
        for key, record in records_of(change, self._bucket, self._region):
            for target in self._targets:
                if target.wants(key, record["eventName"]):
                    self._sqs.send_message(
                        QueueUrl=target.queue_url,
                        MessageBody=json.dumps({"Records": [record]}),
                    )
                    log.debug("%s %s announced, %.0f ms after the filer logged it",
                              record["eventName"], key, (time.time_ns() - timestamp_ns) / 1e6)
        if timestamp_ns and time.monotonic() - self._saved_at >= _CURSOR_SECONDS:
            self._cursor.write(timestamp_ns)
            self._saved_at = time.monotonic()


class Cursor:
    """Where in the filer's log the notifications got to, in nanoseconds since the epoch."""

    def __init__(self, path: Path) -> None:
        self._path = path

    def read(self) -> int | None:
        try:
            return int(self._path.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None

    def write(self, timestamp_ns: int) -> None:
        # Written whole and renamed: a crash leaves the old cursor or the new one.
        partial = self._path.with_name(self._path.name + ".partial")
        partial.write_text(f"{timestamp_ns}\n")
        partial.replace(self._path)


def records_of(change: dict[str, Any], bucket: str,
               region: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """The S3 event records (and the object keys) one filer metadata change stands for:
    a new entry is a PUT, a removed one a DELETE, a renamed one both, an overwrite with other
    bytes a PUT; a change of tags or metadata alone is nothing."""
    notification = change.get("eventNotification") or {}
    old: dict[str, Any] = notification.get("oldEntry") or {}
    new: dict[str, Any] = notification.get("newEntry") or {}
    old_directory = str(change.get("directory") or "")
    new_directory = str(notification.get("newParentPath") or old_directory)
    root = f"/buckets/{bucket}/"
    timestamp_ns = int(change.get("tsNs") or 0)
    moved = bool(old and new) and (new_directory != old_directory
                                   or old.get("name") != new.get("name"))
    if old and not old.get("isDirectory") and (not new or moved):
        key = _key(old_directory, old, root)
        if key is not None:
            yield key, _record("ObjectRemoved:Delete", bucket=bucket, key=key, entry=None,
                                timestamp_ns=timestamp_ns, region=region)
    if new and not new.get("isDirectory") and (
            not old or moved or _content_of(old) != _content_of(new)):
        key = _key(new_directory, new, root)
        if key is not None:
            yield key, _record("ObjectCreated:Put", bucket=bucket, key=key, entry=new,
                                timestamp_ns=timestamp_ns, region=region)


def _key(directory: str, entry: dict[str, Any], root: str) -> str | None:
    path = f"{directory.rstrip('/')}/{entry.get('name', '')}"
    if not path.startswith(root):
        return None
    key = path[len(root):]
    # Multipart parts are kept under the bucket's hidden uploads folder until completed.
    return None if not key or key.startswith(".uploads/") else key


def _content_of(entry: dict[str, Any]) -> tuple[Any, ...]:
    """What tells one object's bytes from another's (tags and metadata do not)."""
    attributes = entry.get("attributes") or {}
    return (attributes.get("fileSize"), attributes.get("md5"),
            (entry.get("extended") or {}).get(_ETAG_ATTRIBUTE),
            tuple(chunk.get("fileId") for chunk in entry.get("chunks") or []))


def _record(name: str, *, bucket: str, key: str, entry: dict[str, Any] | None,
            timestamp_ns: int, region: str) -> dict[str, Any]:
    obj: dict[str, Any] = {"key": quote_plus(key, safe="/"), "sequencer": f"{timestamp_ns:016X}"}
    if entry is not None:
        obj["size"] = int((entry.get("attributes") or {}).get("fileSize") or 0)
        etag = (entry.get("extended") or {}).get(_ETAG_ATTRIBUTE)
        if etag:
            obj["eTag"] = _decode_etag(etag)
    return {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": region,
        "eventTime": time.strftime("%Y-%m-%dT%H:%M:%S.000Z",
                                   time.gmtime(timestamp_ns / 1e9 if timestamp_ns else None)),
        "eventName": name,
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "lightbox-local",
            "bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
            "object": obj,
        },
    }


def _decode_etag(value: str) -> str:
    try:
        return base64.b64decode(value).decode("ascii").strip('"')
    except ValueError:
        return value


def _json_objects(stream: IO[bytes]) -> Iterator[dict[str, Any]]:
    """The JSON objects ``filer.meta.tail`` prints, one after another, each over many lines."""
    decoder = json.JSONDecoder()
    buffer = ""
    for line in stream:
        buffer += line.decode("utf-8", errors="replace")
        while True:
            start = buffer.find("{")
            if start < 0:
                buffer = ""
                break
            try:
                value, end = decoder.raw_decode(buffer, start)
            except ValueError:
                buffer = buffer[start:]  # the rest of this object is still to come
                break
            buffer = buffer[end:]
            if isinstance(value, dict):
                yield value
