"""thumbnails_api: ``GET /v1/assets/{asset_id}/thumbnails/{size}``, a redirect to a thumbnail
of that size, made on first request when it is an on-demand size. Its own function, in the
imaging package: making a size needs Pillow, which the library function does not carry."""

from chalice.app import Response

from lightbox.http import inputs, outputs
from lightbox.http.app import Api
from lightbox.services import resize
from lightbox.wiring import Container

container = Container()
app = Api("lightbox-thumbnails", lambda: container.config)


@app.route("/v1/assets/{asset_id}/thumbnails/{size}", methods=["GET"])
def get_thumbnail(asset_id: str, size: str) -> Response:
    request = app.request
    owner_id = inputs.owner_of(request)
    wanted = inputs.parse_thumbnail_request(size, inputs.query_params(request))
    url = resize.thumbnail_url(owner_id, inputs.asset_id_param(asset_id), wanted,
                               container.pipeline, render=container.render,
                               spec=container.render_spec, policy=container.resize_policy)
    return outputs.redirect(url)
