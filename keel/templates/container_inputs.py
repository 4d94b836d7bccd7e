"""Inputs and checks shared by the container service templates (ecs-env 1). CDK-free.

The five container templates (load-balanced, backend, worker, scheduled, anywhere) share these groups;
each template's schema declares them (a Proton schema file is self-contained), and each template's
inputs class is a frozen dataclass whose fields equal its schema's properties.

Where a check repeats a schema rule (a port of 0 passes Proton's `minimum: 0` but ECS needs 1..65535;
Proton types ports and counts as `number`, so 80.5 passes the schema), the check is what makes it an
error with a message a developer can act on, before any synth.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol, runtime_checkable

from keel.contract.components import ComponentHost
from keel.contract.naming import parameter_name, secret_name
from keel.contract.problems import InputProblem
from keel.spec.delivery import build_release
from keel.spec.errors import MISSING
from keel.spec.model import Environment

#: Proton's task sizes and the Fargate CPU units / memory MiB they stand for (valid Fargate pairs).
TASK_SIZES: dict[str, tuple[int, int]] = {
    "x-small": (256, 512),
    "small": (512, 1024),
    "medium": (1024, 2048),
    "large": (2048, 4096),
    "x-large": (4096, 8192),
}

@dataclass(frozen=True)
class EnvironmentVariable:
    name: str
    value: str


@dataclass(frozen=True)
class SecretReference:
    """An environment variable filled by ECS from the config plane when the task starts."""

    name: str
    key: str  # under the service's path: db/password -> /keel/<env>/<service>/db/password
    source: str  # parameter | secret
    json_key: str | None  # one field of a JSON secret

    def location(self, environment: str, service: str) -> str:
        return (parameter_name if self.source == "parameter" else secret_name)(environment, service, self.key)


@dataclass(frozen=True)
class EcrRepositoryInputs:
    enabled: bool
    image_tag: str
    max_images: int


@dataclass(frozen=True)
class DeploymentInputs:
    min_healthy_percent: int
    max_healthy_percent: int
    alarm_rollback: bool


@dataclass(frozen=True)
class ScalingInputs:
    min_tasks: int
    max_tasks: int
    target_cpu_percent: int


@dataclass(frozen=True)
class QueueScalingInputs:
    min_tasks: int
    max_tasks: int
    messages_per_task: int


@dataclass(frozen=True)
class PipelineInputs:
    """Proton's container pipeline inputs, accepted and stored (the delivery pipeline reads them)."""

    service_dir: str
    dockerfile: str
    unit_test_command: str


@dataclass(frozen=True)
class PipelineInputsV12(PipelineInputs):
    """load-balanced- and backend-fargate-svc 1.2: and the input AWS's EC2 service samples add."""

    # ec2 placement (issue 18)
    environment_account_ids: str  # accepted, not used: each instance deploys to its environment's account


@dataclass(frozen=True)
class ContainerInputs:
    """What every container template has: the image, its size, its configuration and its logs."""

    image: str
    ecr_repository: EcrRepositoryInputs
    task_size: str
    environment_variables: tuple[EnvironmentVariable, ...]
    secrets: tuple[SecretReference, ...]
    firelens: bool
    enable_exec: bool

    @property
    def cpu(self) -> int:
        return TASK_SIZES[self.task_size][0]

    @property
    def memory_mib(self) -> int:
        return TASK_SIZES[self.task_size][1]


@dataclass(frozen=True)
class FargateInputs(ContainerInputs):
    """A Fargate task: Proton's desired count (a `number`) and subnet type, and a log group of its own."""

    desired_count: float
    subnet_type: str  # public | private
    log_retention_days: int

    @property
    def tasks(self) -> int:
        return int(self.desired_count)


@dataclass(frozen=True)
class FargateServiceInputs(FargateInputs):
    """A long-running Fargate service: rolling deployments with the circuit breaker."""

    deployment: DeploymentInputs


