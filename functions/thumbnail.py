"""thumbnail: renders the derivatives of each asset named by a job on the thumbnail queue, or
renders a ready asset's again with the current spec when the job says ``rerender``."""

from chalice.app import SQSEvent

from lightbox.batch import BatchResponse, process_batch
from lightbox.domain import ThumbnailJob
from lightbox.events import SqsRecord
from lightbox.function import Function
from lightbox.services import thumbnails
from lightbox.wiring import Container

container = Container()
app = Function("lightbox-thumbnail", lambda: container.config)


@app.on_sqs_message(queue="lightbox-thumbnail-jobs", batch_size=1)
def handle_jobs(event: SQSEvent) -> BatchResponse:
    return process_batch(event.to_dict(), _render, backoff=container.backoff,
                         metrics=container.metrics)


def _render(record: SqsRecord) -> None:
    container.give_way.wait()  # the backfill lane's, on a shared machine; at once elsewhere
    job = ThumbnailJob.from_json(record.body)
    if job.rerender:
        thumbnails.rerender_job(job, container.pipeline, render=container.render,
                                spec=container.render_spec, policy=container.processing_policy)
        return
    thumbnails.process_job(
        job, container.pipeline,
        render=container.render, spec=container.render_spec, policy=container.processing_policy,
    )
