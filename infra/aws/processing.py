"""``python -m infra.aws.processing -e dev|prod pause|resume|show``: what ``lightbox admin
pause|resume`` does, from an operator's machine (credentials and region as for the AWS CLI;
``AWS_ENDPOINT_URL`` for LocalStack).

The library function answers ``lightbox admin pause`` by calling Lambda's and EventBridge's
APIs, which a function in a VPC without a NAT gateway cannot reach; this makes the same calls
from outside, with the same switch, over the functions the stack gives the library function.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import boto3

# The switch and the settings are the library function's own.
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "functions"))

from lightbox.adapters.processing import EventSourceSwitch
from lightbox.config import Config
from lightbox.values import Processing


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.aws.processing",
                                     description="Pause or resume a deployed stack's work.")
    parser.add_argument("-e", "--environment", required=True, choices=["dev", "prod"])
    parser.add_argument("action", choices=["pause", "resume", "show"])
    args = parser.parse_args(argv)
    switch = stack_switch(f"lightbox-{args.environment}")
    if args.action != "show":
        switch.set_enabled(args.action == "resume")
    processing = Processing(tuple(switch.triggers()))
    print(json.dumps({"state": processing.state.value,
                      "triggers": [{"function": t.function, "source": t.source,
                                    "state": t.state.value} for t in processing.triggers]},
                     indent=2))
    return 0


def stack_switch(stack: str) -> EventSourceSwitch:
    """The switch over the functions the stack's library function would pause."""
    library = boto3.client("cloudformation").describe_stack_resource(
        StackName=stack, LogicalResourceId="LibraryFunction")["StackResourceDetail"]
    lambda_client = boto3.client("lambda")
    variables = lambda_client.get_function_configuration(
        FunctionName=library["PhysicalResourceId"])["Environment"]["Variables"]
    functions = Config.from_env(variables).pausable_functions
    events_client = boto3.client("events")
    return EventSourceSwitch(lambda: lambda_client, lambda: events_client, functions)


if __name__ == "__main__":
    sys.exit(main())
