"""Create the bucket, queues, bucket notifications and bucket CORS rules that
``template.yaml`` declares.

Against any S3 + SQS endpoint (the embedded moto server, LocalStack); safe to run again on
resources that already exist.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from botocore.exceptions import ClientError

from infra.template import Resolver, Template, TemplateError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import CORSRuleTypeDef, QueueConfigurationTypeDef
    from mypy_boto3_sqs import SQSClient

log = logging.getLogger(__name__)

# CloudFormation's pseudo parameters, as they read on a laptop.
LOCAL_ACCOUNT = "000000000000"
# CloudFormation's names of a CorsRule's properties, and the S3 API's.
_CORS_RULE_KEYS = {"Id": "ID", "AllowedOrigins": "AllowedOrigins",
                   "AllowedMethods": "AllowedMethods", "AllowedHeaders": "AllowedHeaders",
                   "ExposedHeaders": "ExposeHeaders", "MaxAge": "MaxAgeSeconds"}


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
    function_arns: Mapping[str, str],
    notification_arns: Mapping[str, str] | None = None,
    notifications: bool = True,
) -> tuple[Provisioned, Resolver]:
    """Create what the template declares; ``function_arns`` are what the functions' ARNs
    resolve to, ``notification_arns`` sends a queue's bucket notifications elsewhere (MinIO's
    webhook target instead of an SQS queue), and ``notifications=False`` leaves them to the
    caller (a store that has none)."""
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
    if notifications:
        targets = {**queue_arns, **(notification_arns or {})}
        configurations: list[QueueConfigurationTypeDef] = [
            {
                "QueueArn": targets[notification.queue],
                "Events": list(notification.events),  # type: ignore[arg-type]
                "Filter": {"Key": {"FilterRules": [
                    {"Name": "prefix", "Value": notification.prefix}]}},
            }
            for notification in template.bucket.notifications
        ]
        s3.put_bucket_notification_configuration(
            Bucket=bucket, NotificationConfiguration={"QueueConfigurations": configurations}
        )
    _put_cors(s3, bucket, cors_rules(template, bucket_resolver))
    provisioned = Provisioned(bucket=bucket, queue_urls=queue_urls, queue_arns=queue_arns)
    resolver = Resolver(template, parameters=parameters,
                        refs=queue_urls | {template.bucket.name: bucket},
                        arns=queue_arns | dict(function_arns), pseudo=pseudo)
    return provisioned, resolver


def cors_rules(template: Template, resolver: Resolver) -> list[CORSRuleTypeDef]:
    """The bucket's ``CorsConfiguration`` in the template, as ``put_bucket_cors`` takes it."""
    return [cast("CORSRuleTypeDef", dict(_cors_property(key, value, resolver)
                                         for key, value in rule.items()))
            for rule in template.bucket.cors_rules]


def _cors_property(key: str, value: Any, resolver: Resolver) -> tuple[str, Any]:
    if key not in _CORS_RULE_KEYS:
        raise TemplateError(f"the local runtime does not know the CorsRule property {key!r}")
    if key == "MaxAge":
        return _CORS_RULE_KEYS[key], int(resolver.resolve(value))
    if isinstance(value, list):
        return _CORS_RULE_KEYS[key], [resolver.resolve(item) for item in value]
    return _CORS_RULE_KEYS[key], resolver.resolve(value)


def _put_cors(s3: S3Client, bucket: str, rules: list[CORSRuleTypeDef]) -> None:
    """Browsers PUT originals straight to the bucket, so it needs the template's CORS rules;
    a backend that keeps CORS elsewhere (MinIO configures it server-wide) may refuse them."""
    if not rules:
        return
    try:
        s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": rules})
    except ClientError as exc:
        log.warning("the bucket's CORS rules were not applied (%s): browsers may not be able "
                    "to upload to %s from another origin", exc, bucket)
