"""scheduled-lambda-svc inputs and cross-field rules. CDK-free."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from keel.templates.lambda_inputs import LambdaFunctionInputs, check_function, check_sources  # noqa: F401 (the template's source check)

_RATE = re.compile(r"^rate\((?P<n>[0-9]+) (?P<unit>minute|minutes|hour|hours|day|days)\)$")


@dataclass(frozen=True)
class ScheduledLambdaSvcInputs(LambdaFunctionInputs):
    schedule_expression: str
    schedule_timezone: str
    schedule_enabled: bool
    flexible_window_minutes: int
    retry_attempts: int
    max_event_age_seconds: int
    function_retry_attempts: int


def check(inputs: ScheduledLambdaSvcInputs, env: Any) -> Iterator[tuple[str, str, Any, str | None]]:
    yield from check_function(inputs)
    expression = inputs.schedule_expression
    if expression.startswith("rate("):
        match = _RATE.match(expression)
        if not match or int(match.group("n")) < 1 or (int(match.group("n")) == 1) != \
                (not match.group("unit").endswith("s")):
            yield "schedule_expression", "is not a valid rate expression", expression, \
                "rate(1 minute), rate(5 minutes), rate(1 hour)..."
    elif expression.startswith("cron(") and len(expression[5:-1].split()) != 6:
        yield "schedule_expression", "a cron expression has six fields", expression, \
            "cron(minutes hours day-of-month month day-of-week year)"
