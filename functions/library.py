"""library: the library API — assets (pages, changes, the timeline's months, one, rename/move,
delete, similar ones), groups of near-duplicates, projects with their members and shares, a
shared album as its link opens it, imports, stats, the admin's rerender — ``GET /health``,
``GET /openapi.json``, and the deep-zoom tiles a grant opens (``/v1/tiles/...``)."""

from pathlib import Path

from chalice.app import Response

from lightbox.http import inputs, outputs
from lightbox.http.app import Api
from lightbox.services import imports, library, listing, processing, rerender, sharing, tiles
from lightbox.services.health import check_health
from lightbox.wiring import Container

container = Container()
app = Api("lightbox-library", lambda: container.config)
OPENAPI = Path(__file__).with_name("openapi.json")
IMPORTS_LISTED = 50  # the newest runs; older ones are still found by id


# Each view asks who is calling first: nothing of a stranger's request is read.

@app.route("/v1/assets", methods=["GET"])
def list_assets() -> Response:
    request = app.request
    owner_id = inputs.owner_of(request)
    query = inputs.parse_list_query(inputs.query_params(request))
    page = listing.list_assets(owner_id, query, container.pipeline,
                               url_ttl=container.config.download_url_ttl)
    return outputs.json_response(outputs.page_json(page, inputs.api_url(request)))


@app.route("/v1/timeline", methods=["GET"])
def timeline() -> Response:
    request = app.request
    owner_id = inputs.owner_of(request)
    filters = inputs.parse_timeline_query(inputs.query_params(request))
    months = listing.timeline(owner_id, filters, container.pipeline.assets)
    return outputs.json_response(outputs.timeline_json(months))


@app.route("/v1/assets/{asset_id}", methods=["GET"])
def get_asset(asset_id: str) -> Response:
    request = app.request
    owner_id = inputs.owner_of(request)
    view = listing.get_asset(owner_id, inputs.asset_id_param(asset_id), container.pipeline,
                             url_ttl=container.config.download_url_ttl)
    return outputs.json_response(outputs.asset_json(view, inputs.api_url(request)))


@app.route("/v1/assets/{asset_id}/similar", methods=["GET"])
def similar_assets(asset_id: str) -> Response:
    request = app.request
    owner_id = inputs.owner_of(request)
    query = inputs.parse_similar_query(inputs.query_params(request))
    found = listing.similar_assets(owner_id, inputs.asset_id_param(asset_id), query,
                                   container.pipeline, url_ttl=container.config.download_url_ttl)
    return outputs.json_response(outputs.similar_json(found, inputs.api_url(request)))


@app.route("/v1/similar", methods=["GET"])
def similar_groups() -> Response:
    request = app.request
    owner_id = inputs.owner_of(request)
    query = inputs.parse_groups_query(inputs.query_params(request))
    page = listing.similar_groups(owner_id, query, container.pipeline)
    return outputs.json_response(outputs.groups_json(page))


@app.route("/v1/assets/{asset_id}", methods=["PATCH"])
def update_asset(asset_id: str) -> Response:
    request = app.request
    owner_id = inputs.owner_of(request)
    changes = inputs.parse_asset_changes(inputs.read_json_object(request))
    asset = library.update_asset(owner_id, inputs.asset_id_param(asset_id), changes,
                                 container.pipeline, projects=container.projects)
    view = listing.view_one(asset, container.pipeline, url_ttl=container.config.download_url_ttl)
    return outputs.json_response(outputs.asset_json(view, inputs.api_url(request)))


@app.route("/v1/assets/{asset_id}", methods=["DELETE"])
def delete_asset(asset_id: str) -> Response:
    request = app.request
    owner_id = inputs.owner_of(request)
    permanent = inputs.parse_delete_query(inputs.query_params(request))
    if permanent:
        library.delete_asset(owner_id, inputs.asset_id_param(asset_id), container.pipeline)
    else:
        library.trash_asset(owner_id, inputs.asset_id_param(asset_id), container.pipeline)
    return outputs.no_content()


@app.route("/v1/assets/{asset_id}/restore", methods=["POST"])
def restore_asset(asset_id: str) -> Response:
    request = app.request
    owner_id = inputs.owner_of(request)
    asset = library.restore_asset(owner_id, inputs.asset_id_param(asset_id), container.pipeline)
    view = listing.view_one(asset, container.pipeline, url_ttl=container.config.download_url_ttl)
    return outputs.json_response(outputs.asset_json(view, inputs.api_url(request)))


@app.route("/v1/trash", methods=["DELETE"])
def empty_trash() -> Response:
    owner_id = inputs.owner_of(app.request)
    emptied = library.empty_trash(owner_id, container.pipeline)
    return outputs.json_response(outputs.emptied_json(emptied))


