"""The environment network (whitepaper: private subnets for workloads, endpoints instead of the internet)."""

from __future__ import annotations

from collections.abc import Sequence

import jsii
from aws_cdk import CfnResource, CustomResource, RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from keel.constructs.common import justify, own_inline_policy
from keel.netplan import SubnetPlan

GATEWAY_ENDPOINTS = {
    "s3": ec2.GatewayVpcEndpointAwsService.S3,
    "dynamodb": ec2.GatewayVpcEndpointAwsService.DYNAMODB,
}
INTERFACE_ENDPOINTS = {
    "ssm": ec2.InterfaceVpcEndpointAwsService.SSM,
    "ssmmessages": ec2.InterfaceVpcEndpointAwsService.SSM_MESSAGES,
    "ec2messages": ec2.InterfaceVpcEndpointAwsService.EC2_MESSAGES,
    "secretsmanager": ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
    "ecr.api": ec2.InterfaceVpcEndpointAwsService.ECR,
    "ecr.dkr": ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER,
    "logs": ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
    "sts": ec2.InterfaceVpcEndpointAwsService.STS,
    "events": ec2.InterfaceVpcEndpointAwsService.EVENTBRIDGE,
}
_TIER_TYPES = {
    "public": ec2.SubnetType.PUBLIC,
    "private": ec2.SubnetType.PRIVATE_WITH_EGRESS,
    "isolated": ec2.SubnetType.PRIVATE_ISOLATED,
}
_TRAFFIC = {"ALL": ec2.FlowLogTrafficType.ALL, "ACCEPT": ec2.FlowLogTrafficType.ACCEPT,
            "REJECT": ec2.FlowLogTrafficType.REJECT}

# Unset (None) leaves MaxAggregationInterval out of the template: AWS's default, 600 s.
_AGGREGATION = {60: ec2.FlowLogMaxAggregationInterval.ONE_MINUTE,
                600: ec2.FlowLogMaxAggregationInterval.TEN_MINUTES}


def endpoint_id(name: str) -> str:
    """`ecr.api` -> `EcrApiEndpoint`: construct IDs are a contract, derived the same way forever."""
    return "".join(part.capitalize() for part in name.replace(".", "-").split("-")) + "Endpoint"


@jsii.implements(ec2.IIpAddresses)
class _PlannedAddresses:
    """Hands CDK the subnet CIDRs Keel planned (and validated) instead of CDK's own carving."""

    def __init__(self, plan: SubnetPlan) -> None:
        self._plan = plan

    def allocate_vpc_cidr(self) -> ec2.VpcIpamOptions:
        return ec2.VpcIpamOptions(cidr_block=self._plan.vpc_cidr)

    def allocate_subnets_cidr(self, *, requested_subnets: Sequence[ec2.RequestedSubnet],
                              vpc_cidr: str) -> ec2.SubnetIpamOptions:
        counters: dict[str, int] = {}
        allocated = []
        for request in requested_subnets:
            tier = request.configuration.name.lower()
            index = counters.get(tier, 0)
            counters[tier] = index + 1
            allocated.append(ec2.AllocatedSubnet(cidr=self._plan.tier(tier)[index]))
        return ec2.SubnetIpamOptions(allocated_subnets=allocated)


# CDK's custom resource providers run with a 900 s timeout; CloudFormation waits 60 s more, not 3600.
CDK_PROVIDER_SERVICE_TIMEOUT = 960


