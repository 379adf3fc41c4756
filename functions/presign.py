"""presign: ``POST /v1/uploads`` records a pending asset and signs the PUT of its original
(or of its first parts, for a large one); ``GET /v1/uploads/{asset_id}/parts`` signs more
parts."""

from chalice.app import Response

from lightbox import api
from lightbox.services import uploads
from lightbox.wiring import Container

container = Container()
app = api.create_app("lightbox-presign", lambda: container.config)


@app.route("/v1/uploads", methods=["POST"])
@api.json_errors
def create_upload() -> Response:
    request = api.current_request(app)
    owner_id = api.owner_of(request)
    upload = uploads.parse_upload_request(
        api.read_json_object(request), max_upload_bytes=container.config.max_upload_bytes
    )
    ticket = uploads.create_upload(
        owner_id, upload, assets=container.assets,
        projects=container.projects, storage=container.storage, policy=container.upload_policy,
    )
    return api.json_response(api.ticket_json(ticket), 200 if ticket.duplicate else 201)


@app.route("/v1/uploads/{asset_id}/parts", methods=["GET"])
@api.json_errors
def presign_parts(asset_id: str) -> Response:
    request = api.current_request(app)
    owner_id = api.owner_of(request)
    upload_id = api.asset_id_param(asset_id)
    upload = uploads.presign_parts(
        owner_id, upload_id, uploads.parse_parts_query(api.query_params(request)),
        assets=container.assets, storage=container.storage, policy=container.upload_policy,
    )
    return api.json_response(api.parts_json(upload_id, upload))
