"""authorizer: API Gateway's Lambda authorizer (REQUEST type) for every ``/v1`` route.

It turns ``Authorization: Bearer`` credentials — an API key, or a JWT of the configured OIDC
issuer — into the owner the functions act for, and whether the key is an admin's, passed to
them in the request context.
"""

from typing import Any

from lightbox.errors import Unauthorized
from lightbox.function import entry_point
from lightbox.services import auth
from lightbox.wiring import Container

container = Container()


@entry_point(lambda: container.config)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        principal = auth.authenticate(event.get("headers") or {}, keys=container.api_keys,
                                      tokens=container.token_verifier)
    except Unauthorized:
        # API Gateway answers 401 to exactly this error message, and nothing else.
        raise Exception("Unauthorized") from None
    return {
        "principalId": principal.owner_id,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": "Allow",
                           "Resource": _whole_api(event["methodArn"])}],
        },
        "context": {"owner_id": principal.owner_id, "admin": principal.admin},
    }


def _whole_api(method_arn: str) -> str:
    # API Gateway caches the answer per credentials: it must hold for every route of the API.
    # arn:aws:execute-api:REGION:ACCOUNT:API_ID/STAGE/METHOD/PATH → …:API_ID/STAGE/*
    api, stage = method_arn.split("/")[:2]
    return f"{api}/{stage}/*"
