"""worker-fargate-svc inputs and cross-field rules. CDK-free."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from keel.contract.problems import InputProblem
from keel.spec.model import Environment
from keel.templates.container_inputs import (
    ExternalSecretReference,
    FargateServiceInputs,
    QueueScalingInputs,
    Sidecar,
    SidecarV12,
    check_capacity,
    check_scaling,
)
from keel.templates.container_inputs import check_sources as check_sources  # Windows containers (issue 15)


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
class TopicSubscription:
    """An SNS topic another service of the environment owns (its sns-topic component), named without an export:
    keel.contract.naming.component_name(environment, service, name) is the topic's name."""

    service: str
    name: str
    filter_policy: Mapping[str, Any] | None
    raw_message_delivery: bool


@dataclass(frozen=True)
class WorkerInputs(FargateServiceInputs):
    queue: QueueInputs
    subscription: SubscriptionInputs
    scaling: QueueScalingInputs


@dataclass(frozen=True)
class WorkerInputsV11(WorkerInputs):
    """worker-fargate-svc 1.1: 1.0 plus Copilot's habits."""

    # Copilot habits (issue 16)
    external_secrets: tuple[ExternalSecretReference, ...]
    topics: tuple[TopicSubscription, ...]
    # sidecars (issue 17)
    sidecars: tuple[Sidecar, ...]


@dataclass(frozen=True)
class WorkerInputsV12(WorkerInputsV11):
    """worker-fargate-svc 1.2: 1.1 plus this round's blocks (each at the end)."""

    # ec2 placement (issue 18)
    cpu_architecture: str  # ARM64 | X86_64
    capacity: str  # fargate | ec2
    capacity_provider: str | None
    requires_gpu: int
    placement_constraints: tuple[str, ...]
    scheduling: str  # replica | daemon
    # sidecars (issue 17): with the 1.2 sidecar's external_secrets
    sidecars: tuple[SidecarV12, ...]


@dataclass(frozen=True)
class WorkerInputsV13(WorkerInputsV12):
    """worker-fargate-svc 1.3: 1.2 plus Windows tasks (each block at the end)."""

    # Windows containers (issue 15)
    operating_system_family: str  # LINUX | WINDOWS_SERVER_2019_CORE | ..._FULL | WINDOWS_SERVER_2022_CORE | ..._FULL


def check(inputs: WorkerInputs, env: Environment) -> Iterator[InputProblem]:
    yield from check_capacity(inputs, env)
    yield from check_scaling(inputs.scaling, inputs.desired_count)
    if isinstance(inputs, WorkerInputsV11):
        yield from _check_topics(inputs)


def _check_topics(inputs: WorkerInputsV11) -> Iterator[InputProblem]:
    seen: dict[tuple[str, str], int] = {}
    for n, topic in enumerate(inputs.topics):
        if (topic.service, topic.name) in seen:
            yield f"topics[{n}]", f"subscribes to the topic of topics[{seen[topic.service, topic.name]}] again", \
                f"{topic.service}/{topic.name}", "each topic once"
        seen.setdefault((topic.service, topic.name), n)
        if topic.filter_policy is not None:
            yield from (( f"topics[{n}].filter_policy{path}", message, got, expected)
                        for path, message, got, expected in check_filter_policy(topic.filter_policy))


def check_filter_policy(policy: Mapping[str, Any], depth: int = 0) -> Iterator[InputProblem]:
    """SNS's filter policy shape: attribute -> list of match conditions, or (nested) attribute -> policy."""
    if not policy:
        yield "", "is empty (it would match nothing in SNS)", {}, "attribute names with lists of values"
    for key, value in policy.items():
        if isinstance(value, Mapping) and depth < 4:
            yield from ((f".{key}{p}", m, g, e) for p, m, g, e in check_filter_policy(value, depth + 1))
        elif not isinstance(value, list) or not value:
            yield f".{key}", "is not a list of match conditions", value, \
                "a list such as [order_placed] or [{prefix: eu-}]"


def references(inputs: object) -> Iterator[tuple[str, str]]:
    """(input path, service) of every other service this instance needs in its environment: the owners of the
    topics it subscribes to. The loader checks them once every service is read."""
    if isinstance(inputs, WorkerInputsV11):
        for n, topic in enumerate(inputs.topics):
            yield f"topics[{n}].service", topic.service


def component_references(inputs: object) -> Iterator[tuple[str, str, str, str]]:
    """(input path, service, component kind, component name) of every component of another service this instance
    needs: each topic it subscribes to is an sns-topic component of its owner's instance in the environment."""
    if isinstance(inputs, WorkerInputsV11):
        for n, topic in enumerate(inputs.topics):
            yield f"topics[{n}].name", topic.service, "sns-topic", topic.name
