"""What an environment's spec switches on for its services, as the spec layer sees it. CDK-free.

Every environment inputs class answers `offers()`; a service template's `check` reads these fields
(typed) instead of probing the environment's inputs for groups it may not have. A capability a template
version does not have at all is `None`; one it has and the spec switched off is `False`.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Protocol


# eks workloads (issue 21)
@dataclass(frozen=True, kw_only=True)
class EksOffers:
    """eks-env 1.2: where Kubernetes workloads can land and how their manifests reach the cluster."""

    capacity: str  # node_groups | fargate | auto_mode
    hybrid_nodes: bool
    anywhere: bool
    #: The EKS Anywhere cluster runs Flux (a repository is configured): it can sync workloads.
    anywhere_flux: bool
    workload_delivery: str  # kubectl | argocd
    pod_identity: bool
    #: Resource metrics for HPAs (metrics-server, or Auto Mode's).
    metrics: bool
    team_namespaces: tuple[str, ...]
    gitops_path: str


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
    # existing network, EC2 capacity (issue 18)
    #: ecs-env 1.3: the EC2 capacity providers, as (name, NVIDIA GPUs, "ARM64" | "X86_64"); () for none.
    ec2_capacity: tuple[tuple[str, bool, str], ...] = ()
    #: False: an existing VPC without public subnets (no public task, internet-facing load balancer...).
    public_subnets: bool = True
    # eks workloads (issue 21): eks-env 1.2 and later; None before
    eks: EksOffers | None = None


@dataclass(frozen=True, kw_only=True)
class Claim:
    """Something an instance takes that no other instance of its environment may: a template's inputs module
    yields these from `claims(service, instance, inputs, env)`, and the loader reports the second claimant."""

    key: Hashable  # equal keys collide within one environment
    path: str  # the input to point at, relative to the instance's spec
    message: str  # "{other}" names the instance that claimed it first
    got: object
    expected: str


class EnvironmentInputs(Protocol):
    """What the spec layer needs of an environment template's inputs dataclass."""

    def offers(self) -> Offers: ...
