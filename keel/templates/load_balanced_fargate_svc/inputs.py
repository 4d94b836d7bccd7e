"""load-balanced-fargate-svc inputs and cross-field rules. CDK-free."""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass

from keel.contract.offers import Claim
from keel.contract.problems import InputProblem
from keel.spec.model import Environment
from keel.templates.container_inputs import (
    ExternalSecretReference,
    FargateServiceInputs,
    ScalingInputs,
    Sidecar,
    SidecarV12,
    check_capacity,
    check_ecs_environment,
    check_port,
    check_scaling,
    check_url_path,
)
from keel.templates.container_inputs import check_sources as check_sources  # Windows containers (issue 15)


@dataclass(frozen=True)
class LoadBalancedInputs(FargateServiceInputs):
    port: float
    loadbalancer_type: str  # application | network
    backendurl: str
    health_check_path: str
    path_pattern: str
    host_header: str | None
    listener_rule_priority: int | None
    health_check_grace_seconds: int
    target_requests_per_task: int | None
    discovery: str
    scaling: ScalingInputs

    @property
    def application(self) -> bool:
        return self.loadbalancer_type == "application"


@dataclass(frozen=True)
class LoadBalancedInputsV11(LoadBalancedInputs):
    """load-balanced-fargate-svc 1.1: 1.0 plus the discovery name and Copilot's habits."""

    # service discovery name (issue 15)
    service_discovery_name: str | None
    # Copilot habits (issue 16)
    external_secrets: tuple[ExternalSecretReference, ...]
    # sidecars (issue 17)
    sidecars: tuple[Sidecar, ...]


@dataclass(frozen=True)
class LoadBalancedInputsV12(LoadBalancedInputsV11):
    """load-balanced-fargate-svc 1.2: 1.1 plus this round's blocks (each at the end)."""

    # ec2 placement (issue 18)
    cpu_architecture: str  # ARM64 | X86_64
    capacity: str  # fargate | ec2
    capacity_provider: str | None
    requires_gpu: int
    placement_constraints: tuple[str, ...]
    # sidecars (issue 17): with the 1.2 sidecar's external_secrets
    sidecars: tuple[SidecarV12, ...]


@dataclass(frozen=True)
class LoadBalancedInputsV13(LoadBalancedInputsV12):
    """load-balanced-fargate-svc 1.3: 1.2 plus Windows tasks (each block at the end)."""

    # Windows containers (issue 15)
    operating_system_family: str  # LINUX | WINDOWS_SERVER_2019_CORE | ..._FULL | WINDOWS_SERVER_2022_CORE | ..._FULL


@dataclass(frozen=True)
class ListenerRule:
    """The rule an instance puts on its environment's shared listener: what the loader compares across
    instances (through `claims`), and what the builder creates."""

    priority: int
    derived: bool  # True when the spec sets no listener_rule_priority
    path_pattern: str
    host_header: str | None

    @property
    def conditions(self) -> tuple[str, str | None]:
        """ALB matches host names case-insensitively and path patterns case-sensitively."""
        return self.path_pattern, self.host_header.lower() if self.host_header else None


def rule_priority(service: str, instance: str) -> int:
    """A stable listener rule priority (1..50000) from the names, when the spec sets none."""
    return 1 + zlib.crc32(f"{service}/{instance}".encode()) % 50000


def listener_rule(service: str, instance: str, inputs: LoadBalancedInputs, env: Environment) -> ListenerRule | None:
    """The instance's rule on the shared listener; None behind a Network Load Balancer of its own, or on an
    environment without the shared load balancer (`check` reports that)."""
    if not inputs.application or not env.offers.load_balancer:
        return None
    return rule_for(service, instance, inputs)


def claims(service: str, instance: str, inputs: LoadBalancedInputs, env: Environment) -> Iterator[Claim]:
    """Instances sharing an environment's listener need distinct rule priorities and conditions: CloudFormation
    refuses a taken priority, and of two rules with the same conditions only one matches."""
    rule = listener_rule(service, instance, inputs, env)
    if rule is None:
        return
    listener = f"environment \"{env.name}\"'s shared listener"
    how = " (derived from the service and instance names)" if rule.derived else ""
    yield Claim(key=("listener-rule-priority", rule.priority), path="listener_rule_priority", got=rule.priority,
                message=f"priority {rule.priority}{how} on {listener} is taken by {{other}}",
                expected="a priority no other rule on the listener uses")
    host = f" and host_header \"{rule.host_header}\"" if rule.host_header else " and no host_header"
    yield Claim(key=("listener-rule-conditions", rule.conditions), path="path_pattern", got=rule.path_pattern,
                message=f"path_pattern{host} equal those of {{other}} on {listener}: only one of the two rules would "
                        "ever match", expected="a different path_pattern or host_header")


def rule_for(service: str, instance: str, inputs: LoadBalancedInputs) -> ListenerRule:
    """The rule an instance with `loadbalancer_type: application` puts on the shared listener."""
    return ListenerRule(priority=inputs.listener_rule_priority or rule_priority(service, instance),
                        derived=inputs.listener_rule_priority is None, path_pattern=inputs.path_pattern,
                        host_header=inputs.host_header)


def check(inputs: LoadBalancedInputs, env: Environment) -> Iterator[InputProblem]:
    yield from check_capacity(inputs, env)
    yield from check_port(inputs.port)
    yield from check_url_path(inputs.health_check_path, "health_check_path")
    yield from check_url_path(inputs.path_pattern, "path_pattern", "/api/*")
    yield from check_scaling(inputs.scaling, inputs.desired_count)
    if inputs.application:
        yield from check_ecs_environment(env, "load_balancer", "loadbalancer_type",
                                         "application puts the service on the environment's shared load balancer")
    elif inputs.target_requests_per_task is not None:
        yield "target_requests_per_task", "needs loadbalancer_type application (a Network Load Balancer does not " \
            "count requests)", inputs.target_requests_per_task, "no target_requests_per_task"
