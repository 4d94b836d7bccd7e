"""ecs-env inputs and cross-field rules. CDK-free: `keel validate` runs this without importing aws_cdk.

The network part IS vpc-env's: `EcsEnvInputs` extends `VpcEnvInputs`, so vpc-env's subnet plan and
checks apply unchanged and the builder hands the inputs to `build_network` as they are.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace

from keel.contract.offers import Offers
from keel.contract.problems import InputProblem
from keel.spec.errors import MISSING
from keel.spec.model import Environment
from keel.templates.common_inputs import ConfigPlaneInputs, EventBusInputs, check_platform_services
from keel.templates.vpc_env.inputs import (
    ExistingVpcInputs,
    VpcEnvInputs,
    check_network,
    existing_vpc_of,
    with_platform_services,
)


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


# existing network, EC2 capacity (issue 18)
#: Proton's ecs-ec2-env defaults, for a spec that names some of its inputs and not others.
PROTON_DESIRED_CAPACITY, PROTON_MAX_SIZE, PROTON_INSTANCE_TYPE = 1, 6, "c4.xlarge"
_FAMILY = re.compile(r"^(?P<prefix>[a-z]+)(?P<generation>[0-9]+)(?P<suffix>[a-z-]*)$")


def instance_family(instance_type: str) -> tuple[str, str, str] | None:
    """`g5g.xlarge` -> ("g", "5", "g"); None for a name outside EC2's family grammar."""
    match = _FAMILY.match(instance_type.split(".")[0])
    return (match["prefix"], match["generation"], match["suffix"]) if match else None


def is_graviton(instance_type: str) -> bool:
    """Graviton (arm64) families carry a `g` after the generation: m7g, c7gn, r8g, t4g, g5g, is4gen."""
    family = instance_family(instance_type)
    return family is not None and "g" in family[2]


def is_nvidia_gpu(instance_type: str) -> bool:
    """The NVIDIA GPU families the ECS GPU AMIs drive: g4dn, g5, g5g, g6, g6e, gr6, p3, p4d, p5...
    (g4ad is AMD: not these AMIs)."""
    family = instance_family(instance_type)
    return family is not None and family[0] in ("g", "p", "gr") and not (family[0] == "g" and "a" in family[2])


@dataclass(frozen=True)
class Ec2CapacityProviderInputs:
    name: str
    instance_types: tuple[str, ...]
    ami: str  # auto | ecs-optimized | ecs-optimized-gpu | bottlerocket | bottlerocket-nvidia | ssm-parameter
    ami_parameter: str | None
    min_capacity: int
    max_capacity: int
    desired_capacity: int | None
    subnet_type: str  # private | public
    spot: bool
    on_demand_base_capacity: int
    on_demand_percentage_above_base: int
    target_capacity_percent: int
    managed_termination_protection: bool
    managed_draining: bool
    root_volume_gib: int

    @property
    def arm64(self) -> bool:
        return is_graviton(self.instance_types[0])

    @property
    def gpu(self) -> bool:
        return is_nvidia_gpu(self.instance_types[0])

    @property
    def image(self) -> str:
        """The AMI kind: `auto` picks the ECS-optimized GPU AMI for NVIDIA families, else the ECS-optimized one."""
        if self.ami != "auto":
            return self.ami
        if self.ami_parameter:
            return "ssm-parameter"
        return "ecs-optimized-gpu" if self.gpu else "ecs-optimized"


@dataclass(frozen=True)
class ExistingClusterInputs:
    cluster_name: str


