"""vpc-env inputs and cross-field rules. CDK-free: `keel validate` runs this without importing aws_cdk."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

from keel.contract.offers import Offers
from keel.contract.problems import InputProblem
from keel.netplan import PlanError, SubnetPlan, plan_subnets
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
        return Offers(vpc_cidr=self.vpc_cidr)


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
