"""SQS: the JobQueue port over the thumbnail queues, the ImportQueue port, redelivery with
backoff, and the dead-letter queues."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache, cached_property
from typing import TYPE_CHECKING

from lightbox.adapters.aws import translated
from lightbox.domain import ImportJob, Lane, ThumbnailJob
from lightbox.errors import ConfigError, QueueUnavailable
from lightbox.values import DeadLetter, QueueDepth

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient


class SqsJobQueue:
    """The client and the queues' URLs are asked for at the first call, not before: a function
    that holds a queue and sends nothing (presign) needs neither."""

    def __init__(self, make_client: Callable[[], SQSClient],
                 queue_urls: Callable[[], Mapping[Lane, str]]) -> None:
        self._make_client = make_client
        self._read_queue_urls = queue_urls

    @cached_property
    def _client(self) -> SQSClient:
        return self._make_client()

    @cached_property
    def _queue_urls(self) -> dict[Lane, str]:
        return dict(self._read_queue_urls())

    def send(self, job: ThumbnailJob, lane: Lane) -> None:
        # Without a large or backfill lane, their jobs take the standard one; a clip only the
        # video lane renders, so it waits for one (the job is retried, then kept as a dead
        # letter).
        url = self._queue_urls.get(lane)
        if url is None and lane is Lane.VIDEO:
            raise ConfigError("no video lane: LIGHTBOX_VIDEO_QUEUE_URL is not set")
        url = url or self._queue_urls[Lane.STANDARD]
        with translated("sending a thumbnail job", QueueUnavailable):
            self._client.send_message(QueueUrl=url, MessageBody=job.to_json())

    def depths(self) -> dict[Lane, QueueDepth]:
        return {lane: self._depth(url) for lane, url in self._queue_urls.items()}

    def depth(self, lane: Lane) -> QueueDepth:
        return self._depth(self._queue_urls.get(lane) or self._queue_urls[Lane.STANDARD])

    def _depth(self, url: str) -> QueueDepth:
        with translated("reading a thumbnail queue", QueueUnavailable):
            attributes = self._client.get_queue_attributes(
                QueueUrl=url, AttributeNames=[
                    "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
                    "ApproximateNumberOfMessagesDelayed",
                ],
            )["Attributes"]
        return QueueDepth(
            waiting=int(attributes.get("ApproximateNumberOfMessages", 0)),
            in_flight=int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0)),
            delayed=int(attributes.get("ApproximateNumberOfMessagesDelayed", 0)),
        )

    def ping(self) -> None:
        for url in set(self._queue_urls.values()):
            with translated("reading a thumbnail queue", QueueUnavailable):
                self._client.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])


class SqsImportQueue:
    """The queue of imports' pages; its client is made at the first send."""

    def __init__(self, client: Callable[[], SQSClient], queue_url: str) -> None:
        self._client = client
        self._queue_url = queue_url

    def send(self, job: ImportJob, *, delay_seconds: int = 0) -> None:
        with translated("sending an import's page", QueueUnavailable):
            self._client().send_message(QueueUrl=self._queue_url, MessageBody=job.to_json(),
                                        DelaySeconds=delay_seconds)


class SqsRedelivery:
    """Postpones a failed message: SQS shows it again after ``delay`` seconds, not sooner."""

    def __init__(self, client: SQSClient) -> None:
        self._client = client

    def postpone(self, queue_arn: str, receipt_handle: str, delay: int) -> None:
        with translated("postponing a message", QueueUnavailable):
            self._client.change_message_visibility(
                QueueUrl=self._queue_url(queue_arn), ReceiptHandle=receipt_handle,
                VisibilityTimeout=delay,
            )

    @cache  # noqa: B019 - one adapter per execution environment, a handful of queues
    def _queue_url(self, queue_arn: str) -> str:
        _, _, _, _, account, name = queue_arn.split(":", 5)
        with translated("finding a queue", QueueUnavailable):
            return self._client.get_queue_url(QueueName=name,
                                              QueueOwnerAWSAccountId=account)["QueueUrl"]


class SqsDeadLetterQueue:
    """A dead-letter queue and the queue whose messages it receives."""

    # Long enough to handle a batch; a letter the run could not handle is there again after.
    HIDDEN_SECONDS = 120

    def __init__(self, client: SQSClient, url: str, source_url: str) -> None:
        self._client = client
        self._url = url
        self._source_url = source_url

    def receive(self, limit: int) -> list[DeadLetter]:
        letters: list[DeadLetter] = []
        while len(letters) < limit:
            with translated("reading a dead-letter queue", QueueUnavailable):
                messages = self._client.receive_message(
                    QueueUrl=self._url, MaxNumberOfMessages=min(10, limit - len(letters)),
                    VisibilityTimeout=self.HIDDEN_SECONDS, WaitTimeSeconds=0,
                ).get("Messages", [])
            if not messages:
                break
            letters += [DeadLetter(m["Body"], m["ReceiptHandle"]) for m in messages]
        return letters

    def send_back(self, letter: DeadLetter) -> None:
        with translated("sending a message back to its queue", QueueUnavailable):
            self._client.send_message(QueueUrl=self._source_url, MessageBody=letter.body)
        self.discard(letter)

    def discard(self, letter: DeadLetter) -> None:
        with translated("deleting a dead letter", QueueUnavailable):
            self._client.delete_message(QueueUrl=self._url, ReceiptHandle=letter.receipt)
