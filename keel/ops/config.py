"""`keel secret` and `keel param`: the config plane, `/keel/<environment>/<service>/<key>`.

The names and their rules are the spec layer's: the same `service` and `key` schema as the platform file's
`config.parameters` / `config.secrets`, the same reserved service names. A secret's value never passes argv,
stdout or a log line: it comes from stdin or a hidden prompt and goes straight to Secrets Manager.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import IO, Any

from keel.contract.naming import SHARED, parameter_name, secret_name
from keel.ops.aws import Clients, OpsError
from keel.spec.errors import render_value
from keel.spec.model import PlatformModel

_TYPES = Path(__file__).resolve().parents[1] / "templates" / "platform_services.types.yaml"


@cache
def _name_schema() -> dict[str, Any]:
    """`service` and `key` exactly as the platform file's config entries declare them."""
    from keel.spec.yamlio import read_yaml_mapping

    props = read_yaml_mapping(_TYPES)["types"]["ConfigSecretInput"]["properties"]
    return {"type": "object", "required": ["service", "key"],
            "properties": {"service": props["service"], "key": props["key"]}}


def check_name(model: PlatformModel, environment: str, service: str, key: str | None) -> None:
    """The spec layer's rules for a config path; OpsError naming the argument, value and expectation."""
    from jsonschema import Draft7Validator

    from keel.contract.schema import describe
    from keel.spec.loader import reserved_service_names
    from keel.spec.registry import default_registry

    names = [e.name for e in model.environments]
    if environment not in names:
        raise OpsError(f'unknown environment "{environment}" (known: {", ".join(names)})')
    doc = {"service": service, "key": key if key is not None else "x"}
    for err in Draft7Validator(_name_schema()).iter_errors(doc):
        path, message, got, expected = describe(err)
        raise OpsError(f"{path or 'name'}: {message} (got {render_value(got)}, expected {expected})")
    reserved = reserved_service_names(default_registry())
    if service in reserved and service != SHARED:
        raise OpsError(f"service: is reserved: {reserved[service]} (got {render_value(service)}, expected a "
                       "service name, or shared)")


def declared(model: PlatformModel, environment: str, group: str) -> set[tuple[str, str]]:
    """(service, key) of the parameters or secrets the environment's spec declares: CloudFormation owns them."""
    config = getattr(model.environment(environment).inputs, "config", None)
    return {(e.service, e.key) for e in getattr(config, group, ())} if config is not None else set()


# -- secrets ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SecretEntry:
    name: str
    description: str
    changed: str
    rotation: bool
    managed_by: str  # "platform file" (CloudFormation) or "keel secret set"


def set_secret(call: Clients, region: str | None, environment: str, service: str, key: str, value: str, *,
               description: str | None = None) -> str:
    """Create or update the secret; returns "created" or "updated". The value goes only to Secrets Manager."""
    if not value:
        raise OpsError("the secret value is empty (give it on stdin or at the prompt)")
    sm = call("secretsmanager", region)
    name = secret_name(environment, service, key)
    try:
        sm.describe_secret(SecretId=name)
    except sm.exceptions.ResourceNotFoundException:
        kwargs: dict[str, Any] = {"Name": name, "SecretString": value,
                                  "Tags": [{"Key": "keel:environment", "Value": environment},
                                           {"Key": "keel:service", "Value": service}]}
        if description:
            kwargs["Description"] = description
        sm.create_secret(**kwargs)
        return "created"
    sm.put_secret_value(SecretId=name, SecretString=value)
    return "updated"


