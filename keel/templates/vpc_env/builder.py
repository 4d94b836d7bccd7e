"""vpc-env 1.x builder (1.0 and 1.1 share it): the environment key and the network, and what services
get from them."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Fn, Validations
from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from keel.constructs.common import RETENTION, removal_policy
from keel.constructs.keys import EnvironmentKey
from keel.constructs.network import ImportedNetwork, Network
from keel.contract.outputs import NetworkOutputs
from keel.spec.model import Environment
from keel.templates.platform_services import build_platform_services
from keel.templates.vpc_env.inputs import (
    ExistingVpcInputs,
    VpcEnvInputs,
    VpcEnvInputsV12,
    existing_vpc_of,
    flow_log_max_aggregation,
    network_cidr,
)


def import_vpc(scope: Construct, existing: ExistingVpcInputs, availability_zones: tuple[str, ...]) -> ec2.IVpc:
    """The existing VPC from its IDs alone: no lookup, no credentials at synth (the spec checks held the
    subnets to one per zone). Tiers left empty are left out."""
    def ids(values: tuple[str, ...]) -> list[str] | None:
        return list(values) or None
    vpc = ec2.Vpc.from_vpc_attributes(
        scope, "ExistingVpc", vpc_id=existing.vpc_id, vpc_cidr_block=existing.vpc_cidr,
        availability_zones=list(availability_zones),
        public_subnet_ids=ids(existing.public_subnet_ids),
        public_subnet_route_table_ids=ids(existing.public_route_table_ids),
        public_subnet_ipv4_cidr_blocks=ids(existing.public_subnet_cidrs),
        private_subnet_ids=ids(existing.private_subnet_ids),
        private_subnet_route_table_ids=ids(existing.private_route_table_ids),
        private_subnet_ipv4_cidr_blocks=ids(existing.private_subnet_cidrs),
        isolated_subnet_ids=ids(existing.isolated_subnet_ids),
        isolated_subnet_route_table_ids=ids(existing.isolated_route_table_ids),
        isolated_subnet_ipv4_cidr_blocks=ids(existing.isolated_subnet_cidrs))
    for subnets, tables in ((vpc.public_subnets, existing.public_route_table_ids),
                            (vpc.private_subnets, existing.private_route_table_ids),
                            (vpc.isolated_subnets, existing.isolated_route_table_ids)):
        for subnet in subnets if not tables else ():
            Validations.of(subnet).acknowledge(Acknowledgment(
                id="Annotation::@aws-cdk/aws-ec2:noSubnetRouteTableId",
                reason="Keel reads an existing subnet's route table only to add gateway endpoints' routes, and the "
                       "spec checks require the route table IDs then; nothing else routes in a VPC Keel does not own"))
    return vpc


def build_network(scope: Construct, *, environment: Environment,
                  inputs: VpcEnvInputs) -> tuple[EnvironmentKey, Network | ImportedNetwork]:
    """Shared by every environment template that composes vpc-env (ecs-env, eks-env)."""
    policy = removal_policy(production=environment.production)
    key = EnvironmentKey(scope, "Key", environment=environment.name, removal_policy=policy)
    existing = existing_vpc_of(inputs)
    if existing is not None:
        return key, ImportedNetwork(
            scope, "Network", vpc=import_vpc(scope, existing, environment.availability_zones),
            vpc_cidr=existing.vpc_cidr, flow_log_key=key.key if existing.flow_log else None,
            flow_log_retention=RETENTION[inputs.flow_log_retention_days], flow_log_traffic=inputs.flow_log_traffic,
            flow_log_max_aggregation_seconds=flow_log_max_aggregation(inputs),
            gateway_endpoints=existing.gateway_endpoints, interface_endpoints=existing.interface_endpoints,
            removal_policy=policy)
    network = Network(
        scope, "Network",
        plan=inputs.subnet_plan(environment.az_count),
        availability_zones=environment.availability_zones,
        nat_gateways=inputs.nat_gateways,
        flow_log_key=key.key,
        flow_log_retention=RETENTION[inputs.flow_log_retention_days],
        flow_log_traffic=inputs.flow_log_traffic,
        flow_log_max_aggregation_seconds=flow_log_max_aggregation(inputs),
        gateway_endpoints=inputs.gateway_endpoints,
        interface_endpoints=inputs.interface_endpoints,
        removal_policy=policy,
    )
    return key, network


def network_discovery(network: Network | ImportedNetwork) -> dict[str, str]:
    vpc = network.vpc
    values = {"vpc/id": vpc.vpc_id, "vpc/cidr": vpc.vpc_cidr_block}
    if vpc.public_subnets:  # an existing VPC may have none (an SSM parameter cannot be empty)
        values["vpc/public-subnet-ids"] = Fn.join(",", [s.subnet_id for s in vpc.public_subnets])
    values["vpc/private-subnet-ids"] = Fn.join(",", [s.subnet_id for s in vpc.private_subnets])
    if vpc.isolated_subnets:
        values["vpc/isolated-subnet-ids"] = Fn.join(",", [s.subnet_id for s in vpc.isolated_subnets])
    return values


def build(scope: Construct, *, environment: Environment, inputs: VpcEnvInputs) -> NetworkOutputs:
    key, network = build_network(scope, environment=environment, inputs=inputs)
    services = build_platform_services(
        scope, environment=environment, key=key.key,
        event_bus=inputs.event_bus if isinstance(inputs, VpcEnvInputsV12) else None,
        config=inputs.config if isinstance(inputs, VpcEnvInputsV12) else None)
    discovery = network_discovery(network) | {"kms/key-arn": key.key.key_arn} | services.discovery
    return NetworkOutputs(
        name=environment.name, template=environment.template.label, production=environment.production,
        removal_policy=removal_policy(production=environment.production), vpc=network.vpc,
        vpc_cidr=network_cidr(inputs), key=key.key, bus=services.bus,
        bus_archive_retention_days=services.archive_retention_days, config=services.config_outputs,
        discovery=discovery)