@app.route("/v1/projects", methods=["GET"])
def list_projects() -> Response:
    request = app.request
    owner_id = inputs.owner_of(request)
    name = inputs.parse_project_query(inputs.query_params(request))
    projects = library.list_projects(owner_id, name=name, projects=container.projects)
    return outputs.json_response({"items": [outputs.project_json(p) for p in projects]})


@app.route("/v1/projects", methods=["POST"])
def create_project() -> Response:
    request = app.request
    owner_id = inputs.owner_of(request)
    name = inputs.parse_project_name(inputs.read_json_object(request))
    project = library.create_project(owner_id, name, projects=container.projects,
                                     max_projects=container.config.max_projects)
    return outputs.json_response(outputs.project_json(project), 201)


@app.route("/v1/projects/{project_id}", methods=["GET"])
def get_project(project_id: str) -> Response:
    owner_id = inputs.owner_of(app.request)
    project = library.get_project(owner_id, inputs.project_id_param(project_id),
                                  projects=container.projects)
    return outputs.json_response(outputs.project_json(project))


@app.route("/v1/projects/{project_id}", methods=["PATCH"])
def rename_project(project_id: str) -> Response:
    request = app.request
    owner_id = inputs.owner_of(request)
    name = inputs.parse_project_name(inputs.read_json_object(request))
    project = library.rename_project(owner_id, inputs.project_id_param(project_id), name,
                                     projects=container.projects)
    return outputs.json_response(outputs.project_json(project))


@app.route("/v1/projects/{project_id}", methods=["DELETE"])
def delete_project(project_id: str) -> Response:
    request = app.request
    owner_id = inputs.owner_of(request)
    cascade = inputs.parse_cascade_query(inputs.query_params(request))
    library.delete_project(owner_id, inputs.project_id_param(project_id), container.pipeline,
                           cascade=cascade, projects=container.projects)
    return outputs.no_content()


@app.route("/v1/projects/{project_id}/assets", methods=["POST"])
def add_to_project(project_id: str) -> Response:
    request = app.request
    owner_id = inputs.owner_of(request)
    asset_ids = inputs.parse_members(inputs.read_json_object(request))
    added = library.add_to_project(owner_id, inputs.project_id_param(project_id), asset_ids,
                                   projects=container.projects)
    return outputs.json_response(outputs.members_json(added, "added"))


@app.route("/v1/projects/{project_id}/assets", methods=["DELETE"])
def remove_from_project(project_id: str) -> Response:
    request = app.request
    owner_id = inputs.owner_of(request)
    asset_ids = inputs.parse_members(inputs.read_json_object(request))
    removed = library.remove_from_project(owner_id, inputs.project_id_param(project_id),
                                          asset_ids, projects=container.projects)
    return outputs.json_response(outputs.members_json(removed, "removed"))


@app.route("/v1/projects/{project_id}/shares", methods=["POST"])
def share_project(project_id: str) -> Response:
    request = app.request
    owner_id = inputs.owner_of(request)
    wanted = inputs.parse_share_request(inputs.read_json_object(request))
    made = sharing.share_project(owner_id, inputs.project_id_param(project_id), wanted,
                                 shares=container.shares)
    gallery = container.config.gallery_url or inputs.api_url(request)
    url = f"{gallery.rstrip('/')}/#shared={made.token}"
    return outputs.json_response(outputs.share_json(made.share, token=made.token, url=url), 201)


@app.route("/v1/projects/{project_id}/shares", methods=["GET"])
def list_shares(project_id: str) -> Response:
    owner_id = inputs.owner_of(app.request)
    shares = sharing.list_shares(owner_id, inputs.project_id_param(project_id),
                                 shares=container.shares, projects=container.projects)
    return outputs.json_response({"items": [outputs.share_json(share) for share in shares]})


@app.route("/v1/projects/{project_id}/shares/{share_id}", methods=["DELETE"])
def revoke_share(project_id: str, share_id: str) -> Response:
    owner_id = inputs.owner_of(app.request)
    sharing.revoke_share(owner_id, inputs.project_id_param(project_id),
                         inputs.share_id_param(share_id), shares=container.shares)
    return outputs.no_content()


# The one view without an owner: the token in its path is the credential, and opens that
# album only.
@app.route("/v1/shared/{token}", methods=["GET"])
def open_share(token: str) -> Response:
    request = app.request
    query = inputs.parse_shared_query(inputs.query_params(request))
    page = sharing.open_share(inputs.share_token_param(token), query, container.pipeline,
                              shares=container.shares, projects=container.projects,
                              url_ttl=container.config.download_url_ttl)
    return outputs.json_response(outputs.shared_page_json(page))


