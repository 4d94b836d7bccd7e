"""Issue 18 in CloudFormation: existing VPCs and clusters are imported and never created or changed, EC2
capacity providers are hardened Auto Scaling groups, and services run on them (GPU, daemon, Graviton).

tests/infra/platforms/network.yaml is synthesized once for this module (nag on)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Match, Template

from tests.infra.conftest import Synthesized, cfn_lint, environment_read, open_findings, synthesize

PLATFORM = Path(__file__).parent / "platforms" / "network.yaml"
ENVIRONMENTS = ["keel-shared", "keel-gpu", "keel-adopted", "keel-kube"]
NETWORK_TYPES = ["AWS::EC2::VPC", "AWS::EC2::Subnet", "AWS::EC2::RouteTable", "AWS::EC2::NatGateway",
                 "AWS::EC2::InternetGateway", "AWS::EC2::VPCGatewayAttachment", "AWS::EC2::EIP",
                 "AWS::EC2::SubnetRouteTableAssociation", "AWS::EC2::Route"]


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synthesized]:
    yield synthesize(PLATFORM, tmp_path_factory.mktemp("network.out"))


def only(template: Template, kind: str, props: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
    found = template.find_resources(kind, {"Properties": Match.object_like(props)} if props else None)
    assert len(found) == 1, sorted(found)
    return next(iter(found.items()))


@pytest.mark.heavy  # reads cdk-nag's report: nag runs on test platforms in make conformance
def test_no_unacknowledged_compliance_findings(net: Synthesized) -> None:
    assert open_findings(net.outdir) == []


@pytest.mark.heavy  # cfn-lint of a test platform: make conformance (the default platform's: make test)
def test_cfn_lint_finds_nothing(net: Synthesized) -> None:
    result = cfn_lint(net.outdir)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("stack", ENVIRONMENTS)
def test_an_existing_vpc_is_never_created_or_changed(net: Synthesized, stack: str) -> None:
    template = net.templates[stack]
    for kind in NETWORK_TYPES:
        assert template.find_resources(kind) == {}, (stack, kind)
    # not even CDK's custom resource that empties the default security group of a VPC it creates
    assert template.find_resources("Custom::VpcRestrictDefaultSG") == {}


def test_the_flow_log_is_added_to_the_existing_vpc_only_when_asked(net: Synthesized) -> None:
    only(net.templates["keel-shared"], "AWS::EC2::FlowLog",
         {"ResourceId": "vpc-0a1b2c3d4e5f60718", "ResourceType": "VPC", "TrafficType": "ALL"})
    for stack in ("keel-gpu", "keel-adopted", "keel-kube"):
        assert net.templates[stack].find_resources("AWS::EC2::FlowLog") == {}


def test_asked_endpoints_use_the_given_route_tables_and_subnets(net: Synthesized) -> None:
    shared = net.templates["keel-shared"]
    only(shared, "AWS::EC2::VPCEndpoint", {"VpcEndpointType": "Gateway", "VpcId": "vpc-0a1b2c3d4e5f60718",
                                           "RouteTableIds": ["rtb-0c000000000000001", "rtb-0c000000000000002"]})
    only(shared, "AWS::EC2::VPCEndpoint", {"VpcEndpointType": "Interface", "PrivateDnsEnabled": True,
                                           "SubnetIds": ["subnet-0b000000000000001", "subnet-0b000000000000002"]})
    only(shared, "AWS::EC2::SecurityGroup", {"SecurityGroupIngress": [Match.object_like(
        {"CidrIp": "10.50.0.0/16", "FromPort": 443, "ToPort": 443})]})


def test_no_endpoints_unless_asked(net: Synthesized) -> None:
    for stack in ("keel-gpu", "keel-adopted", "keel-kube"):
        assert net.templates[stack].find_resources("AWS::EC2::VPCEndpoint") == {}


def test_discovery_publishes_the_existing_ids(net: Synthesized) -> None:
    shared = net.templates["keel-shared"]
    only(shared, "AWS::SSM::Parameter", {"Name": "/keel/shared/vpc/id", "Value": "vpc-0a1b2c3d4e5f60718"})
    only(shared, "AWS::SSM::Parameter", {"Name": "/keel/shared/vpc/private-subnet-ids",
                                         "Value": "subnet-0b000000000000001,subnet-0b000000000000002"})
    # adopted has no public subnets: no empty parameter (SSM refuses one)
    assert net.templates["keel-adopted"].find_resources(
        "AWS::SSM::Parameter", {"Properties": Match.object_like({"Name": "/keel/adopted/vpc/public-subnet-ids"})}) == {}


def test_an_existing_cluster_is_used_not_created(net: Synthesized) -> None:
    adopted = net.templates["keel-adopted"]
    assert adopted.find_resources("AWS::ECS::Cluster") == {}
    assert adopted.find_resources("AWS::ECS::ClusterCapacityProviderAssociations") == {}
    only(adopted, "AWS::ServiceDiscovery::PrivateDnsNamespace", {"Name": "adopted.internal"})
    only(adopted, "AWS::SSM::Parameter", {"Name": "/keel/adopted/ecs/cluster-name", "Value": "payments-prod"})


def test_the_eks_cluster_runs_in_the_existing_private_subnets(net: Synthesized) -> None:
    kube = net.templates["keel-kube"]
    only(kube, "AWS::EKS::Cluster", {"ResourcesVpcConfig": Match.object_like(
        {"SubnetIds": Match.array_with(["subnet-01000000000000001", "subnet-01000000000000002"])})})


# --- EC2 capacity ---------------------------------------------------------------------------------
def test_container_instances_require_imdsv2_and_encrypt_their_volumes(net: Synthesized) -> None:
    templates = net.templates["keel-gpu"].find_resources("AWS::EC2::LaunchTemplate")
    assert len(templates) == 2
    for resource in templates.values():
        data = resource["Properties"]["LaunchTemplateData"]
        assert data["MetadataOptions"] == {"HttpTokens": "required", "HttpPutResponseHopLimit": 1}
        assert data["Monitoring"] == {"Enabled": True}
        (device,) = data["BlockDeviceMappings"]
        assert device["Ebs"]["Encrypted"] is True and device["Ebs"]["VolumeType"] == "gp3"
        assert "SecurityGroupIngress" not in str(data)


def test_amis_come_from_ssm_public_parameters_at_deploy_time(net: Synthesized) -> None:
    parameters = net.json("keel-gpu")["Parameters"]
    image_id = "AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>"
    defaults = {p["Default"] for p in parameters.values() if p["Type"] == image_id}
    assert defaults == {"/aws/service/ecs/optimized-ami/amazon-linux-2023/gpu/recommended/image_id",
                        "/aws/service/bottlerocket/aws-ecs-2/arm64/latest/image_id"}


def test_capacity_providers_scale_protect_and_drain(net: Synthesized) -> None:
    gpu = net.templates["keel-gpu"]
    for name in ("keel-gpu-gpu", "keel-gpu-graviton"):
        only(gpu, "AWS::ECS::CapacityProvider", {"Name": name, "AutoScalingGroupProvider": Match.object_like({
            "ManagedScaling": {"Status": "ENABLED", "TargetCapacity": 100},
            "ManagedTerminationProtection": "ENABLED", "ManagedDraining": "ENABLED"})})
    _, association = only(gpu, "AWS::ECS::ClusterCapacityProviderAssociations")
    assert len(association["Properties"]["CapacityProviders"]) == 4  # FARGATE, FARGATE_SPOT and the two groups


def test_the_graviton_group_mixes_instances_with_spot(net: Synthesized) -> None:
    _, group = only(net.templates["keel-gpu"], "AWS::AutoScaling::AutoScalingGroup", {"CapacityRebalance": True})
    policy = group["Properties"]["MixedInstancesPolicy"]
    assert policy["InstancesDistribution"] == {"OnDemandBaseCapacity": 1, "OnDemandPercentageAboveBaseCapacity": 0,
                                               "SpotAllocationStrategy": "price-capacity-optimized"}
    assert [o["InstanceType"] for o in policy["LaunchTemplate"]["Overrides"]] == ["m7g.large", "c7g.large"]
    assert group["Properties"]["NewInstancesProtectedFromScaleIn"] is True


# --- services on EC2 capacity, Graviton, arm64 Lambda ----------------------------------------------
def task_and_service(net: Synthesized, stack: str) -> tuple[dict[str, Any], dict[str, Any]]:
    template = net.templates[stack]
    _, task = only(template, "AWS::ECS::TaskDefinition")
    _, service = only(template, "AWS::ECS::Service")
    return task["Properties"], service["Properties"]


def test_the_gpu_service_reserves_a_gpu_on_the_gpu_provider(net: Synthesized) -> None:
    task, service = task_and_service(net, "keel-inference-gpu")
    assert task["RequiresCompatibilities"] == ["EC2"] and task["NetworkMode"] == "awsvpc"
    app = next(c for c in task["ContainerDefinitions"] if c["Name"] == "app")
    assert app["ResourceRequirements"] == [{"Type": "GPU", "Value": "1"}]
    assert task["PlacementConstraints"] == [{"Type": "memberOf",
                                             "Expression": "attribute:ecs.instance-type in [g5.xlarge, g6.xlarge]"}]
    (share,) = service["CapacityProviderStrategy"]
    # the first of the environment's published capacity providers, in the spec's order: gpu
    assert environment_read(net.json("keel-inference-gpu"), share["CapacityProvider"]) == \
        "/keel/gpu/ecs/capacity-providers[0]"
    assert "LaunchType" not in service


def test_the_agent_runs_as_a_daemon_on_graviton_instances(net: Synthesized) -> None:
    task, service = task_and_service(net, "keel-node-agent-gpu")
    assert service["SchedulingStrategy"] == "DAEMON" and service["LaunchType"] == "EC2"
    assert "DesiredCount" not in service and "CapacityProviderStrategy" not in service
    assert task["PlacementConstraints"] == [{"Type": "memberOf",
                                             "Expression": "attribute:ecs.cpu-architecture == arm64"}]
    assert net.templates["keel-node-agent-gpu"].find_resources("AWS::ApplicationAutoScaling::ScalableTarget") == {}


@pytest.mark.parametrize("stack", ["keel-catalog-gpu", "keel-catalog-adopted"])
def test_the_graviton_fargate_service_runs_on_arm64(net: Synthesized, stack: str) -> None:
    task, service = task_and_service(net, stack)
    assert task["RuntimePlatform"] == {"CpuArchitecture": "ARM64", "OperatingSystemFamily": "LINUX"}
    assert service["LaunchType"] == "FARGATE"


def test_a_service_in_an_existing_vpc_uses_its_subnets(net: Synthesized) -> None:
    _, service = task_and_service(net, "keel-catalog-adopted")
    subnets = service["NetworkConfiguration"]["AwsvpcConfiguration"]["Subnets"]
    assert subnets == ["subnet-0f000000000000001", "subnet-0f000000000000002"]


def test_the_lambda_runs_on_arm64_in_the_existing_private_subnets(net: Synthesized) -> None:
    _, function = only(net.templates["keel-quotes-shared"], "AWS::Lambda::Function",
                       {"Architectures": ["arm64"]})
    assert function["Properties"]["VpcConfig"]["SubnetIds"] == ["subnet-0b000000000000001",
                                                                "subnet-0b000000000000002"]


# --- ec2 placement (issue 18) on the other container templates' 1.2 ---------------------------------
# The gpu environment publishes its EC2 capacity providers as one list, in the spec's order (gpu, graviton);
# a service reads its provider from that parameter (issue 20), never from the environment's stack.
GPU_ENV_PROVIDERS = ("gpu", "graviton")


def provider_of(net: Synthesized, stack: str, target: dict[str, Any]) -> str:
    (share,) = target["CapacityProviderStrategy"]
    assert share["Weight"] == 1
    read = environment_read(net.json(stack), share["CapacityProvider"])
    assert read is not None and read.startswith("/keel/gpu/ecs/capacity-providers["), read
    return GPU_ENV_PROVIDERS[int(read.rsplit("[", 1)[1].rstrip("]"))]


def test_a_proton_ec2_load_balanced_spec_runs_on_the_graviton_provider_behind_its_nlb(net: Synthesized) -> None:
    task, service = task_and_service(net, "keel-storefront-storefront-gpu")
    assert task["RequiresCompatibilities"] == ["EC2"] and task["NetworkMode"] == "awsvpc"
    app = next(c for c in task["ContainerDefinitions"] if c["Name"] == "app")
    assert (app["Cpu"], app["Memory"]) == (512, 1024)  # the sample's task_size small, on the container
    assert provider_of(net, "keel-storefront-storefront-gpu", service) == "graviton" and "LaunchType" not in service
    assert service["DesiredCount"] == 2
    assert service["NetworkConfiguration"]["AwsvpcConfiguration"]["AssignPublicIp"] == "DISABLED"
    _, group = only(net.templates["keel-storefront-storefront-gpu"], "AWS::ElasticLoadBalancingV2::TargetGroup")
    assert (group["Properties"]["TargetType"], group["Properties"]["Port"]) == ("ip", 8080)


def test_a_proton_ec2_backend_spec_with_the_samples_inputs_only_runs_on_fargate(net: Synthesized) -> None:
    task, service = task_and_service(net, "keel-orders-orders-gpu")
    assert task["RuntimePlatform"] == {"CpuArchitecture": "X86_64", "OperatingSystemFamily": "LINUX"}
    assert (task["Cpu"], task["Memory"]) == ("256", "512") and service["LaunchType"] == "FARGATE"


def test_the_gpu_worker_reserves_a_gpu_on_the_gpu_provider_and_scales_on_its_queue(net: Synthesized) -> None:
    task, service = task_and_service(net, "keel-render-gpu")
    assert task["RequiresCompatibilities"] == ["EC2"]
    app = next(c for c in task["ContainerDefinitions"] if c["Name"] == "app")
    assert app["ResourceRequirements"] == [{"Type": "GPU", "Value": "1"}]
    assert task["PlacementConstraints"] == [{"Type": "memberOf",
                                             "Expression": "attribute:ecs.instance-type == g5.xlarge"}]
    assert provider_of(net, "keel-render-gpu", service) == "gpu"
    only(net.templates["keel-render-gpu"], "AWS::ApplicationAutoScaling::ScalableTarget")


def test_the_worker_agent_runs_as_a_daemon_without_scaling(net: Synthesized) -> None:
    _, service = task_and_service(net, "keel-log-shipper-gpu")
    assert service["SchedulingStrategy"] == "DAEMON" and service["LaunchType"] == "EC2"
    assert "DesiredCount" not in service and "CapacityProviderStrategy" not in service
    assert net.templates["keel-log-shipper-gpu"].find_resources("AWS::ApplicationAutoScaling::ScalableTarget") == {}


def test_the_scheduled_task_runs_on_the_graviton_provider_placed_by_instance_type(net: Synthesized) -> None:
    template = net.templates["keel-reindex-gpu"]
    _, task = only(template, "AWS::ECS::TaskDefinition")
    assert task["Properties"]["RequiresCompatibilities"] == ["EC2"]
    assert task["Properties"]["PlacementConstraints"] == [{
        "Type": "memberOf", "Expression": "attribute:ecs.instance-type in [m7g.large, c7g.large]"}]
    _, schedule = only(template, "AWS::Scheduler::Schedule")
    ecs = schedule["Properties"]["Target"]["EcsParameters"]
    assert provider_of(net, "keel-reindex-gpu", ecs) == "graviton" and "LaunchType" not in ecs
    assert ecs["NetworkConfiguration"]["AwsvpcConfiguration"]["Subnets"] == [
        "subnet-0e000000000000001", "subnet-0e000000000000002", "subnet-0e000000000000003"]
