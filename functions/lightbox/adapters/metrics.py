"""Metrics as CloudWatch reads them from a function's log, or as a person reads them.

``EmfMetrics`` prints each value at once as one Embedded Metric Format object, with Powertools
for AWS Lambda's ``single_metric``: CloudWatch turns the line into a metric without an API call
from the function, and nothing waits in memory for the end of an invocation, so a function
that dies still has reported what it did before. Powertools checks the names, units and
dimensions against EMF's limits, which a hand-written emitter would have to repeat.
"""

from __future__ import annotations

import logging

from aws_lambda_powertools.metrics import MetricUnit, single_metric

log = logging.getLogger(__name__)


class EmfMetrics:
    def __init__(self, namespace: str) -> None:
        self._namespace = namespace

    def record(self, name: str, value: float, unit: str, **dimensions: str) -> None:
        with single_metric(name=name, unit=MetricUnit(unit), value=value,
                           namespace=self._namespace, default_dimensions=dimensions):
            pass


class LoggedMetrics:
    """The local runtime's: a log line per value, among the functions' other lines."""

    def record(self, name: str, value: float, unit: str, **dimensions: str) -> None:
        split = "".join(f" {dimension}={label}" for dimension, label in dimensions.items())
        log.info("metric %s %g %s%s", name, value, unit, split)
