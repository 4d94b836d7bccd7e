"""anywhere-svc inputs and cross-field rules. CDK-free.

ECS runs EXTERNAL services without load balancers, Cloud Map / Service Connect and Application Auto
Scaling (and CDK's ExternalService throws at synth if asked): those inputs exist only to be refused here,
with the reason, before any synth.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from keel.contract.problems import InputProblem
from keel.spec.errors import MISSING
from keel.spec.model import Environment
from keel.templates.container_inputs import (
    ContainerInputs,
    ExternalSecretReference,
    SidecarV12,
    check_container,
    check_ecs_environment,
    check_placement,
)


@dataclass(frozen=True)
class PortMapping:
    container_port: int
    host_port: int | None
    protocol: str  # tcp | udp


@dataclass(frozen=True)
class AnywhereDeploymentInputs:
    min_healthy_percent: int
    max_healthy_percent: int


@dataclass(frozen=True)
class UnsupportedScaling:
    min_tasks: int | None
    max_tasks: int | None


@dataclass(frozen=True)
class AnywhereInputs(ContainerInputs):
    desired_count: int
    network_mode: str  # bridge | host
    port_mappings: tuple[PortMapping, ...]
    placement_constraints: tuple[str, ...]
    gpu_count: int
    deployment: AnywhereDeploymentInputs
    load_balancer: bool
    discovery: str
    scaling: UnsupportedScaling | None


@dataclass(frozen=True)
class AnywhereInputsV11(AnywhereInputs):
    """anywhere-svc 1.1: 1.0 plus Copilot's habits."""

    # Copilot habits (issue 16)
    external_secrets: tuple[ExternalSecretReference, ...]


@dataclass(frozen=True)
class AnywhereInputsV12(AnywhereInputsV11):
    """anywhere-svc 1.2: 1.1 plus this round's blocks (each at the end)."""

    # sidecars (issue 17)
    sidecars: tuple[SidecarV12, ...]


def check(inputs: AnywhereInputs, env: Environment) -> Iterator[InputProblem]:
    yield from check_container(inputs)
    yield from check_ecs_environment(env, "anywhere", "", "an ECS Anywhere service runs on external instances")
    yield from check_placement(inputs.placement_constraints)
    yield from _unsupported(inputs)
    yield from _ports(inputs)
    if isinstance(inputs, AnywhereInputsV12):
        yield from _sidecars_on_external(inputs)
    if inputs.deployment.max_healthy_percent <= inputs.deployment.min_healthy_percent:
        yield "deployment.max_healthy_percent", "is not above deployment.min_healthy_percent", \
            inputs.deployment.max_healthy_percent, f"more than {inputs.deployment.min_healthy_percent}"
    if inputs.gpu_count and not env.offers.anywhere_gpu:
        yield "gpu_count", f"needs GPU support, and environment \"{env.name}\" registers its external instances " \
            "without it", inputs.gpu_count, "anywhere: {gpu: true} in the environment's spec, or gpu_count 0"


def _unsupported(inputs: AnywhereInputs) -> Iterator[InputProblem]:
    if inputs.load_balancer:
        yield "load_balancer", "is not supported by ECS Anywhere: an external service cannot register targets " \
            "with a load balancer", True, "false; put your own load balancer in front of the servers' host ports"
    if inputs.discovery != "none":
        yield "discovery", "is not supported by ECS Anywhere: an external service cannot register in Cloud Map " \
            "or use Service Connect", inputs.discovery, "none; reach the servers by their own addresses"
    if inputs.scaling is not None:
        yield "scaling", "is not supported by ECS Anywhere: Application Auto Scaling does not scale external " \
            "services", {k: v for k, v in vars(inputs.scaling).items() if v is not None}, \
            "no scaling; set desired_count"


def _ports(inputs: AnywhereInputs) -> Iterator[InputProblem]:
    seen: dict[tuple[int, str], int] = {}
    for n, mapping in enumerate(inputs.port_mappings):
        host = mapping.container_port if mapping.host_port is None else mapping.host_port
        if inputs.network_mode == "host" and host != mapping.container_port:
            yield f"port_mappings[{n}].host_port", "differs from container_port, and network_mode host maps " \
                "nothing", mapping.host_port, f"{mapping.container_port} (or unset)"
        if host and (host, mapping.protocol) in seen:
            first = seen[host, mapping.protocol]
            yield f"port_mappings[{n}].host_port", f"is already published by port_mappings[{first}]", host, \
                "each host port once per protocol"
        seen.setdefault((host, mapping.protocol), n)


# sidecars (issue 17)
#: The ports the otel-collector preset's default config listens on (OTLP gRPC and HTTP, X-Ray, StatsD, health).
OTEL_PORTS = ((4317, "tcp"), (4318, "tcp"), (2000, "udp"), (8125, "udp"), (13133, "tcp"))


def _sidecars_on_external(inputs: AnywhereInputsV12) -> Iterator[InputProblem]:
    """What differs on EXTERNAL: every container states its memory; with bridge networking the containers do not
    share localhost (app could not reach a sidecar's port); with host networking their ports are the server's."""
    published = {(m.container_port if m.host_port is None else m.host_port, m.protocol): f"port_mappings[{n}]"
                 for n, m in enumerate(inputs.port_mappings)}
    for n, sidecar in enumerate(inputs.sidecars):
        path = f"sidecars[{n}]"
        if sidecar.memory_mib is None:
            yield f"{path}.resources.memory_mib", "is missing, and ECS sizes every container of an EXTERNAL task " \
                "(ECS Anywhere)", MISSING, "memory_mib for the sidecar, out of the task size"
        ports = [(int(sidecar.port), "tcp")] if sidecar.port is not None and sidecar.port == int(sidecar.port) else []
        if sidecar.preset == "otel-collector":
            ports += list(OTEL_PORTS)
        if ports and inputs.network_mode == "bridge":
            where, got = (f"{path}.port", _whole(sidecar.port)) if sidecar.port is not None else \
                (f"{path}.preset", sidecar.preset)
            yield where, "needs network_mode host: with bridge the task's containers do not share localhost, so app " \
                "could not reach the sidecar", got, "network_mode: host"
            continue
        field, got = ("port", _whole(sidecar.port)) if sidecar.preset is None else ("preset", sidecar.preset)
        for port, protocol in ports:
            if (port, protocol) in published:
                yield f"{path}.{field}", f"listens on {protocol} port {port} of the server, already published by " \
                    f"{published[port, protocol]}", got, \
                    "ports no other container of the task uses (network_mode host shares the server's ports)"
            published.setdefault((port, protocol), path)


def _whole(value: float | None) -> float | int | None:
    return int(value) if value is not None and value == int(value) else value
