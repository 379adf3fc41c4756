"""Create the bucket, queues and bucket notifications that ``template.yaml`` declares.

Against any S3 + SQS endpoint (the embedded moto server, LocalStack); safe to run again on
resources that already exist.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from infra.template import Resolver, Template

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import QueueConfigurationTypeDef
    from mypy_boto3_sqs import SQSClient

# CloudFormation's pseudo parameters, as they read on a laptop.
LOCAL_ACCOUNT = "000000000000"


@dataclass(frozen=True)
class Provisioned:
    bucket: str
    queue_urls: dict[str, str]
    queue_arns: dict[str, str]


def provision(
    template: Template,
    *,
    stack: str,
    region: str,
    parameters: dict[str, str],
    s3: S3Client,
    sqs: SQSClient,
    notification_arns: Mapping[str, str] | None = None,
) -> tuple[Provisioned, Resolver]:
    """Create what the template declares; ``notification_arns`` sends a queue's bucket
    notifications elsewhere (MinIO's webhook target instead of an SQS queue)."""
    pseudo = {
        "AWS::AccountId": LOCAL_ACCOUNT,
        "AWS::Region": region,
        "AWS::Partition": "aws",
        "AWS::URLSuffix": "amazonaws.com",
        "AWS::StackName": stack,
    }
    queue_urls: dict[str, str] = {}
    queue_arns: dict[str, str] = {}
    # Dead-letter queues first: the queues that redrive into them need their ARNs.
    for queue in sorted(template.queues.values(), key=lambda q: q.dead_letter_queue is not None):
        attributes = {"VisibilityTimeout": str(queue.visibility_timeout)}
        if queue.dead_letter_queue is not None:
            attributes["RedrivePolicy"] = json.dumps({
                "deadLetterTargetArn": queue_arns[queue.dead_letter_queue],
                "maxReceiveCount": str(queue.max_receive_count),
            })
        url = sqs.create_queue(QueueName=f"{stack}-{queue.name}")["QueueUrl"]
        sqs.set_queue_attributes(QueueUrl=url, Attributes=attributes)  # type: ignore[arg-type]
        queue_urls[queue.name] = url
        queue_arns[queue.name] = sqs.get_queue_attributes(
            QueueUrl=url, AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"]

    bucket_resolver = Resolver(template, parameters=parameters, refs=queue_urls,
                               arns=queue_arns, pseudo=pseudo)
    bucket = bucket_resolver.resolve(template.bucket.bucket_name)
    try:
        s3.create_bucket(Bucket=bucket)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "BucketAlreadyOwnedByYou":
            raise
    targets = {**queue_arns, **(notification_arns or {})}
    notifications: list[QueueConfigurationTypeDef] = [
        {
            "QueueArn": targets[notification.queue],
            "Events": list(notification.events),  # type: ignore[arg-type]
            "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": notification.prefix}]}},
        }
        for notification in template.bucket.notifications
    ]
    s3.put_bucket_notification_configuration(
        Bucket=bucket, NotificationConfiguration={"QueueConfigurations": notifications}
    )
    provisioned = Provisioned(bucket=bucket, queue_urls=queue_urls, queue_arns=queue_arns)
    resolver = Resolver(template, parameters=parameters,
                        refs=queue_urls | {template.bucket.name: bucket},
                        arns=queue_arns, pseudo=pseudo)
    return provisioned, resolver
