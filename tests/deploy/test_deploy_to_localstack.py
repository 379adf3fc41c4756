"""deploy.sh -e dev against LocalStack: the stack is created, and its queues carry an upload
to `ready` through the very packages deploy.sh built.

LocalStack without Docker cannot run Lambda code, so the functions are deployed with queue
triggers paused (EventProcessing=paused) and the local runtime's bridge and gateway run the
built packages against the deployed bucket and queues, as the Lambda service would.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests

from infra.aws.checks import UNZIPPED_LIMIT_BYTES, unzipped_size
from infra.local.bridge import Bridge
from infra.local.functions import LocalFunction
from infra.local.gateway import Gateway
from infra.local.services import LocalStackServer
from infra.template import Template
from tests.conftest import REPO, database_of_its_own
from tests.e2e.conftest import Client
from tests.support import image_bytes, load_event

LOCALSTACK_PYTHON = REPO / ".venv-localstack" / "bin" / "python"
SERVICES = ("cloudformation", "s3", "sqs", "lambda", "apigateway", "iam", "sts", "events",
            "logs", "cloudwatch", "sns")
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


@pytest.fixture(scope="module")
def deployed(postgres_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployed]:
    workdir = tmp_path_factory.mktemp("deploy")
    with ExitStack() as cleanup:
        localstack = LocalStackServer(LOCALSTACK_PYTHON, workdir / "localstack",
                                      workdir / "localstack.log", services=SERVICES)
        endpoint = localstack.start()
        cleanup.callback(localstack.stop)
        database_url = cleanup.enter_context(database_of_its_own(postgres_url))
        # The AWS CLI that LocalStack's venv carries, first on PATH.
        bin_dir = workdir / "bin"
        bin_dir.mkdir()
        (bin_dir / "aws").symlink_to(LOCALSTACK_PYTHON.parent / "aws")
        result = subprocess.run(
            ["./deploy.sh", "-e", "dev", "--yes", "--endpoint-url", endpoint, "--no-migrate",
             "-p", "EventProcessing=paused"],
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


def test_the_stack_has_its_outputs_and_paused_triggers(deployed: Deployed) -> None:
    assert {"ApiUrl", "BucketName", "IngestQueueUrl", "ThumbnailQueueUrl",
            "AdminFunctionName", "AlarmTopicArn"} <= set(deployed.outputs)
    assert "DatabaseProxyEndpoint" not in deployed.outputs  # CreateDatabase=false in dev
    mappings = deployed.client("lambda").list_event_source_mappings()["EventSourceMappings"]
    # ingest, the standard, large, video and backfill lanes, and the imports' pages
    assert len(mappings) == 6
    assert {mapping["State"] for mapping in mappings} <= {"Disabled", "Disabling"}


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


def test_an_upload_reaches_the_ingest_queue_and_the_built_packages_take_it_to_ready(
    deployed: Deployed, tmp_path: Path,
) -> None:
    functions = _functions_from_the_build(deployed)
    try:
        migrate = functions["AdminFunction"].invoke({"command": "migrate"})
        assert migrate["applied"], migrate
        # The admin function is how keys are made in AWS (infra/aws/keys.py invokes it).
        api_key = functions["AdminFunction"].invoke({"command": "create-key", "owner": "local"})
        assert api_key["key"]["owner"] == "local", api_key
        # API Gateway's own event shape, as published (behind the authorizer, for the owner
        # local), for the first call.
        event = load_event("apiGatewayProxyRequest.json")
        photo = image_bytes("JPEG", size=(1600, 1200))
        event["body"] = json.dumps({"filename": "deployed.jpg", "content_type": "image/jpeg",
                                    "size_bytes": len(photo)})
        created = functions["PresignFunction"].invoke(event)
        assert created["statusCode"] == 201, created
        ticket = json.loads(created["body"])
        upload = ticket["upload"]
        assert requests.put(upload["url"], data=photo, headers=upload["headers"],
                            timeout=30).status_code == 200

        # The bucket notified the deployed ingest queue: look before the bridge takes it.
        sqs = deployed.client("sqs")
        notice = _receive(sqs, deployed.outputs["IngestQueueUrl"], ticket["asset_id"])
        sqs.change_message_visibility(QueueUrl=deployed.outputs["IngestQueueUrl"],
                                      ReceiptHandle=notice["ReceiptHandle"], VisibilityTimeout=0)

        bridge = Bridge(
            list(TEMPLATE.triggers), functions, sqs=sqs,
            queue_urls={queue: deployed.physical[queue] for queue in TEMPLATE.queues},
            queue_arns={queue: _arn_of(sqs, deployed.physical[queue]) for queue in TEMPLATE.queues},
            region="us-east-1",
        )
        gateway = Gateway(TEMPLATE.routes, functions, stage="dev")
        bridge.start()
        gateway.start()
        try:
            asset = Client(gateway.url, api_key["secret"]).wait_until_settled(ticket["asset_id"])
            assert asset["status"] == "ready", asset
            assert {thumb["size"] for thumb in asset["thumbnails"]} == {256, 1280}
            thumbnail = requests.get(asset["thumbnails"][0]["url"], timeout=30)
            assert thumbnail.content[:3] == b"\xff\xd8\xff"
            health = requests.get(f"{gateway.url}/health", timeout=30)
            assert health.status_code == 200, health.text
        finally:
            gateway.close()
            bridge.close()
        report = functions["ReaperFunction"].invoke(load_event("scheduledEvent.json"))
        assert set(report) >= {"completed", "expired", "redriven"}
    finally:
        for function in functions.values():
            function.close()


def _client(endpoint: str, service: str) -> Any:
    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test")


def _functions_from_the_build(deployed: Deployed) -> dict[str, LocalFunction]:
    lambda_client = deployed.client("lambda")
    functions = {}
    for name, spec in TEMPLATE.functions.items():
        config = lambda_client.get_function_configuration(FunctionName=deployed.physical[name])
        functions[name] = LocalFunction(
            name, handler=config["Handler"],
            code_uri=str(BUILD / "packages" / spec.package),
            environment={**config["Environment"]["Variables"], **CREDENTIALS,
                         "AWS_ENDPOINT_URL": deployed.endpoint,
                         "AWS_LAMBDA_FUNCTION_NAME": config["FunctionName"],
                         "PATH": os.environ["PATH"]},
            timeout=config["Timeout"], memory=config["MemorySize"], concurrency=1,
        )
    return functions


def _receive(sqs: Any, url: str, asset_id: str) -> dict[str, Any]:
    """The bucket's notice of the asset's original (S3 sends a test event first)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for message in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=2,
                                           MaxNumberOfMessages=10).get("Messages", []):
            records = json.loads(message["Body"]).get("Records", [])
            if any(r["s3"]["object"]["key"].endswith(asset_id) for r in records):
                return dict(message)
    raise AssertionError(f"no notice of {asset_id} arrived on {url}")


def _arn_of(sqs: Any, url: str) -> str:
    return str(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
               ["Attributes"]["QueueArn"])
