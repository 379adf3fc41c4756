"""What the functions tell an operator: structured log lines that say which asset, owner and
invocation they are about, and the metrics of each asset's way to ready."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest
from chalice.test import Client

from lightbox.adapters.metrics import EmfMetrics, LoggedMetrics
from lightbox.batch import process_batch
from lightbox.config import Config
from lightbox.domain import RenderSpec, Status, ThumbnailJob, original_key
from lightbox.errors import ConfigError, InvalidEvent
from lightbox.events import SqsRecord
from lightbox.http.app import Api
from lightbox.http.outputs import json_response
from lightbox.imaging.render import render
from lightbox.services.thumbnails import ProcessingPolicy, process_job
from lightbox.services.uploads import UploadRequest, complete_upload, create_upload
from tests.fakes import FakeLibrary, RecordedMetrics, upload_ports
from tests.support import image_bytes

FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"
OWNER = "studio"
SPEC = RenderSpec(sizes=(64,), jpeg_quality=85, max_pixels=50_000_000)
POLICY = ProcessingPolicy(lease_seconds=900, max_attempts=3)

# A function as Lambda runs it, in a process of its own (the logger is the process's): an SQS
# handler that logs about an asset, then a plain handler, each invoked with a request id.
FUNCTION = textwrap.dedent("""
    import logging
    from types import SimpleNamespace
    from lightbox.config import Config
    from lightbox.function import Function, entry_point
    from lightbox.telemetry import about
    from lightbox.wiring import Container

    logging.basicConfig(level=logging.INFO, format="ROOT %(name)s: %(message)s")
    container = Container()
    app = Function("lightbox-test", lambda: container.config)
    log = logging.getLogger("lightbox.services.test")

    @app.on_sqs_message(queue="q")
    def on_messages(event):
        for record in event:
            with about(asset_id=record.body, owner="alice"):
                log.info("rendering %s", record.body)
                with about(asset_id="inner"):
                    log.debug("nested")
                try:
                    raise ValueError("the original is cut short")
                except ValueError:
                    log.exception("attempt failed")
            log.warning("between records")

    @entry_point(lambda: container.config)
    def plain(event, context):
        log.info("plain handler")

    sqs = {"Records": [{"messageId": "m1", "body": "asset-1", "eventSource": "aws:sqs",
                        "receiptHandle": "r", "attributes": {}, "messageAttributes": {},
                        "eventSourceARN": "arn:aws:sqs:eu-west-1:1:q", "md5OfBody": ""}]}
    on_messages(sqs, SimpleNamespace(aws_request_id="request-1"))
    plain({}, SimpleNamespace(aws_request_id="request-2"))
    log.info("outside any invocation")
