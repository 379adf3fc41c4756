"""The local stand-in for the two control-plane APIs that ``lightbox admin pause|resume``
calls: Lambda's event source mappings and EventBridge's rules, as far as Lightbox uses them.

The functions reach it as AWS's endpoints (``AWS_ENDPOINT_URL_LAMBDA`` and
``AWS_ENDPOINT_URL_EVENTBRIDGE``), so the library function's switch
(``lightbox/adapters/processing.py``) runs the same calls here as on AWS. Each queue trigger
of ``template.yaml`` is a mapping and each schedule a rule; the bridge and the scheduler ask
here before they take up work. What is disabled is written to a file of the data directory at
once, so that a stack restarted while paused stays paused, as Lambda's mappings do.

It listens on 127.0.0.1 only and, like the local queues' server, checks no signature.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from infra.local.loopback import LoopbackHandler
from infra.template import QueueTrigger, Schedule

log = logging.getLogger(__name__)

_MAPPINGS = "/2015-03-31/event-source-mappings/"


@dataclass(frozen=True)
class _Mapping:
    uuid: str
    queue: str  # the template's name of it
    function: str
    function_arn: str
    queue_arn: str
    batch_size: int


@dataclass(frozen=True)
class _Rule:
    name: str
    function: str
    function_arn: str
    seconds: int


class ControlPlane:
    def __init__(self, triggers: Sequence[QueueTrigger], schedules: Sequence[Schedule], *,
                 function_arns: Mapping[str, str], queue_arns: Mapping[str, str],
                 state_file: Path) -> None:
        self._mappings = {
            mapping.uuid: mapping for mapping in (
                _Mapping(str(uuid.uuid5(uuid.NAMESPACE_URL, f"{t.function}/{t.queue}")),
                         t.queue, t.function, function_arns[t.function], queue_arns[t.queue],
                         t.batch_size)
                for t in triggers)
        }
        self._rules = {rule.name: rule for rule in (
            _Rule(f"local-{s.function}", s.function, function_arns[s.function], s.seconds)
            for s in schedules)}
        self._state_file = state_file
        self._lock = threading.Lock()
        self._disabled: set[str] = self._read_state()
        self._busy: Counter[str] = Counter()  # batches being taken, by mapping
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.control = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        name="control-plane", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        self._thread.start()
        if self._disabled:
            log.warning("processing is paused (lightbox admin resume starts it): %s",
                        ", ".join(sorted(self._disabled)))

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    @contextmanager
    def taking(self, trigger: QueueTrigger) -> Iterator[bool]:
        """Whether the bridge may take a batch of this queue for its function now; while it
        does, a disabled mapping reports ``Disabling``, as Lambda's does until its pollers
        have stopped."""
        mapping = self._mapping_of(trigger)
        with self._lock:
            taking = mapping.uuid not in self._disabled
            if taking:
                self._busy[mapping.uuid] += 1
        try:
            yield taking
        finally:
            if taking:
                with self._lock:
                    self._busy[mapping.uuid] -= 1

    def _mapping_of(self, trigger: QueueTrigger) -> _Mapping:
        return next(m for m in self._mappings.values()
                    if (m.function, m.queue) == (trigger.function, trigger.queue))

    def runs(self, schedule: Schedule) -> bool:
        """Whether the scheduler may start this schedule's function."""
        return f"local-{schedule.function}" not in self._disabled

    # --- Lambda ----------------------------------------------------------------------------

    def list_mappings(self, function: str) -> dict[str, Any]:
        found = [self._mapping_json(m) for m in self._mappings.values()
                 if function in (m.function, m.function_arn)]
        return {"EventSourceMappings": found}

    def update_mapping(self, mapping_uuid: str, body: Mapping[str, Any]) -> dict[str, Any]:
        mapping = self._mappings.get(mapping_uuid)
        if mapping is None:
            raise _NotFound(f"no event source mapping {mapping_uuid}")
        if "Enabled" in body:
            self._set(mapping.uuid, bool(body["Enabled"]))
        return self._mapping_json(mapping)

    def _mapping_json(self, mapping: _Mapping) -> dict[str, Any]:
        return {"UUID": mapping.uuid, "FunctionArn": mapping.function_arn,
                "EventSourceArn": mapping.queue_arn, "BatchSize": mapping.batch_size,
                "State": self._state_of(mapping),
                "FunctionResponseTypes": ["ReportBatchItemFailures"]}

    def _state_of(self, mapping: _Mapping) -> str:
        with self._lock:
            if mapping.uuid not in self._disabled:
                return "Enabled"
            return "Disabling" if self._busy[mapping.uuid] else "Disabled"

    # --- EventBridge -----------------------------------------------------------------------

    def events(self, action: str, body: Mapping[str, Any]) -> dict[str, Any]:
        if action == "ListRuleNamesByTarget":
            target = str(body.get("TargetArn", ""))
            return {"RuleNames": [r.name for r in self._rules.values()
                                  if r.function_arn == target]}
        rule = self._rules.get(str(body.get("Name", "")))
        if rule is None:
            raise _NotFound(f"Rule {body.get('Name')} does not exist.")
        if action == "DescribeRule":
            return {"Name": rule.name, "Arn": f"arn:aws:events:local:000000000000:rule/"
                    f"{rule.name}", "ScheduleExpression": f"rate({rule.seconds // 60} minutes)",
                    "State": "DISABLED" if rule.name in self._disabled else "ENABLED"}
        if action in ("EnableRule", "DisableRule"):
            self._set(rule.name, action == "EnableRule")
            return {}
        raise _Unsupported(f"the local runtime does not serve EventBridge's {action}")

    # --- state -----------------------------------------------------------------------------

    def _set(self, name: str, enabled: bool) -> None:
        with self._lock:
            before = set(self._disabled)
            (self._disabled.discard if enabled else self._disabled.add)(name)
            if self._disabled != before:
                self._write_state()
                log.warning("%s %s", name, "enabled" if enabled else "disabled")

    def _read_state(self) -> set[str]:
        try:
            return set(json.loads(self._state_file.read_text())["disabled"])
        except FileNotFoundError:
            return set()

    def _write_state(self) -> None:
        # Written whole and renamed into place: a crash leaves the old state or the new one.
        temporary = self._state_file.with_suffix(".tmp")
        temporary.write_text(json.dumps({"disabled": sorted(self._disabled)}) + "\n")
        temporary.replace(self._state_file)