# --- checks ----------------------------------------------------------------------------------------
def check_container(inputs: ContainerInputs) -> Iterator[InputProblem]:
    """The task size is a known one; a variable is set once, either plainly or from a secret."""
    if inputs.task_size not in TASK_SIZES:  # the schema's enum says so first; this guards the mapping
        yield "task_size", "is not a known task size", inputs.task_size, "one of " + ", ".join(TASK_SIZES)
    seen: dict[str, str] = {}
    named = [(f"environment_variables[{n}].name", v.name) for n, v in enumerate(inputs.environment_variables)]
    named += [(f"secrets[{n}].name", s.name) for n, s in enumerate(inputs.secrets)]
    for path, name in named:
        if name in seen:
            yield path, f"sets {name} again (already set by {seen[name]})", name, "each variable once"
        seen.setdefault(name, path)
    yield from check_external_secrets(inputs)  # 1.1 on (issue 16)
    yield from check_sidecars(inputs)  # 1.1 on (issue 17)
    for n, secret in enumerate(inputs.secrets):
        if secret.json_key is not None and secret.source != "secret":
            yield f"secrets[{n}].json_key", "applies to Secrets Manager secrets only", secret.json_key, \
                "source: secret, or no json_key"


def _shown(value: float) -> float | int:
    """Proton's `number` inputs arrive as floats; show 80.0 as the 80 the user wrote."""
    return int(value) if value == int(value) else value


def check_port(value: float, path: str = "port") -> Iterator[InputProblem]:
    if value != int(value) or not 1 <= value <= 65535:
        yield path, "is not a usable port", _shown(value), "a whole number from 1 to 65535"


def check_count(value: float, path: str) -> Iterator[InputProblem]:
    if value != int(value):
        yield path, "is not a whole number", value, "a whole number of tasks"


def check_url_path(value: str, path: str, example: str = "/health") -> Iterator[InputProblem]:
    if not value.startswith("/") or any(c.isspace() for c in value):
        yield path, "is not a URL path", value, f"a path that starts with / and has no spaces, such as {example}"


def check_fargate(inputs: FargateInputs, env: Environment | None = None, *,
                  on_fargate: bool = True) -> Iterator[InputProblem]:
    yield from check_container(inputs)
    yield from check_count(inputs.desired_count, "desired_count")
    if isinstance(inputs, FargateServiceInputs):
        yield from check_deployment(inputs.deployment)
    if env is not None and on_fargate and inputs.subnet_type == "public" and not env.offers.public_subnets:
        yield "subnet_type", f"is public, and environment \"{env.name}\"'s existing VPC has no public subnets", \
            "public", "private (egress through NAT), or public_subnet_ids in the environment's existing_vpc"


def check_scaling(scaling: ScalingInputs | QueueScalingInputs, desired_count: float,
                  prefix: str = "scaling") -> Iterator[InputProblem]:
    if scaling.min_tasks > scaling.max_tasks:
        yield f"{prefix}.min_tasks", f"is greater than {prefix}.max_tasks", scaling.min_tasks, \
            f"at most {scaling.max_tasks}"
    elif not scaling.min_tasks <= desired_count <= scaling.max_tasks:
        yield "desired_count", f"is outside {prefix}.min_tasks..{prefix}.max_tasks", _shown(desired_count), \
            f"from {scaling.min_tasks} to {scaling.max_tasks} (autoscaling would move it there at once)"


def check_deployment(deployment: DeploymentInputs, prefix: str = "deployment") -> Iterator[InputProblem]:
    if deployment.max_healthy_percent <= deployment.min_healthy_percent:
        yield f"{prefix}.max_healthy_percent", f"is not above {prefix}.min_healthy_percent", \
            deployment.max_healthy_percent, \
            f"more than {deployment.min_healthy_percent} (else a deployment can neither start nor stop a task)"


def check_ecs_environment(env: Environment, need: Literal["load_balancer", "anywhere"], path: str,
                          why: str) -> Iterator[InputProblem]:
    """What an ecs-env environment must have switched on (`load_balancer`, `anywhere`) for an input. An
    environment whose template has no such group at all is refused by the compatibility check instead."""
    offered = env.offers.load_balancer if need == "load_balancer" else env.offers.anywhere
    if offered is False:
        yield path, f"{why}, and environment \"{env.name}\" has {need}.enabled false", MISSING, \
            f"{need}: {{enabled: true}} in the environment's spec"


