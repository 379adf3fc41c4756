"""The local SQS bridge against a real SQS API (moto server): what it deletes, what comes back.

The functions here are recorders standing in for a handler; the queue semantics (visibility
timeout, receive counts, redrive to the dead-letter queue, postponement) are the server's.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError

from infra.local.bridge import POLL_SECONDS, Bridge
from infra.local.control import ControlPlane
from infra.local.functions import InvocationError
from infra.template import QueueTrigger
from lightbox.batch import Backoff, process_batch
from lightbox.config import Config
from lightbox.errors import StorageUnavailable
from lightbox.events import SqsRecord
from lightbox.wiring import Container

MAX_RECEIVES = 3


class Recorder:
    """A function that records every batch and answers as ``respond`` says."""

    def __init__(self, respond: Callable[[dict[str, Any]], Any]) -> None:
        self.respond = respond
        self.received: list[tuple[str, int, float]] = []  # body, receive count, when
        self._lock = threading.Lock()

    def invoke(self, event: dict[str, Any]) -> Any:
        with self._lock:
            for record in event["Records"]:
                self.received.append((record["body"],
                                      int(record["attributes"]["ApproximateReceiveCount"]),
                                      time.monotonic()))
        return self.respond(event)

    def receipts(self, body: str) -> list[int]:
        return [count for received, count, _ in self.received if received == body]


class Queues:
    def __init__(self, sqs_client: Any) -> None:
        self.sqs = sqs_client
        name = f"jobs-{uuid.uuid4().hex[:8]}"
        self.dlq_url = sqs_client.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
        self.dlq_arn = self.arn(self.dlq_url)
        self.url = sqs_client.create_queue(QueueName=name, Attributes={
            "VisibilityTimeout": "1",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": self.dlq_arn,
                                         "maxReceiveCount": MAX_RECEIVES}),
        })["QueueUrl"]

    def arn(self, url: str) -> str:
        arn: str = self.sqs.get_queue_attributes(
            QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        return arn

    def send(self, *bodies: str) -> None:
        for body in bodies:
            self.sqs.send_message(QueueUrl=self.url, MessageBody=body)

    def dead_letters(self) -> list[str]:
        messages = self.sqs.receive_message(QueueUrl=self.dlq_url, MaxNumberOfMessages=10,
                                            WaitTimeSeconds=1).get("Messages", [])
        return sorted(message["Body"] for message in messages)

    def depth(self) -> int:
        attributes = self.sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=[
            "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
        return sum(int(value) for value in attributes.values())


@pytest.fixture
def queues(sqs_client: Any) -> Queues:
    return Queues(sqs_client)


TRIGGER = QueueTrigger(queue="Jobs", function="Fn", batch_size=10, report_failures=True)


@pytest.fixture
def control(queues: Queues, tmp_path: Path) -> Iterator[ControlPlane]:
    control = ControlPlane([TRIGGER], [], function_arns={"Fn": "arn:aws:lambda:local:0:function:Fn"},
                           queue_arns={"Jobs": queues.arn(queues.url)},
                           state_file=tmp_path / "processing.json")
    control.start()
    yield control
    control.close()


@pytest.fixture
def bridge_for(queues: Queues, sqs_client: Any, control: ControlPlane
               ) -> Iterator[Callable[[Recorder], Bridge]]:
    bridges: list[Bridge] = []

    def start(function: Recorder, sqs: Any = sqs_client) -> Bridge:
        bridge = Bridge([TRIGGER], {"Fn": function}, sqs=sqs,  # type: ignore[dict-item]
                        queue_urls={"Jobs": queues.url},
                        queue_arns={"Jobs": queues.arn(queues.url)}, region="us-east-1",
                        control=control, pollers_per_queue=1)
        bridge.start()
        bridges.append(bridge)
        return bridge

    yield start
    for bridge in bridges:
        bridge.close()


def wait_for(condition: Callable[[], bool], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def fail(*bodies: str) -> Callable[[dict[str, Any]], Any]:
    def respond(event: dict[str, Any]) -> Any:
        return {"batchItemFailures": [{"itemIdentifier": record["messageId"]}
                                      for record in event["Records"] if record["body"] in bodies]}
    return respond


def test_reported_failures_come_back_and_end_in_the_dead_letter_queue(
    queues: Queues, bridge_for: Callable[[Recorder], Bridge]
) -> None:
    function = Recorder(fail("poison"))
    bridge_for(function)
    queues.send("good", "poison")

    # An empty queue alone can be a message between its visibility timeout and its next receive.
    wait_for(lambda: len(function.receipts("poison")) == MAX_RECEIVES and queues.depth() == 0)

    assert function.receipts("good") == [1]  # handled once, deleted
    assert function.receipts("poison") == list(range(1, MAX_RECEIVES + 1))
    assert queues.dead_letters() == ["poison"]


def test_a_paused_mapping_leaves_its_messages_waiting_until_it_is_resumed(
    queues: Queues, bridge_for: Callable[[Recorder], Bridge], control: ControlPlane
) -> None:
    [mapping] = control.list_mappings("Fn")["EventSourceMappings"]
    control.update_mapping(mapping["UUID"], {"Enabled": False})
    function = Recorder(lambda event: None)
    bridge_for(function)
    queues.send("first", "second")

    time.sleep(3 * POLL_SECONDS)  # a poll or two, had it been running
    assert function.received == [] and queues.depth() == 2

    control.update_mapping(mapping["UUID"], {"Enabled": True})
    wait_for(lambda: queues.depth() == 0)
    assert sorted(function.receipts("first") + function.receipts("second")) == [1, 1]


def test_a_function_that_crashes_leaves_the_whole_batch_for_redelivery(
    queues: Queues, bridge_for: Callable[[Recorder], Bridge]
) -> None:
    crashes = iter([True])

    def respond(event: dict[str, Any]) -> Any:
        if next(crashes, False):
            raise InvocationError("the worker process died")
        return {"batchItemFailures": []}

    function = Recorder(respond)
    bridge_for(function)
    queues.send("a")

    wait_for(lambda: len(function.receipts("a")) == 2 and queues.depth() == 0)
    assert function.receipts("a") == [1, 2]
    assert queues.dead_letters() == []


class DeletesFailing:
    """The SQS client, but its first ``failures`` batch deletes fail as a dropped connection
    does."""

    def __init__(self, sqs: Any, failures: int) -> None:
        self._sqs = sqs
        self._failures = failures

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sqs, name)

    def delete_message_batch(self, **kwargs: Any) -> Any:
        if self._failures:
            self._failures -= 1
            raise EndpointConnectionError(endpoint_url=self._sqs.meta.endpoint_url)
        return self._sqs.delete_message_batch(**kwargs)


def test_a_batch_that_could_not_be_deleted_comes_back_and_the_queue_goes_on(
    queues: Queues, sqs_client: Any, bridge_for: Callable[..., Bridge]
) -> None:
    function = Recorder(lambda event: {"batchItemFailures": []})
    bridge_for(function, DeletesFailing(sqs_client, failures=1))
    queues.send("handled, not deleted")

    # Handled again once its visibility timeout is over, as at least once allows.
    wait_for(lambda: function.receipts("handled, not deleted") == [1, 2]
             and queues.depth() == 0)
    queues.send("later")
    wait_for(lambda: function.receipts("later") == [1] and queues.depth() == 0)


def test_a_postponed_failure_waits_its_backoff_not_the_visibility_timeout(
    queues: Queues, bridge_for: Callable[[Recorder], Bridge], aws_env: None
) -> None:
    backoff = Backoff(postpone=Container(Config.from_env({})).backoff.postpone,
                      base_seconds=3, max_seconds=3)
    attempts = iter([StorageUnavailable("SlowDown")])

    def handle(record: SqsRecord) -> None:
        error = next(attempts, None)
        if error is not None:
            raise error

    function = Recorder(lambda event: process_batch(event, handle, backoff=backoff))
    bridge_for(function)
    queues.send("retry me")

    wait_for(lambda: len(function.received) == 2)
    (_, _, first), (_, count, second) = function.received
    assert count == 2
    assert second - first >= 2.5  # the queue alone would have shown it again after 1 s
