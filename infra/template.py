"""What ``template.yaml`` declares, read by the local runtime and by the deploy build.

The local stack builds its bucket, queues, notifications, routes, queue triggers and each
function's environment from the same template that deploys to AWS, so that the two cannot
drift apart; the deploy build reads which package each function needs. Only the intrinsic
functions the template uses are understood; anything else is an error rather than a silent
guess.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


class TemplateError(Exception):
    pass


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    function: str
    # The function API Gateway asks before this route's (a Lambda authorizer), if any.
    authorizer: str | None = None


@dataclass(frozen=True)
class QueueTrigger:
    queue: str
    function: str
    batch_size: int
    report_failures: bool


@dataclass(frozen=True)
class Schedule:
    function: str
    seconds: int


@dataclass(frozen=True)
class Function:
    name: str
    handler: str
    package: str
    code_uri: Path
    timeout: int
    memory: int
    environment: Mapping[str, Any]
    # Background work (Metadata Background: true): the local runtime runs it at a lower CPU
    # priority, since on one machine it shares the CPUs Lambda gives each environment alone.
    background: bool = False


@dataclass(frozen=True)
class Queue:
    name: str
    visibility_timeout: int
    dead_letter_queue: str | None
    max_receive_count: int | None


@dataclass(frozen=True)
class Notification:
    queue: str
    events: tuple[str, ...]
    prefix: str


@dataclass(frozen=True)
class Bucket:
    name: str
    bucket_name: Any
    notifications: tuple[Notification, ...]
    # CloudFormation's CorsRules, unresolved (the local runtime applies them to its bucket).
    cors_rules: tuple[Mapping[str, Any], ...]


@dataclass(frozen=True)
class Template:
    root: Path
    document: Mapping[str, Any]
    functions: Mapping[str, Function]
    routes: tuple[Route, ...]
    triggers: tuple[QueueTrigger, ...]
    schedules: tuple[Schedule, ...]
    queues: Mapping[str, Queue]
    bucket: Bucket

    @classmethod
    def load(cls, path: Path) -> Template:
        document = load_document(path)
        resources: dict[str, Any] = document["Resources"]
        defaults = document.get("Globals", {}).get("Function", {})
        default_authorizer = _default_authorizer(resources)
        functions, routes, triggers, schedules = {}, [], [], []
        for name, resource in _of_type(resources, "AWS::Serverless::Function"):
            props = {**defaults, **resource["Properties"]}
            functions[name] = Function(
                name=name,
                handler=props["Handler"],
                package=str(resource.get("Metadata", {}).get("Package", "")),
                background=resource.get("Metadata", {}).get("Background", False) is True,
                code_uri=(path.parent / props["CodeUri"]).resolve(),
                timeout=int(props.get("Timeout", 3)),
                memory=int(props.get("MemorySize", 128)),
                environment={
                    **defaults.get("Environment", {}).get("Variables", {}),
                    **resource["Properties"].get("Environment", {}).get("Variables", {}),
                },
            )
            for event in props.get("Events", {}).values():
                if event["Type"] == "Api":
                    route_auth = event["Properties"].get("Auth", {}).get("Authorizer")
                    routes.append(Route(
                        event["Properties"]["Method"].upper(), event["Properties"]["Path"], name,
                        authorizer=None if route_auth == "NONE" else default_authorizer,
                    ))
                elif event["Type"] == "SQS":
                    triggers.append(QueueTrigger(
                        queue=_target_of(event["Properties"]["Queue"]),
                        function=name,
                        batch_size=int(event["Properties"].get("BatchSize", 10)),
                        report_failures="ReportBatchItemFailures"
                        in event["Properties"].get("FunctionResponseTypes", []),
                    ))
                elif event["Type"] == "Schedule":
                    schedules.append(Schedule(name, _rate(_value(
                        event["Properties"]["Schedule"], document.get("Parameters", {})))))
        queues = {name: _queue(name, resource.get("Properties", {}))
                  for name, resource in _of_type(resources, "AWS::SQS::Queue")}
        buckets = [_bucket(name, resource.get("Properties", {}))
                   for name, resource in _of_type(resources, "AWS::S3::Bucket")]
        if len(buckets) != 1:
            raise TemplateError("the local runtime expects exactly one bucket")
        return cls(
            root=path.parent,
            document=document,
            functions=functions,
            routes=tuple(routes),
            triggers=tuple(triggers),
            schedules=tuple(schedules),
            queues=queues,
            bucket=buckets[0],
        )

    @property
    def cors(self) -> Mapping[str, Any]:
        """The API's Cors setting (AllowOrigin, AllowHeaders, AllowMethods, MaxAge)."""
        apis = _of_type(self.document["Resources"], "AWS::Serverless::Api")
        cors: Mapping[str, Any] = apis[0][1]["Properties"].get("Cors", {})
        return cors

    @property
    def parameters(self) -> Mapping[str, Any]:
        return dict(self.document.get("Parameters", {}))

    @property
    def conditions(self) -> Mapping[str, Any]:
        return dict(self.document.get("Conditions", {}))


