"""A local stand-in for Lambda's SQS event source mappings.

Long-polls each queue that ``template.yaml`` wires to a function, hands the messages to the
function as the SQS event Lambda would build, and deletes what the function handled: every
message when it returns, all but its ``batchItemFailures`` when the mapping reports them,
none when it raises. Messages left undeleted reappear after the queue's visibility timeout
and, past ``maxReceiveCount``, move to the dead-letter queue, as SQS does on AWS.
"""

from __future__ import annotations

import base64
import logging
import threading
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from infra.local.control import ControlPlane
from infra.local.functions import InvocationError, LocalFunction
from infra.template import QueueTrigger

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import MessageTypeDef

log = logging.getLogger(__name__)

# Short enough for a prompt shutdown, long enough to keep an idle stack quiet.
POLL_SECONDS = 2


class Bridge:
    def __init__(
        self,
        triggers: list[QueueTrigger],
        functions: Mapping[str, LocalFunction],
        *,
        sqs: SQSClient,
        queue_urls: Mapping[str, str],
        queue_arns: Mapping[str, str],
        region: str,
        control: ControlPlane,
        pollers_per_queue: int = 2,
    ) -> None:
        self._sqs = sqs
        self._control = control
        self._region = region
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(
                target=self._poll,
                args=(trigger, functions[trigger.function], queue_urls[trigger.queue],
                      queue_arns[trigger.queue]),
                name=f"poll-{trigger.queue}-{n}",
                daemon=True,
            )
            for trigger in triggers
            for n in range(pollers_per_queue)
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def close(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=POLL_SECONDS + 30)

    def _poll(self, trigger: QueueTrigger, function: LocalFunction, url: str, arn: str) -> None:
        while not self._stop.is_set():
            with self._control.taking(trigger) as taking:
                if taking:
                    try:
                        self._take(trigger, function, url, arn)
                    except Exception:
                        # Whatever it took comes back after its visibility timeout; a poller
                        # that stopped here would stop its queue until the stack restarts.
                        log.exception("taking a batch of %s failed; polling on", trigger.queue)
                        self._stop.wait(POLL_SECONDS)
            if not taking:  # paused: the messages wait in the queue
                self._stop.wait(POLL_SECONDS)

    def _take(self, trigger: QueueTrigger, function: LocalFunction, url: str, arn: str) -> None:
        messages = self._sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=min(trigger.batch_size, 10),
            WaitTimeSeconds=POLL_SECONDS,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if messages:
            self._deliver(trigger, function, url, arn, messages)

    def _deliver(self, trigger: QueueTrigger, function: LocalFunction, url: str, arn: str,
                 messages: list[MessageTypeDef]) -> None:
        event = {"Records": [self._record(message, arn) for message in messages]}
        started = time.time()
        try:
            result = function.invoke(event)
        except InvocationError as exc:
            log.error("%s", exc)
            return
        if log.isEnabledFor(logging.DEBUG):
            sent = min(int(m.get("Attributes", {}).get("SentTimestamp", 0)) for m in messages)
            log.debug("%s: %d message(s) to %s, sent %.0f ms before; it took %.0f ms",
                      trigger.queue, len(messages), function.name, started * 1000 - sent,
                      (time.time() - started) * 1000)
        failed: set[str] = set()
        if trigger.report_failures and isinstance(result, dict):
            failed = {item["itemIdentifier"] for item in result.get("batchItemFailures", [])}
        handled = [m for m in messages if m["MessageId"] not in failed]
        if handled:
            answer = self._sqs.delete_message_batch(
                QueueUrl=url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                         for i, m in enumerate(handled)],
            )
            for refused in answer.get("Failed", []):
                log.warning("%s: a handled message was not deleted (%s) and will come back",
                            trigger.queue, refused.get("Message") or refused["Code"])

    def _record(self, message: MessageTypeDef, arn: str) -> dict[str, Any]:
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": message.get("Attributes", {}),
            "messageAttributes": {
                name: {
                    "stringValue": value.get("StringValue"),
                    "binaryValue": (base64.b64encode(value["BinaryValue"]).decode("ascii")
                                    if "BinaryValue" in value else None),
                    "stringListValues": [],
                    "binaryListValues": [],
                    "dataType": value["DataType"],
                }
                for name, value in message.get("MessageAttributes", {}).items()
            },
            "md5OfBody": message["MD5OfBody"],
            "eventSource": "aws:sqs",
            "eventSourceARN": arn,
            "awsRegion": self._region,
        }
