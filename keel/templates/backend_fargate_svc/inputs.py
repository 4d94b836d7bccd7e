"""backend-fargate-svc inputs and cross-field rules. CDK-free."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from keel.contract.problems import InputProblem
from keel.spec.model import Environment
from keel.templates.container_inputs import (
    ExternalSecretReference,
    FargateServiceInputs,
    ScalingInputs,
    check_fargate,
    check_port,
    check_scaling,
)


@dataclass(frozen=True)
class PrivateLinkInputs:
    enabled: bool
    allowed_principals: tuple[str, ...]
    acceptance_required: bool


@dataclass(frozen=True)
class BackendInputs(FargateServiceInputs):
    port: float
    discovery: str
    private_link: PrivateLinkInputs
    scaling: ScalingInputs


@dataclass(frozen=True)
class BackendInputsV11(BackendInputs):
    """backend-fargate-svc 1.1: 1.0 plus Copilot's habits."""

    # Copilot habits (issue 16)
    external_secrets: tuple[ExternalSecretReference, ...]


def check(inputs: BackendInputs, env: Environment) -> Iterator[InputProblem]:
    yield from check_fargate(inputs)
    yield from check_port(inputs.port)
    yield from check_scaling(inputs.scaling, inputs.desired_count)
    if inputs.deployment.alarm_rollback and not inputs.private_link.enabled:
        yield "deployment.alarm_rollback", "needs private_link.enabled (the alarms watch its load balancer's " \
            "unhealthy targets)", True, "private_link: {enabled: true}, or alarm_rollback false"
    if not inputs.private_link.enabled and inputs.private_link.allowed_principals:
        yield "private_link.allowed_principals", "are set but private_link.enabled is false (they would be " \
            "ignored)", list(inputs.private_link.allowed_principals), "private_link.enabled true, or no principals"
