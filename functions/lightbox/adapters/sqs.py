"""The JobQueue port over one SQS queue."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lightbox.adapters.aws import translated
from lightbox.domain import ThumbnailJob
from lightbox.errors import QueueUnavailable

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient


class SqsJobQueue:
    def __init__(self, client: SQSClient, queue_url: str) -> None:
        self._client = client
        self._queue_url = queue_url

    def send(self, job: ThumbnailJob) -> None:
        with translated("sending a thumbnail job", QueueUnavailable):
            self._client.send_message(QueueUrl=self._queue_url, MessageBody=job.to_json())

    def ping(self) -> None:
        with translated("reading the thumbnail queue", QueueUnavailable):
            self._client.get_queue_attributes(QueueUrl=self._queue_url, AttributeNames=["QueueArn"])
