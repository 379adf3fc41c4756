"""Every route of every HTTP function maps errors and is in the OpenAPI document, and the
services below them know nothing of HTTP."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import library
import presign
import pytest
import thumbnails_api
import upload_complete
from chalice.app import Chalice

from infra.template import Template
from lightbox.http.app import Api

REPO = Path(__file__).resolve().parents[2]
OPENAPI = json.loads((REPO / "functions" / "openapi.json").read_text())
APPS = {"presign": presign.app, "upload_complete": upload_complete.app, "library": library.app,
        "thumbnails_api": thumbnails_api.app}
TEMPLATE = Template.load(REPO / "template.yaml")
SERVICES = sorted((REPO / "functions" / "lightbox" / "services").glob("*.py"))


def routes(app: Chalice) -> list[tuple[str, str, object]]:
    return [(method, path, entry.view_function)
            for path, methods in app.routes.items() for method, entry in methods.items()]


@pytest.mark.parametrize("name", APPS)
def test_every_route_maps_errors(name: str) -> None:
    app = APPS[name]
    assert isinstance(app, Api)
    unmapped = [f"{method} {path}" for method, path, view in routes(app)
                if not getattr(view, "maps_errors", False)]
    assert routes(app) and unmapped == []


def test_a_route_declared_on_plain_chalice_would_be_caught() -> None:
    plain = Chalice(app_name="plain")

    @plain.route("/v1/raw")
    def raw() -> None: ...

    assert [getattr(view, "maps_errors", False) for _, _, view in routes(plain)] == [False]


@pytest.mark.parametrize("name", APPS)
def test_every_route_is_in_the_openapi_document(name: str) -> None:
    missing = [f"{method} {path}" for method, path, _ in routes(APPS[name])
               if method.lower() not in OPENAPI["paths"].get(path, {})]
    assert missing == []


def test_every_function_with_routes_in_the_template_is_checked_here() -> None:
    handlers = {TEMPLATE.functions[route.function].handler.split(".")[0]
                for route in TEMPLATE.routes}
    assert handlers == set(APPS)


@pytest.mark.parametrize("path", SERVICES, ids=lambda path: path.stem)
def test_services_know_nothing_of_http(path: Path) -> None:
    imported = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
    assert not {name for name in imported
                if name.split(".")[0] == "chalice" or name.startswith("lightbox.http")}
