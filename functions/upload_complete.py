"""upload-complete: bucket events — through SQS, from S3 or EventBridge directly, or a MinIO
webhook — and the routes that finish, abort or retry an upload.

Every trigger reaches the same idempotent services; ``handler`` is the one Lambda entry point.
"""

from typing import Any

from chalice.app import Response, SQSEvent

from lightbox.batch import BatchResponse, process_batch
from lightbox.domain import Status
from lightbox.errors import Forbidden
from lightbox.events import ObjectEvent, SqsRecord, is_bucket_event, is_sqs_event, object_events
from lightbox.function import entry_point
from lightbox.http import inputs, outputs
from lightbox.http.app import Api
from lightbox.services import ingest, library, uploads
from lightbox.wiring import Container

container = Container()
app = Api("lightbox-upload-complete", lambda: container.config)


@app.route("/v1/uploads/{asset_id}/complete", methods=["POST"])
def complete_upload(asset_id: str) -> Response:
    owner_id = inputs.owner_of(app.request)  # first: nothing of a stranger's request is read
    asset = inputs.asset_id_param(asset_id)
    status = uploads.complete_upload(owner_id, asset, container.pipeline)
    return outputs.json_response({"asset_id": str(asset), "status": status.value}, 202)


@app.route("/v1/uploads/{asset_id}/abort", methods=["POST"])
def abort_upload(asset_id: str) -> Response:
    owner_id = inputs.owner_of(app.request)
    library.abort_upload(owner_id, inputs.asset_id_param(asset_id), container.pipeline)
    return outputs.no_content()


@app.route("/v1/assets/{asset_id}/retry", methods=["POST"])
def retry_asset(asset_id: str) -> Response:
    owner_id = inputs.owner_of(app.request)
    asset = inputs.asset_id_param(asset_id)
    status = library.retry_asset(owner_id, asset, container.pipeline)
    return outputs.json_response({"asset_id": str(asset), "status": status.value}, 202)


@app.route("/hooks/minio", methods=["POST"])
def minio_webhook() -> Response:
    request = app.request
    token = container.config.webhook_token
    if token is None:
        raise Forbidden("MinIO webhooks are off here: set LIGHTBOX_WEBHOOK_TOKEN to take them")
    inputs.require_bearer(request, token)
    # MinIO only reads the status code (2xx: delivered); the body helps whoever debugs.
    applied = []
    for event in object_events(inputs.read_json_object(request)):
        status = _apply(event)
        applied.append({"key": event.key, "action": event.action.value,
                        "status": status.value if status is not None else "ignored"})
    return outputs.json_response({"events": applied})


@app.on_sqs_message(queue="lightbox-ingest", batch_size=10)
def on_bucket_messages(event: SQSEvent) -> BatchResponse:
    return process_batch(event.to_dict(), _apply_message, backoff=container.backoff,
                         metrics=container.metrics)


def _apply_message(record: SqsRecord) -> None:
    for event in object_events(record.body):
        _apply(event)


def _apply(event: ObjectEvent) -> Status | None:
    return ingest.handle_object_event(event, container.pipeline,
                                      expected_bucket=container.config.require("bucket"))


@entry_point(lambda: container.config)
def handler(event: dict[str, Any], context: Any) -> Any:
    if is_sqs_event(event):
        return on_bucket_messages(event, context)
    if is_bucket_event(event):  # S3 or EventBridge invoking the function directly
        for bucket_event in object_events(event):
            _apply(bucket_event)
        return None
    return app(event, context)
