"""template.yaml as the one source of truth, and the local runtime built from it."""

from __future__ import annotations

import importlib
import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
import pytest
from chalice.app import Chalice

from infra.local.functions import InvocationError, LocalFunction
from infra.local.resources import provision
from infra.local.services import MotoServer
from infra.local.stack import BACKGROUND_NICENESS, function_environment
from infra.template import Template
from lightbox.config import Config
from lightbox.events import Action, ObjectEvent, object_events
from tests.conftest import REPO

TEMPLATE = Template.load(REPO / "template.yaml")


def handler_of(function_name: str) -> Any:
    module, attribute = TEMPLATE.functions[function_name].handler.rsplit(".", 1)
    return getattr(importlib.import_module(module), attribute)


def test_each_handler_in_the_template_is_a_callable_of_its_module() -> None:
    assert set(TEMPLATE.functions) == {
        "PresignFunction", "UploadCompleteFunction", "ThumbnailFunction",
        "LargeThumbnailFunction", "VideoFunction", "BackfillFunction", "ImporterFunction",
        "LibraryFunction", "ResizeFunction", "AdminFunction", "ReaperFunction",
        "AuthorizerFunction",
    }
    for name, function in TEMPLATE.functions.items():
        assert callable(handler_of(name)), name
        assert function.code_uri == (REPO / "functions").resolve()


def test_the_template_routes_are_exactly_the_routes_the_apps_serve() -> None:
    declared = {(route.path, route.method, route.function) for route in TEMPLATE.routes}
    served = set()
    for name in TEMPLATE.functions:
        module = importlib.import_module(TEMPLATE.functions[name].handler.split(".")[0])
        app = getattr(module, "app", None)
        if not isinstance(app, Chalice):
            continue
        for path, methods in app.routes.items():
            served |= {(path, method, name) for method in methods}
    assert declared == served


def test_queue_triggers_report_partial_failures_to_functions_that_take_sqs_events() -> None:
    assert {(t.queue, t.function) for t in TEMPLATE.triggers} == {
        ("IngestQueue", "UploadCompleteFunction"), ("ThumbnailQueue", "ThumbnailFunction"),
        ("LargeThumbnailQueue", "LargeThumbnailFunction"), ("VideoQueue", "VideoFunction"),
        ("BackfillQueue", "BackfillFunction"), ("ImportQueue", "ImporterFunction"),
    }
    assert all(trigger.report_failures for trigger in TEMPLATE.triggers)


def test_both_lanes_run_the_same_code_and_the_large_one_has_more_room() -> None:
    standard = TEMPLATE.functions["ThumbnailFunction"]
    large = TEMPLATE.functions["LargeThumbnailFunction"]
    assert standard.handler == large.handler
    assert large.memory > standard.memory and large.timeout > standard.timeout


def test_the_reaper_runs_on_a_schedule() -> None:
    assert [(s.function, s.seconds) for s in TEMPLATE.schedules] == [("ReaperFunction", 300)]


def test_the_variables_the_code_reads_are_set_by_the_template() -> None:
    for function in TEMPLATE.functions.values():
        assert {"DATABASE_URL", "LIGHTBOX_BUCKET", "LIGHTBOX_THUMBNAIL_QUEUE_URL",
                "LIGHTBOX_LARGE_THUMBNAIL_QUEUE_URL", "LIGHTBOX_VIDEO_QUEUE_URL",
                } <= set(function.environment)
    defaults = {k: str(v.get("Default", "")) for k, v in TEMPLATE.parameters.items()}
    config = Config.from_env({
        "LIGHTBOX_MAX_UPLOAD_BYTES": defaults["MaxUploadBytes"],
        "LIGHTBOX_THUMBNAIL_SIZES": defaults["ThumbnailSizes"],
    })
    assert config == Config.from_env({})  # the template's defaults are the code's


def test_every_queue_has_a_dead_letter_queue_and_outlives_its_function() -> None:
    for trigger in TEMPLATE.triggers:
        queue = TEMPLATE.queues[trigger.queue]
        assert queue.dead_letter_queue in TEMPLATE.queues
        assert queue.max_receive_count is not None and queue.max_receive_count >= 3
        assert queue.visibility_timeout >= 6 * TEMPLATE.functions[trigger.function].timeout


