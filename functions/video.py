"""video: makes the poster frames of each clip named by a job on the video queue, or makes a
ready clip's again with the current spec when the job says ``rerender``."""

from chalice.app import SQSEvent

from lightbox.batch import BatchResponse, process_batch
from lightbox.domain import ThumbnailJob
from lightbox.events import SqsRecord
from lightbox.function import Function
from lightbox.services import thumbnails
from lightbox.wiring import Container

container = Container()
app = Function("lightbox-video", lambda: container.config)


@app.on_sqs_message(queue="lightbox-video-jobs", batch_size=1)
def handle_jobs(event: SQSEvent) -> BatchResponse:
    return process_batch(event.to_dict(), _render, backoff=container.backoff,
                         metrics=container.metrics)


def _render(record: SqsRecord) -> None:
    job = ThumbnailJob.from_json(record.body)
    if job.rerender:
        thumbnails.rerender_job(job, container.pipeline, render=container.render_clip,
                                read_original=thumbnails.seekable, spec=container.render_spec,
                                policy=container.processing_policy)
        return
    thumbnails.process_job(
        job, container.pipeline,
        render=container.render_clip, open_original=thumbnails.ranged,
        spec=container.render_spec, policy=container.processing_policy,
    )