class _NotFound(Exception):
    pass


class _Unsupported(Exception):
    pass


class _Handler(LoopbackHandler):
    def do_GET(self) -> None:
        self._dispatch()

    do_PUT = do_POST = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        log.debug(format, *args)

    def _dispatch(self) -> None:
        control: ControlPlane = self.server.control  # type: ignore[attr-defined]
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
            target = self.headers.get("X-Amz-Target", "")
            if self.command == "POST" and target.startswith("AWSEvents."):
                self._answer(200, control.events(target.removeprefix("AWSEvents."), body))
            elif self.command == "GET" and url.path.rstrip("/") == _MAPPINGS.rstrip("/"):
                function = parse_qs(url.query).get("FunctionName", [""])[0]
                self._answer(200, control.list_mappings(function))
            elif self.command == "PUT" and url.path.startswith(_MAPPINGS):
                mapping = unquote(url.path.removeprefix(_MAPPINGS))
                self._answer(202, control.update_mapping(mapping, body))
            else:
                raise _Unsupported(f"the local runtime does not serve {self.command} {url.path}")
        except _NotFound as exc:
            self._answer(404 if not self.headers.get("X-Amz-Target") else 400,
                         {"__type": "ResourceNotFoundException", "Type": "User",
                          "message": str(exc), "Message": str(exc)})
        except (_Unsupported, ValueError) as exc:
            self._answer(400, {"__type": "ValidationException", "message": str(exc)})

    def _answer(self, status: int, document: Mapping[str, Any]) -> None:
        data = json.dumps(document).encode()
        self.send_response(status)
        content_type = ("application/x-amz-json-1.1" if self.headers.get("X-Amz-Target")
                        else "application/json")
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        if status == 404:
            self.send_header("x-amzn-ErrorType", "ResourceNotFoundException")
        self.end_headers()
        self.wfile.write(data)
