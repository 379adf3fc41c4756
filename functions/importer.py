"""importer: lists and adopts one page of an import for each job on the import queue, then
queues the next page."""

from chalice.app import SQSEvent

from lightbox.batch import BatchResponse, process_batch
from lightbox.domain import ImportJob
from lightbox.events import SqsRecord
from lightbox.function import Function
from lightbox.services import imports
from lightbox.wiring import Container

container = Container()
app = Function("lightbox-importer", lambda: container.config)


@app.on_sqs_message(queue="lightbox-imports", batch_size=1)
def handle_pages(event: SQSEvent) -> BatchResponse:
    return process_batch(event.to_dict(), _import_page, backoff=container.backoff,
                         metrics=container.metrics)


def _import_page(record: SqsRecord) -> None:
    imports.import_page(
        ImportJob.from_json(record.body), container.pipeline, imports=container.imports,
        queue=container.import_queue, projects=container.projects,
        open_source=container.import_source, policy=container.import_policy,
        give_way=container.give_way,
    )