class Network(Construct):
    """VPC with planned subnets, NAT, encrypted flow logs and private access to AWS APIs."""

    def __init__(self, scope: Construct, id_: str, *, plan: SubnetPlan, availability_zones: Sequence[str],
                 nat_gateways: int, flow_log_key: kms.IKey, flow_log_retention: logs.RetentionDays,
                 flow_log_traffic: str, gateway_endpoints: Sequence[str], interface_endpoints: Sequence[str],
                 removal_policy: RemovalPolicy, flow_log_max_aggregation_seconds: int | None = None) -> None:
        super().__init__(scope, id_)
        tiers = [t for t in ("public", "private", "isolated") if plan.tier(t)]
        self.vpc = ec2.Vpc(
            self, "Resource",
            ip_addresses=_PlannedAddresses(plan),  # type: ignore[arg-type]
            availability_zones=list(availability_zones) or None,
            max_azs=None if availability_zones else len(plan.public),
            nat_gateways=nat_gateways,
            subnet_configuration=[
                ec2.SubnetConfiguration(name=t.capitalize(), subnet_type=_TIER_TYPES[t],
                                        cidr_mask=int(plan.tier(t)[0].split("/")[1]),
                                        # Nothing relies on it: NAT gateways have Elastic IPs, load balancers
                                        # their own addresses, public Fargate tasks ask (assign_public_ip).
                                        map_public_ip_on_launch=False if t == "public" else None)
                for t in tiers
            ],
            restrict_default_security_group=True,
        )
        self._bound_cdk_handlers()
        self.flow_log_group = logs.LogGroup(
            self, "FlowLogs", retention=flow_log_retention, encryption_key=flow_log_key,
            removal_policy=removal_policy)
        flow_log = self.vpc.add_flow_log(
            "FlowLog", destination=ec2.FlowLogDestination.to_cloud_watch_logs(self.flow_log_group),
            traffic_type=_TRAFFIC[flow_log_traffic],
            max_aggregation_interval=_AGGREGATION.get(flow_log_max_aggregation_seconds or 0))
        if flow_log.iam_role is not None:
            own_inline_policy(flow_log.iam_role, "The flow log's delivery role (write to the flow log group)")
        self._endpoints(plan, tiers, gateway_endpoints, interface_endpoints)

    def _bound_cdk_handlers(self) -> None:
        """What CDK adds beside the VPC (the default security group's emptier, public routes) is bounded or
        acknowledged here, beside the VPC it belongs to."""
        # CDK's own custom resource (it empties the default security group) would hold the stack for
        # CloudFormation's default hour if its handler hung: bound it by the handler's timeout plus a margin.
        restrict = self.vpc.node.try_find_child("RestrictDefaultSecurityGroupCustomResource")
        if isinstance(restrict, CustomResource):
            cfn = restrict.node.default_child
            assert isinstance(cfn, CfnResource)
            cfn.add_property_override("ServiceTimeout", CDK_PROVIDER_SERVICE_TIMEOUT)
        for subnet in self.vpc.public_subnets:
            route = subnet.node.try_find_child("DefaultRoute")
            if route is not None:
                justify(route, nag={"NIST.800.53.R5-VPCNoUnrestrictedRouteToIGW":
                                    "The public tier's default route to the internet gateway is what makes it "
                                    "public: it holds only the NAT gateways and internet-facing load balancers; "
                                    "workloads run in the private tiers, which route through NAT"})
        restrict = Stack.of(self).node.try_find_child("Custom::VpcRestrictDefaultSGCustomResourceProvider")
        handler = restrict.node.try_find_child("Handler") if restrict is not None else None
        if isinstance(handler, CfnResource):
            justify(handler, checkov={
                "CKV_AWS_115": "CDK's handler that empties the default security group: CloudFormation calls it "
                               "once per stack operation; reserved concurrency would only take from the account pool",
                "CKV_AWS_116": "CloudFormation is its only caller and records a failure in the stack events (the "
                               "operation fails and rolls back); a DLQ would hold a copy of the request, nothing more",
                "CKV_AWS_117": "It calls the EC2 API only (revoke the default security group's rules); inside the "
                               "VPC it would add ENIs that the VPC's own deletion then waits for"})

    def _endpoints(self, plan: SubnetPlan, tiers: Sequence[str], gateway_endpoints: Sequence[str],
                   interface_endpoints: Sequence[str]) -> None:
        workload_subnets = [ec2.SubnetSelection(subnet_type=_TIER_TYPES[t]) for t in tiers if t != "public"]
        for name in gateway_endpoints:
            self.vpc.add_gateway_endpoint(endpoint_id(name), service=GATEWAY_ENDPOINTS[name],
                                          subnets=workload_subnets)
        # One security group for every interface endpoint: HTTPS from inside the VPC only. The CIDR is
        # the planned literal, so the rule is reviewable (and checkable) in the template.
        self.endpoint_security_group = ec2.SecurityGroup(
            self, "EndpointSecurityGroup", vpc=self.vpc, allow_all_outbound=False,
            description="Interface endpoints: HTTPS from inside the VPC")
        self.endpoint_security_group.add_ingress_rule(
            ec2.Peer.ipv4(plan.vpc_cidr), ec2.Port.tcp(443), "HTTPS from the VPC to AWS APIs")
        self.interface_endpoints = {
            name: self.vpc.add_interface_endpoint(
                endpoint_id(name), service=INTERFACE_ENDPOINTS[name], private_dns_enabled=True,
                subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
                security_groups=[self.endpoint_security_group], open=False)
            for name in interface_endpoints
        }


