"""ecs-env inputs and cross-field rules. CDK-free: `keel validate` runs this without importing aws_cdk.

The network part IS vpc-env's: `EcsEnvInputs` extends `VpcEnvInputs`, so vpc-env's subnet plan and
checks apply unchanged and the builder hands the inputs to `build_network` as they are.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

from keel.contract.offers import Offers
from keel.contract.problems import InputProblem
from keel.spec.errors import MISSING
from keel.spec.model import Environment
from keel.templates.common_inputs import ConfigPlaneInputs, EventBusInputs, check_platform_services
from keel.templates.vpc_env.inputs import VpcEnvInputs, check_network, with_platform_services


@dataclass(frozen=True)
class CapacityProviderShare:
    capacity_provider: str  # FARGATE | FARGATE_SPOT
    weight: int
    base: int


@dataclass(frozen=True)
class LoadBalancerInputs:
    enabled: bool
    protocol: str  # HTTP | HTTPS
    certificate_arn: str | None
    # Always set up to 1.1 (default true); from 1.2 None when omitted (production must state it).
    internet_facing: bool | None
    ingress_cidrs: tuple[str, ...]
    idle_timeout_seconds: int
    access_log_retention_days: int

    @property
    def https(self) -> bool:
        return self.protocol == "HTTPS"

    @property
    def is_internet_facing(self) -> bool:
        """Omitted (1.2, non-production only: the checks refuse it in production) keeps 1.1's default."""
        return self.internet_facing is not False

    def web_acl_rule_groups(self, production: bool) -> tuple[str, ...] | None:
        """The web ACL's managed rule groups, or None for no web ACL (always None before 1.2)."""
        return None


@dataclass(frozen=True)
class WafInputs:
    enabled: bool | None  # None: on in production, off elsewhere
    rule_groups: tuple[str, ...]
    log_retention_days: int


@dataclass(frozen=True)
class LoadBalancerInputsV12(LoadBalancerInputs):
    """ecs-env 1.2's load balancer: a web ACL (waf), internet_facing without a default."""

    waf: WafInputs

    def web_acl_rule_groups(self, production: bool) -> tuple[str, ...] | None:
        enabled = self.waf.enabled if self.waf.enabled is not None else production
        return self.waf.rule_groups if enabled else None


@dataclass(frozen=True)
class AnywhereInputs:
    enabled: bool
    registration_limit: int
    expiry_days: int
    epoch: int
    instance_name_prefix: str | None
    gpu: bool
    docker_install_source: str  # docker | distro | none


@dataclass(frozen=True)
class MonitoringInputs:
    notification_emails: tuple[str, ...]
    formatter: bool


@dataclass(frozen=True)
class EcsEnvInputs(VpcEnvInputs):
    capacity_provider_strategy: tuple[CapacityProviderShare, ...]
    container_insights: str  # enhanced | enabled | disabled
    namespace: str | None
    log_retention_days: int
    load_balancer: LoadBalancerInputs
    anywhere: AnywhereInputs
    monitoring: MonitoringInputs

    def namespace_name(self, environment: str) -> str:
        return self.namespace or f"{environment}.internal"

    def instance_name_prefix(self, environment: str) -> str:
        return self.anywhere.instance_name_prefix or f"keel-{environment}"

    def offers(self) -> Offers:
        return replace(super().offers(), load_balancer=self.load_balancer.enabled, https=self.load_balancer.https,
                       anywhere=self.anywhere.enabled, anywhere_gpu=self.anywhere.gpu)


@dataclass(frozen=True)
class EcsEnvInputsV11(EcsEnvInputs):
    """ecs-env 1.1: 1.0's inputs plus the environment's event bus and config plane (on by default)."""

    event_bus: EventBusInputs
    config: ConfigPlaneInputs

    def offers(self) -> Offers:
        return with_platform_services(super().offers(), self.event_bus, self.config)

@dataclass(frozen=True)
class EcsEnvInputsV12(EcsEnvInputsV11):
    """ecs-env 1.2: 1.1's inputs; the load balancer gains a web ACL and states its exposure in production."""

    load_balancer: LoadBalancerInputsV12


def check(inputs: EcsEnvInputs, env: Environment) -> Iterator[InputProblem]:
    yield from check_network(inputs, env.az_count, env.availability_zones)
    if isinstance(inputs, EcsEnvInputsV11):
        yield from check_platform_services(inputs.event_bus, inputs.config)
    yield from check_strategy(inputs.capacity_provider_strategy)
    yield from check_load_balancer(inputs.load_balancer, env)
    if inputs.anywhere.enabled and not env.region:
        yield "anywhere.enabled", "needs the environment's region (the registration script names it)", True, \
            "a region (and availability_zones) on the environment, or anywhere.enabled false"


def check_strategy(strategy: tuple[CapacityProviderShare, ...]) -> Iterator[InputProblem]:
    """ECS's own rules for a capacity provider strategy, reported before CloudFormation rejects them."""
    seen: set[str] = set()
    for n, share in enumerate(strategy):
        if share.capacity_provider in seen:
            yield f"capacity_provider_strategy[{n}].capacity_provider", "appears twice in the strategy", \
                share.capacity_provider, "each capacity provider once"
        seen.add(share.capacity_provider)
    with_base = [n for n, s in enumerate(strategy) if s.base > 0]
    for n in with_base[1:]:
        yield f"capacity_provider_strategy[{n}].base", "only one capacity provider in a strategy can have a base", \
            strategy[n].base, "0 here, or a base on one provider only"
    if strategy and all(s.weight == 0 for s in strategy):
        yield "capacity_provider_strategy", "gives every capacity provider a weight of 0", \
            [s.weight for s in strategy], "a weight above 0 for at least one provider"


def check_load_balancer(lb: LoadBalancerInputs, env: Environment) -> Iterator[InputProblem]:
    if not lb.enabled:
        return
    if not env.region:
        # CDK writes the access-log bucket policy for the region's Elastic Load Balancing account: it has to
        # know the region (without one, synth fails with RegionRequiredEnableBvAccess).
        yield "load_balancer.enabled", "needs the environment's region (the load balancer's access logs are "\
            "delivered by that region's Elastic Load Balancing account)", True, \
            "region and availability_zones on the environment, or load_balancer.enabled: false"
    # Every version: a production environment never serves plaintext (a security fix for 1.0 and 1.1 too).
    if env.production and not lb.https:
        yield "load_balancer.protocol", "a production environment's load balancer must not serve plaintext", \
            lb.protocol, "protocol HTTPS with a certificate_arn (port 80 then only redirects to HTTPS)"
    if env.production and lb.internet_facing is None:
        yield "load_balancer.internet_facing", "must be stated on a production environment", MISSING, \
            "true (public subnets, reachable from ingress_cidrs) or false (internal)"
    if lb.https and not lb.certificate_arn:
        yield "load_balancer.certificate_arn", "is required when load_balancer.protocol is HTTPS", MISSING, \
            "an ACM certificate ARN, or protocol HTTP"
    if not lb.https and lb.certificate_arn:
        yield "load_balancer.certificate_arn", "is set but load_balancer.protocol is HTTP (it would be ignored)", \
            lb.certificate_arn, "protocol HTTPS, or no certificate_arn"
    if lb.certificate_arn and env.region:
        region = lb.certificate_arn.split(":")[3]
        if region != env.region:
            yield "load_balancer.certificate_arn", f"is in {region}, the environment is in {env.region}", \
                lb.certificate_arn, f"a certificate in {env.region} (ALBs use certificates of their own region)"