def list_secrets(call: Clients, region: str | None, environment: str, service: str | None,
                 managed: set[tuple[str, str]]) -> list[SecretEntry]:
    """Names and metadata only: ListSecrets returns no values, and nothing here asks for one."""
    sm = call("secretsmanager", region)
    prefix = secret_name(environment, service, "") if service else f"keel/{environment}/"
    out = []
    for page in sm.get_paginator("list_secrets").paginate(Filters=[{"Key": "name", "Values": [prefix]}]):
        for s in page.get("SecretList", []):
            if not s["Name"].startswith(prefix):
                continue
            _, _, svc, rest = [*s["Name"].split("/", 3), "", ""][:4]
            out.append(SecretEntry(
                name=s["Name"], description=s.get("Description", ""),
                changed=_iso(s.get("LastChangedDate") or s.get("CreatedDate")),
                rotation=bool(s.get("RotationEnabled")),
                managed_by="platform file" if (svc, rest) in managed else "keel secret set"))
    return sorted(out, key=lambda e: e.name)


def delete_secret(call: Clients, region: str | None, environment: str, service: str, key: str, *,
                  recovery_days: int | None) -> str:
    sm = call("secretsmanager", region)
    name = secret_name(environment, service, key)
    kwargs: dict[str, Any] = {"SecretId": name}
    if recovery_days is None:
        kwargs["ForceDeleteWithoutRecovery"] = True
    else:
        kwargs["RecoveryWindowInDays"] = recovery_days
    try:  # first: a forced delete of a name that does not exist succeeds silently
        sm.describe_secret(SecretId=name)
    except sm.exceptions.ResourceNotFoundException as exc:
        raise OpsError(f"no secret {name}") from exc
    sm.delete_secret(**kwargs)
    return name


# -- parameters ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ParameterEntry:
    name: str
    type: str
    value: str | None  # None for a SecureString: never decrypted here
    version: int
    changed: str


def set_parameter(call: Clients, region: str | None, environment: str, service: str, key: str, value: str, *,
                  description: str | None = None) -> int:
    ssm = call("ssm", region)
    kwargs: dict[str, Any] = {"Name": parameter_name(environment, service, key), "Value": value, "Type": "String",
                              "Overwrite": True}
    if description:
        kwargs["Description"] = description
    return int(ssm.put_parameter(**kwargs).get("Version", 0))


def get_parameter(call: Clients, region: str | None, environment: str, service: str, key: str) -> ParameterEntry:
    ssm = call("ssm", region)
    name = parameter_name(environment, service, key)
    try:
        p = ssm.get_parameter(Name=name, WithDecryption=False)["Parameter"]
    except ssm.exceptions.ParameterNotFound as exc:
        raise OpsError(f"no parameter {name}") from exc
    return _entry(p)


def list_parameters(call: Clients, region: str | None, environment: str,
                    service: str | None) -> list[ParameterEntry]:
    ssm = call("ssm", region)
    path = parameter_name(environment, service, "")[:-1] if service else f"/keel/{environment}"
    out: list[ParameterEntry] = []
    for page in ssm.get_paginator("get_parameters_by_path").paginate(Path=path, Recursive=True,
                                                                      WithDecryption=False):
        out += [_entry(p) for p in page.get("Parameters", [])]
    return sorted(out, key=lambda e: e.name)


def _entry(p: dict[str, Any]) -> ParameterEntry:
    secure = p.get("Type") == "SecureString"
    return ParameterEntry(name=p["Name"], type=p.get("Type", "String"), value=None if secure else p.get("Value"),
                          version=int(p.get("Version", 0)), changed=_iso(p.get("LastModifiedDate")))


def _iso(value: object) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(value or "-")


def read_secret_value(stdin: IO[str], prompt: Callable[[str], str]) -> str:
    """The value from a pipe (`printf %s "$V" | keel secret set ...`), or typed at a hidden prompt twice."""
    if not stdin.isatty():
        return str(stdin.read()).removesuffix("\n")
    first = prompt("secret value (hidden): ")
    if first != prompt("again, to confirm: "):
        raise OpsError("the two values differ; nothing was stored")
    return str(first)


def iter_lines(entries: list[SecretEntry]) -> Iterator[list[str]]:
    for e in entries:
        yield [e.name, e.description or "-", e.changed, "on" if e.rotation else "off", e.managed_by]
