"""template.yaml as CloudFormation will see it, checked without an AWS account."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping
from typing import Any

import pytest

from infra.aws.checks import CheckError, lint, translate
from infra.template import Resolver, Template, load_document
from lightbox.adapters.s3 import REJECTED_TAG
from tests.conftest import REPO

TEMPLATE = Template.load(REPO / "template.yaml")
DATABASE = load_document(REPO / "infra" / "aws" / "database.yaml")


@pytest.fixture(scope="module")
def translated() -> dict[str, Any]:
    return translate(TEMPLATE.document)


def test_the_template_translates_and_lints_clean(translated: dict[str, Any]) -> None:
    assert lint(translated) == []


def test_the_nested_database_template_lints_clean() -> None:
    assert lint(DATABASE) == []


def test_lint_reports_a_broken_reference() -> None:
    broken = copy.deepcopy(dict(TEMPLATE.document))
    del broken["Resources"]["ThumbnailDeadLetterQueue"]
    findings = lint(translate(broken))
    assert any(f.startswith("E") and "ThumbnailDeadLetterQueue" in f for f in findings), findings


def test_a_template_the_transform_refuses_is_a_check_error() -> None:
    broken = copy.deepcopy(dict(TEMPLATE.document))
    broken["Resources"]["PresignFunction"]["Properties"]["Events"]["CreateUpload"][
        "Properties"]["Method"] = 42
    with pytest.raises(CheckError, match="PresignFunction"):
        translate(broken)


def test_lint_reports_a_property_aws_does_not_have(translated: dict[str, Any]) -> None:
    broken = copy.deepcopy(translated)
    broken["Resources"]["IngestQueue"]["Properties"]["VisibilityTimeoutSeconds"] = 180
    assert any(finding.startswith("E3002") for finding in lint(broken))


def test_every_function_runs_python_312_and_names_its_package(translated: dict[str, Any]) -> None:
    functions = _of_type(translated, "AWS::Lambda::Function")
    assert len(functions) == len(TEMPLATE.functions) == 12
    assert {props["Runtime"] for props in functions.values()} == {"python3.12"}
    # Each on the processor the Architecture parameter names, which the build's wheels follow.
    assert all(props["Architectures"] == [{"Ref": "Architecture"}] for props in functions.values())
    packages = {name: function.package for name, function in TEMPLATE.functions.items()}
    assert set(packages.values()) == {"api", "imaging", "video"}
    assert {name for name, package in packages.items() if package == "imaging"} == {
        "ThumbnailFunction", "LargeThumbnailFunction", "BackfillFunction", "ResizeFunction"}
    assert {name for name, package in packages.items() if package == "video"} == {
        "VideoFunction"}
    for package in set(packages.values()):
        assert (REPO / "infra" / "aws" / "packages" / f"{package}.txt").exists()


def _requirements(package: str) -> set[str]:
    """The distributions a package's requirement file names, with those it includes."""
    names: set[str] = set()
    text = (REPO / "infra" / "aws" / "packages" / f"{package}.txt").read_text()
    for line in text.splitlines():
        requirement = line.split("#", 1)[0].strip()
        if requirement.startswith("-r "):
            names |= _requirements(requirement[3:].removesuffix(".txt"))
        elif requirement:
            names.add(requirement.split("[", 1)[0].lower())
    return names


def test_heavy_libraries_stay_in_the_packages_of_the_functions_that_use_them() -> None:
    video_only, imaging_only = {"av"}, {"rawpy", "pypdfium2", "tifffile", "imagecodecs", "pi-heif"}
    assert not (video_only | imaging_only) & _requirements("api")
    assert not video_only & _requirements("imaging")
    assert not imaging_only & _requirements("video")
    assert video_only <= _requirements("video") and imaging_only <= _requirements("imaging")


def test_each_api_route_is_a_rest_api_proxy_integration(translated: dict[str, Any]) -> None:
    (api,) = _of_type(translated, "AWS::ApiGateway::RestApi").values()
    paths = api["Body"]["paths"]
    declared = {(route.path, route.method.lower()) for route in TEMPLATE.routes}
    served = {(path, method) for path, methods in paths.items() for method in methods
              if method != "options"}
    assert served == declared
    for path, method in declared:
        integration = paths[path][method]["x-amazon-apigateway-integration"]
        assert integration["type"] == "aws_proxy"
    assert all("options" in methods for methods in paths.values())  # CORS preflight


