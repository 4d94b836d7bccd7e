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
    Sidecar,
    SidecarV12,
    check_capacity,
    check_port,
    check_scaling,
)
from keel.templates.container_inputs import check_sources as check_sources  # Windows containers (issue 15)


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
    """backend-fargate-svc 1.1: 1.0 plus the CPU architecture, EC2 capacity, the discovery name, external secrets."""

    # EC2 capacity and architecture (issue 18)
    cpu_architecture: str  # ARM64 | X86_64
    capacity: str  # fargate | ec2
    capacity_provider: str | None
    requires_gpu: int
    placement_constraints: tuple[str, ...]
    scheduling: str  # replica | daemon
    # service discovery name (issue 15)
    service_discovery_name: str | None
    # Copilot habits (issue 16)
    external_secrets: tuple[ExternalSecretReference, ...]
    # sidecars (issue 17)
    sidecars: tuple[Sidecar, ...]


@dataclass(frozen=True)
class BackendInputsV12(BackendInputsV11):
    """backend-fargate-svc 1.2: 1.1 plus this round's blocks (each at the end)."""

    # sidecars (issue 17): with the 1.2 sidecar's external_secrets
    sidecars: tuple[SidecarV12, ...]


@dataclass(frozen=True)
class BackendInputsV13(BackendInputsV12):
    """backend-fargate-svc 1.3: 1.2 plus Windows tasks (each block at the end)."""

    # Windows containers (issue 15)
    operating_system_family: str  # LINUX | WINDOWS_SERVER_2019_CORE | ..._FULL | WINDOWS_SERVER_2022_CORE | ..._FULL


def check(inputs: BackendInputs, env: Environment) -> Iterator[InputProblem]:
    if isinstance(inputs, BackendInputsV11) and inputs.scheduling == "daemon" and inputs.private_link.enabled:
        yield "private_link.enabled", "a daemon runs one task per instance, not a pool behind a load " \
            "balancer", True, "scheduling replica, or private_link disabled"
    yield from check_capacity(inputs, env)
    yield from check_port(inputs.port)
    yield from check_scaling(inputs.scaling, inputs.desired_count)
    if inputs.deployment.alarm_rollback and not inputs.private_link.enabled:
        yield "deployment.alarm_rollback", "needs private_link.enabled (the alarms watch its load balancer's " \
            "unhealthy targets)", True, "private_link: {enabled: true}, or alarm_rollback false"
    if not inputs.private_link.enabled and inputs.private_link.allowed_principals:
        yield "private_link.allowed_principals", "are set but private_link.enabled is false (they would be " \
            "ignored)", list(inputs.private_link.allowed_principals), "private_link.enabled true, or no principals"
