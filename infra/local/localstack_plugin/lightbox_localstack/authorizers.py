"""Lambda REQUEST authorizers for REST APIs, which LocalStack's community edition does not run.

Without them, a deployed API either lets every request through to its functions with no
authorizer context, or (Lightbox's functions refuse such a request) answers 401 to all. This
handler joins the API Gateway's request chain where LocalStack leaves room for it
(``preprocess_request``, after routing) and does what API Gateway does for a method whose
authorizer is a Lambda function of REQUEST type: 401 when an identity source is missing,
the function invoked with the REQUEST event, 401 when it raises "Unauthorized", 500 when it
fails otherwise, 403 unless its policy allows the method, and its context (values as
strings) with the principal in ``requestContext.authorizer``.

Not done: caching answers for the authorizer's TTL (every request asks the function), and
TOKEN authorizers (the template has none).
"""

from __future__ import annotations

import fnmatch
import json
import logging
from collections.abc import Iterable
from typing import Any

from localstack.aws.connect import connect_to
from localstack.http import Response
from localstack.runtime import hooks
from localstack.services.apigateway.next_gen.execute_api.api import (
    RestApiGatewayHandler,
    RestApiGatewayHandlerChain,
)
from localstack.services.apigateway.next_gen.execute_api.context import RestApiInvocationContext
from localstack.services.apigateway.next_gen.execute_api.gateway_response import (
    AccessDeniedError,
    AuthorizerConfigurationError,
    UnauthorizedError,
)

LOG = logging.getLogger("localstack.lightbox.authorizers")
_HEADER_SOURCE = "method.request.header."


class LambdaRequestAuthorizer(RestApiGatewayHandler):
    def __call__(self, chain: RestApiGatewayHandlerChain, context: RestApiInvocationContext,
                 response: Response) -> None:
        method = context.resource_method or {}
        if method.get("authorizationType") != "CUSTOM":
            return
        authorizer = context.deployment.rest_api.authorizers.get(method.get("authorizerId"))
        if not authorizer or authorizer.get("type") != "REQUEST":
            raise AuthorizerConfigurationError("only Lambda REQUEST authorizers are run here")
        request = context.invocation_request
        headers = request["headers"]
        for source in (authorizer.get("identitySource") or "").split(","):
            header = source.strip().removeprefix(_HEADER_SOURCE)
            if header != source.strip() and not headers.get(header):
                raise UnauthorizedError("Unauthorized")
        method_arn = (f"arn:aws:execute-api:{context.region}:{context.account_id}:"
                      f"{context.api_id}/{context.stage}/{request['http_method']}"
                      f"{context.context_variables['resourcePath']}")
        answer = self._ask(context, authorizer["authorizerUri"], {
            "type": "REQUEST",
            "methodArn": method_arn,
            "resource": context.resource["path"],
            "path": request["path"],
            "httpMethod": request["http_method"],
            "headers": dict(headers.items()),
            "multiValueHeaders": _multi_value(headers.items()),
            "queryStringParameters": request["query_string_parameters"] or None,
            "multiValueQueryStringParameters":
                request["multi_value_query_string_parameters"] or None,
            "pathParameters": request["path_parameters"] or None,
            "stageVariables": context.stage_variables or None,
            "requestContext": context.context_variables,
        })
        if not _allows(answer.get("policyDocument") or {}, method_arn):
            raise AccessDeniedError("User is not authorized to access this resource")
        values = {name: _as_string(value) for name, value in (answer.get("context") or {}).items()}
        context.context_variables["authorizer"] = {**values, "principalId": answer["principalId"]}

    @staticmethod
    def _ask(context: RestApiInvocationContext, uri: str, event: dict[str, Any]
             ) -> dict[str, Any]:
        # arn:aws:apigateway:REGION:lambda:path/2015-03-31/functions/FUNCTION_ARN/invocations
        function_arn = uri.split("/functions/", 1)[1].removesuffix("/invocations")
        client = connect_to(aws_access_key_id=context.account_id,
                            region_name=context.region).lambda_
        result = client.invoke(FunctionName=function_arn, Payload=json.dumps(event).encode())
        payload = json.loads(result["Payload"].read() or b"null")
        if result.get("FunctionError"):
            if isinstance(payload, dict) and payload.get("errorMessage") == "Unauthorized":
                raise UnauthorizedError("Unauthorized")
            LOG.warning("the authorizer %s failed: %s", function_arn, payload)
            raise AuthorizerConfigurationError("the authorizer failed")
        if not isinstance(payload, dict) or "principalId" not in payload:
            raise AuthorizerConfigurationError("the authorizer's answer has no principal")
        return payload


def _multi_value(pairs: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for name, value in pairs:
        values.setdefault(name, []).append(value)
    return values


def _allows(policy: dict[str, Any], method_arn: str) -> bool:
    """Whether the policy allows the method: an Allow matches and no Deny does."""
    def matches(statement: dict[str, Any]) -> bool:
        resources = statement.get("Resource") or []
        return any(fnmatch.fnmatchcase(method_arn, resource)
                   for resource in ([resources] if isinstance(resources, str) else resources))

    statements = policy.get("Statement") or []
    statements = [statements] if isinstance(statements, dict) else statements
    if any(s.get("Effect") == "Deny" and matches(s) for s in statements):
        return False
    return any(s.get("Effect") == "Allow" and matches(s) for s in statements)


def _as_string(value: Any) -> str:
    # API Gateway passes an authorizer's context on as strings: true, not True.
    return json.dumps(value) if isinstance(value, bool) else str(value)


@hooks.on_infra_start()
def run_lambda_authorizers() -> None:
    from localstack.services.apigateway.next_gen.execute_api import handlers

    handlers.preprocess_request.append(LambdaRequestAuthorizer())
