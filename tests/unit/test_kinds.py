"""The kinds of file Lightbox takes are named one way everywhere: the server's list
(``filetypes.SUPPORTED``) is what the README's table, the OpenAPI document, the CLI and the
gallery offer."""

from __future__ import annotations

import json
import re
from pathlib import Path

from lightbox import filetypes
from lightbox_cli.main import KINDS
from lightbox_cli.uploads import CONTENT_TYPES, TYPE_NAMES

REPO = Path(__file__).resolve().parents[2]
SUPPORTED = set(filetypes.SUPPORTED)


def test_the_readme_table_names_every_kind_and_no_other() -> None:
    readme = (REPO / "README.md").read_text()
    table = readme.split("## What it takes", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in table.splitlines() if line.startswith("| ") and "`" in line]
    named = {found for row in rows for found in re.findall(r"`((?:image|application|video)/[\w.+-]+)`", row)}
    assert named == SUPPORTED


def test_the_openapi_document_offers_exactly_these_types() -> None:
    document = json.loads((REPO / "functions" / "openapi.json").read_text())
    enums = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if "image/jpeg" in node.get("enum", []):
                enums.append(set(node["enum"]))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(document)
    # An asset shows what its client declared until its bytes are read: "let the bytes say" too.
    assert enums and all(enum - {filetypes.UNDECLARED} == SUPPORTED for enum in enums)
    asset = document["components"]["schemas"]["Asset"]["properties"]["content_type"]["enum"]
    assert filetypes.UNDECLARED in asset


def test_the_cli_sends_exactly_these_types() -> None:
    assert set(CONTENT_TYPES.values()) == SUPPORTED
    assert set(TYPE_NAMES.values()) == SUPPORTED


def test_the_kinds_searched_for_are_named_alike_everywhere_and_cover_every_type() -> None:
    document = json.loads((REPO / "functions" / "openapi.json").read_text())
    [kind] = [parameter for parameter in document["paths"]["/v1/assets"]["get"]["parameters"]
              if parameter.get("name") == "kind"]
    assert kind["schema"]["enum"] == list(filetypes.KINDS) == list(KINDS)
    assert set().union(*filetypes.KINDS.values()) == SUPPORTED
    assert set(filetypes.KINDS["raw"]) < set(filetypes.KINDS["photo"])


def test_the_gallery_sends_exactly_these_types() -> None:
    api = (REPO / "web" / "gallery" / "api.js").read_text()
    table = api.split("const TYPES_BY_EXTENSION = {", 1)[1].split("};", 1)[0]
    by_extension = dict(re.findall(r'"?(\w+)"?: "((?:image|application|video)/[\w.+-]+)"', table))
    assert set(by_extension.values()) == SUPPORTED
    accept = re.search(r'id="file-input"[^>]*accept="([^"]+)"',
                       (REPO / "web" / "gallery" / "index.html").read_text(), re.S)
    assert accept is not None
    offered = set(accept.group(1).split(","))
    assert {f".{extension}" for extension in by_extension} <= offered
    assert {t for t in offered if not t.startswith(".")} <= SUPPORTED
