"""event-worker-svc inputs and cross-field rules. CDK-free."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from keel.contract.problems import InputProblem
from keel.spec.model import Environment
from keel.templates.event_patterns import check_pattern, check_size
from keel.templates.lambda_inputs import LambdaFunctionInputs, check_function, check_sources  # noqa: F401 (the template's source check)


@dataclass(frozen=True)
class EventWorkerSvcInputs(LambdaFunctionInputs):
    event_sources: tuple[str, ...]
    detail_types: tuple[str, ...]
    detail_filter: Mapping[str, Any]
    batch_size: int
    max_batching_window_seconds: int
    maximum_concurrency: int
    max_receive_count: int
    target_retry_attempts: int
    target_max_event_age_seconds: int
    idempotency_ttl_seconds: int


@dataclass(frozen=True)
class EventWorkerSvcInputsV13(EventWorkerSvcInputs):
    """event-worker-svc 1.3: the handler of every runtime's form, checked against the runtime."""

    handler_forms: ClassVar[bool] = True


def check(inputs: EventWorkerSvcInputs, env: Environment) -> Iterator[InputProblem]:
    yield from check_function(inputs)
    filter_problems = list(check_pattern(dict(inputs.detail_filter), "detail_filter")) if inputs.detail_filter else []
    yield from filter_problems
    if not filter_problems:
        yield from check_size({"source": list(inputs.event_sources), "detail-type": list(inputs.detail_types),
                               "detail": dict(inputs.detail_filter)}, "detail_filter")
    if not inputs.event_sources:
        yield "event_sources", "needs at least one event source: the rule filters at the bus", [], \
            'e.g. ["keel.orders-api"]'
    if inputs.batch_size > 10 and inputs.max_batching_window_seconds == 0:
        yield "max_batching_window_seconds", "must be above 0 when batch_size is above 10", 0, "1 to 300"
    reserved = inputs.reserved_concurrency
    if reserved is not None and 0 < reserved < inputs.maximum_concurrency:
        yield "reserved_concurrency", \
            f"is below maximum_concurrency ({inputs.maximum_concurrency}): the poller would be throttled", \
            reserved, f"at least {inputs.maximum_concurrency}"
    bus = env.offers.event_bus
    if bus is False:
        yield "event_sources", f"environment \"{env.name}\" has no event bus (event_bus.enabled is false)", \
            list(inputs.event_sources), "an environment with its event bus on"
    elif bus is None:
        yield "event_sources", f"environment \"{env.name}\" has no event bus ({env.template.label} has none)", \
            list(inputs.event_sources), \
            f"an environment with an event bus (keel upgrade --to {env.template.name}:{env.template.version.major})"
