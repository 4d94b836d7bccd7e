"""scheduled-fargate-svc inputs and cross-field rules. CDK-free."""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache

from keel.contract.problems import InputProblem
from keel.contract.schedule import check_schedule
from keel.spec.model import Environment
from keel.templates.container_inputs import (
    ExternalSecretReference,
    FargateInputs,
    Sidecar,
    SidecarV12,
    check_capacity,
    runs_on_ec2,
)
from keel.templates.container_inputs import check_sources as check_sources  # Windows containers (issue 15)


@dataclass(frozen=True)
class RetryInputs:
    maximum_retry_attempts: int
    maximum_event_age_seconds: int


@dataclass(frozen=True)
class ScheduledInputs(FargateInputs):
    schedule_expression: str
    schedule_timezone: str
    flexible_window_minutes: int
    enabled: bool
    retry: RetryInputs


@dataclass(frozen=True)
class ScheduledInputsV11(ScheduledInputs):
    """scheduled-fargate-svc 1.1: 1.0 plus Copilot's habits."""

    # Copilot habits (issue 16)
    external_secrets: tuple[ExternalSecretReference, ...]
    timeout_seconds: int | None
    retries: int
    # sidecars (issue 17)
    sidecars: tuple[Sidecar, ...]


@dataclass(frozen=True)
class ScheduledInputsV12(ScheduledInputsV11):
    """scheduled-fargate-svc 1.2: 1.1 plus this round's blocks (each at the end)."""

    # ec2 placement (issue 18)
    cpu_architecture: str  # ARM64 | X86_64
    capacity: str  # fargate | ec2
    capacity_provider: str | None
    requires_gpu: int
    placement_constraints: tuple[str, ...]
    # sidecars (issue 17): with the 1.2 sidecar's external_secrets
    sidecars: tuple[SidecarV12, ...]


@dataclass(frozen=True)
class ScheduledInputsV13(ScheduledInputsV12):
    """scheduled-fargate-svc 1.3: 1.2 plus Windows tasks (each block at the end)."""

    # Windows containers (issue 15)
    operating_system_family: str  # LINUX | WINDOWS_SERVER_2019_CORE | ..._FULL | WINDOWS_SERVER_2022_CORE | ..._FULL


@cache
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def check(inputs: ScheduledInputs, env: Environment) -> Iterator[InputProblem]:
    yield from check_capacity(inputs, env)
    yield from check_schedule(inputs.schedule_expression)
    zones = _time_zones()  # empty without tz data on this machine: then EventBridge is the judge
    if zones and inputs.schedule_timezone not in zones | {"UTC"}:
        yield "schedule_timezone", "is not an IANA time zone", inputs.schedule_timezone, \
            "a name such as UTC, Europe/Paris or America/New_York"
    if isinstance(inputs, ScheduledInputsV11) and runs_in_state_machine(inputs) and inputs.tasks > 1:
        # Step Functions' ECS RunTask integration starts one task and waits for it.
        yield "desired_count", "runs one task per run when timeout_seconds or retries is set (Step Functions " \
            "waits for that task)", inputs.tasks, "1, or neither timeout_seconds nor retries"
    if runs_on_ec2(inputs) and runs_in_state_machine(inputs):
        # ec2 placement (issue 18): Step Functions' RunTask takes a launch type, not a capacity provider strategy.
        yield "capacity", "is ec2, and timeout_seconds or retries run the task through Step Functions, whose ECS " \
            "RunTask takes a launch type, not the capacity provider the task must land on", "ec2", \
            "capacity fargate, or neither timeout_seconds nor retries"


def runs_in_state_machine(inputs: ScheduledInputs) -> bool:
    """1.1: a timeout or retries of a failed run need Step Functions between the schedule and the task."""
    return isinstance(inputs, ScheduledInputsV11) and (inputs.timeout_seconds is not None or inputs.retries > 0)
