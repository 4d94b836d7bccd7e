"""vpc-env inputs and cross-field rules. CDK-free: `keel validate` runs this without importing aws_cdk."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

from keel.contract.offers import Offers
from keel.contract.problems import InputProblem
from keel.netplan import PlanError, SubnetPlan, check_vpc_range, plan_subnets
from keel.spec.errors import MISSING
from keel.spec.model import Environment
from keel.templates.common_inputs import ConfigPlaneInputs, EventBusInputs, check_platform_services

_ORDINALS = ("one", "two", "three")


@dataclass(frozen=True)
class VpcEnvInputs:
    vpc_cidr: str
    public_subnet_one_cidr: str | None
    public_subnet_two_cidr: str | None
    public_subnet_three_cidr: str | None
    private_subnet_one_cidr: str | None
    private_subnet_two_cidr: str | None
    private_subnet_three_cidr: str | None
    public_subnet_mask: int
    private_subnet_mask: int
    isolated_subnets: bool
    isolated_subnet_mask: int
    nat_gateways: int
    flow_log_retention_days: int
    flow_log_traffic: str
    gateway_endpoints: tuple[str, ...]
    interface_endpoints: tuple[str, ...]

    def subnet_plan(self, az_count: int) -> SubnetPlan:
        """Raises PlanError; `check` turns that into a spec problem before any synth."""
        fields = {t: [f"{t}_subnet_{o}_cidr" for o in _ORDINALS] for t in ("public", "private", "isolated")}
        return plan_subnets(
            vpc_cidr=self.vpc_cidr, az_count=az_count,
            explicit={t: [getattr(self, f, None) for f in fields[t]] for t in ("public", "private")},
            masks={"public": self.public_subnet_mask, "private": self.private_subnet_mask,
                   "isolated": self.isolated_subnet_mask if self.isolated_subnets else None},
            field_names=fields)

    def offers(self) -> Offers:
        existing = existing_vpc_of(self)
        return Offers(vpc_cidr=network_cidr(self),
                      public_subnets=bool(existing.public_subnet_ids) if existing else True)


@dataclass(frozen=True)
class VpcEnvInputsV11(VpcEnvInputs):
    """vpc-env 1.1: 1.0's inputs plus one optional input; the same builder serves both."""

    flow_log_max_aggregation_seconds: int | None


@dataclass(frozen=True)
class VpcEnvInputsV12(VpcEnvInputsV11):
    """vpc-env 1.2: 1.1's inputs plus the environment's event bus and config plane (on by default)."""

    event_bus: EventBusInputs
    config: ConfigPlaneInputs

    def offers(self) -> Offers:
        return with_platform_services(super().offers(), self.event_bus, self.config)


# existing network (issue 18)
@dataclass(frozen=True)
class ExistingVpcInputs:
    """A VPC the network team owns, by its IDs: Keel imports it (no lookup) and never changes it, except for
    the endpoints and the flow log asked for here."""

    vpc_id: str
    vpc_cidr: str
    public_subnet_ids: tuple[str, ...]
    private_subnet_ids: tuple[str, ...]
    isolated_subnet_ids: tuple[str, ...]
    public_subnet_cidrs: tuple[str, ...]
    private_subnet_cidrs: tuple[str, ...]
    isolated_subnet_cidrs: tuple[str, ...]
    public_route_table_ids: tuple[str, ...]
    private_route_table_ids: tuple[str, ...]
    isolated_route_table_ids: tuple[str, ...]
    flow_log: bool
    gateway_endpoints: tuple[str, ...]
    interface_endpoints: tuple[str, ...]

    def subnet_ids(self, tier: str) -> tuple[str, ...]:
        return getattr(self, f"{tier}_subnet_ids")  # type: ignore[no-any-return]


@dataclass(frozen=True)
class VpcEnvInputsV13(VpcEnvInputsV12):
    """vpc-env 1.3: 1.2's inputs plus an existing VPC to use instead of creating one."""

    # existing network (issue 18)
    existing_vpc: ExistingVpcInputs | None


