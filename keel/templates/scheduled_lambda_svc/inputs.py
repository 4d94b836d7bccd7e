"""scheduled-lambda-svc inputs and cross-field rules. CDK-free."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar

from keel.contract.problems import InputProblem
from keel.contract.schedule import check_schedule
from keel.spec.model import Environment
from keel.templates.lambda_inputs import LambdaFunctionInputs, check_function, check_sources  # noqa: F401 (the template's source check)


@dataclass(frozen=True)
class ScheduledLambdaSvcInputs(LambdaFunctionInputs):
    schedule_expression: str
    schedule_timezone: str
    schedule_enabled: bool
    flexible_window_minutes: int
    retry_attempts: int
    max_event_age_seconds: int
    function_retry_attempts: int


@dataclass(frozen=True)
class ScheduledLambdaSvcInputsV13(ScheduledLambdaSvcInputs):
    """scheduled-lambda-svc 1.3: the handler of every runtime's form, checked against the runtime."""

    handler_forms: ClassVar[bool] = True


def check(inputs: ScheduledLambdaSvcInputs, env: Environment) -> Iterator[InputProblem]:
    yield from check_function(inputs)
    yield from check_schedule(inputs.schedule_expression)