class Resolver:
    """Evaluates the template's intrinsic functions against local resources."""

    def __init__(
        self,
        template: Template,
        *,
        parameters: Mapping[str, str],
        refs: Mapping[str, str],
        arns: Mapping[str, str],
        pseudo: Mapping[str, str],
    ) -> None:
        self._parameters = {
            name: str(spec.get("Default", "")) for name, spec in template.parameters.items()
        } | dict(parameters)
        self._conditions = template.conditions
        self._refs = refs
        self._arns = arns
        self._pseudo = pseudo

    def resolve(self, value: Any) -> str:
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            return str(value)
        if isinstance(value, dict) and len(value) == 1:
            (function, argument), = value.items()
            if function == "Ref":
                return self._ref(argument)
            if function == "Fn::GetAtt":
                resource, attribute = argument
                if attribute == "Arn" and resource in self._arns:
                    return self._arns[resource]
            if function == "Fn::Sub" and isinstance(argument, str):
                return re.sub(r"\$\{([^}]+)\}", lambda m: self._ref(m.group(1)), argument)
            if function == "Fn::If":
                condition, if_true, if_false = argument
                return self.resolve(if_true if self.holds(condition) else if_false)
            if function == "Fn::Join":
                separator, values = argument
                return str(separator).join(self.resolve(value) for value in values)
        raise TemplateError(f"the local runtime cannot evaluate {value!r}")

    def holds(self, condition: Any) -> bool:
        """Whether a named condition, or a condition function, is true."""
        if isinstance(condition, str):
            if condition not in self._conditions:
                raise TemplateError(f"unknown condition {condition!r}")
            return self.holds(self._conditions[condition])
        if isinstance(condition, dict) and len(condition) == 1:
            (function, argument), = condition.items()
            if function == "Condition":
                return self.holds(argument)
            if function == "Fn::Equals":
                left, right = argument
                return self.resolve(left) == self.resolve(right)
            if function == "Fn::Not":
                return not self.holds(argument[0])
            if function == "Fn::And":
                return all(self.holds(part) for part in argument)
            if function == "Fn::Or":
                return any(self.holds(part) for part in argument)
        raise TemplateError(f"the local runtime cannot evaluate the condition {condition!r}")

    def _ref(self, name: str) -> str:
        for table in (self._pseudo, self._parameters, self._refs):
            if name in table:
                return table[name]
        raise TemplateError(f"unknown reference {name!r}")


_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


def _default_authorizer(resources: Mapping[str, Any]) -> str | None:
    """The function of the API's default Lambda authorizer."""
    apis = _of_type(resources, "AWS::Serverless::Api")
    if len(apis) != 1:
        raise TemplateError("the local runtime expects exactly one API")
    auth = apis[0][1]["Properties"].get("Auth", {})
    default = auth.get("DefaultAuthorizer")
    if default is None:
        return None
    return _target_of(auth["Authorizers"][default]["FunctionArn"])


def _value(value: Any, parameters: Mapping[str, Any]) -> Any:
    """A property's value, a ``!Ref`` of a parameter being that parameter's default."""
    if isinstance(value, dict) and set(value) == {"Ref"} and value["Ref"] in parameters:
        return parameters[value["Ref"]].get("Default")
    return value


def _rate(expression: str) -> int:
    """Seconds between runs of a ``rate(...)`` schedule; cron expressions are not supported."""
    match = _RATE.match(expression)
    if match is None:
        raise TemplateError(f"the local runtime runs rate() schedules only, not {expression!r}")
    return int(match[1]) * _UNIT_SECONDS[match[2].rstrip("s")]


def _of_type(resources: Mapping[str, Any], kind: str) -> list[tuple[str, Any]]:
    return [(name, resource) for name, resource in resources.items() if resource["Type"] == kind]


def _target_of(reference: Any) -> str:
    """The logical id named by a !Ref or !GetAtt."""
    if isinstance(reference, dict) and "Ref" in reference:
        return str(reference["Ref"])
    if isinstance(reference, dict) and "Fn::GetAtt" in reference:
        return str(reference["Fn::GetAtt"][0])
    raise TemplateError(f"expected a reference to a resource, not {reference!r}")


def _queue(name: str, props: Mapping[str, Any]) -> Queue:
    redrive = props.get("RedrivePolicy")
    return Queue(
        name=name,
        visibility_timeout=int(props.get("VisibilityTimeout", 30)),
        dead_letter_queue=_target_of(redrive["deadLetterTargetArn"]) if redrive else None,
        max_receive_count=int(redrive["maxReceiveCount"]) if redrive else None,
    )


def _bucket(name: str, props: Mapping[str, Any]) -> Bucket:
    notifications = []
    for config in props.get("NotificationConfiguration", {}).get("QueueConfigurations", []):
        rules = config.get("Filter", {}).get("S3Key", {}).get("Rules", [])
        prefix = next((rule["Value"] for rule in rules if rule["Name"].lower() == "prefix"), "")
        notifications.append(
            Notification(queue=_target_of(config["Queue"]), events=(config["Event"],),
                         prefix=prefix)
        )
    return Bucket(name=name, bucket_name=props.get("BucketName"),
                  notifications=tuple(notifications),
                  cors_rules=tuple(props.get("CorsConfiguration", {}).get("CorsRules", [])))


def load_document(path: Path) -> dict[str, Any]:
    """The template as CloudFormation's long form: short tags become ``Fn::`` mappings."""
    return dict(yaml.load(path.read_text(), Loader=_CloudFormationLoader))


class _CloudFormationLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short tags (!Ref, !GetAtt, !Sub, ...) as plain mappings."""


def _short_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    function = suffix if suffix in ("Ref", "Condition") else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {function: value}


_CloudFormationLoader.add_multi_constructor("!", _short_tag)
