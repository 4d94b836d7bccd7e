"""Inputs and checks shared by the container service templates (ecs-env 1). CDK-free.

The five container templates (load-balanced, backend, worker, scheduled, anywhere) share these groups;
each template's schema declares them (a Proton schema file is self-contained), and each template's
inputs class is a frozen dataclass whose fields equal its schema's properties.

Where a check repeats a schema rule (a port of 0 passes Proton's `minimum: 0` but ECS needs 1..65535;
Proton types ports and counts as `number`, so 80.5 passes the schema), the check is what makes it an
error with a message a developer can act on, before any synth.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from keel.spec.errors import MISSING

Problem = tuple[str, str, Any, str | None]

#: Proton's task sizes and the Fargate CPU units / memory MiB they stand for (valid Fargate pairs).
TASK_SIZES: dict[str, tuple[int, int]] = {
    "x-small": (256, 512),
    "small": (512, 1024),
    "medium": (1024, 2048),
    "large": (2048, 4096),
    "x-large": (4096, 8192),
}

#: Where the config plane keeps a service's settings: `/keel/<environment>/<service>/<key>` in Parameter
#: Store, `keel/<environment>/<service>/<key>` in Secrets Manager (no leading slash there).
def parameter_name(environment: str, service: str, key: str) -> str:
    return f"/keel/{environment}/{service}/{key}"


def secret_name(environment: str, service: str, key: str) -> str:
    return f"keel/{environment}/{service}/{key}"


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
def check_container(inputs: ContainerInputs) -> Iterator[Problem]:
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
    for n, secret in enumerate(inputs.secrets):
        if secret.json_key is not None and secret.source != "secret":
            yield f"secrets[{n}].json_key", "applies to Secrets Manager secrets only", secret.json_key, \
                "source: secret, or no json_key"


def _shown(value: float) -> float | int:
    """Proton's `number` inputs arrive as floats; show 80.0 as the 80 the user wrote."""
    return int(value) if value == int(value) else value


def check_port(value: float, path: str = "port") -> Iterator[Problem]:
    if value != int(value) or not 1 <= value <= 65535:
        yield path, "is not a usable port", _shown(value), "a whole number from 1 to 65535"


def check_count(value: float, path: str) -> Iterator[Problem]:
    if value != int(value):
        yield path, "is not a whole number", value, "a whole number of tasks"


def check_url_path(value: str, path: str, example: str = "/health") -> Iterator[Problem]:
    if not value.startswith("/") or any(c.isspace() for c in value):
        yield path, "is not a URL path", value, f"a path that starts with / and has no spaces, such as {example}"


def check_fargate(inputs: FargateInputs) -> Iterator[Problem]:
    yield from check_container(inputs)
    yield from check_count(inputs.desired_count, "desired_count")
    if isinstance(inputs, FargateServiceInputs):
        yield from check_deployment(inputs.deployment)


def check_scaling(scaling: ScalingInputs | QueueScalingInputs, desired_count: float,
                  prefix: str = "scaling") -> Iterator[Problem]:
    if scaling.min_tasks > scaling.max_tasks:
        yield f"{prefix}.min_tasks", f"is greater than {prefix}.max_tasks", scaling.min_tasks, \
            f"at most {scaling.max_tasks}"
    elif not scaling.min_tasks <= desired_count <= scaling.max_tasks:
        yield "desired_count", f"is outside {prefix}.min_tasks..{prefix}.max_tasks", _shown(desired_count), \
            f"from {scaling.min_tasks} to {scaling.max_tasks} (autoscaling would move it there at once)"


def check_deployment(deployment: DeploymentInputs, prefix: str = "deployment") -> Iterator[Problem]:
    if deployment.max_healthy_percent <= deployment.min_healthy_percent:
        yield f"{prefix}.max_healthy_percent", f"is not above {prefix}.min_healthy_percent", \
            deployment.max_healthy_percent, \
            f"more than {deployment.min_healthy_percent} (else a deployment can neither start nor stop a task)"


def check_ecs_environment(env: Any, need: str, path: str, why: str) -> Iterator[Problem]:
    """What an ecs-env environment must have switched on (`load_balancer`, `anywhere`) for an input."""
    group = getattr(env.inputs, need, None)
    if group is not None and not group.enabled:
        yield path, f"{why}, and environment \"{env.name}\" has {need}.enabled false", MISSING, \
            f"{need}: {{enabled: true}} in the environment's spec"


