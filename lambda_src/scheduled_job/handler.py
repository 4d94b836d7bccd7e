"""Keel's example scheduled job, invoked by EventBridge Scheduler. It does its work in one go (no
sleeping, no polling: the whitepaper's "no orchestration in code") and reports completion as a
JobCompleted event on the environment bus, which other services can react to."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from keel_runtime import events, tracing
from keel_runtime.config import config

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger()
tracer = tracing.tracer()
metrics = Metrics()


@dataclass(frozen=True)
class Run:
    scheduled_time: str
    batch_size: int


def parse(event: dict[str, Any], default_batch_size: int) -> Run:
    """Scheduler passes what the template put in the target input: the schedule time and the job name."""
    batch = event.get("batch_size", default_batch_size)
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise ValueError(f"batch_size: expected a positive integer, got {batch!r}")
    return Run(scheduled_time=str(event.get("scheduled_time", "")), batch_size=batch)


def run(job: Run) -> dict[str, Any]:
    """The job itself. Replace with the service's own; keep it idempotent per scheduled_time."""
    started = time.monotonic()
    processed = 0  # a real job processes up to job.batch_size units of work here
    result = {"scheduled_time": job.scheduled_time, "processed": processed,
              "duration_ms": round((time.monotonic() - started) * 1000, 3)}
    events.publish("JobCompleted", result)
    metrics.add_metric(name="JobRuns", unit=MetricUnit.Count, value=1)
    return result


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    batch_size = int(config().get("batch-size", default=100))  # /keel/<env>/<service>/batch-size
    return run(parse(event, batch_size))
