"""upload-complete: bucket notifications (through SQS) and ``POST /v1/uploads/{id}/complete``.

Both check what arrived in the bucket and queue the thumbnail job, through the same
idempotent service; ``handler`` is the one Lambda entry point for both triggers.
"""

from typing import Any

from chalice.app import Response, SQSEvent

from lightbox import api
from lightbox.batch import BatchResponse, process_batch
from lightbox.events import SqsRecord, is_sqs_event, object_events
from lightbox.services import uploads
from lightbox.wiring import Container

app = api.create_app("lightbox-upload-complete")
container = Container()


@app.route("/v1/uploads/{asset_id}/complete", methods=["POST"])
@api.json_errors
def complete_upload(asset_id: str) -> Response:
    owner_id = api.authenticate(api.current_request(app), container.config)
    status = uploads.complete_upload(
        owner_id, api.asset_id_param(asset_id),
        assets=container.assets, storage=container.storage, jobs=container.jobs,
    )
    return api.json_response({"asset_id": asset_id, "status": status.value}, 202)


@app.on_sqs_message(queue="lightbox-ingest", batch_size=10)
def on_objects_created(event: SQSEvent) -> BatchResponse:
    return process_batch(event.to_dict(), _complete_objects)


def _complete_objects(record: SqsRecord) -> None:
    for event in object_events(record.body):
        if event.created:
            uploads.complete_stored_object(
                event.bucket, event.key, expected_bucket=container.config.require("bucket"),
                assets=container.assets, storage=container.storage, jobs=container.jobs,
            )


def handler(event: dict[str, Any], context: Any) -> Any:
    if is_sqs_event(event):
        return on_objects_created(event, context)
    return app(event, context)