# --- placement constraints (ECS cluster query language, memberOf) ----------------------------------
_ATTRIBUTE = re.compile(r"^(attribute:)?(?P<name>[A-Za-z0-9_./\\-]{1,128})$")
_VALUE = re.compile(r"^[A-Za-z0-9_.@/\\:-]{1,128}$")
_OPERATORS = ("==", "!=", "exists", "!exists", "in", "not_in")


def placement_expression(text: str) -> tuple[str | None, str]:
    """`gpu == true` -> (`attribute:gpu == true`, ""); a bad one -> (None, why). Built-in attributes
    (`ecs.os-type`, `ecs.cpu-architecture`...) and custom ones alike take the `attribute:` prefix."""
    parts = text.split(None, 2)
    if len(parts) < 2:
        return None, "an expression is <attribute> <operator> [<value>]"
    attribute, operator = parts[0], parts[1]
    if not _ATTRIBUTE.match(attribute):
        return None, (f"{attribute!r} is not an attribute name (up to 128 letters, digits, hyphens, underscores, "
                      "periods and slashes)")
    name = f"attribute:{_ATTRIBUTE.match(attribute).group('name')}"  # type: ignore[union-attr]
    if operator not in _OPERATORS:
        return None, f"{operator!r} is not an operator ({', '.join(_OPERATORS)})"
    value = parts[2].strip() if len(parts) == 3 else ""
    if operator in ("exists", "!exists"):
        return (None, f"{operator} takes no value") if value else (f"{name} {operator}", "")
    if not value:
        return None, f"{operator} needs a value"
    if operator in ("in", "not_in"):
        inner = value[1:-1] if value.startswith("[") and value.endswith("]") else None
        items = [v.strip() for v in inner.split(",")] if inner is not None else []
        if not items or not all(_VALUE.match(v) for v in items):
            return None, f"{operator} takes a list of values: [a, b]"
        return f"{name} {operator} [{', '.join(items)}]", ""
    if not _VALUE.match(value):
        return None, f"{value!r} is not an attribute value (letters, digits, - _ . @ / \\ :)"
    return f"{name} {operator} {value}", ""


def check_placement(constraints: Sequence[str], path: str = "placement_constraints") -> Iterator[InputProblem]:
    for n, text in enumerate(constraints):
        expression, why = placement_expression(text)
        if expression is None:
            yield f"{path}[{n}]", f"is not a placement constraint: {why}", text, \
                "such as gpu == true, site == plant-3, site in [plant-3, plant-4], ecs.os-type == linux"


# --- EC2 capacity and architecture (issue 18) -------------------------------------------------------
@runtime_checkable
class Ec2PlacementInputs(Protocol):
    """The container templates' EC2 block (backend 1.1; load-balanced, worker, scheduled 1.2): cpu_architecture,
    capacity, capacity_provider, requires_gpu, placement_constraints (each template's dataclass declares the
    fields), and `scheduling` where a daemon makes sense (backend, worker). On EC2 the tasks run in the private
    subnets whatever subnet_type says (ECS gives public IPs to Fargate tasks only; Proton's default for it is
    public)."""

    @property
    def cpu_architecture(self) -> str: ...  # ARM64 | X86_64
    @property
    def capacity(self) -> str: ...  # fargate | ec2
    @property
    def capacity_provider(self) -> str | None: ...
    @property
    def requires_gpu(self) -> int: ...
    @property
    def placement_constraints(self) -> tuple[str, ...]: ...


@runtime_checkable
class HasScheduling(Protocol):
    """A template version whose services may run as daemons (backend 1.1, worker 1.2)."""

    @property
    def scheduling(self) -> str: ...  # replica | daemon


def runs_on_ec2(inputs: object) -> bool:
    """The spec asks for the environment's EC2 capacity (`capacity: ec2`)."""
    return isinstance(inputs, Ec2PlacementInputs) and inputs.capacity == "ec2"


def is_daemon(inputs: object) -> bool:
    """One task on every matching container instance (agents), not a replica count."""
    return isinstance(inputs, HasScheduling) and inputs.scheduling == "daemon"


