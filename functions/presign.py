"""presign: ``POST /v1/uploads`` records a pending asset and signs the PUT of its original."""

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
    config = container.config
    owner_id = api.authenticate(request, config)
    upload = uploads.parse_upload_request(
        api.read_json_object(request), max_upload_bytes=config.max_upload_bytes
    )
    ticket = uploads.create_upload(
        owner_id, upload, assets=container.assets, storage=container.storage,
        upload_url_ttl=config.upload_url_ttl,
    )
    return api.json_response(api.ticket_json(ticket), 200 if ticket.duplicate else 201)