# --- schedule expressions (EventBridge Scheduler and EventBridge rules) ----------------------------
_RATE = re.compile(r"^rate\((?P<n>[0-9]+) (?P<unit>minute|minutes|hour|hours|day|days)\)$")
_CRON = re.compile(r"^cron\((?P<body>.*)\)$")
_AT = re.compile(r"^at\((\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\)$")
_MONTHS = {m.upper(): n for n, m in enumerate(calendar.month_abbr) if m}
_DAYS = {d: n for n, d in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"], start=1)}
# field name, minimum, maximum, names, extra single-value tokens allowed
_FIELDS: tuple[tuple[str, int, int, dict[str, int]], ...] = (
    ("minutes", 0, 59, {}),
    ("hours", 0, 23, {}),
    ("day-of-month", 1, 31, {}),
    ("month", 1, 12, _MONTHS),
    ("day-of-week", 1, 7, _DAYS),
    ("year", 1970, 2199, {}),
)


def schedule_problem(expression: str) -> str | None:
    """Why EventBridge would reject `expression` (`rate(...)`, `cron(...)` or `at(...)`), or None."""
    rate = _RATE.match(expression)
    if rate:
        n, unit = int(rate.group("n")), rate.group("unit")
        if n < 1:
            return "a rate must be at least 1"
        if n == 1 and unit.endswith("s"):
            return f"a rate of 1 takes the singular unit ({unit[:-1]})"
        if n > 1 and not unit.endswith("s"):
            return f"a rate above 1 takes the plural unit ({unit}s)"
        return None
    if expression.startswith("rate("):
        return "a rate is rate(<number> <minute(s)|hour(s)|day(s)>)"
    at = _AT.match(expression)
    if at:
        year, month, day, hour, minute, second = map(int, at.groups())
        if not (1 <= month <= 12 and 1 <= day <= calendar.monthrange(year, month)[1]
                and hour <= 23 and minute <= 59 and second <= 59):
            return "at() names a date and time that does not exist"
        return None
    cron = _CRON.match(expression)
    if not cron:
        return "a schedule is rate(...), cron(...) or at(yyyy-mm-ddThh:mm:ss)"
    fields = cron.group("body").split()
    if len(fields) != 6:
        return f"a cron expression has 6 fields (minutes hours day-of-month month day-of-week year), not {len(fields)}"
    dom, dow = fields[2], fields[4]
    if (dom == "?") == (dow == "?"):
        return "exactly one of day-of-month and day-of-week must be ? (the other one says which days)"
    for text, (name, low, high, names) in zip(fields, _FIELDS, strict=True):
        problem = _cron_field(text, name, low, high, names)
        if problem:
            return problem
    return None


def _cron_field(text: str, name: str, low: int, high: int, names: dict[str, int]) -> str | None:
    if text == "?":
        return None if name in ("day-of-month", "day-of-week") else \
            f"? is only for day-of-month or day-of-week, not {name}"
    if name == "day-of-month" and re.fullmatch(r"L|[0-9]{1,2}W", text):
        number = re.sub(r"\D", "", text)
        return None if not number or 1 <= int(number) <= 31 else f"{text} is outside {name} 1-31"
    if name == "day-of-week":
        special = re.fullmatch(r"([0-9A-Z]+)(L|#([1-5]))", text.upper())
        if special and (special.group(1) in names or special.group(1).isdigit()):
            value = names.get(special.group(1)) or int(special.group(1))
            return None if 1 <= value <= 7 else f"{text}: {name} is 1-7 or SUN-SAT"
        if text.upper() == "L":
            return None
    for part in text.split(","):
        base, _, step = part.partition("/")
        if step and (not step.isdigit() or int(step) < 1):
            return f"{part}: a step (/n) in {name} is a positive number"
        if base == "*":
            continue
        bounds = base.split("-")
        if len(bounds) > 2 or not all(bounds):
            return f"{part} is not a value or range of {name}"
        values = []
        for bound in bounds:
            found: int | None = names.get(bound.upper(), int(bound) if bound.isdigit() else None)
            if found is None:
                return f"{bound} is not a value of {name} ({low}-{high}" + (
                    f" or {'-'.join((next(iter(names)), list(names)[-1]))})" if names else ")")
            if not low <= found <= high:
                return f"{bound} is outside {name} {low}-{high}"
            values.append(found)
        if len(values) == 2 and values[0] > values[1] and name not in ("day-of-week", "month"):
            return f"{base}: a range of {name} runs from low to high"
    return None


def check_schedule(expression: str, path: str = "schedule_expression") -> Iterator[Problem]:
    problem = schedule_problem(expression)
    if problem:
        yield path, f"is not a schedule EventBridge accepts: {problem}", expression, \
            "rate(5 minutes), cron(0 12 * * ? *) or at(2030-01-01T09:00:00)"


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


def check_placement(constraints: Sequence[str], path: str = "placement_constraints") -> Iterator[Problem]:
    for n, text in enumerate(constraints):
        expression, why = placement_expression(text)
        if expression is None:
            yield f"{path}[{n}]", f"is not a placement constraint: {why}", text, \
                "such as gpu == true, site == plant-3, site in [plant-3, plant-4], ecs.os-type == linux"