def ec2_provider(inputs: Ec2PlacementInputs, env: Environment) -> tuple[str, bool, str] | None:
    """The environment's capacity provider a service on EC2 runs on: the one it names, else the first GPU
    provider when it requires GPUs, else the first; None when there is none to take."""
    providers = env.offers.ec2_capacity
    if inputs.capacity_provider is not None:
        return next((p for p in providers if p[0] == inputs.capacity_provider), None)
    if inputs.requires_gpu:
        return next((p for p in providers if p[1]), None)
    return providers[0] if providers else None


def check_ec2_placement(inputs: Ec2PlacementInputs, env: Environment) -> Iterator[InputProblem]:
    """What runs on EC2 only is asked with capacity ec2; the provider exists, has the GPUs and architecture."""
    if inputs.capacity != "ec2":
        for name, value, unset in (("capacity_provider", inputs.capacity_provider, None),
                                   ("requires_gpu", inputs.requires_gpu, 0),
                                   ("placement_constraints", list(inputs.placement_constraints), []),
                                   ("scheduling", inputs.scheduling if isinstance(inputs, HasScheduling) else "replica",
                                    "replica")):
            if value != unset:
                yield name, "needs capacity ec2 (Fargate has no GPUs, instance attributes or daemons)", value, \
                    "capacity: ec2 on an environment with ec2_capacity, or leave it out"
        return
    yield from check_placement(inputs.placement_constraints)
    names = [p[0] for p in env.offers.ec2_capacity]
    if not names:
        yield "capacity", f"is ec2, and environment \"{env.name}\" has no EC2 capacity providers", "ec2", \
            "ec2_capacity in the environment's spec (ecs-env 1.3), or capacity fargate"
        return
    provider = ec2_provider(inputs, env)
    if provider is None and inputs.capacity_provider is not None:
        yield "capacity_provider", f"is not an EC2 capacity provider of environment \"{env.name}\"", \
            inputs.capacity_provider, "one of " + ", ".join(names)
        return
    if provider is None:
        yield "requires_gpu", f"needs a GPU capacity provider, and environment \"{env.name}\" has none", \
            inputs.requires_gpu, "an ec2_capacity provider of a GPU family (g5, g6, p4d...), or requires_gpu 0"
        return
    name, gpu, architecture = provider
    if inputs.requires_gpu and not gpu:
        yield "requires_gpu", f"needs GPUs, and capacity provider {name} has none", inputs.requires_gpu, \
            "a GPU capacity provider (g5, g6, p4d...), or requires_gpu 0"
    if inputs.cpu_architecture != architecture:
        yield "cpu_architecture", f"differs from capacity provider {name}'s instances ({architecture})", \
            inputs.cpu_architecture, architecture



def check_capacity(inputs: FargateInputs, env: Environment) -> Iterator[InputProblem]:
    """check_fargate, after the EC2 block's checks on versions that have it (Fargate's subnet check applies on
    Fargate only)."""
    if isinstance(inputs, Ec2PlacementInputs):
        yield from check_ec2_placement(inputs, env)
    yield from check_fargate(inputs, env, on_fargate=not runs_on_ec2(inputs))
    yield from check_windows(inputs)  # Windows containers (issue 15): 1.3 on

# --- Copilot habits (issue 16): secrets by external reference --------------------------------------
@dataclass(frozen=True)
class ExternalSecretReference:
    """An environment variable ECS fills from an existing SSM parameter or Secrets Manager secret, named by
    its full name or ARN (outside the config plane: Copilot kept them under /copilot/<app>/<env>/secrets/)."""

    name: str
    reference: str
    source: str  # parameter | secret
    json_key: str | None

    @property
    def is_arn(self) -> bool:
        return self.reference.startswith("arn:")


@runtime_checkable
class HasExternalSecrets(Protocol):
    """A container template version (1.1 on) whose inputs name external secrets."""

    external_secrets: tuple[ExternalSecretReference, ...]


