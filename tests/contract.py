"""Real answers of the API checked against its contract, ``functions/openapi.json``.

``CONTRACT.check_response`` is a ``requests`` response hook
(``session.hooks["response"].append(CONTRACT.check_response)``); ``CONTRACT.check`` does the
same from plain values, for the answers of Chalice apps and Lambda handlers in unit tests.

For a documented route the status must be one the operation documents, and the body must
match that answer's schema (JSON Schema Draft 2020-12, formats checked; a documented answer
without content must have an empty body). An error answer that lists ``x-error-codes`` must
carry one of those codes. A path under ``/v1`` or ``/health`` that the document does not have
must get the gateway's 404 ``not_found``; a documented path asked with a method it does not
document, the gateway's 405 ``method_not_allowed``. Any other URL (the bucket's presigned
URLs, say) is not the API's and is not checked.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.parse import quote, urlsplit

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from referencing import Registry
from referencing.jsonschema import DRAFT202012

if TYPE_CHECKING:
    import requests

DOCUMENT = Path(__file__).resolve().parents[1] / "functions" / "openapi.json"
# The document's URI in the registry: the base against which its "#/components/..." resolve.
_URI = "urn:lightbox:openapi"
_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})
# Paths that belong to the API even where the document has no route for them.
_API_ROOTS = ("/v1", "/health")
_ERROR = "/components/schemas/Error"
_BODY_EXCERPT_CHARS = 2000


@dataclass(frozen=True)
class _Route:
    template: str
    pattern: re.Pattern[str]
    operations: Mapping[str, Any]

    @classmethod
    def of(cls, template: str, item: Mapping[str, Any]) -> _Route:
        regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template))
        operations = {method.upper(): operation for method, operation in item.items()
                      if method in _METHODS}
        return cls(template, re.compile(f"^{regex}$"), operations)

    @property
    def literal(self) -> bool:
        return "{" not in self.template


class Contract:
    """The operations of an OpenAPI 3.1 document, and the checks of answers against them."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = document
        self._registry: Registry[Any] = Registry().with_resource(
            _URI, DRAFT202012.create_resource(document))
        routes = [_Route.of(template, item) for template, item in document["paths"].items()]
        # A literal path wins over a template that would match it too.
        self._routes = sorted(routes, key=lambda route: not route.literal)
        self._validators: dict[str, Draft202012Validator] = {}

    @classmethod
    def load(cls, path: Path = DOCUMENT) -> Contract:
        return cls(json.loads(path.read_text()))

    def check_response(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        """A ``requests`` response hook: raises AssertionError for an answer off contract."""
        request = response.request
        self.check(request.method or "", request.url or "", response.status_code,
                   response.content)

    def check(self, method: str, path: str, status: int, body: bytes | str) -> None:
        """Check one answer; ``path`` may be a whole URL and may carry a query string."""
        method = method.upper()
        path = urlsplit(path).path
        route = self._route_of(path)
        if route is None:
            if any(path == root or path.startswith(root + "/") for root in _API_ROOTS):
                self._check_gateway_error(method, path, status, body, 404, "not_found")
            return
        operation = route.operations.get(method)
        if operation is None:
            self._check_gateway_error(method, path, status, body, 405, "method_not_allowed")
            return
        responses: Mapping[str, Any] = operation["responses"]
        if str(status) not in responses:
            self._fail(method, path, status, body,
                       f"status {status} is not documented for {method} {route.template} "
                       f"(documented: {', '.join(sorted(responses))})")
        pointer = "/".join(("/paths", _escape(route.template), method.lower(), "responses",
                            str(status)))
        answer, pointer = self._resolve(responses[str(status)], pointer)
        self._check_body(method, path, status, body, answer, pointer)

    # --- internals --------------------------------------------------------------------------

    def _route_of(self, path: str) -> _Route | None:
        return next((route for route in self._routes if route.pattern.match(path)), None)

    def _check_gateway_error(self, method: str, path: str, status: int, body: bytes | str,
                             expected: int, code: str) -> None:
        if status != expected:
            self._fail(method, path, status, body,
                       f"{method} {path} is not in the contract: the gateway answers "
                       f"{expected} {code}, not {status}")
        answer = {"content": {"application/json": {"schema": {"$ref": f"#{_ERROR}"}}},
                  "x-error-codes": [code]}
        self._check_body(method, path, status, body, answer, _ERROR, schema_pointer=_ERROR)

    def _check_body(self, method: str, path: str, status: int, body: bytes | str,
                    answer: Mapping[str, Any], pointer: str,
                    schema_pointer: str | None = None) -> None:
        raw = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
        if method == "HEAD":
            return  # an answer to HEAD has no body to check
        content = answer.get("content")
        if not content:
            if raw != "":
                self._fail(method, path, status, body, f"a {status} answer has no body here")
            return
        if "application/json" not in content:
            self._fail(method, path, status, body,
                       f"the contract knows only JSON bodies, not {', '.join(content)}")
        try:
            instance = json.loads(raw)
        except ValueError:
            self._fail(method, path, status, body, "the body is not JSON")
        if schema_pointer is None:
            schema_pointer = f"{pointer}/content/application~1json/schema"
        error = best_match(self._validator(schema_pointer).iter_errors(instance))
        if error is not None:
            at = "/".join(str(part) for part in error.absolute_path) or "(the body)"
            self._fail(method, path, status, body,
                       f"the body does not match {schema_pointer}: at {at}: {error.message}")
        codes = answer.get("x-error-codes")
        if codes is not None:
            code = instance["error"]["code"]
            if code not in codes:
                self._fail(method, path, status, body,
                           f"error code {code!r} is not one of {', '.join(codes)} for a "
                           f"{status} here")

    def _validator(self, pointer: str) -> Draft202012Validator:
        validator = self._validators.get(pointer)
        if validator is None:
            validator = Draft202012Validator(
                {"$ref": f"{_URI}#{quote(pointer, safe='/~')}"}, registry=self._registry,
                format_checker=Draft202012Validator.FORMAT_CHECKER)
            self._validators[pointer] = validator
        return validator

    def _resolve(self, node: Mapping[str, Any], pointer: str) -> tuple[Mapping[str, Any], str]:
        """Follow local ``$ref``s (a response may be one of components.responses)."""
        while "$ref" in node:
            reference: str = node["$ref"]
            if not reference.startswith("#/"):
                raise AssertionError(f"the contract refers outside itself: {reference}")
            pointer = reference[1:]
            node = self.document
            for part in pointer[1:].split("/"):
                node = node[part.replace("~1", "/").replace("~0", "~")]
        return node, pointer

    @staticmethod
    def _fail(method: str, path: str, status: int, body: bytes | str, reason: str) -> NoReturn:
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
        if len(text) > _BODY_EXCERPT_CHARS:
            text = text[:_BODY_EXCERPT_CHARS] + "..."
        raise AssertionError(f"off contract: {method} {path} -> {status}: {reason}\n"
                             f"body: {text}")


def _escape(segment: str) -> str:
    """A JSON Pointer reference token."""
    return segment.replace("~", "~0").replace("/", "~1")


CONTRACT = Contract.load()
