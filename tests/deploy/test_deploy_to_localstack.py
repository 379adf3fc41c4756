"""deploy.sh -e dev against LocalStack, and the deployed stack at work with nothing else
running: its API Gateway URL takes an upload, its bucket notifies its queue, its queue
triggers run upload-complete and thumbnail, its schedule runs the reaper.

LocalStack runs without Docker here: the functions run as processes of this host, from the
packages deploy.sh built and LocalStack unzipped, with the environment LocalStack gives them
(infra/local/localstack_plugin: the host runtime executor, and the Lambda REQUEST authorizers
LocalStack's community edition does not run).
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import boto3
import psycopg
import pytest
import requests

from infra.aws.checks import UNZIPPED_LIMIT_BYTES, unzipped_size
from infra.local.services import TEMPLATE_SERVICES, LocalStackServer
from infra.template import Template
from tests.conftest import REPO, database_of_its_own
from tests.e2e.conftest import Client
from tests.support import image_bytes

LOCALSTACK_PYTHON = REPO / ".venv-localstack" / "bin" / "python"
STACK = "lightbox-dev"
BUILD = REPO / ".build" / "dev"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
               "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1"}
TEMPLATE = Template.load(REPO / "template.yaml")

pytestmark = [
    pytest.mark.cloud,
    pytest.mark.skipif(not LOCALSTACK_PYTHON.exists(),
                       reason="LocalStack is not installed (./dev.sh test installs it)"),
]


@dataclass
class Deployed:
    endpoint: str
    database_url: str
    output: str
    outputs: dict[str, str]
    physical: dict[str, str]

    def client(self, service: str) -> Any:
        return _client(self.endpoint, service)

    @property
    def api_url(self) -> str:
        """The ApiUrl output (https://API_ID.execute-api.REGION.amazonaws.com/STAGE), as
        LocalStack serves it."""
        api_id = self.outputs["ApiUrl"].split("//", 1)[1].split(".", 1)[0]
        return f"{self.endpoint}/_aws/execute-api/{api_id}/dev"


@pytest.fixture(scope="module")
def deployed(postgres_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployed]:
    workdir = tmp_path_factory.mktemp("deploy")
    with ExitStack() as cleanup:
        localstack = LocalStackServer(LOCALSTACK_PYTHON, workdir / "localstack",
                                      workdir / "localstack.log", services=TEMPLATE_SERVICES)
        endpoint = localstack.start()
        cleanup.callback(localstack.stop)
        database_url = cleanup.enter_context(database_of_its_own(postgres_url))
        # The AWS CLI that LocalStack's venv carries, first on PATH.
        bin_dir = workdir / "bin"
        bin_dir.mkdir()
        (bin_dir / "aws").symlink_to(LOCALSTACK_PYTHON.parent / "aws")
        result = subprocess.run(
            # The reaper every minute, for the test of its schedule to see it run.
            ["./deploy.sh", "-e", "dev", "--yes", "--endpoint-url", endpoint,
             "-p", "ReaperSchedule=rate(1 minute)"],
            cwd=REPO, capture_output=True, text=True, timeout=900, check=False,
            env={**os.environ, **CREDENTIALS, "PATH": f"{bin_dir}:{os.environ['PATH']}",
                 "LIGHTBOX_DATABASE_URL": database_url},
        )
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        cloudformation = _client(endpoint, "cloudformation")
        stack = cloudformation.describe_stacks(StackName=STACK)["Stacks"][0]
        resources = cloudformation.describe_stack_resources(StackName=STACK)["StackResources"]
        yield Deployed(
            endpoint=endpoint, database_url=database_url, output=result.stdout,
            outputs={o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])},
            physical={r["LogicalResourceId"]: r["PhysicalResourceId"] for r in resources
                      if r.get("PhysicalResourceId")},
        )


def test_the_build_checked_every_handler_and_package_before_deploying(deployed: Deployed) -> None:
    assert "every handler imports from its package; template translated and linted" \
        in deployed.output
    sizes = {package.name: unzipped_size(package) for package in (BUILD / "packages").iterdir()}
    assert set(sizes) == {"api", "imaging", "video"}
    assert all(size < UNZIPPED_LIMIT_BYTES for size in sizes.values()), sizes
    api = BUILD / "packages" / "api"
    assert (api / "presign.py").exists() and (api / "migrations").is_dir()
    assert not any((api / name).exists() for name in ("PIL", "numpy", "tifffile", "pip"))
    assert (BUILD / "packages" / "imaging" / "tifffile").is_dir()
    video = BUILD / "packages" / "video"
    assert (video / "av").is_dir() and not (video / "tifffile").exists()
    assert not (BUILD / "packages" / "imaging" / "av").exists()


def test_the_stack_has_its_outputs_and_running_triggers(deployed: Deployed) -> None:
    assert {"ApiUrl", "BucketName", "IngestQueueUrl", "ThumbnailQueueUrl",
            "AdminFunctionName", "AlarmTopicArn"} <= set(deployed.outputs)
    assert "DatabaseProxyEndpoint" not in deployed.outputs  # CreateDatabase=false in dev
    mappings = deployed.client("lambda").list_event_source_mappings()["EventSourceMappings"]
    # ingest, the standard, large, video and backfill lanes, and the imports' pages
    assert len(mappings) == 6
    assert {mapping["State"] for mapping in mappings} <= {"Enabled", "Enabling"}
    assert all(mapping.get("FunctionResponseTypes") == ["ReportBatchItemFailures"]
               for mapping in mappings)


def test_each_function_is_deployed_with_its_handler_runtime_and_environment(
    deployed: Deployed,
) -> None:
    lambda_client = deployed.client("lambda")
    for name, spec in TEMPLATE.functions.items():
        config = lambda_client.get_function_configuration(FunctionName=deployed.physical[name])
        assert (config["Handler"], config["Runtime"]) == (spec.handler, "python3.12")
        assert (config["MemorySize"], config["Timeout"]) == (spec.memory, spec.timeout)
        variables = config["Environment"]["Variables"]
        assert set(variables) == set(spec.environment), name
        assert variables["DATABASE_URL"] == deployed.database_url
        assert variables["LIGHTBOX_BUCKET"] == deployed.outputs["BucketName"]
        assert variables["LIGHTBOX_DATABASE_IAM_AUTH"] == "false"


def test_the_bucket_is_private_encrypted_and_open_to_browser_uploads(deployed: Deployed) -> None:
    s3 = deployed.client("s3")
    bucket = deployed.outputs["BucketName"]
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(block.values())
    encryption = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]
    assert encryption["Rules"][0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    # LocalStack's CloudFormation does not apply lifecycle rules: test_template checks them.
    assert s3.get_bucket_cors(Bucket=bucket)["CORSRules"][0]["AllowedOrigins"] == ["*"]


def test_the_migrations_ran_in_the_deployed_admin_function(deployed: Deployed) -> None:
    report = json.loads((BUILD / "migrate.json").read_text())
    assert report["applied"], report  # a fresh database: every migration
    with psycopg.connect(deployed.database_url) as connection:
        assert connection.execute("SELECT count(*) FROM schema_migrations").fetchone()[0] > 0


def test_a_photo_through_the_deployed_api_is_made_ready_by_the_deployed_functions(
    deployed: Deployed,
) -> None:
    key = _invoke(deployed, "AdminFunction", {"command": "create-key", "owner": "deployed"})
    api = deployed.api_url
    client = Client(api, key["secret"])
    asset_id = client.upload("deployed.jpg", "image/jpeg", image_bytes("JPEG", size=(1600, 1200)))
    # S3 → the ingest queue → upload-complete → the thumbnail queue → thumbnail, each queue's
    # mapping invoking the deployed function, every step inside LocalStack.
    asset = client.wait_until_settled(asset_id, timeout=180)
    assert asset["status"] == "ready", asset
    assert {thumb["size"] for thumb in asset["thumbnails"]} == {256, 1280}
    thumbnail = requests.get(asset["thumbnails"][0]["url"], timeout=30)
    assert thumbnail.content[:3] == b"\xff\xd8\xff"
    listed = client.http.get(f"{api}/v1/assets", timeout=30).json()
    assert [item["asset_id"] for item in listed["items"]] == [asset_id]
    # Each function logged it as JSON that CloudWatch Logs Insights filters by asset_id, and
    # the render's metrics went out in Embedded Metric Format, in the stack's namespace.
    about = _json_log_lines(deployed, "PresignFunction", asset_id)
    assert about and about[0]["owner"] == "deployed" and about[0]["request_id"], about
    rendered = _json_log_lines(deployed, "ThumbnailFunction", asset_id)
    assert any(line.get("message", "").startswith(f"asset {asset_id} ready") for line in rendered)
    metrics = [line for line in rendered if "_aws" in line]
    assert {name for line in metrics for name in line if name in ("Renders", "UploadToReady")
            } == {"Renders", "UploadToReady"}, metrics
    assert all(line["_aws"]["CloudWatchMetrics"][0]["Namespace"] == f"Lightbox/{STACK}"
               for line in metrics)


def test_the_deployed_library_function_pauses_and_resumes_the_deployed_triggers(
    deployed: Deployed,
) -> None:
    key = _invoke(deployed, "AdminFunction",
                  {"command": "create-key", "owner": "operator", "admin": True})
    client = Client(deployed.api_url, key["secret"])
    switch = f"{deployed.api_url}/v1/admin/processing"
    paused = client.http.put(switch, json={"paused": True}, timeout=60)
    assert paused.status_code == 200, paused.text
    try:
        # LocalStack's own Lambda and EventBridge say so, not only the answer.
        lambdas = deployed.client("lambda")
        thumbnail = deployed.physical["ThumbnailFunction"]
        _wait_until(lambda: {m["State"] for m in lambdas.list_event_source_mappings(
            FunctionName=thumbnail)["EventSourceMappings"]} == {"Disabled"})
        rules = deployed.client("events").list_rule_names_by_target(
            TargetArn=lambdas.get_function(FunctionName=deployed.physical["ReaperFunction"])[
                "Configuration"]["FunctionArn"])["RuleNames"]
        assert [deployed.client("events").describe_rule(Name=rule)["State"]
                for rule in rules] == ["DISABLED"]
        _wait_until(lambda: client.http.get(switch, timeout=60).json()["state"] == "disabled")
        asset_id = client.upload("paused.jpg", "image/jpeg", image_bytes("JPEG", (640, 480)))
        time.sleep(15)  # the ingest queue's mapping would have taken it within seconds
        assert client.asset(asset_id)["status"] == "pending"
    finally:
        resumed = client.http.put(switch, json={"paused": False}, timeout=60)
    assert resumed.status_code == 200, resumed.text
    assert client.wait_until_settled(asset_id, timeout=180)["status"] == "ready"
    assert client.http.get(switch, timeout=60).json()["state"] == "enabled"


def test_the_deployed_authorizer_guards_every_v1_route(deployed: Deployed) -> None:
    api = deployed.api_url
    assert requests.get(f"{api}/health", timeout=30).status_code == 200
    assert requests.get(f"{api}/v1/assets", timeout=30).status_code == 401  # no credentials
    wrong = {"Authorization": "Bearer lbx_not-a-key"}
    assert requests.get(f"{api}/v1/assets", headers=wrong, timeout=30).status_code == 401
    key = _invoke(deployed, "AdminFunction", {"command": "create-key", "owner": "other"})
    mine = {"Authorization": f"Bearer {key['secret']}"}
    listed = requests.get(f"{api}/v1/assets", headers=mine, timeout=30)
    assert listed.status_code == 200 and listed.json()["items"] == []  # not another's photos


def test_a_failing_function_answers_as_lambda_does(deployed: Deployed) -> None:
    result = deployed.client("lambda").invoke(
        FunctionName=deployed.physical["AdminFunction"], Payload=b'{"command": "no-such"}')
    assert result["FunctionError"] == "Unhandled"
    error = json.loads(result["Payload"].read())
    assert error["errorType"] and "no-such" in error["errorMessage"], error


def test_the_schedule_runs_the_deployed_reaper(deployed: Deployed) -> None:
    logs = deployed.client("logs")
    group = f"/aws/lambda/{deployed.physical['ReaperFunction']}"
    deadline = time.monotonic() + 150  # the rule fires once a minute
    while time.monotonic() < deadline:
        with contextlib.suppress(logs.exceptions.ResourceNotFoundException):
            events = logs.filter_log_events(logGroupName=group)["events"]
            if any(event["message"].startswith("REPORT RequestId") for event in events):
                return
        time.sleep(5)
    raise AssertionError(f"the reaper did not run on its schedule: no invocation in {group}")


def _json_log_lines(deployed: Deployed, function: str, asset_id: str) -> list[dict[str, Any]]:
    """The JSON lines a function logged about an asset, and its metrics, once CloudWatch Logs
    has them."""
    logs = deployed.client("logs")
    group = f"/aws/lambda/{deployed.physical[function]}"
    deadline = time.monotonic() + 60
    while True:
        lines = []
        with contextlib.suppress(logs.exceptions.ResourceNotFoundException):
            for page in logs.get_paginator("filter_log_events").paginate(logGroupName=group):
                for event in page["events"]:
                    with contextlib.suppress(ValueError):
                        line = json.loads(event["message"])
                        if isinstance(line, dict) and (line.get("asset_id") == asset_id
                                                       or "_aws" in line):
                            lines.append(line)
        if lines or time.monotonic() > deadline:
            return lines
        time.sleep(2)


def _invoke(deployed: Deployed, function: str, event: dict[str, Any]) -> Any:
    result = deployed.client("lambda").invoke(FunctionName=deployed.physical[function],
                                              Payload=json.dumps(event).encode())
    answer = json.loads(result["Payload"].read())
    assert "FunctionError" not in result, answer
    return answer


def _wait_until(condition: Callable[[], bool], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(1)


def _client(endpoint: str, service: str) -> Any:
    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test")