def check_external_secrets(inputs: ContainerInputs) -> Iterator[InputProblem]:
    """An ARN's service agrees with `source`; json_key is for secrets only; no variable is set twice."""
    if not isinstance(inputs, HasExternalSecrets):
        return
    taken = {v.name: f"environment_variables[{n}].name" for n, v in enumerate(inputs.environment_variables)}
    taken |= {s.name: f"secrets[{n}].name" for n, s in enumerate(inputs.secrets)}
    yield from check_external_references(inputs.external_secrets, taken, "external_secrets")


def check_external_references(secrets: Sequence[ExternalSecretReference], taken: dict[str, str],
                              path: str) -> Iterator[InputProblem]:
    """External references of one container (`taken`: the variables it already sets, and where)."""
    for n, secret in enumerate(secrets):
        if secret.name in taken:
            yield f"{path}[{n}].name", f"sets {secret.name} again (already set by {taken[secret.name]})", \
                secret.name, "each variable once"
        taken.setdefault(secret.name, f"{path}[{n}].name")
        if secret.is_arn:
            service = secret.reference.split(":")[2]
            wanted = "ssm" if secret.source == "parameter" else "secretsmanager"
            if service != wanted:
                yield f"{path}[{n}].reference", f"is an ARN of {service}, and source is {secret.source}", \
                    secret.reference, f"an ARN of {wanted}, or source: " + \
                    ("secret" if service == "secretsmanager" else "parameter")
        elif secret.source == "parameter" and not secret.reference.startswith("/") and "/" in secret.reference:
            yield f"{path}[{n}].reference", "is a hierarchical parameter name without its leading /", \
                secret.reference, f"/{secret.reference}"
        if secret.json_key is not None and secret.source != "secret":
            yield f"{path}[{n}].json_key", "applies to Secrets Manager secrets only", secret.json_key, \
                "source: secret, or no json_key"


# components (issue 17)
def component_host(inputs: ContainerInputs) -> ComponentHost:
    """Components attach to the task: Fargate tasks sit in the VPC (awsvpc, their own security group) and
    mount EFS; ECS Anywhere's external tasks run on the environment's own servers, outside it."""
    fargate = isinstance(inputs, FargateInputs)
    # Windows containers (issue 15): Fargate mounts no EFS volume into Windows tasks
    windows = f"operating_system_family is {operating_system_family(inputs)}" if is_windows(inputs) else ""
    return ComponentHost(kind="container", fargate=fargate and not windows, in_vpc=fargate,
                         outside_vpc_reason="" if fargate else "ECS Anywhere tasks run on servers outside the VPC",
                         not_fargate_reason=windows)


# sidecars (issue 17)
#: The AWS Distro for OpenTelemetry collector, pinned (a preset's image never moves under a running service).
OTEL_COLLECTOR_IMAGE = "public.ecr.aws/aws-observability/aws-otel-collector:v0.43.3"
#: The collector's own config for ECS (OTLP in, X-Ray traces and EMF metrics out), when AOT_CONFIG_CONTENT is unset.
OTEL_DEFAULT_CONFIG = "/etc/ecs/ecs-default-config.yaml"
OTEL_CONFIG_VARIABLE = "AOT_CONFIG_CONTENT"
#: The CloudWatch namespaces the collector's default config writes metrics to (its task role may write no other).
OTEL_METRIC_NAMESPACES = ("ECS/AWSOTel/Application", "ECS/AWSOTel")
#: Where the default config's awsemf exporter writes the metrics (as embedded metric format log events): one log
#: group of the account and region, which the collector creates on first use.
OTEL_METRICS_LOG_GROUP = "/aws/ecs/application/metrics"
#: Container names a task already uses.
TAKEN_CONTAINER_NAMES = ("app", "log-router")


@dataclass(frozen=True)
class SidecarDependency:
    container: str  # app | a sidecar's name
    condition: str  # START | COMPLETE | SUCCESS | HEALTHY


@dataclass(frozen=True)
class SidecarResources:
    cpu: float | None
    memory_mib: float | None


