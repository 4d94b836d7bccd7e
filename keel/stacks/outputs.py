"""What an environment hands its service instances: construct objects, never ARNs or strings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from aws_cdk import RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_events as events
from aws_cdk import aws_kms as kms

from keel.spec.model import Environment

if TYPE_CHECKING:
    from keel.constructs.config_plane import ConfigPlane


@dataclass(frozen=True)
class EnvironmentOutputs:
    environment: Environment
    vpc: ec2.IVpc
    key: kms.IKey
    # Published as SSM parameters under /keel/<environment>/ for discovery at run time.
    discovery: Mapping[str, str] = field(default_factory=dict)
    # The environment's event bus (services put their rules on it), when the template has one.
    bus: events.IEventBus | None = None
    # The config plane (/keel/<environment>/<service>/<key>), when the template has one.
    config: ConfigPlane | None = None

    @property
    def name(self) -> str:
        return self.environment.name


def removal_policy(environment: Environment) -> RemovalPolicy:
    """The one place that decides: production-like environments keep their data when a stack goes."""
    return RemovalPolicy.RETAIN if environment.production else RemovalPolicy.DESTROY