""")


def run_function(**environment: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(FUNCTIONS),
           "AWS_LAMBDA_FUNCTION_NAME": "TestFunction", **environment}
    result = subprocess.run([sys.executable, "-c", FUNCTION], env=env, capture_output=True,
                            text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    return result


def json_lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_every_json_line_says_which_asset_owner_and_invocation_it_is_about() -> None:
    result = run_function(LIGHTBOX_LOG_LEVEL="DEBUG")
    lines = json_lines(result.stdout)

    assert [(line["message"], line.get("request_id"), line.get("asset_id"), line.get("owner"))
            for line in lines] == [
        ("rendering asset-1", "request-1", "asset-1", "alice"),
        ("nested", "request-1", "inner", "alice"),
        ("attempt failed", "request-1", "asset-1", "alice"),  # the outer asset again
        ("between records", "request-1", None, None),
        ("plain handler", "request-2", None, None),
        ("outside any invocation", None, None, None),
    ]
    assert {line["name"] for line in lines} == {"lightbox.services.test"}
    assert {line["function"] for line in lines} == {"TestFunction"}
    assert [line["level"] for line in lines[:4]] == ["INFO", "DEBUG", "ERROR", "WARNING"]
    failed = lines[2]
    assert "ValueError: the original is cut short" in str(failed["exception"])
    # Printed once, by Lightbox's handler: the root handler (Lambda's own) stays out of it.
    assert "ROOT lightbox" not in result.stderr and "ROOT lightbox" not in result.stdout


def test_the_level_comes_from_the_configuration() -> None:
    lines = json_lines(run_function(LIGHTBOX_LOG_LEVEL="WARNING").stdout)

    assert [line["message"] for line in lines] == ["attempt failed", "between records"]


def test_a_readable_line_has_the_local_runtimes_shape_with_the_keys_after_it() -> None:
    result = run_function(LIGHTBOX_LOG_FORMAT="text")

    assert json_lines(result.stdout) == []
    lines = result.stderr.splitlines()
    stamp = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}"
    assert re.fullmatch(rf"{stamp} TestFunction INFO lightbox\.services\.test: rendering "
                        r"asset-1  request_id=request-1 asset_id=asset-1 owner=alice", lines[0])
    failed = lines.index(next(line for line in lines if "attempt failed" in line))
    assert lines[failed + 1] == "Traceback (most recent call last):"
    assert "ValueError: the original is cut short" in lines[failed + 2:failed + 6]
    assert re.fullmatch(rf"{stamp} TestFunction INFO lightbox\.services\.test: outside any "
                        "invocation", lines[-1])
    assert not any(line.startswith("ROOT lightbox") for line in lines)


@pytest.mark.parametrize(("name", "value"), [("LIGHTBOX_LOG_LEVEL", "loud"),
                                             ("LIGHTBOX_LOG_FORMAT", "xml")])
def test_a_log_setting_that_means_nothing_is_refused_by_name(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        Config.from_env({name: value})


def test_an_api_whose_configuration_does_not_read_answers_with_its_error() -> None:
    def config() -> Config:
        return Config.from_env({"LIGHTBOX_LOG_LEVEL": "loud"})

    app = Api("lightbox-test", config)

    @app.route("/v1/thing")
    def thing() -> object:
        config()
        return json_response({})

    with Client(app) as client:
        response = client.http.get("/v1/thing")
    assert response.status_code == 500
    assert response.json_body["error"]["code"] == "internal"  # an answer, not a crash


# --- metrics -------------------------------------------------------------------------------

def test_emf_metrics_print_one_object_cloudwatch_turns_into_the_metric(
        capsys: pytest.CaptureFixture[str]) -> None:
    EmfMetrics("Lightbox/test").record("UploadToReady", 812.5, "Milliseconds", Kind="photo")

    printed = capsys.readouterr().out.splitlines()
    assert len(printed) == 1
    emf = json.loads(printed[0])
    directive = emf["_aws"]["CloudWatchMetrics"]
    assert directive == [{"Namespace": "Lightbox/test", "Dimensions": [["Kind"]],
                          "Metrics": [{"Name": "UploadToReady", "Unit": "Milliseconds"}]}]
    assert emf["UploadToReady"] == [812.5] or emf["UploadToReady"] == 812.5
    assert emf["Kind"] == "photo"
    assert abs(emf["_aws"]["Timestamp"] / 1000 - time.time()) < 60


def test_logged_metrics_are_a_readable_line(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="lightbox"):
        LoggedMetrics().record("Failures", 1, "Count", Reason="unsupported")

    assert caplog.messages == ["metric Failures 1 Count Reason=unsupported"]


class Library(FakeLibrary):
    def __init__(self) -> None:
        super().__init__(OWNER)

    def presigned(self, data: bytes, *, sha256: str | None = None) -> uuid.UUID:
        ticket = create_upload(OWNER, UploadRequest("photo.jpg", "image/jpeg", len(data), sha256),
                               pipeline=self.pipeline, **upload_ports(self.assets))
        self.storage.objects[original_key(OWNER, ticket.asset_id)] = data
        return ticket.asset_id

    def uploaded(self, data: bytes, *, sha256: str | None = None) -> ThumbnailJob:
        asset_id = self.presigned(data, sha256=sha256)
        assert complete_upload(OWNER, asset_id, self.pipeline) is Status.UPLOADED
        return self.jobs.sent[-1]

    def process(self, job: ThumbnailJob) -> Status | None:
        return process_job(job, self.pipeline, render=render, spec=SPEC, policy=POLICY)


def test_an_upload_that_becomes_ready_reports_its_kind_and_time_from_acceptance() -> None:
    library = Library()
    before = time.time()
    job = library.uploaded(image_bytes("JPEG", (300, 200)))
    assert job.accepted_at is not None and before <= job.accepted_at <= time.time()
    assert ThumbnailJob.from_json(job.to_json()).accepted_at == pytest.approx(job.accepted_at,
                                                                              abs=0.001)
    time.sleep(0.05)

    assert library.process(job) is Status.READY

    assert library.metrics.named("Renders") == [(1, "Count", {"Kind": "photo"})]
    [(waited, unit, dimensions)] = library.metrics.named("UploadToReady")
    assert unit == "Milliseconds" and dimensions == {"Kind": "photo"}
    assert 50 <= waited <= (time.time() - job.accepted_at) * 1000


def test_a_job_sent_again_reports_its_render_but_no_time_to_ready() -> None:
    library = Library()
    job = library.uploaded(image_bytes("PNG"))

    assert library.process(ThumbnailJob(job.asset_id, OWNER)) is Status.READY

    assert library.metrics.named("Renders") == [(1, "Count", {"Kind": "photo"})]
    assert library.metrics.named("UploadToReady") == []


def test_each_failure_is_counted_by_its_reason() -> None:
    library = Library()
    data = image_bytes("JPEG", (300, 200))
    corrupt = library.uploaded(data[: len(data) // 3])
    mismatched = library.uploaded(image_bytes("PNG"), sha256="0" * 64)
    unsupported = library.presigned(b"%!PS-Adobe-3.0\n" + bytes(100))

    assert library.process(corrupt) is Status.FAILED
    assert library.process(mismatched) is Status.FAILED
    assert complete_upload(OWNER, unsupported, library.pipeline) is Status.FAILED
    assert library.process(corrupt) is None  # nothing more to count

    assert library.metrics.named("Failures") == [
        (1, "Count", {"Reason": "unprocessable"}),
        (1, "Count", {"Reason": "hash_mismatch"}),
        (1, "Count", {"Reason": "unsupported"}),
    ]
    assert library.metrics.named("Renders") == []


def test_a_batch_reports_how_long_each_message_waited_in_its_queue() -> None:
    metrics = RecordedMetrics()
    sent = int((time.time() - 2.5) * 1000)
    records = [{"messageId": "a", "eventSource": "aws:sqs", "body": "{}",
                "eventSourceARN": "arn:aws:sqs:eu-west-1:123:lightbox-dev-Thumbnails",
                "attributes": {"SentTimestamp": str(sent)}},
               {"messageId": "b", "eventSource": "aws:sqs", "body": "{}",
                "eventSourceARN": "arn:aws:sqs:eu-west-1:123:lightbox-dev-Thumbnails",
                "attributes": {"SentTimestamp": "soon"}}]
    handled: list[str] = []

    process_batch({"Records": records}, lambda record: handled.append(record.message_id),
                  metrics=metrics)

    assert handled == ["a", "b"]
    [(waited, unit, dimensions)] = metrics.named("QueueWait")
    assert unit == "Milliseconds" and dimensions == {"Queue": "lightbox-dev-Thumbnails"}
    assert 2500 <= waited < 2500 + 60_000


@pytest.mark.parametrize("accepted_at", ['"yesterday"', "true", "Infinity", "[1]"])
def test_a_job_whose_acceptance_time_is_not_a_time_is_refused(accepted_at: str) -> None:
    body = f'{{"asset_id": "{uuid.uuid4()}", "owner_id": "{OWNER}", "accepted_at": {accepted_at}}}'
    with pytest.raises(InvalidEvent):
        ThumbnailJob.from_json(body)


def test_a_record_without_a_sent_time_has_none() -> None:
    assert SqsRecord({"attributes": {"SentTimestamp": "1e400"}}).sent_at is None
    assert SqsRecord({"attributes": {"SentTimestamp": "9" * 400}}).sent_at is None
    assert SqsRecord({}).sent_at is None
    assert SqsRecord({"attributes": {"SentTimestamp": "1700000000123"}}).sent_at == 1700000000.123