@dataclass(frozen=True)
class EcsEnvInputsV13(EcsEnvInputsV12):
    """ecs-env 1.3: 1.2's inputs plus an existing VPC and cluster, EC2 capacity providers (Auto Scaling groups),
    and Proton's ecs-ec2-env inputs under their own names."""

    # existing network, EC2 capacity (issue 18)
    existing_vpc: ExistingVpcInputs | None
    existing_cluster: ExistingClusterInputs | None
    ec2_capacity: tuple[Ec2CapacityProviderInputs, ...]
    subnet_type: str | None
    DesiredCapacity: int | None  # Proton's ecs-ec2-env names, as its spec gives them
    MaxSize: int | None
    ECSAMI: str | None
    InstanceType: str | None

    @property
    def proton_ec2(self) -> bool:
        return any(v is not None for v in (self.DesiredCapacity, self.MaxSize, self.ECSAMI, self.InstanceType))

    def capacity_providers(self) -> tuple[Ec2CapacityProviderInputs, ...]:
        """`ec2_capacity`, and the one provider Proton's ecs-ec2-env inputs describe (named `ec2`)."""
        if not self.proton_ec2:
            return self.ec2_capacity
        desired = int(self.DesiredCapacity) if self.DesiredCapacity is not None else PROTON_DESIRED_CAPACITY
        proton = Ec2CapacityProviderInputs(
            name="ec2", instance_types=(self.InstanceType or PROTON_INSTANCE_TYPE,),
            ami="ssm-parameter" if self.ECSAMI else "auto", ami_parameter=self.ECSAMI,
            min_capacity=min(1, desired),  # Proton's group kept one instance (MinSize 1)
            max_capacity=int(self.MaxSize) if self.MaxSize is not None else PROTON_MAX_SIZE,
            desired_capacity=desired, subnet_type=self.subnet_type or "private", spot=False,
            on_demand_base_capacity=0, on_demand_percentage_above_base=100, target_capacity_percent=100,
            managed_termination_protection=True, managed_draining=True, root_volume_gib=30)
        return (*self.ec2_capacity, proton)

    def offers(self) -> Offers:
        return replace(super().offers(), ec2_capacity=tuple(
            (p.name, p.gpu, "ARM64" if p.arm64 else "X86_64") for p in self.capacity_providers()))


def _at(where: str, field: str, proton: str) -> str:
    """The path of a provider's input: under ec2_capacity[n], or the Proton input it came from."""
    return f"{where}.{field}" if where else proton


def check_ec2_capacity(inputs: EcsEnvInputsV13, env: Environment) -> Iterator[InputProblem]:
    """EC2's and ECS's rules for the capacity providers, before CloudFormation meets them."""
    existing = existing_vpc_of(inputs)
    if inputs.subnet_type is not None and not inputs.proton_ec2:
        yield "subnet_type", "places Proton's EC2 instances, and no InstanceType, ECSAMI, DesiredCapacity or " \
            "MaxSize asks for them", inputs.subnet_type, "InstanceType (and the others) too, or ec2_capacity"
    if inputs.MaxSize is not None and inputs.DesiredCapacity is not None and inputs.DesiredCapacity > inputs.MaxSize:
        yield "DesiredCapacity", f"is above MaxSize ({inputs.MaxSize})", inputs.DesiredCapacity, \
            f"at most {inputs.MaxSize}"
    providers = inputs.capacity_providers()
    if providers and inputs.existing_cluster is not None:
        where = "ec2_capacity" if inputs.ec2_capacity else "InstanceType"
        yield where, "cannot add capacity providers to an existing cluster: Keel would replace the providers " \
            "its owners associated with it", [p.name for p in providers], \
            "no EC2 capacity, or no existing_cluster (Keel then creates the cluster)"
    seen: set[str] = set()
    for n, provider in enumerate(providers):
        where = f"ec2_capacity[{n}]" if n < len(inputs.ec2_capacity) else ""
        if provider.name in seen:
            yield _at(where, "name", "InstanceType"), "names another capacity provider already", provider.name, \
                "a name of its own (services choose a provider by name)"
        seen.add(provider.name)
        yield from _instance_type_problems(provider, where)
        yield from _image_problems(provider, where)
        yield from _size_problems(provider, where)
        yield from _placement_problems(provider, where, existing, env)


def _instance_type_problems(provider: Ec2CapacityProviderInputs, where: str) -> Iterator[InputProblem]:
    """Types EC2 knows, of one architecture, all GPU or none."""
    for i, instance_type in enumerate(provider.instance_types):
        if instance_family(instance_type) is None:
            yield _at(where, f"instance_types[{i}]", "InstanceType"), "is not an EC2 instance type", \
                instance_type, "family and size, e.g. m7g.large, g5.xlarge, p4d.24xlarge"
    arches = {is_graviton(t) for t in provider.instance_types}
    if len(arches) > 1:
        yield _at(where, "instance_types", "InstanceType"), "mixes Graviton (arm64) and x86_64 types, which need " \
            "different AMIs", list(provider.instance_types), "one architecture per capacity provider"
    gpus = {is_nvidia_gpu(t) for t in provider.instance_types}
    if len(gpus) > 1:
        yield _at(where, "instance_types", "InstanceType"), "mixes GPU and non-GPU types (GPU tasks would " \
            "be placed on neither reliably)", list(provider.instance_types), \
            "one GPU provider and one general provider"