def test_every_queue_has_a_dead_letter_queue_watched_by_an_alarm(translated: dict[str, Any]) -> None:
    queues = _of_type(translated, "AWS::SQS::Queue")
    dead_letter = {props["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
                   for props in queues.values() if "RedrivePolicy" in props}
    assert dead_letter == {name for name in queues if name.endswith("DeadLetterQueue")}
    watched = {props["Dimensions"][0]["Value"]["Fn::GetAtt"][0]
               for props in _of_type(translated, "AWS::CloudWatch::Alarm").values()
               if props.get("MetricName") == "ApproximateNumberOfMessagesVisible"}
    assert watched == dead_letter


def test_work_waits_in_its_queue_a_week_and_in_a_dead_letter_queue_longer(
        translated: dict[str, Any]) -> None:
    queues = _of_type(translated, "AWS::SQS::Queue")
    for props in queues.values():
        if "RedrivePolicy" in props:  # a work queue: SQS would keep only 4 days by default
            kept = props.get("MessageRetentionPeriod", 4 * 86400)
            letters = queues[props["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]]
            assert kept >= 7 * 86400
            # A dead letter's age counts from its first send: its queue must outlast the work's.
            assert letters["MessageRetentionPeriod"] > kept


def test_late_work_failing_functions_throttles_and_server_errors_each_raise_an_alarm(
    translated: dict[str, Any],
) -> None:
    alarms = _of_type(translated, "AWS::CloudWatch::Alarm")
    topic = {"Ref": "AlarmTopic"}
    assert all(props["AlarmActions"] == [topic] for props in alarms.values())

    def summed(metric: str) -> set[str]:
        """The functions whose ``metric`` some alarm adds up."""
        return {entry["MetricStat"]["Metric"]["Dimensions"][0]["Value"]["Ref"]
                for props in alarms.values() for entry in props.get("Metrics", [])
                if entry.get("MetricStat", {}).get("Metric", {}).get("MetricName") == metric}

    functions = set(_of_type(translated, "AWS::Lambda::Function"))
    assert summed("Errors") == functions
    assert summed("Throttles") == functions
    # CloudWatch takes at most ten metrics in an alarm's expression.
    assert all(len(props.get("Metrics", [])) <= 10 for props in alarms.values())
    oldest = {entry["MetricStat"]["Metric"]["Dimensions"][0]["Value"]["Fn::GetAtt"][0]
              for entry in alarms["OldestWorkAlarm"]["Metrics"] if "MetricStat" in entry}
    assert oldest == {"IngestQueue", "ThumbnailQueue", "LargeThumbnailQueue", "VideoQueue"}
    server_errors = alarms["ApiServerErrorAlarm"]
    assert server_errors["MetricName"] == "5XXError"
    api = _of_type(translated, "AWS::ApiGateway::RestApi")["Api"]
    assert server_errors["Dimensions"][0]["Value"] == api["Name"]


def test_the_dashboard_shows_every_queue_and_function(translated: dict[str, Any]) -> None:
    body = _of_type(translated, "AWS::CloudWatch::Dashboard")["Dashboard"]["DashboardBody"]
    template_text = body["Fn::Sub"]
    widgets = json.loads(template_text)["widgets"]
    assert len(widgets) >= 6
    named = set(re.findall(r"\$\{(\w+)(?:\.QueueName)?\}", template_text))
    assert set(_of_type(translated, "AWS::SQS::Queue")) <= named
    assert set(_of_type(translated, "AWS::Lambda::Function")) <= named


def test_the_bucket_is_private_encrypted_and_cleans_up_after_failed_uploads(
    translated: dict[str, Any],
) -> None:
    bucket = translated["Resources"]["MediaBucket"]
    props = bucket["Properties"]
    assert bucket["DeletionPolicy"] == "Retain"
    assert all(props["PublicAccessBlockConfiguration"].values())
    assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    rules = {rule["Id"]: rule for rule in props["LifecycleConfiguration"]["Rules"]}
    assert rules["abort-incomplete-multipart-uploads"]["AbortIncompleteMultipartUpload"]
    assert rules["expire-rejected-uploads"]["TagFilters"] == [
        {"Key": REJECTED_TAG, "Value": "true"}]
    assert "PUT" in props["CorsConfiguration"]["CorsRules"][0]["AllowedMethods"]


def test_the_bucket_keeps_earlier_versions_for_a_while_and_moves_originals_cold_if_asked(
    translated: dict[str, Any],
) -> None:
    props = translated["Resources"]["MediaBucket"]["Properties"]
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    rules = {rule["Id"]: rule for rule in props["LifecycleConfiguration"]["Rules"]}
    assert rules["expire-earlier-versions"]["NoncurrentVersionExpiration"] == {
        "NoncurrentDays": {"Ref": "DeletedObjectDays"}}
    assert rules["remove-expired-delete-markers"]["ExpiredObjectDeleteMarker"] is True
    cold = rules["cold-originals"]
    assert cold["Prefix"] == "originals/"  # never the derivatives, which every page shows
    assert cold["Status"] == {"Fn::If": ["ColdOriginals", "Enabled", "Disabled"]}
    assert cold["Transitions"][0]["StorageClass"] == "GLACIER_IR"
    assert translated["Parameters"]["ColdOriginalsDays"]["Default"] == 0  # off unless asked


def test_each_function_may_touch_only_its_own_part_of_the_bucket(
    translated: dict[str, Any],
) -> None:
    allowed = {name.removesuffix("Role"): _s3_grants(props)
               for name, props in _of_type(translated, "AWS::IAM::Role").items()
               if name.endswith("FunctionRole")}
    assert allowed["PresignFunction"] == {("s3:PutObject", "originals/*")}
    assert ("s3:PutObject", "originals/*") not in allowed["ThumbnailFunction"]
    assert ("s3:PutObject", "derivatives/*") in allowed["ThumbnailFunction"]
    # Listing reads everything it signs URLs for and deletes what a DELETE removes.
    assert allowed["LibraryFunction"] == {
        ("s3:GetObject", "*"), ("s3:ListBucket", "*"), ("s3:DeleteObject", "originals/*"),
        ("s3:DeleteObject", "derivatives/*"), ("s3:AbortMultipartUpload", "originals/*"),
        ("s3:PutObjectTagging", "originals/*")}
    # A retry re-verifies the original, and may tag it rejected.
    assert ("s3:PutObjectTagging", "originals/*") in allowed["LibraryFunction"]
    # Redrive retries failed assets: what upload-complete does to an original, no more.
    assert allowed["AdminFunction"] == {
        ("s3:GetObject", "originals/*"), ("s3:PutObject", "originals/*"),
        ("s3:PutObjectTagging", "originals/*"), ("s3:ListMultipartUploadParts", "originals/*"),
        ("s3:AbortMultipartUpload", "originals/*")}
    # The importer reads sources (any key but the library's: the service refuses those) and
    # writes copies as originals; the backfill renders as the thumbnail lanes do.
    assert allowed["ImporterFunction"] == {
        ("s3:ListBucket", "*"), ("s3:GetObject", "imports/*"), ("s3:GetObject", "*"),
        ("s3:PutObject", "originals/*"), ("s3:AbortMultipartUpload", "originals/*")}
    assert allowed["BackfillFunction"] == allowed["ThumbnailFunction"]
    # On-demand sizes: read from derivatives or the original, written as derivatives only.
    assert allowed["ResizeFunction"] == {
        ("s3:GetObject", "originals/*"), ("s3:GetObject", "derivatives/*"),
        ("s3:PutObject", "derivatives/*"), ("s3:DeleteObject", "derivatives/*")}
    assert allowed["AuthorizerFunction"] == set()
    every_action = {action for grants in allowed.values() for action, _ in grants}
    assert "s3:*" not in every_action and "s3:DeleteBucket" not in every_action


def test_every_v1_route_but_shared_albums_and_granted_tiles_needs_the_authorizer() -> None:
    public = {(route.method, route.path) for route in TEMPLATE.routes if route.authorizer is None}
    # A shared album's link and the tiles a grant opens carry their credential in their path.
    assert public == {("GET", "/health"), ("GET", "/openapi.json"), ("POST", "/hooks/minio"),
                      ("GET", "/v1/shared/{token}"),
                      ("GET", "/v1/tiles/{asset_id}/{grant}/info.json"),
                      ("GET", "/v1/tiles/{asset_id}/{grant}/{region}/{size}/{rotation}/"
                              "{quality_format}")}
    assert {route.authorizer for route in TEMPLATE.routes
            if route.path.startswith("/v1/") and not route.path.startswith("/v1/tiles/")
            and route.path != "/v1/shared/{token}"} == {"AuthorizerFunction"}


def test_the_authorizer_is_a_request_authorizer_cached_per_credentials(
    translated: dict[str, Any],
) -> None:
    body = translated["Resources"]["Api"]["Properties"]["Body"]
    (authorizer,) = body["securityDefinitions"].values()
    settings = authorizer["x-amazon-apigateway-authorizer"]
    assert settings["type"] == "request"
    assert settings["identitySource"] == "method.request.header.Authorization"
    assert 0 < settings["authorizerResultTtlInSeconds"] <= 300
    assert "AuthorizerFunction" in json.dumps(settings["authorizerUri"])
    assert body["paths"]["/health"]["get"]["security"] == [{"NONE": []}]
    # API Gateway may invoke it.
    assert any("Authorizer" in name for name in _of_type(translated, "AWS::Lambda::Permission"))


def test_the_created_database_is_reached_through_the_proxy_with_iam() -> None:
    resources = DATABASE["Resources"]
    proxy = resources["DatabaseProxy"]["Properties"]
    assert proxy["RequireTLS"] is True and proxy["Auth"][0]["IAMAuth"] == "REQUIRED"
    instance = resources["Database"]["Properties"]
    assert instance["ManageMasterUserPassword"] is True
    assert instance["PubliclyAccessible"] is False and instance["StorageEncrypted"] is True
    database_url = TEMPLATE.document["Globals"]["Function"]["Environment"]["Variables"][
        "DATABASE_URL"]
    assert database_url["Fn::If"][0] == "CreateDatabase"


@pytest.mark.parametrize(("create", "expected_url", "iam"), [
    ("false", "postgresql://app@db.example.com/lightbox", "false"),
    ("true", "postgresql://lightbox@PROXY:5432/lightbox?sslmode=require", "true"),
])
def test_the_database_settings_follow_create_database(
    create: str, expected_url: str, iam: str,
) -> None:
    resolver = Resolver(TEMPLATE, parameters={
        "CreateDatabase": create, "ExternalDatabaseUrl": "postgresql://app@db.example.com/lightbox",
    }, refs={"DatabaseStack.Outputs.ProxyEndpoint": "PROXY"}, arns={}, pseudo={})
    variables = TEMPLATE.document["Globals"]["Function"]["Environment"]["Variables"]
    assert resolver.resolve(variables["DATABASE_URL"]) == expected_url
    assert resolver.resolve(variables["LIGHTBOX_DATABASE_IAM_AUTH"]) == iam


def test_deploy_parameter_files_name_only_template_parameters() -> None:
    for environment in ("dev", "prod"):
        lines = (REPO / "infra" / "aws" / f"{environment}.env").read_text().splitlines()
        names = {line.split("=", 1)[0] for line in lines if line and not line.startswith("#")}
        assert names <= set(TEMPLATE.parameters), environment


def _of_type(document: Mapping[str, Any], kind: str) -> dict[str, Any]:
    return {name: resource.get("Properties", {}) for name, resource in
            document["Resources"].items() if resource["Type"] == kind}


def _s3_grants(role: Mapping[str, Any]) -> set[tuple[str, str]]:
    grants = set()
    for policy in role.get("Policies", []):
        for listed in policy["PolicyDocument"]["Statement"]:
            # A conditional statement: what the condition grants.
            statement = listed["Fn::If"][1] if "Fn::If" in listed else listed
            actions = statement["Action"]
            resources = statement["Resource"]
            for action in [actions] if isinstance(actions, str) else actions:
                if not action.startswith("s3:"):
                    continue
                for resource in resources if isinstance(resources, list) else [resources]:
                    text = resource["Fn::Sub"] if isinstance(resource, dict) else resource
                    grants.add((action, str(text).rsplit("}/", 1)[-1] if "}/" in str(text)
                                else "*"))
    return grants
