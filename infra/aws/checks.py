"""What CloudFormation and Lambda would refuse, found before anything is uploaded."""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

# Lambda's limit on a function's code, unzipped (layers included).
UNZIPPED_LIMIT_BYTES = 250 * 1024 * 1024
REGION = "us-east-1"


class CheckError(Exception):
    pass


def translate(document: Mapping[str, Any], *, region: str = REGION) -> dict[str, Any]:
    """The template as CloudFormation runs it: the AWS::Serverless transform applied.

    Each function's code and nested template is replaced by an S3 location first, as
    ``aws cloudformation package`` does before the transform ever sees it."""
    import boto3
    from samtranslator.model.exceptions import InvalidDocumentException
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator

    functions = [name for name, resource in document["Resources"].items()
                 if resource["Type"] == "AWS::Serverless::Function"]
    packaged = with_code_at(document, {name: f"s3://artifacts/{name}.zip" for name in functions})
    for name, resource in packaged["Resources"].items():
        if resource["Type"] == "AWS::CloudFormation::Stack":
            resource["Properties"]["TemplateURL"] = f"https://s3.amazonaws.com/artifacts/{name}"
    translator = Translator(managed_policy_map={}, sam_parser=Parser(),
                            boto_session=boto3.Session(region_name=region))
    try:
        return dict(translator.translate(packaged, parameter_values={},
                                         get_managed_policy_map=dict))
    except InvalidDocumentException as exc:
        causes = "; ".join(cause.message for cause in exc.causes)
        raise CheckError(f"the template does not translate: {causes}") from exc


def with_code_at(document: Mapping[str, Any], code_uris: Mapping[str, str]) -> dict[str, Any]:
    """A copy of the template with each named function's code at its own location."""
    packaged = copy.deepcopy(dict(document))
    packaged.get("Globals", {}).get("Function", {}).pop("CodeUri", None)
    for name, uri in code_uris.items():
        packaged["Resources"][name]["Properties"]["CodeUri"] = uri
    return packaged


def lint(document: Mapping[str, Any], *, region: str = REGION) -> list[str]:
    """cfn-lint's findings on a plain CloudFormation template, one line each."""
    from cfnlint.api import ManualArgs
    from cfnlint.api import lint as cfn_lint

    matches = cfn_lint(json.dumps(document), config=ManualArgs(regions=[region]))
    return [f"{match.rule.id} {match.message} ({'/'.join(map(str, match.path))})"
            for match in matches]


def unzipped_size(directory: Path) -> int:
    return sum(
        (Path(root) / name).stat().st_size
        for root, _, names in os.walk(directory)
        for name in names
    )
