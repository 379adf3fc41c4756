"""The host runtime executor LocalStack runs functions with (infra/local/localstack_plugin):
what Lambda does at a function's edges — its environment, its timeout, a handler that
raises or a process that dies, a module that does not import — with functions made here;
and ``./dev.sh localstack``, which runs LocalStack so for a deploy by hand."""

from __future__ import annotations

import base64
import io
import json
import re
import shlex
import signal
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import psycopg
import pytest
import requests

from infra.local.services import LocalStackServer
from tests.conftest import REPO

LOCALSTACK_PYTHON = REPO / ".venv-localstack" / "bin" / "python"

# Some 20 seconds: in CI, unlike the deploy test (-m cloud).
pytestmark = pytest.mark.skipif(not LOCALSTACK_PYTHON.exists(),
                                reason="LocalStack is not installed (./dev.sh test installs it)")

HANDLERS = '''
import json, os, sys, time

state = {"invocations": 0}
started = time.time()

def describe(event, context):
    state["invocations"] += 1
    print("a line for the logs")
    return {"invocations": state["invocations"], "pid": os.getpid(), "path": sys.path[:2],
            "task_root": os.environ["LAMBDA_TASK_ROOT"], "setting": os.environ.get("SETTING"),
            "remaining_ms": context.get_remaining_time_in_millis(),
            "request_id": context.aws_request_id, "event": event}

def sleep(event, context):
    time.sleep(event["seconds"])
    return {"slept": event["seconds"], "pid": os.getpid()}

def fail(event, context):
    raise ValueError("this photo is not a photo")

def die(event, context):
    os._exit(3)
'''


@pytest.fixture(scope="module")
def lambda_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    workdir = tmp_path_factory.mktemp("executor")
    localstack = LocalStackServer(LOCALSTACK_PYTHON, workdir / "localstack",
                                  workdir / "localstack.log", services=("lambda", "iam", "sts",
                                                                        "logs", "s3"))
    endpoint = localstack.start()
    try:
        yield boto3.client("lambda", endpoint_url=endpoint, region_name="us-east-1",
                           aws_access_key_id="test", aws_secret_access_key="test")
    finally:
        localstack.stop()


def _function(client: Any, name: str, handler: str, *, timeout: int = 10,
              files: dict[str, str] | None = None) -> str:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as package:
        for path, text in (files or {"handlers.py": HANDLERS}).items():
            package.writestr(path, text)
    client.create_function(
        FunctionName=name, Runtime="python3.12", Handler=handler, Timeout=timeout,
        Role="arn:aws:iam::000000000000:role/lambda", Code={"ZipFile": archive.getvalue()},
        Environment={"Variables": {"SETTING": "from the configuration"}})
    client.get_waiter("function_active_v2").wait(FunctionName=name)
    return name


def _invoke(client: Any, name: str, event: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    result = client.invoke(FunctionName=name, Payload=json.dumps(event).encode(), LogType="Tail")
    return result, json.loads(result["Payload"].read())


def test_a_function_runs_from_its_package_with_its_configuration_and_stays_warm(
        lambda_client: Any) -> None:
    name = _function(lambda_client, "describe", "handlers.describe")
    first, answer = _invoke(lambda_client, name, {"photo": 1})
    assert "FunctionError" not in first, answer
    assert answer["event"] == {"photo": 1}
    assert answer["setting"] == "from the configuration"
    assert answer["path"][0] == answer["task_root"]  # the package first, as /var/task is
    assert Path(answer["task_root"]).name == "code"  # what LocalStack unzipped, not this repo
    assert 0 < answer["remaining_ms"] <= 10_000
    logs = base64.b64decode(first["LogResult"]).decode()
    assert "a line for the logs" in logs and f"END RequestId: {answer['request_id']}" in logs
    _, again = _invoke(lambda_client, name, {"photo": 2})
    # The same execution environment: imported once, state kept between invocations.
    assert (again["pid"], again["invocations"]) == (answer["pid"], 2)
    assert again["request_id"] != answer["request_id"]


def test_a_handler_that_raises_fails_the_invocation_as_lambda_reports_it(
        lambda_client: Any) -> None:
    name = _function(lambda_client, "fail", "handlers.fail")
    result, error = _invoke(lambda_client, name, {})
    assert result["FunctionError"] == "Unhandled"
    assert (error["errorType"], error["errorMessage"]) == ("ValueError", "this photo is not a photo")


def test_a_function_past_its_timeout_is_stopped_and_the_next_invocation_starts_afresh(
        lambda_client: Any) -> None:
    name = _function(lambda_client, "sleep", "handlers.sleep", timeout=2)
    result, error = _invoke(lambda_client, name, {"seconds": 30})
    assert result["FunctionError"] == "Unhandled"
    assert "Task timed out after 2.00 seconds" in error["errorMessage"]
    result, answer = _invoke(lambda_client, name, {"seconds": 0})
    assert "FunctionError" not in result and answer["slept"] == 0, answer


def test_a_process_that_dies_fails_its_invocation_only(lambda_client: Any) -> None:
    name = _function(lambda_client, "die", "handlers.die")
    result, error = _invoke(lambda_client, name, {})
    assert result["FunctionError"] == "Unhandled"
    assert "exited" in error["errorMessage"], error
    result, _ = _invoke(lambda_client, name, {})  # a fresh environment, which dies again
    assert result["FunctionError"] == "Unhandled"


def test_a_handler_that_does_not_import_fails_its_invocations(lambda_client: Any) -> None:
    name = _function(lambda_client, "broken", "broken.handler",
                     files={"broken.py": "import a_module_the_package_does_not_hold\n"})
    for _ in range(2):
        result, error = _invoke(lambda_client, name, {})
        assert result["FunctionError"] == "Unhandled", error
        assert error["errorType"] == "Runtime.ImportModuleError"
        assert "a_module_the_package_does_not_hold" in error["errorMessage"]


def test_dev_sh_localstack_runs_localstack_and_postgresql_for_deploys_until_ctrl_c(
        tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "infra.local", "localstack", "--port", "0", "--data",
         str(tmp_path)], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        printed = []
        assert process.stdout is not None
        for line in process.stdout:
            printed.append(line)
            if line.startswith("Stop with Ctrl-C"):
                break
        text = "".join(printed)
        endpoint = re.search(r"Endpoint:\s+(\S+)", text)
        assert endpoint, text
        health = requests.get(f"{endpoint[1]}/_localstack/health", timeout=10).json()
        assert {"lambda", "cloudformation", "apigateway"} <= set(health["services"])
        assert "./deploy.sh -e dev --endpoint-url " + endpoint[1] in text
        database = re.search(r"LIGHTBOX_DATABASE_URL=(\S+)", text)
        assert database, text
        with psycopg.connect(shlex.split(database[1])[0]) as connection:
            assert connection.execute("SELECT 1").fetchone() == (1,)
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 0
        with pytest.raises(requests.ConnectionError):
            requests.get(f"{endpoint[1]}/_localstack/health", timeout=5)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()
