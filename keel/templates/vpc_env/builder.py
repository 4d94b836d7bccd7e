"""vpc-env 1.x builder (1.0 and 1.1 share it): the environment key and the network, and what services
get from them."""

from __future__ import annotations

from aws_cdk import Fn
from constructs import Construct

from keel.constructs.common import RETENTION, removal_policy
from keel.constructs.keys import EnvironmentKey
from keel.constructs.network import Network
from keel.contract.outputs import NetworkOutputs
from keel.spec.model import Environment
from keel.templates.platform_services import build_platform_services
from keel.templates.vpc_env.inputs import VpcEnvInputs, VpcEnvInputsV12, flow_log_max_aggregation


def build_network(scope: Construct, *, environment: Environment,
                  inputs: VpcEnvInputs) -> tuple[EnvironmentKey, Network]:
    """Shared by every environment template that composes vpc-env (ecs-env, eks-env)."""
    policy = removal_policy(production=environment.production)
    key = EnvironmentKey(scope, "Key", environment=environment.name, removal_policy=policy)
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


def network_discovery(network: Network) -> dict[str, str]:
    vpc = network.vpc
    values = {
        "vpc/id": vpc.vpc_id,
        "vpc/cidr": vpc.vpc_cidr_block,
        "vpc/public-subnet-ids": Fn.join(",", [s.subnet_id for s in vpc.public_subnets]),
        "vpc/private-subnet-ids": Fn.join(",", [s.subnet_id for s in vpc.private_subnets]),
    }
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
        vpc_cidr=inputs.vpc_cidr, key=key.key, bus=services.bus,
        bus_archive_retention_days=services.archive_retention_days, config=services.config_outputs,
        discovery=discovery)