def test_provisioned_notifications_send_new_and_removed_originals_and_nothing_else(
    s3_client: Any, sqs_client: Any
) -> None:
    stack = f"test-{uuid.uuid4().hex[:8]}"
    resources, resolver = provision(TEMPLATE, stack=stack, region="us-east-1",
                                    parameters={"CreateDatabase": "false",
                                                "ExternalDatabaseUrl": "postgresql://unused",
                                                "Environment": "dev"},
                                    s3=s3_client, sqs=sqs_client,
                                    function_arns={"ThumbnailFunction": "arn:thumbnail"})
    ingest = resources.queue_urls["IngestQueue"]
    attributes = sqs_client.get_queue_attributes(QueueUrl=ingest, AttributeNames=["All"])
    redrive = json.loads(attributes["Attributes"]["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"] == resources.queue_arns["IngestDeadLetterQueue"]
    assert resolver.resolve({"Ref": "ThumbnailQueue"}) == resources.queue_urls["ThumbnailQueue"]
    assert resolver.resolve({"Ref": "MediaBucket"}) == resources.bucket
    assert resolver.resolve({"Fn::Join": [",", [{"Fn::GetAtt": ["ThumbnailFunction", "Arn"]},
                                                "x"]]}) == "arn:thumbnail,x"

    s3_client.put_object(Bucket=resources.bucket, Key="derivatives/o/x/1-256.jpg", Body=b"x")
    s3_client.delete_object(Bucket=resources.bucket, Key="derivatives/o/x/1-256.jpg")
    s3_client.put_object(Bucket=resources.bucket, Key="originals/o/my photo+1", Body=b"x")
    s3_client.delete_object(Bucket=resources.bucket, Key="originals/o/my photo+1")
    events: list[ObjectEvent] = []
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and len(events) < 2:
        for message in sqs_client.receive_message(QueueUrl=ingest, WaitTimeSeconds=1,
                                                  MaxNumberOfMessages=10).get("Messages", []):
            events += object_events(message["Body"])
    assert sorted(events, key=lambda e: e.action.value) == [
        ObjectEvent(resources.bucket, "originals/o/my photo+1", Action.CREATED),
        ObjectEvent(resources.bucket, "originals/o/my photo+1", Action.REMOVED),
    ]


def lease_of(function: str) -> int:
    variables = {k: str(v) for k, v in TEMPLATE.functions[function].environment.items()
                 if isinstance(v, str | int)}
    return Config.from_env(variables).processing_lease_seconds


@pytest.mark.parametrize(
    ("function", "queue"),
    [("ThumbnailFunction", "ThumbnailQueue"), ("LargeThumbnailFunction", "LargeThumbnailQueue"),
     ("VideoFunction", "VideoQueue")],
)
def test_a_processing_lease_outlives_a_run_and_expires_before_the_job_returns(
    function: str, queue: str
) -> None:
    # Longer than the function may run (no one steals a live claim), shorter than the queue
    # hides a message (its redelivery can take over a claim whose worker died).
    lease = lease_of(function)
    assert TEMPLATE.functions[function].timeout < lease
    assert lease <= TEMPLATE.queues[queue].visibility_timeout


def test_the_reaper_waits_out_the_longest_lease_before_it_redrives() -> None:
    assert lease_of("ReaperFunction") == max(
        lease_of("ThumbnailFunction"), lease_of("LargeThumbnailFunction"),
        lease_of("VideoFunction"))


def test_background_functions_run_at_a_lower_cpu_priority_locally(tmp_path: Path) -> None:
    assert {name for name, function in TEMPLATE.functions.items() if function.background} == {
        "BackfillFunction", "ImporterFunction"}
    (tmp_path / "probe.py").write_text(
        "import os\n\ndef handler(event, context):\n    return os.nice(0)\n")
    niceness = {}
    for nice in (0, BACKGROUND_NICENESS):
        function = LocalFunction("Probe", handler="probe.handler", code_uri=str(tmp_path),
                                 environment={}, timeout=30, memory=128, concurrency=1,
                                 niceness=nice)
        try:
            niceness[nice] = function.invoke({})
        finally:
            function.close()
    base = niceness[0]
    assert niceness == {0: base, BACKGROUND_NICENESS: base + BACKGROUND_NICENESS}


def test_each_execution_environment_is_named_after_its_function_in_the_process_list(
        tmp_path: Path) -> None:
    (tmp_path / "probe.py").write_text(
        "def handler(event, context):\n    return open('/proc/self/comm').read().strip()\n")
    function = LocalFunction("UploadCompleteFunction", handler="probe.handler",
                             code_uri=str(tmp_path), environment={
                                 "AWS_LAMBDA_FUNCTION_NAME": "UploadCompleteFunction"},
                             timeout=30, memory=128, concurrency=1)
    try:
        assert function.invoke({}) == "UploadComplete"  # the kernel keeps 15 bytes of a name
    finally:
        function.close()


def test_an_execution_environment_that_dies_fails_its_own_invocation_alone(
        tmp_path: Path) -> None:
    (tmp_path / "probe.py").write_text(
        "import os, time\n\n"
        "def handler(event, context):\n"
        "    time.sleep(event['seconds'])\n"
        "    if event['die']:\n"
        "        os._exit(9)  # as a decoder's crash or the kernel's OOM killer ends it\n"
        "    return os.getpid()\n")
    function = LocalFunction("Probe", handler="probe.handler", code_uri=str(tmp_path),
                             environment={}, timeout=30, memory=128, concurrency=3)
    try:
        with ThreadPoolExecutor(max_workers=3) as invocations:
            long_render = invocations.submit(function.invoke, {"seconds": 6, "die": False})
            dying = invocations.submit(function.invoke, {"seconds": 1, "die": True})
            time.sleep(3)  # it has died, and the long one is still running
            later = invocations.submit(function.invoke, {"seconds": 0, "die": False})
            with pytest.raises(InvocationError, match="the execution environment died"):
                dying.result()
            # As in Lambda, where each environment is a sandbox of its own.
            assert isinstance(later.result(), int)
            assert isinstance(long_render.result(), int)
    finally:
        function.close()


def test_invocations_one_after_another_are_served_by_one_warm_environment(
        tmp_path: Path) -> None:
    (tmp_path / "probe.py").write_text(
        "import os\n\ndef handler(event, context):\n    return os.getpid()\n")
    function = LocalFunction("Probe", handler="probe.handler", code_uri=str(tmp_path),
                             environment={}, timeout=30, memory=128, concurrency=3)
    try:
        assert len({function.invoke({}) for _ in range(4)}) == 1  # one cold start, not three
    finally:
        function.close()


def test_a_function_needs_an_environment_and_refuses_invocations_once_closed(
        tmp_path: Path) -> None:
    (tmp_path / "probe.py").write_text("def handler(event, context):\n    return 1\n")
    with pytest.raises(ValueError, match="concurrency of 0"):
        LocalFunction("Probe", handler="probe.handler", code_uri=str(tmp_path),
                      environment={}, timeout=30, memory=128, concurrency=0)
    function = LocalFunction("Probe", handler="probe.handler", code_uri=str(tmp_path),
                             environment={}, timeout=30, memory=128, concurrency=1)
    assert function.invoke({}) == 1
    function.close()
    # A request still coming in as the runtime stops is answered as a failed invocation.
    with pytest.raises(InvocationError, match="the runtime is stopping"):
        function.invoke({})


def test_the_embedded_mock_serves_sqs_and_s3_on_one_port_and_logs_no_line_per_request(
        tmp_path: Path) -> None:
    mock = MotoServer(tmp_path / "moto.log")
    endpoint = mock.start()
    try:
        session = boto3.session.Session(region_name="us-east-1", aws_access_key_id="test",
                                        aws_secret_access_key="test")
        sqs, s3 = (session.client(name, endpoint_url=endpoint) for name in ("sqs", "s3"))
        url = sqs.create_queue(QueueName="jobs")["QueueUrl"]
        for n in range(20):
            sqs.send_message(QueueUrl=url, MessageBody=f"job {n}")
        received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                       WaitTimeSeconds=1)["Messages"]
        assert len(received) == 10
        s3.create_bucket(Bucket="photos")
        s3.put_object(Bucket="photos", Key="originals/a.jpg", Body=b"bytes")
        assert s3.get_object(Bucket="photos", Key="originals/a.jpg")["Body"].read() == b"bytes"
    finally:
        mock.stop()
    assert "POST /" not in (tmp_path / "moto.log").read_text()


def test_background_functions_give_way_to_live_uploads_locally(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("LIGHTBOX_GIVE_WAY_SECONDS", raising=False)
    environments = {name: function_environment(name, {}, {}, background=function.background)
                    for name, function in TEMPLATE.functions.items()}
    giving_way = {name for name, env in environments.items()
                  if Config.from_env(env).give_way_seconds > 0}
    assert giving_way == {"BackfillFunction", "ImporterFunction"}
    # A setting exported for ./dev.sh up still has the last word.
    monkeypatch.setenv("LIGHTBOX_GIVE_WAY_SECONDS", "0")
    assert function_environment("BackfillFunction", {}, {}, background=True)[
        "LIGHTBOX_GIVE_WAY_SECONDS"] == "0"