def existing_vpc_of(inputs: object) -> ExistingVpcInputs | None:
    """The `existing_vpc` group of any network inputs that have one (vpc-env 1.3, ecs-env 1.3, eks-env 1.2)."""
    existing = getattr(inputs, "existing_vpc", None)
    return existing if isinstance(existing, ExistingVpcInputs) else None


def network_cidr(inputs: VpcEnvInputs) -> str:
    """The VPC's CIDR: the existing VPC's when there is one, else the one Keel creates."""
    existing = existing_vpc_of(inputs)
    return existing.vpc_cidr if existing else inputs.vpc_cidr


def check_existing_vpc(inputs: VpcEnvInputs, existing: ExistingVpcInputs, azs: tuple[str, ...],
                       prefix: str = "") -> Iterator[InputProblem]:
    """Offline: one subnet per availability zone in each tier given, IDs not reused, route tables and CIDRs
    matching their subnets, every CIDR inside the VPC's; and no input that would have Keel build subnets."""
    def p(f: str) -> str:
        return f"{prefix}.{f}" if prefix else f
    e = "existing_vpc"
    if not azs:
        yield p(e), "needs the environment's availability_zones (the subnets are given per zone, in order)", \
            MISSING, "availability_zones on the environment, one per subnet of each tier"
    yield from _subnets_keel_would_build(inputs, p)
    vpc: ipaddress.IPv4Network | None
    try:
        vpc = ipaddress.IPv4Network(existing.vpc_cidr)
        check_vpc_range(vpc)
    except ValueError as exc:
        got, message = existing.vpc_cidr, exc.message if isinstance(exc, PlanError) else str(exc)
        yield p(f"{e}.vpc_cidr"), message, got, "the VPC's primary IPv4 CIDR block, e.g. 10.0.0.0/16"
        vpc = None
    seen: dict[str, str] = {}
    placed: list[tuple[ipaddress.IPv4Network, str]] = []
    for tier in ("public", "private", "isolated"):
        yield from _existing_tier(existing, tier, azs, p, seen)
        yield from _existing_cidrs(existing, tier, vpc, p, placed)
    if existing.gateway_endpoints:
        for tier in ("private", "isolated"):
            if existing.subnet_ids(tier) and not getattr(existing, f"{tier}_route_table_ids"):
                yield p(f"{e}.{tier}_route_table_ids"), f"is needed for the gateway endpoints (they add routes to " \
                    f"the {tier} subnets' route tables)", MISSING, \
                    f"the route table of each {tier} subnet, or no {e}.gateway_endpoints"


def _subnets_keel_would_build(inputs: VpcEnvInputs, p: Callable[[str], str]) -> Iterator[InputProblem]:
    """The inputs that describe subnets Keel creates: meaningless in a VPC Keel does not own."""
    e = "existing_vpc"
    for name in ("public", "private"):
        for o in _ORDINALS:
            field = f"{name}_subnet_{o}_cidr"
            if getattr(inputs, field) is not None:
                yield p(field), "is set but existing_vpc is given: Keel creates no subnet in a VPC it does not " \
                    "own", getattr(inputs, field), f"no {field}, or {e}.{name}_subnet_cidrs to describe the subnet"
    if inputs.isolated_subnets:
        yield p("isolated_subnets"), "is set but existing_vpc is given: Keel creates no subnet in a VPC it " \
            "does not own", True, f"false, and {e}.isolated_subnet_ids for the existing isolated subnets"


def _existing_tier(existing: ExistingVpcInputs, tier: str, azs: tuple[str, ...], p: Callable[[str], str],
                   seen: dict[str, str]) -> Iterator[InputProblem]:
    """One subnet per zone, each subnet in one tier once, one route table and CIDR per subnet where given."""
    e = "existing_vpc"
    ids = existing.subnet_ids(tier)
    where = p(f"{e}.{tier}_subnet_ids")
    if ids and azs and len(ids) != len(azs):
        yield where, f"has {len(ids)} subnets, the environment has {len(azs)} availability zones", list(ids), \
            f"one subnet per availability zone, in the order of {list(azs)}"
    for n, subnet in enumerate(ids):
        if subnet in seen:
            yield f"{where}[{n}]", f"is already given as {seen[subnet]}", subnet, "each subnet in one tier, once"
        seen.setdefault(subnet, f"{e}.{tier}_subnet_ids[{n}]")
    for kind, values in (("route_table_ids", getattr(existing, f"{tier}_route_table_ids")),
                         ("subnet_cidrs", getattr(existing, f"{tier}_subnet_cidrs"))):
        if values and len(values) != len(ids):
            yield p(f"{e}.{tier}_{kind}"), f"has {len(values)} entries for {len(ids)} {tier} subnets", \
                list(values), f"one per subnet in {e}.{tier}_subnet_ids, in the same order"


