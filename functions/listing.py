"""listing: ``GET /v1/assets`` (keyset pages), ``GET /v1/assets/{id}`` and ``GET /health``."""

from chalice.app import Response

from lightbox import api
from lightbox.services import listing
from lightbox.services.health import check_health
from lightbox.wiring import Container

container = Container()
app = api.create_app("lightbox-listing", lambda: container.config)


@app.route("/v1/assets", methods=["GET"])
@api.json_errors
def list_assets() -> Response:
    request = api.current_request(app)
    owner_id = api.authenticate(request, container.config)
    page = listing.list_assets(
        owner_id, listing.parse_list_query(api.query_params(request)),
        assets=container.assets, storage=container.storage,
        url_ttl=container.config.download_url_ttl,
    )
    return api.json_response(api.page_json(page))


@app.route("/v1/assets/{asset_id}", methods=["GET"])
@api.json_errors
def get_asset(asset_id: str) -> Response:
    owner_id = api.authenticate(api.current_request(app), container.config)
    view = listing.get_asset(
        owner_id, api.asset_id_param(asset_id),
        assets=container.assets, storage=container.storage,
        url_ttl=container.config.download_url_ttl,
    )
    return api.json_response(api.asset_json(view))


@app.route("/health", methods=["GET"])
@api.json_errors
def health() -> Response:
    report = check_health({
        "database": lambda: container.assets.ping(),
        "storage": lambda: container.storage.ping(),
        "queue": lambda: container.jobs.ping(),
    })
    body = {"status": "ok" if report.ok else "unavailable", "checks": report.checks}
    return api.json_response(body, 200 if report.ok else 503)
