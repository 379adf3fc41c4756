"""listing: the library API — assets (pages, changes, one, rename/move, delete), projects,
stats — and ``GET /health`` and ``GET /openapi.json``."""

from pathlib import Path

from chalice.app import Response

from lightbox import api
from lightbox.services import library, listing
from lightbox.services.health import check_health
from lightbox.wiring import Container

container = Container()
app = api.create_app("lightbox-listing", lambda: container.config)
OPENAPI = Path(__file__).with_name("openapi.json")


@app.route("/v1/assets", methods=["GET"])
@api.json_errors
def list_assets() -> Response:
    request = api.current_request(app)
    owner_id = api.owner_of(request)
    page = listing.list_assets(
        owner_id, listing.parse_list_query(api.query_params(request)),
        catalog=container.catalog, storage=container.storage,
        url_ttl=container.config.download_url_ttl,
    )
    return api.json_response(api.page_json(page))


@app.route("/v1/assets/{asset_id}", methods=["GET"])
@api.json_errors
def get_asset(asset_id: str) -> Response:
    owner_id = api.owner_of(api.current_request(app))
    view = listing.get_asset(
        owner_id, api.asset_id_param(asset_id),
        assets=container.assets, storage=container.storage,
        url_ttl=container.config.download_url_ttl,
    )
    return api.json_response(api.asset_json(view))


@app.route("/v1/assets/{asset_id}", methods=["PATCH"])
@api.json_errors
def update_asset(asset_id: str) -> Response:
    request = api.current_request(app)
    owner_id = api.owner_of(request)
    asset = library.update_asset(
        owner_id, api.asset_id_param(asset_id),
        library.parse_asset_changes(api.read_json_object(request)),
        catalog=container.catalog, projects=container.projects,
    )
    view = listing.view_one(asset, assets=container.assets, storage=container.storage,
                            url_ttl=container.config.download_url_ttl)
    return api.json_response(api.asset_json(view))


@app.route("/v1/assets/{asset_id}", methods=["DELETE"])
@api.json_errors
def delete_asset(asset_id: str) -> Response:
    owner_id = api.owner_of(api.current_request(app))
    library.delete_asset(owner_id, api.asset_id_param(asset_id), catalog=container.catalog,
                         storage=container.storage)
    return api.no_content()


@app.route("/v1/projects", methods=["GET"])
@api.json_errors
def list_projects() -> Response:
    request = api.current_request(app)
    owner_id = api.owner_of(request)
    params = api.query_params(request)
    name = params.pop("name", None)
    api.refuse_unknown(params)
    projects = library.list_projects(
        owner_id, name=library.parse_name(name) if name is not None else None,
        projects=container.projects)
    return api.json_response({"items": [api.project_json(project) for project in projects]})


@app.route("/v1/projects", methods=["POST"])
@api.json_errors
def create_project() -> Response:
    request = api.current_request(app)
    owner_id = api.owner_of(request)
    project = library.create_project(
        owner_id, library.parse_project_name(api.read_json_object(request)),
        projects=container.projects, max_projects=container.config.max_projects,
    )
    return api.json_response(api.project_json(project), 201)


@app.route("/v1/projects/{project_id}", methods=["GET"])
@api.json_errors
def get_project(project_id: str) -> Response:
    owner_id = api.owner_of(api.current_request(app))
    project = library.get_project(owner_id, api.project_id_param(project_id),
                                  projects=container.projects)
    return api.json_response(api.project_json(project))


@app.route("/v1/projects/{project_id}", methods=["PATCH"])
@api.json_errors
def rename_project(project_id: str) -> Response:
    request = api.current_request(app)
    owner_id = api.owner_of(request)
    project = library.rename_project(
        owner_id, api.project_id_param(project_id),
        library.parse_project_name(api.read_json_object(request)), projects=container.projects,
    )
    return api.json_response(api.project_json(project))


@app.route("/v1/projects/{project_id}", methods=["DELETE"])
@api.json_errors
def delete_project(project_id: str) -> Response:
    request = api.current_request(app)
    owner_id = api.owner_of(request)
    params = api.query_params(request)
    cascade = api.flag_param(params, "cascade")
    api.refuse_unknown(params)
    library.delete_project(
        owner_id, api.project_id_param(project_id), cascade=cascade,
        projects=container.projects, catalog=container.catalog, storage=container.storage,
    )
    return api.no_content()


@app.route("/v1/stats", methods=["GET"])
@api.json_errors
def stats() -> Response:
    principal = api.principal_of(api.current_request(app))
    report = listing.library_stats(principal, catalog=container.catalog, jobs=container.jobs)
    return api.json_response(api.stats_json(report))


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


@app.route("/openapi.json", methods=["GET"])
@api.json_errors
def openapi() -> Response:
    return Response(body=OPENAPI.read_text(), status_code=200,
                    headers={"Content-Type": "application/json"})
