"""Requests generated from ``functions/openapi.json``, sent to the running local stack.

No answer may be a 5xx, and every answer must be one the document describes: its status,
content type, headers and body schema (schemathesis' response checks). The stack runs on the
embedded backend only: the API in front of it is the same whatever S3 sits behind.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import APIOperation, Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from lightbox import filetypes
from tests.conftest import REPO
from tests.e2e.conftest import LARGE_UPLOAD_BYTES, Stack, start_stack
from tests.support import image_bytes

pytestmark = pytest.mark.e2e

DOCUMENT = REPO / "functions" / "openapi.json"
# Generated cases per operation: 16 operations at this many keep the module to minutes.
EXAMPLES = 40
BOUNDED = settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
                   suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module")
def api_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    data: Path = tmp_path_factory.mktemp("schemathesis") / "data"
    running = start_stack(data, "embedded", LIGHTBOX_LARGE_UPLOAD_BYTES=str(LARGE_UPLOAD_BYTES))
    yield running
    assert running.stop() == 0, running.log_tail()


@dataclass(frozen=True)
class Library:
    """What generated requests may name besides random ids, so that they reach past a 404."""

    asset_ids: tuple[str, ...]
    project_ids: tuple[str, ...]


@pytest.fixture(scope="module")
def library(api_stack: Stack) -> Library:
    client = api_stack.api_client()
    created = client.http.post(f"{api_stack.api}/v1/projects", json={"name": "schemathesis"},
                               timeout=30)
    assert created.status_code == 201, created.text
    project_id = created.json()["project_id"]
    ready = [client.upload(f"photo-{n}.jpg", "image/jpeg", image_bytes("JPEG", (64 + n, 48)),
                           **({"project_id": project_id} if n else {}))
             for n in range(3)]
    for asset_id in ready:
        client.wait_until_settled(asset_id)
    data = image_bytes("PNG", (32, 32))
    pending = client.presign("pending.png", "image/png", data)  # never PUT: stays pending
    assert pending.status_code == 201, pending.text
    return Library((*ready, pending.json()["asset_id"]), (project_id,))


@pytest.fixture(scope="module")
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


# Operations are listed from the document itself (schemathesis' own pytest parametrisation
# needs a pytest older than ours). The MinIO webhook is no part of the JSON API: MinIO, not a
# client, calls it, with a webhook token that this stack does not set.
SCHEMA = schemathesis.openapi.from_path(DOCUMENT)
OPERATIONS = [operation for result in SCHEMA.get_all_operations()
              if (operation := result.ok()).path != "/hooks/minio"]
# Every /v1 operation but those the document opens to anyone: a shared album's link and the
# tiles a grant opens, whose credentials are in their paths.
SECURED = [operation for operation in OPERATIONS if operation.path.startswith("/v1/")
           and operation.definition.raw.get("security") != []]


# The answer's checks, and that a request the document rules out is refused. Not the converse:
# a request can match the schema and still be refused for what only the service knows (a
# content type it does not take, a size over the configured limit, a project not found).
ANSWER_CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
                 response_headers_conformance, response_schema_conformance,
                 negative_data_rejection]


def label(operation: APIOperation) -> str:
    return f"{operation.method.upper()} {operation.path}"


# Requests that match the document, and requests that break it where the operation takes
# input (an operation without any has nothing to break).
RUNS = [(operation, GenerationMode.POSITIVE) for operation in OPERATIONS] + [
    (operation, GenerationMode.NEGATIVE) for operation in OPERATIONS
    if operation.path_parameters or operation.query or operation.body or operation.headers
]


@pytest.mark.parametrize(("operation", "mode"), RUNS,
                         ids=lambda value: label(value) if isinstance(value, APIOperation)
                         else value.value)
@BOUNDED
@given(data=st.data())
def test_no_generated_request_gets_a_server_error_or_an_undocumented_answer(
        operation: APIOperation, mode: GenerationMode, data: st.DataObject, api_stack: Stack,
        library: Library, http: requests.Session) -> None:
    case = data.draw(operation.as_strategy(generation_mode=mode))
    if mode is GenerationMode.POSITIVE:
        aim_at_the_library(case, library, data)
    case.call_and_validate(base_url=api_stack.api, session=http, timeout=30,
                           headers={"Authorization": f"Bearer {api_stack.api_key}"},
                           checks=ANSWER_CHECKS)


def aim_at_the_library(case: Case, library: Library, data: st.DataObject) -> None:
    """Now and then, ids of what exists and a type the service takes, in place of random ones."""
    for name, ids in (("asset_id", library.asset_ids), ("project_id", library.project_ids)):
        if name in (case.path_parameters or {}) and data.draw(st.booleans()):
            case.path_parameters[name] = data.draw(st.sampled_from(ids))
        if isinstance(case.body, dict) and name in case.body and data.draw(st.booleans()):
            case.body[name] = data.draw(st.sampled_from(ids))
    if isinstance(case.body, dict) and "content_type" in case.body and data.draw(st.booleans()):
        case.body["content_type"] = data.draw(st.sampled_from(filetypes.SUPPORTED))


@pytest.mark.parametrize("operation", SECURED, ids=label)
@settings(BOUNDED, max_examples=5)
@given(data=st.data())
def test_a_request_without_a_valid_key_is_refused_with_401_not_a_server_error(
        operation: APIOperation, data: st.DataObject, api_stack: Stack,
        http: requests.Session) -> None:
    case = data.draw(operation.as_strategy())
    for headers in ({}, {"Authorization": "Bearer lbk_" + "x" * 43},
                    {"Authorization": f"Basic {api_stack.api_key}"}):
        case.headers = {name: value for name, value in (case.headers or {}).items()
                        if name.lower() != "authorization"}
        response = case.call(base_url=api_stack.api, session=http, headers=headers, timeout=30)
        case.validate_response(response, checks=[not_a_server_error])
        assert response.status_code == 401, response.text
