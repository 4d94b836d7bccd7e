"""Typed inputs every environment template shares: the event bus and the config plane. CDK-free.

An environment template embeds these two groups in its schema (as `event_bus` and `config` object inputs
whose types come from the same definitions) and in its inputs dataclass, calls `check_platform_services`
from its `check`, and `keel.templates.platform_services.build_platform_services` from its builder.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from keel.contract.naming import parameter_name, secret_name
from keel.contract.problems import InputProblem
from keel.spec.errors import MISSING


@dataclass(frozen=True)
class EventBusInputs:
    enabled: bool
    encryption: str  # "environment-key" | "aws-owned"
    archive_retention_days: int  # 0 keeps events indefinitely
    schema_discovery: bool
    publisher_accounts: tuple[str, ...]
    publisher_organization_id: str | None
    log_all_events: bool
    log_retention_days: int


@dataclass(frozen=True)
class ConfigParameterInputs:
    service: str
    key: str
    value: str | None
    values: tuple[str, ...] | None
    description: str | None

    @property
    def type(self) -> str:
        return "StringList" if self.values is not None else "String"


@dataclass(frozen=True)
class ConfigSecretInputs:
    service: str
    key: str
    description: str | None
    username: str | None
    length: int
    exclude_punctuation: bool
    rotation: str  # "generic" | "none"
    rotation_days: int


@dataclass(frozen=True)
class ConfigPlaneInputs:
    enabled: bool
    parameters: tuple[ConfigParameterInputs, ...]
    secrets: tuple[ConfigSecretInputs, ...]


def check_platform_services(event_bus: EventBusInputs, config: ConfigPlaneInputs) -> Iterator[InputProblem]:
    """Cross-field rules of the two groups; paths are relative to the environment's spec."""
    if event_bus.enabled and event_bus.schema_discovery and event_bus.encryption == "environment-key":
        yield ("event_bus.schema_discovery",
               "EventBridge cannot discover schemas on a bus encrypted with a customer managed key", True,
               'false, or event_bus.encryption "aws-owned"')
    if not event_bus.enabled:
        for name in ("publisher_accounts", "log_all_events", "schema_discovery"):
            if getattr(event_bus, name):
                yield f"event_bus.{name}", "is set but event_bus.enabled is false", getattr(event_bus, name), \
                    "event_bus.enabled: true"
    seen: set[tuple[str, str]] = set()
    for n, p in enumerate(config.parameters):
        where = f"config.parameters[{n}]"
        if (p.value is None) == (p.values is None):
            yield f"{where}.value", "needs exactly one of value (String) or values (StringList)", \
                MISSING if p.value is None else p.value, "value or values, not both"
        for i, item in enumerate(p.values or ()):
            if "," in item:
                yield f"{where}.values[{i}]", "contains a comma, which splits a StringList item", item, \
                    "an item without commas"
        if (p.service, p.key) in seen:
            yield f"{where}.key", f"duplicate parameter {parameter_name('<environment>', p.service, p.key)}", \
                p.key, "each service/key once"
        seen.add((p.service, p.key))
    seen = set()
    for n, s in enumerate(config.secrets):
        if (s.service, s.key) in seen:
            yield f"config.secrets[{n}].key", f"duplicate secret {secret_name('<environment>', s.service, s.key)}", \
                s.key, "each service/key once"
        seen.add((s.service, s.key))
    if not config.enabled and (config.parameters or config.secrets):
        yield "config.enabled", "is false but config declares parameters or secrets", False, \
            "true, or no parameters and secrets"