@dataclass(frozen=True)
class Sidecar:
    """A container next to the application in the task: a preset or an image of the spec's."""

    name: str
    preset: str | None  # otel-collector
    image: str | None
    port: float | None
    essential: bool
    environment: Mapping[str, str]
    secrets: tuple[SecretReference, ...]
    depends_on: tuple[SidecarDependency, ...]
    health_check: tuple[str, ...]
    resources: SidecarResources | None

    @property
    def image_or_preset(self) -> str:
        return self.image or (OTEL_COLLECTOR_IMAGE if self.preset == "otel-collector" else "")

    @property
    def cpu(self) -> int:
        return int(self.resources.cpu or 0) if self.resources else 0

    @property
    def memory_mib(self) -> int | None:
        return int(self.resources.memory_mib) if self.resources and self.resources.memory_mib else None


@dataclass(frozen=True)
class SidecarV12(Sidecar):
    """A 1.2 sidecar: and existing parameters and secrets by name or ARN, as the app container takes them."""

    # sidecars and secrets (issue 17)
    external_secrets: tuple[ExternalSecretReference, ...]


@runtime_checkable
class HasSidecars(Protocol):
    """A container template version (1.1 on) whose tasks take sidecars."""

    sidecars: tuple[Sidecar, ...]


def sidecars_of(inputs: object) -> tuple[Sidecar, ...]:
    return inputs.sidecars if isinstance(inputs, HasSidecars) else ()


def check_sidecars(inputs: ContainerInputs) -> Iterator[InputProblem]:
    """Names are unique, an image or a preset, dependencies on containers of the task (no cycles), whole
    ports, json_key on secrets only, and the sidecars' cpu and memory fit inside the task size."""
    sidecars = sidecars_of(inputs)
    names: dict[str, int] = {}
    for n, sidecar in enumerate(sidecars):
        path = f"sidecars[{n}]"
        if sidecar.name in TAKEN_CONTAINER_NAMES:
            yield f"{path}.name", "is a container name the task already uses", sidecar.name, \
                "a name other than " + " and ".join(TAKEN_CONTAINER_NAMES)
        elif sidecar.name in names:
            yield f"{path}.name", f"names sidecars[{names[sidecar.name]}] again", sidecar.name, "each name once"
        names.setdefault(sidecar.name, n)
        if sidecar.preset is None and not sidecar.image:
            yield f"{path}.image", "is missing (a sidecar without a preset runs an image of yours)", MISSING, \
                "an image such as public.ecr.aws/nginx/nginx:1.27, or preset: otel-collector"
        if sidecar.port is not None:
            yield from check_port(sidecar.port, f"{path}.port")
        if runs_on_ec2(inputs) and sidecar.memory_mib is None:
            yield f"{path}.resources.memory_mib", "is missing, and capacity is ec2 (ECS sizes every container of an " \
                "EC2 task)", MISSING, "memory_mib for the sidecar, out of the task size"
        variables = {name: f"{path}.environment.{name}" for name in sidecar.environment}
        for s, secret in enumerate(sidecar.secrets):
            if secret.name in variables:
                yield f"{path}.secrets[{s}].name", \
                    f"sets {secret.name} again (already set by {variables[secret.name]})", secret.name, \
                    "each variable once"
            variables.setdefault(secret.name, f"{path}.secrets[{s}].name")
            if secret.json_key is not None and secret.source != "secret":
                yield f"{path}.secrets[{s}].json_key", "applies to Secrets Manager secrets only", secret.json_key, \
                    "source: secret, or no json_key"
        if isinstance(sidecar, SidecarV12):
            yield from check_external_references(sidecar.external_secrets, variables, f"{path}.external_secrets")
    known = {"app", *names}
    for n, sidecar in enumerate(sidecars):
        for d, dependency in enumerate(sidecar.depends_on):
            where = f"sidecars[{n}].depends_on[{d}].container"
            if dependency.container == sidecar.name:
                yield where, "is the sidecar itself", dependency.container, "app or another sidecar's name"
            elif dependency.container not in known:
                yield where, "is not a container of the task", dependency.container, \
                    "one of " + ", ".join(sorted(known - {sidecar.name}))
            elif dependency.condition == "HEALTHY" and (
                    dependency.container == "app" or not sidecars[names[dependency.container]].health_check):
                wanted = "START, or a sidecar with a health_check" if dependency.container == "app" else \
                    f"START, or a health_check on sidecar {dependency.container}"
                yield f"sidecars[{n}].depends_on[{d}].condition", f"is HEALTHY, and {dependency.container} has no " \
                    f"health check (ECS would never start {sidecar.name})", "HEALTHY", wanted
    yield from _check_dependency_cycles(sidecars)
    yield from _check_sidecar_resources(inputs, sidecars)