class ImportedNetwork(Construct):
    """An existing VPC (imported by its IDs, never looked up) and only what the environment adds to it: the
    flow log and the endpoints it asks for. Nothing here changes a subnet, route table or NAT gateway of the
    VPC, except the routes that gateway endpoints add to the route tables given for them."""

    def __init__(self, scope: Construct, id_: str, *, vpc: ec2.IVpc, vpc_cidr: str,
                 flow_log_key: kms.IKey | None, flow_log_retention: logs.RetentionDays, flow_log_traffic: str,
                 gateway_endpoints: Sequence[str], interface_endpoints: Sequence[str],
                 removal_policy: RemovalPolicy, flow_log_max_aggregation_seconds: int | None = None) -> None:
        super().__init__(scope, id_)
        self.vpc = vpc
        self.flow_log_group: logs.ILogGroup | None = None
        if flow_log_key is not None:
            self.flow_log_group = logs.LogGroup(
                self, "FlowLogs", retention=flow_log_retention, encryption_key=flow_log_key,
                removal_policy=removal_policy)
            flow_log = ec2.FlowLog(
                self, "FlowLog", resource_type=ec2.FlowLogResourceType.from_vpc(vpc),
                destination=ec2.FlowLogDestination.to_cloud_watch_logs(self.flow_log_group),
                traffic_type=_TRAFFIC[flow_log_traffic],
                max_aggregation_interval=_AGGREGATION.get(flow_log_max_aggregation_seconds or 0))
            if flow_log.iam_role is not None:
                own_inline_policy(flow_log.iam_role, "The flow log's delivery role (write to the flow log group)")
        workload_subnets = [ec2.SubnetSelection(subnets=list(subnets))
                            for subnets in (vpc.private_subnets, vpc.isolated_subnets) if subnets]
        for name in gateway_endpoints:
            ec2.GatewayVpcEndpoint(self, endpoint_id(name), vpc=vpc, service=GATEWAY_ENDPOINTS[name],
                                   subnets=workload_subnets)
        self.endpoint_security_group: ec2.ISecurityGroup | None = None
        self.interface_endpoints: dict[str, ec2.InterfaceVpcEndpoint] = {}
        if interface_endpoints:
            self.endpoint_security_group = ec2.SecurityGroup(
                self, "EndpointSecurityGroup", vpc=vpc, allow_all_outbound=False,
                description="Interface endpoints: HTTPS from inside the VPC")
            self.endpoint_security_group.add_ingress_rule(
                ec2.Peer.ipv4(vpc_cidr), ec2.Port.tcp(443), "HTTPS from the VPC to AWS APIs")
            self.interface_endpoints = {
                name: ec2.InterfaceVpcEndpoint(
                    self, endpoint_id(name), vpc=vpc, service=INTERFACE_ENDPOINTS[name], private_dns_enabled=True,
                    subnets=ec2.SubnetSelection(subnets=list(vpc.private_subnets)),
                    security_groups=[self.endpoint_security_group], open=False)
                for name in interface_endpoints
            }