def _image_problems(provider: Ec2CapacityProviderInputs, where: str) -> Iterator[InputProblem]:
    """An AMI that fits the instances, and an SSM parameter exactly when the AMI comes from one."""
    image = provider.image
    if image in ("ecs-optimized-gpu", "bottlerocket-nvidia") and not provider.gpu:
        yield _at(where, "ami", "ECSAMI"), f"{image} is for NVIDIA GPU instances", provider.ami, \
            "a GPU family (g4dn, g5, g6, p4d, p5...) or ami ecs-optimized"
    if image == "ecs-optimized-gpu" and provider.arm64:
        yield _at(where, "ami", "ECSAMI"), "the ECS-optimized GPU AMI is x86_64 only", provider.ami, \
            "bottlerocket-nvidia for Graviton GPU instances (g5g), or an x86_64 GPU family"
    if image == "ssm-parameter" and not provider.ami_parameter:
        yield _at(where, "ami_parameter", "ECSAMI"), "is required with ami ssm-parameter", MISSING, \
            "an SSM parameter path such as /aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id"
    if provider.ami_parameter and image != "ssm-parameter":
        yield _at(where, "ami_parameter", "ECSAMI"), f"is set but ami is {provider.ami}", provider.ami_parameter, \
            "ami ssm-parameter (or auto), or no ami_parameter"


def _size_problems(provider: Ec2CapacityProviderInputs, where: str) -> Iterator[InputProblem]:
    """min <= desired <= max, and an on-demand base within max."""
    if provider.min_capacity > provider.max_capacity:
        yield _at(where, "min_capacity", "MaxSize"), f"is above max_capacity ({provider.max_capacity})", \
            provider.min_capacity, f"at most {provider.max_capacity}"
    if provider.desired_capacity is not None and not \
            provider.min_capacity <= provider.desired_capacity <= provider.max_capacity:
        yield _at(where, "desired_capacity", "DesiredCapacity"), f"is outside min_capacity..max_capacity " \
            f"({provider.min_capacity}..{provider.max_capacity})", provider.desired_capacity, \
            f"between {provider.min_capacity} and {provider.max_capacity}"
    if provider.on_demand_base_capacity > provider.max_capacity:
        yield _at(where, "on_demand_base_capacity", "MaxSize"), \
            f"is above max_capacity ({provider.max_capacity})", provider.on_demand_base_capacity, \
            f"at most {provider.max_capacity}"


def _placement_problems(provider: Ec2CapacityProviderInputs, where: str, existing: ExistingVpcInputs | None,
                        env: Environment) -> Iterator[InputProblem]:
    """Public container instances: only where public subnets exist, never in production."""
    if provider.subnet_type == "public":
        if existing is not None and not existing.public_subnet_ids:
            yield _at(where, "subnet_type", "subnet_type"), "is public, and existing_vpc has no public subnets", \
                "public", "private, or existing_vpc.public_subnet_ids"
        if env.production:
            yield _at(where, "subnet_type", "subnet_type"), "puts container instances on public addresses in a " \
                "production environment", "public", "private (egress through NAT)"


def check(inputs: EcsEnvInputs, env: Environment) -> Iterator[InputProblem]:
    yield from check_network(inputs, env.az_count, env.availability_zones)
    if isinstance(inputs, EcsEnvInputsV11):
        yield from check_platform_services(inputs.event_bus, inputs.config)
    yield from check_strategy(inputs.capacity_provider_strategy)
    yield from check_load_balancer(inputs.load_balancer, env)
    if isinstance(inputs, EcsEnvInputsV13):
        yield from check_ec2_capacity(inputs, env)
        existing = inputs.existing_vpc
        if existing is not None and inputs.load_balancer.enabled and inputs.load_balancer.is_internet_facing \
                and not existing.public_subnet_ids:
            yield "load_balancer.internet_facing", "needs public subnets, and existing_vpc has none", True, \
                "false (an internal load balancer), or existing_vpc.public_subnet_ids"
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
