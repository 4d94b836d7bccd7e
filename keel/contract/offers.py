"""What an environment's spec switches on for its services, as the spec layer sees it. CDK-free.

Every environment inputs class answers `offers()`; a service template's `check` reads these fields
(typed) instead of probing the environment's inputs for groups it may not have. A capability a template
version does not have at all is `None`; one it has and the spec switched off is `False`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, kw_only=True)
class Offers:
    #: The VPC's CIDR block as the spec gives it (a literal: security group rules need no token).
    vpc_cidr: str
    event_bus: bool | None = None
    config: bool | None = None
    #: ecs-env: the shared Application Load Balancer, and whether its listener is HTTPS (else HTTP).
    load_balancer: bool | None = None
    https: bool = False
    #: ecs-env: ECS Anywhere (external instances join the cluster), and whether they register with GPUs.
    anywhere: bool | None = None
    anywhere_gpu: bool = False


class ListenerRuleClaim(Protocol):
    """A rule an instance puts on its environment's shared listener (an inputs module's `listener_rule` hook):
    what the loader compares across the instances of one environment."""

    priority: int
    derived: bool  # True when the spec sets no priority (derived from the names)
    path_pattern: str
    host_header: str | None

    @property
    def conditions(self) -> tuple[str, str | None]: ...


class EnvironmentInputs(Protocol):
    """What the spec layer needs of an environment template's inputs dataclass."""

    def offers(self) -> Offers: ...
