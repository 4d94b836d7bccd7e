"""load-balanced-fargate-svc inputs and cross-field rules. CDK-free."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from keel.templates.container_inputs import (
    FargateServiceInputs,
    Problem,
    ScalingInputs,
    check_ecs_environment,
    check_fargate,
    check_port,
    check_scaling,
    check_url_path,
)


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


def check(inputs: LoadBalancedInputs, env: Any) -> Iterator[Problem]:
    yield from check_fargate(inputs)
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