def _existing_cidrs(existing: ExistingVpcInputs, tier: str, vpc: ipaddress.IPv4Network | None,
                    p: Callable[[str], str], placed: list[tuple[ipaddress.IPv4Network, str]]) \
        -> Iterator[InputProblem]:
    """Each subnet CIDR given: a CIDR, inside the VPC's, overlapping no other subnet's."""
    e = "existing_vpc"
    for n, cidr in enumerate(getattr(existing, f"{tier}_subnet_cidrs")):
        path = p(f"{e}.{tier}_subnet_cidrs[{n}]")
        try:
            net = ipaddress.IPv4Network(cidr, strict=False)
        except ValueError as exc:  # the schema's format check reports it too; never a traceback
            yield path, f"is not a CIDR block: {exc}", cidr, "a CIDR block such as 10.50.16.0/20"
            continue
        if vpc is not None and not net.subnet_of(vpc):
            yield path, f"is outside the VPC CIDR {vpc}", cidr, f"a subnet of {vpc} ({e}.vpc_cidr)"
        for other, other_path in placed:
            if net.overlaps(other):
                yield path, f"overlaps {other_path} ({other})", cidr, "the subnets' own, disjoint CIDRs"
        placed.append((net, f"{e}.{tier}_subnet_cidrs[{n}]"))


def with_platform_services(offers: Offers, event_bus: EventBusInputs, config: ConfigPlaneInputs) -> Offers:
    """What the bus and config plane groups add to an environment's offers (vpc-env 1.2, ecs-env 1.1...)."""
    return replace(offers, event_bus=event_bus.enabled, config=config.enabled)


def flow_log_max_aggregation(inputs: VpcEnvInputs) -> int | None:
    """The 1.1 input, or None (AWS's default) for 1.0 inputs and templates composing 1.0's."""
    return inputs.flow_log_max_aggregation_seconds if isinstance(inputs, VpcEnvInputsV11) else None


def check(inputs: VpcEnvInputs, env: Environment) -> Iterator[InputProblem]:
    yield from check_network(inputs, env.az_count, env.availability_zones)
    if isinstance(inputs, VpcEnvInputsV12):
        yield from check_platform_services(inputs.event_bus, inputs.config)


def check_network(inputs: VpcEnvInputs, az_count: int, azs: tuple[str, ...],
                  prefix: str = "") -> Iterator[InputProblem]:
    """Shared by every template that composes the vpc-env network (ecs-env, eks-env...)."""
    def p(f):
        return (f"{prefix}.{f}" if prefix else f)
    existing = existing_vpc_of(inputs)
    if existing is not None:
        yield from check_existing_vpc(inputs, existing, azs, prefix)
        return
    if az_count not in (2, 3):
        yield "", f"vpc-env needs 2 or 3 availability zones, the environment has {az_count}", list(azs), \
            "2 or 3 availability_zones"
        return
    if inputs.nat_gateways > az_count:
        yield p("nat_gateways"), f"exceeds the number of availability zones ({az_count})", \
            inputs.nat_gateways, f"at most {az_count}"
    if az_count == 2:
        for tier in ("public", "private"):
            name = f"{tier}_subnet_three_cidr"
            if getattr(inputs, name) is not None:
                yield p(name), "is set but the environment has only 2 availability zones", \
                    getattr(inputs, name), "no third subnet, or a third availability zone"
    try:
        inputs.subnet_plan(az_count)
    except PlanError as exc:
        yield p(exc.field), exc.message, exc.got if exc.got is not None else MISSING, exc.expected
