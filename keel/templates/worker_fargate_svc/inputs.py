"""worker-fargate-svc inputs and cross-field rules. CDK-free."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from keel.contract.problems import InputProblem
from keel.spec.model import Environment
from keel.templates.container_inputs import (
    FargateServiceInputs,
    QueueScalingInputs,
    check_fargate,
    check_scaling,
)


@dataclass(frozen=True)
class QueueInputs:
    visibility_timeout_seconds: int
    max_receive_count: int
    retention_days: int


@dataclass(frozen=True)
class SubscriptionInputs:
    sources: tuple[str, ...]
    detail_types: tuple[str, ...]

    @property
    def enabled(self) -> bool:
        return bool(self.sources or self.detail_types)


@dataclass(frozen=True)
class WorkerInputs(FargateServiceInputs):
    queue: QueueInputs
    subscription: SubscriptionInputs
    scaling: QueueScalingInputs


def check(inputs: WorkerInputs, env: Environment) -> Iterator[InputProblem]:
    yield from check_fargate(inputs, env)
    yield from check_scaling(inputs.scaling, inputs.desired_count)