def _check_dependency_cycles(sidecars: Sequence[Sidecar]) -> Iterator[InputProblem]:
    edges = {s.name: [d.container for d in s.depends_on] for s in sidecars}
    for n, sidecar in enumerate(sidecars):
        seen: set[str] = set()
        todo = [d for d in edges.get(sidecar.name, []) if d != sidecar.name]
        while todo:
            current = todo.pop()
            if current == sidecar.name:
                yield f"sidecars[{n}].depends_on", "makes a dependency cycle (ECS refuses the task definition)", \
                    [d.container for d in sidecar.depends_on], "containers that do not, in turn, wait for this one"
                break
            if current not in seen:
                seen.add(current)
                todo += edges.get(current, [])


def _check_sidecar_resources(inputs: ContainerInputs, sidecars: Sequence[Sidecar]) -> Iterator[InputProblem]:
    """Offline, what ECS checks at registration: the containers' CPU and memory fit the task's."""
    if inputs.task_size not in TASK_SIZES:
        return
    cpu, memory = TASK_SIZES[inputs.task_size]
    used_cpu = used_memory = 0
    for n, sidecar in enumerate(sidecars):
        if sidecar.resources is None:
            continue
        used_cpu += sidecar.cpu
        used_memory += sidecar.memory_mib or 0
        if sidecar.resources.cpu is not None and sidecar.resources.cpu != int(sidecar.resources.cpu):
            yield f"sidecars[{n}].resources.cpu", "is not a whole number", sidecar.resources.cpu, "whole CPU units"
        if used_cpu >= cpu and sidecar.resources.cpu:
            yield f"sidecars[{n}].resources.cpu", \
                f"brings the sidecars' CPU to {used_cpu} of the task's {cpu} ({inputs.task_size}), none left for app", \
                _shown(sidecar.resources.cpu), f"sidecars' cpu together below {cpu}, or a larger task_size"
        if used_memory >= memory and sidecar.resources.memory_mib:
            yield f"sidecars[{n}].resources.memory_mib", \
                f"brings the sidecars' memory to {used_memory} MiB of the task's {memory} ({inputs.task_size}), " \
                "none left for app", _shown(sidecar.resources.memory_mib), \
                f"sidecars' memory_mib together below {memory}, or a larger task_size"


# Windows containers (issue 15) ---------------------------------------------------------------------
#: The operating system families Fargate runs (CDK's ecs.OperatingSystemFamily names): Linux, and the Windows
#: Server releases Fargate offers, Core and Full (Full adds the desktop experience and its APIs).
OPERATING_SYSTEM_FAMILIES = ("LINUX", "WINDOWS_SERVER_2019_CORE", "WINDOWS_SERVER_2019_FULL",
                             "WINDOWS_SERVER_2022_CORE", "WINDOWS_SERVER_2022_FULL")
#: Windows tasks on Fargate take at least 1 vCPU (AWS: "the value cannot be less than 1 vCPU").
WINDOWS_TASK_SIZES = tuple(size for size, (cpu, _) in TASK_SIZES.items() if cpu >= 1024)
#: What a service pipeline builds the image on: CodeBuild's Linux image, or a Windows Server image of the
#: release the tasks run (a Windows container runs only on a host of its own Windows release).
BUILD_OPERATING_SYSTEM_FAMILIES = ("LINUX", "WINDOWS_SERVER_2019", "WINDOWS_SERVER_2022")


@runtime_checkable
class HasOperatingSystem(Protocol):
    """A container template version (1.3 on) whose tasks may run Windows."""

    @property
    def operating_system_family(self) -> str: ...


