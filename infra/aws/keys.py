"""``python -m infra.aws.keys -e dev|prod create|list|revoke|rotate``: API keys of a deployed
stack.

The database sits in the stack's private network, so the keys are made by the stack's admin
function; this asks it through the Lambda API (credentials and region as for the AWS CLI;
``AWS_ENDPOINT_URL`` for LocalStack). ``create`` prints the new key on its last line.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import boto3


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.aws.keys",
                                     description="Manage the API keys of a deployed stack.")
    parser.add_argument("-e", "--environment", required=True, choices=["dev", "prod"])
    actions = parser.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="create a key; prints it on the last line")
    create.add_argument("--owner", required=True)
    create.add_argument("--name", default="")
    create.add_argument("--admin", action="store_true",
                        help="an admin's key: also sees the service's figures (queue depths)")
    listing = actions.add_parser("list", help="list keys (never the keys themselves)")
    listing.add_argument("--owner")
    revoke = actions.add_parser("revoke", help="revoke a key")
    revoke.add_argument("--owner", required=True)
    revoke.add_argument("key_id")
    rotate = actions.add_parser("rotate", help="a successor of a key, printed on the last line; "
                                "the key itself works until --grace seconds from now")
    rotate.add_argument("--owner", required=True)
    rotate.add_argument("--grace", type=int, default=86400,
                        help="seconds the old key goes on working (default a day)")
    rotate.add_argument("key_id")
    args = parser.parse_args(argv)

    event: dict[str, Any] = {"command": f"{args.action}-key" if args.action != "list"
                             else "list-keys", "owner": args.owner}
    if args.action == "create":
        event["name"] = args.name
        if args.admin:
            event["admin"] = True
    if args.action in ("revoke", "rotate"):
        event["key_id"] = args.key_id
    if args.action == "rotate":
        event["grace_seconds"] = args.grace
    answer = invoke(admin_function(f"lightbox-{args.environment}"), event)
    secret = answer.pop("secret", None)
    print(json.dumps(answer, indent=2))
    if secret is not None:
        print("the key, shown only now:")
        print(secret)
    return 0


def admin_function(stack: str) -> str:
    outputs = boto3.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0][
        "Outputs"]
    return str(next(o["OutputValue"] for o in outputs if o["OutputKey"] == "AdminFunctionName"))


def invoke(function: str, event: dict[str, Any]) -> dict[str, Any]:
    response = boto3.client("lambda").invoke(FunctionName=function,
                                             Payload=json.dumps(event).encode())
    payload = json.loads(response["Payload"].read() or b"null")
    if response.get("FunctionError"):
        raise SystemExit(f"the admin function failed: {payload.get('errorMessage', payload)}")
    answer: dict[str, Any] = payload
    return answer


if __name__ == "__main__":
    sys.exit(main())