@app.route("/v1/imports", methods=["POST"])
def start_import() -> Response:
    request = app.request
    owner_id = inputs.owner_of(request)
    report, started = imports.start_import(
        owner_id, inputs.parse_import_request(inputs.read_json_object(request)),
        imports=container.imports, queue=container.import_queue, projects=container.projects,
        policy=container.import_policy)
    # 202: started now; 200: the run already listing that source, joined.
    return outputs.json_response(outputs.import_json(report), 202 if started else 200)


@app.route("/v1/imports", methods=["GET"])
def list_imports() -> Response:
    owner_id = inputs.owner_of(app.request)
    reports = imports.list_imports(owner_id, imports=container.imports, limit=IMPORTS_LISTED)
    return outputs.json_response({"items": [outputs.import_json(report) for report in reports]})


@app.route("/v1/imports/{import_id}", methods=["GET"])
def get_import(import_id: str) -> Response:
    owner_id = inputs.owner_of(app.request)
    report = imports.import_report(owner_id, inputs.import_id_param(import_id),
                                   imports=container.imports)
    return outputs.json_response(outputs.import_json(report))


@app.route("/v1/stats", methods=["GET"])
def stats() -> Response:
    report = listing.library_stats(inputs.principal_of(app.request), container.pipeline)
    return outputs.json_response(outputs.stats_json(report))


@app.route("/v1/admin/rerender", methods=["POST"])
def start_rerender() -> Response:
    request = app.request
    principal = inputs.principal_of(request)
    after, limit = inputs.parse_rerender_request(inputs.read_json_object(request))
    page = rerender.send_page(principal, container.pipeline,
                              render_spec=container.render_spec.fingerprint, after=after,
                              limit=limit)
    return outputs.json_response(outputs.rerender_page_json(page), 202)


@app.route("/v1/admin/rerender", methods=["GET"])
def rerender_progress() -> Response:
    progress = rerender.progress(inputs.principal_of(app.request), container.pipeline,
                                 render_spec=container.render_spec.fingerprint)
    return outputs.json_response(outputs.rerender_progress_json(progress))


@app.route("/v1/admin/processing", methods=["GET"])
def processing_state() -> Response:
    state = processing.processing(inputs.principal_of(app.request), container.processing_switch)
    return outputs.json_response(outputs.processing_json(state))


@app.route("/v1/admin/processing", methods=["PUT"])
def pause_or_resume() -> Response:
    request = app.request
    principal = inputs.principal_of(request)
    paused = inputs.parse_processing_request(inputs.read_json_object(request))
    state = processing.set_paused(principal, container.processing_switch, paused)
    return outputs.json_response(outputs.processing_json(state))


# Public: a browser's viewer asks for these without the API key. The grant in the path is
# the access (services/tiles.py); nothing is answered before it is checked.

@app.route("/v1/tiles/{asset_id}/{grant}/info.json", methods=["GET"])
def tile_info(asset_id: str, grant: str) -> Response:
    asset = tiles.granted_asset(inputs.asset_id_param(asset_id), grant,
                                assets=container.assets, key=container.tile_key)
    assert asset.tiles is not None  # a granted asset is a tiled one
    service_id = outputs.tile_service_id(inputs.api_url(app.request), asset.id, grant)
    return outputs.json_response(outputs.tile_info_json(asset.tiles, service_id))


@app.route("/v1/tiles/{asset_id}/{grant}/{region}/{size}/{rotation}/{quality_format}",
           methods=["GET"])
def get_tile(*, asset_id: str, grant: str, region: str, size: str, rotation: str,
             quality_format: str) -> Response:  # Chalice passes path parameters by name
    asset = tiles.granted_asset(inputs.asset_id_param(asset_id), grant,
                                assets=container.assets, key=container.tile_key)
    return outputs.redirect(tiles.tile_url(asset, region, size, rotation, quality_format,
                                           storage=container.storage))


@app.route("/health", methods=["GET"])
def health() -> Response:
    # Each dependency is built inside its probe: one that is misconfigured fails its check only.
    report = check_health({
        "database": lambda: container.assets.ping(),
        "storage": lambda: container.storage.ping(),
        "queue": lambda: container.jobs.ping(),
    })
    body = {"status": "ok" if report.ok else "unavailable", "checks": report.checks}
    return outputs.json_response(body, 200 if report.ok else 503)


@app.route("/openapi.json", methods=["GET"])
def openapi() -> Response:
    return Response(body=OPENAPI.read_text(), status_code=200,
                    headers={"Content-Type": "application/json"})