def operating_system_family(inputs: object) -> str:
    """The spec's family on versions that have one; LINUX, as the templates were released, elsewhere."""
    return inputs.operating_system_family if isinstance(inputs, HasOperatingSystem) else "LINUX"


def is_windows(inputs: object) -> bool:
    return operating_system_family(inputs) != "LINUX"


def check_windows(inputs: ContainerInputs) -> Iterator[InputProblem]:
    """What Fargate does not run with Windows: checked offline, before ECS refuses the task at deploy."""
    if not is_windows(inputs):
        return
    family = operating_system_family(inputs)
    why = f"operating_system_family is {family}"
    if inputs.task_size not in WINDOWS_TASK_SIZES:
        yield "task_size", f"is below 1 vCPU, and {why} (Windows tasks on Fargate take at least 1 vCPU)", \
            inputs.task_size, "one of " + ", ".join(WINDOWS_TASK_SIZES)
    if isinstance(inputs, Ec2PlacementInputs):
        if inputs.cpu_architecture != "X86_64":
            yield "cpu_architecture", f"is {inputs.cpu_architecture}, and {why} (Windows runs on x86_64 only)", \
                inputs.cpu_architecture, "X86_64"
        if inputs.capacity != "fargate":
            yield "capacity", f"is {inputs.capacity}, and {why} (the environment's ec2_capacity runs the Linux " \
                "ECS-optimized AMI)", inputs.capacity, "fargate"
    if inputs.firelens:
        yield "firelens", f"is on, and {why} (Fargate runs no FireLens log router for Windows tasks)", True, \
            "false: the containers log to CloudWatch through awslogs"
    if getattr(inputs, "discovery", None) == "service-connect":
        yield "discovery", f"is service-connect, and {why} (Fargate runs no Service Connect proxy for Windows " \
            "tasks)", "service-connect", "cloud-map or none"
    for n, sidecar in enumerate(sidecars_of(inputs)):
        if sidecar.preset is not None:
            yield f"sidecars[{n}].preset", f"runs a Linux image ({sidecar.image_or_preset}), and {why}", \
                sidecar.preset, "an image of your own built for the same Windows release, or no preset"


@dataclass(frozen=True)
class WindowsBuildInputs:
    """A service pipeline's build host (1.3 on): CodeBuild's Linux image, or a Windows Server one."""

    # Windows containers (issue 15)
    #: LINUX | WINDOWS_SERVER_2019 | WINDOWS_SERVER_2022; None: the release the service's instances run
    build_operating_system_family: str | None
    build_compute_type: str  # medium | large (CodeBuild's Windows images take no other)


@dataclass(frozen=True)
class PipelineInputsV13(PipelineInputsV12, WindowsBuildInputs):
    """load-balanced- and backend-fargate-svc 1.3: 1.2's pipeline inputs and the build host."""


@dataclass(frozen=True)
class PipelineInputsWindowsV13(PipelineInputs, WindowsBuildInputs):
    """worker- and scheduled-fargate-svc 1.3: 1.2's pipeline inputs (1.0's) and the build host."""


def build_host(pipeline: object, families: Sequence[str]) -> str:
    """What the service's pipeline builds on: the release it names, else the one its instances run (the
    delivery checks refuse instances that run different ones)."""
    named = pipeline.build_operating_system_family if isinstance(pipeline, WindowsBuildInputs) else None
    return named or (build_release(families[0]) if families else "LINUX")


def check_sources(inputs: object, pipeline: object, *, base: Path, root: Path | None = None
                  ) -> Iterator[tuple[str, str, str, object, object]]:
    """The image the service's pipeline builds runs on the instance's operating system: a Windows image runs
    only on a host of its own Windows Server release, and a Linux image only on Linux."""
    named = pipeline.build_operating_system_family if isinstance(pipeline, WindowsBuildInputs) else None
    family = operating_system_family(inputs)
    if named is not None and named != build_release(family):
        yield "spec", "operating_system_family", f"is {family}, and the service's pipeline builds {named} images " \
            "(pipeline.build_operating_system_family)", family, \
            f"a {named} family, or pipeline.build_operating_system_family {build_release(family)}"
