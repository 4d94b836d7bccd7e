"""One boto3 session from the standard credential chain; clients per region; the platform's stacks as targets."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from keel.spec.model import PlatformModel

if TYPE_CHECKING:
    import boto3
    import botocore.exceptions
    from botocore.client import BaseClient


class OpsError(Exception):
    """A day-2 verb cannot run: one line for the person, exit 2."""


# botocore's exception classes whose meaning is "no usable credentials or region here".
_CREDENTIAL_ERRORS = ("NoCredentialsError", "PartialCredentialsError", "CredentialRetrievalError",
                      "ProfileNotFound", "SSOError", "SSOTokenLoadError", "UnauthorizedSSOTokenError",
                      "TokenRetrievalError", "InvalidConfigError", "NoAuthTokenError")
_EXPIRED = {"ExpiredToken", "ExpiredTokenException", "InvalidClientTokenId", "UnrecognizedClientException",
            "AuthFailure", "InvalidSignatureException", "SignatureDoesNotMatch"}


@dataclass
class Clients:
    """boto3 clients from one session, made on first use per (service, region)."""

    session: boto3.Session
    _made: dict[tuple[str, str | None], BaseClient] = field(default_factory=dict)

    def __call__(self, service: str, region: str | None) -> BaseClient:
        key = (service, region)
        if key not in self._made:
            self._made[key] = self.session.client(service, region_name=region) if region \
                else self.session.client(service)
        return self._made[key]


def clients(profile: str | None) -> Clients:
    """The standard chain: `--profile` (or AWS_PROFILE), environment variables, SSO, instance roles."""
    import boto3
    import botocore.exceptions

    try:
        return Clients(boto3.Session(profile_name=profile) if profile else boto3.Session())
    except botocore.exceptions.ProfileNotFound as exc:
        raise OpsError(f"{exc} (check --profile / AWS_PROFILE against ~/.aws/config)") from exc


@contextlib.contextmanager
def aws_errors() -> Iterator[None]:
    """botocore's credential, region and authorization failures -> one OpsError line each."""
    import botocore.exceptions

    try:
        yield
    except botocore.exceptions.NoRegionError as exc:
        raise OpsError("no AWS region: give the environment a region in the platform file, or set AWS_REGION "
                       "or a profile region") from exc
    except botocore.exceptions.ClientError as exc:
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        if code in _EXPIRED:
            raise OpsError(f"AWS refused the credentials ({code}): log in again (e.g. `aws sso login`)") from exc
        raise OpsError(f"AWS error {code}: {error.get('Message', exc)}") from exc
    except botocore.exceptions.EndpointConnectionError as exc:
        raise OpsError(f"cannot reach AWS: {exc}") from exc
    except botocore.exceptions.BotoCoreError as exc:
        if type(exc).__name__ in _CREDENTIAL_ERRORS:
            raise OpsError(f"no AWS credentials ({exc}): use --profile, AWS_* environment variables or "
                           "`aws sso login`") from exc
        raise OpsError(f"AWS client error: {exc}") from exc


@dataclass(frozen=True)
class Target:
    """One deployed stack of the platform, as the platform file describes it."""

    stack: str
    kind: str  # "environment" | "service"
    environment: str
    region: str | None  # None: the session's default region
    template: str  # the template@version the platform file pins (what keel:template should say)
    service: str | None = None
    instance: str | None = None
    exec_enabled: bool | None = None  # service instances of container templates

    @property
    def name(self) -> str:
        return self.environment if self.kind == "environment" else f"{self.service}/{self.instance}"


def targets(model: PlatformModel) -> list[Target]:
    out = [Target(stack=e.stack_name, kind="environment", environment=e.name, region=e.region,
                  template=e.template.label) for e in model.environments]
    for i in model.instances:
        env = model.environment(i.environment)
        exec_on = getattr(i.inputs, "enable_exec", None)
        out.append(Target(stack=i.stack_name, kind="service", environment=i.environment, region=env.region,
                          template=i.template.label, service=i.service, instance=i.name,
                          exec_enabled=bool(exec_on) if exec_on is not None else None))
    return out


def select(model: PlatformModel, *, environment: str | None = None, service: str | None = None,
           instance: str | None = None) -> list[Target]:
    """The platform's targets narrowed by names; an unknown name is an OpsError that lists the known ones."""
    envs = [e.name for e in model.environments]
    services = [s.name for s in model.services]
    if environment is not None and environment not in envs:
        raise OpsError(f'unknown environment "{environment}" (known: {", ".join(envs)})')
    if service is not None and service not in services:
        raise OpsError(f'unknown service "{service}" (known: {", ".join(services) or "none"})')
    chosen = targets(model)
    if environment is not None:
        chosen = [t for t in chosen if t.environment == environment]
    if service is not None:
        chosen = [t for t in chosen if t.service == service]
    if instance is not None:
        names = sorted({t.instance for t in chosen if t.instance})
        chosen = [t for t in chosen if t.instance == instance]
        if not chosen:
            raise OpsError(f'unknown instance "{instance}" (known: {", ".join(names) or "none"})')
    return chosen


def one_instance(model: PlatformModel, service: str, instance: str | None) -> Target:
    chosen = select(model, service=service, instance=instance)
    if len(chosen) != 1:
        names = ", ".join(t.instance or "" for t in chosen) or "none"
        raise OpsError(f'service "{service}" has {len(chosen)} instances ({names}): pick one with --instance')
    return chosen[0]


def stack_resources(call: Clients, target: Target, resource_type: str | None = None) -> list[dict[str, Any]]:
    """The stack's resources (every page), optionally of one CloudFormation type; [] when not deployed."""
    import botocore.exceptions

    cfn = call("cloudformation", target.region)
    out: list[dict[str, Any]] = []
    try:
        for page in cfn.get_paginator("list_stack_resources").paginate(StackName=target.stack):
            out += page.get("StackResourceSummaries", [])
    except botocore.exceptions.ClientError as exc:
        if _not_deployed(exc):
            return []
        raise
    return [r for r in out if resource_type is None or r.get("ResourceType") == resource_type]


def describe_stack(call: Clients, target: Target) -> dict[str, Any] | None:
    """The stack, or None when it is not deployed."""
    import botocore.exceptions

    try:
        stacks = call("cloudformation", target.region).describe_stacks(StackName=target.stack)["Stacks"]
    except botocore.exceptions.ClientError as exc:
        if _not_deployed(exc):
            return None
        raise
    return stacks[0] if stacks else None


def _not_deployed(exc: botocore.exceptions.ClientError) -> bool:
    error = exc.response.get("Error", {})
    return error.get("Code") == "ValidationError" and "does not exist" in str(error.get("Message", ""))
