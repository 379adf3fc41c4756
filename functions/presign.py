"""presign: ``POST /v1/uploads`` records a pending asset and signs the PUT of its original
(or of its first parts, for a large one); ``GET /v1/uploads/{asset_id}/parts`` signs more
parts."""

from chalice.app import Response

from lightbox.http import inputs, outputs
from lightbox.http.app import Api
from lightbox.services import uploads
from lightbox.wiring import Container

container = Container()
app = Api("lightbox-presign", lambda: container.config)


@app.route("/v1/uploads", methods=["POST"])
def create_upload() -> Response:
    request = app.request
    owner_id = inputs.owner_of(request)  # first: nothing of a stranger's request is read
    upload = inputs.parse_upload_request(inputs.read_json_object(request),
                                         max_upload_bytes=container.config.max_upload_bytes)
    ticket = uploads.create_upload(owner_id, upload, container.pipeline,
                                   projects=container.projects, policy=container.upload_policy)
    return outputs.json_response(outputs.ticket_json(ticket), 200 if ticket.duplicate else 201)


@app.route("/v1/uploads/{asset_id}/parts", methods=["GET"])
def presign_parts(asset_id: str) -> Response:
    request = app.request
    owner_id = inputs.owner_of(request)
    upload_id = inputs.asset_id_param(asset_id)
    upload = uploads.presign_parts(
        owner_id, upload_id, inputs.parse_parts_query(inputs.query_params(request)),
        container.pipeline, policy=container.upload_policy,
    )
    return outputs.json_response(outputs.parts_json(upload_id, upload))
