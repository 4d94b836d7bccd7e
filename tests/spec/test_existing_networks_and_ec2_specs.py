"""Existing VPCs and clusters, EC2 capacity providers and Proton's EC2 inputs, in the spec layer (no aws_cdk):
what validates, what each provider becomes, and every bad input with its exact path."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from keel.spec import SpecError, load_platform
from keel.templates.ecs_env.inputs import EcsEnvInputsV13, is_graviton, is_nvidia_gpu

PROTON_EC2_SPEC = Path(__file__).parent / "fixtures" / "proton-ec2-environment-spec.yaml"  # our own
AZS = ["eu-west-1a", "eu-west-1b"]
VPC: dict[str, Any] = {
    "vpc_id": "vpc-0a1b2c3d4e5f60718", "vpc_cidr": "10.50.0.0/16",
    "public_subnet_ids": ["subnet-0a000000000000001", "subnet-0a000000000000002"],
    "private_subnet_ids": ["subnet-0b000000000000001", "subnet-0b000000000000002"],
}


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def write(tmp_path: Path, template: str, spec: dict[str, Any], **env: object) -> Path:
    doc = {"name": "t", "environments": [{"name": "edge", "template": template, "region": "eu-west-1",
                                          "availability_zones": AZS, "spec": spec, **env}]}
    path = tmp_path / "platform.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def problems(tmp_path: Path, template: str, spec: dict[str, Any], **env: object) -> list[str]:
    with pytest.raises(SpecError) as info:
        load_platform(write(tmp_path, template, spec, **env))
    return [p.render() for p in info.value.problems]


@pytest.mark.parametrize(("template", "spec"), [
    ("vpc-env:1.3", {"existing_vpc": VPC}),
    ("ecs-env:1.3", {"existing_vpc": VPC}),
    ("eks-env:1.2", {"network": {"existing_vpc": VPC}}),
])
def test_an_existing_vpc_validates_on_every_environment_template(tmp_path: Path, template: str,
                                                                  spec: dict[str, Any]) -> None:
    env = load_platform(write(tmp_path, template, spec)).environments[0]
    assert env.offers.vpc_cidr == "10.50.0.0/16"  # services' security group rules follow the existing VPC


def test_an_omitted_existing_vpc_stays_unset(tmp_path: Path) -> None:
    inputs = load_platform(write(tmp_path, "vpc-env:1.3", {})).environments[0].inputs
    assert inputs.existing_vpc is None


def test_subnets_must_match_the_availability_zones(tmp_path: Path) -> None:
    spec = {"existing_vpc": {**VPC, "private_subnet_ids": ["subnet-0b000000000000001"]}}
    assert problems(tmp_path, "vpc-env:1.3", spec) == [
        "platform.yaml:environments[edge].spec.existing_vpc.private_subnet_ids: has 1 subnets, the environment has "
        "2 availability zones (got [\"subnet-0b000000000000001\"], expected one subnet per availability zone, in "
        "the order of ['eu-west-1a', 'eu-west-1b'])"]


def test_subnet_and_vpc_ids_follow_their_grammar(tmp_path: Path) -> None:
    spec = {"existing_vpc": {**VPC, "vpc_id": "vpc-123", "public_subnet_ids": ["sub-1", "subnet-0a000000000000002"]}}
    lines = problems(tmp_path, "vpc-env:1.3", spec)
    assert any(line.startswith("platform.yaml:environments[edge].spec.existing_vpc.vpc_id: ") for line in lines)
    assert any(line.startswith("platform.yaml:environments[edge].spec.existing_vpc.public_subnet_ids[0]: ")
               for line in lines)


def test_a_subnet_cidr_outside_the_vpc_is_refused(tmp_path: Path) -> None:
    spec = {"existing_vpc": {**VPC, "private_subnet_cidrs": ["10.50.16.0/20", "10.99.0.0/20"]}}
    assert problems(tmp_path, "vpc-env:1.3", spec) == [
        "platform.yaml:environments[edge].spec.existing_vpc.private_subnet_cidrs[1]: is outside the VPC CIDR "
        "10.50.0.0/16 (got \"10.99.0.0/20\", expected a subnet of 10.50.0.0/16 (existing_vpc.vpc_cidr))"]


def test_overlapping_subnet_cidrs_are_refused(tmp_path: Path) -> None:
    spec = {"existing_vpc": {**VPC, "private_subnet_cidrs": ["10.50.16.0/20", "10.50.16.0/24"]}}
    (line,) = problems(tmp_path, "vpc-env:1.3", spec)
    assert line.startswith("platform.yaml:environments[edge].spec.existing_vpc.private_subnet_cidrs[1]: overlaps "
                           "existing_vpc.private_subnet_cidrs[0]")


def test_a_subnet_given_in_two_tiers_is_refused(tmp_path: Path) -> None:
    spec = {"existing_vpc": {**VPC, "isolated_subnet_ids": list(VPC["private_subnet_ids"])}}
    lines = problems(tmp_path, "vpc-env:1.3", spec)
    assert lines[0].startswith("platform.yaml:environments[edge].spec.existing_vpc.isolated_subnet_ids[0]: is "
                               "already given as existing_vpc.private_subnet_ids[0]")


def test_gateway_endpoints_need_the_route_tables(tmp_path: Path) -> None:
    spec = {"existing_vpc": {**VPC, "gateway_endpoints": ["s3"]}}
    (line,) = problems(tmp_path, "vpc-env:1.3", spec)
    assert line.startswith("platform.yaml:environments[edge].spec.existing_vpc.private_route_table_ids: is needed "
                           "for the gateway endpoints")


def test_route_tables_pair_with_their_subnets(tmp_path: Path) -> None:
    spec = {"existing_vpc": {**VPC, "private_route_table_ids": ["rtb-0c000000000000001"]}}
    (line,) = problems(tmp_path, "vpc-env:1.3", spec)
    assert line.startswith("platform.yaml:environments[edge].spec.existing_vpc.private_route_table_ids: has 1 "
                           "entries for 2 private subnets")


def test_subnet_inputs_of_a_created_vpc_are_refused_with_an_existing_one(tmp_path: Path) -> None:
    spec = {"existing_vpc": VPC, "private_subnet_one_cidr": "10.50.0.0/20"}
    (line,) = problems(tmp_path, "vpc-env:1.3", spec)
    assert line.startswith("platform.yaml:environments[edge].spec.private_subnet_one_cidr: is set but existing_vpc "
                           "is given: Keel creates no subnet in a VPC it does not own")


def test_an_existing_vpc_needs_the_environments_availability_zones(tmp_path: Path) -> None:
    path = write(tmp_path, "vpc-env:1.3", {"existing_vpc": VPC})
    doc = yaml.safe_load(path.read_text())
    del doc["environments"][0]["availability_zones"], doc["environments"][0]["region"]
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(SpecError) as info:
        load_platform(path)
    lines = [p.render() for p in info.value.problems]
    assert lines[0].startswith("platform.yaml:environments[edge].spec.existing_vpc: needs the environment's "
                               "availability_zones")


def test_eks_env_reports_existing_vpc_problems_under_network(tmp_path: Path) -> None:
    spec = {"network": {"existing_vpc": {**VPC, "public_subnet_ids": ["subnet-0a000000000000001"]}}}
    (line,) = problems(tmp_path, "eks-env:1.2", spec)
    assert line.startswith("platform.yaml:environments[edge].spec.network.existing_vpc.public_subnet_ids: has 1 "
                           "subnets")


def test_the_service_cidr_is_checked_against_the_existing_vpc(tmp_path: Path) -> None:
    spec = {"network": {"existing_vpc": {**VPC, "vpc_cidr": "172.20.0.0/16"}}}
    (line,) = problems(tmp_path, "eks-env:1.2", spec)
    assert line.startswith("platform.yaml:environments[edge].spec.service_ipv4_cidr: 172.20.0.0/16 overlaps "
                           "network.vpc_cidr (172.20.0.0/16)")


def test_an_internet_facing_load_balancer_needs_public_subnets(tmp_path: Path) -> None:
    spec = {"existing_vpc": {k: v for k, v in VPC.items() if k != "public_subnet_ids"},
            "load_balancer": {"enabled": True}}
    assert problems(tmp_path, "ecs-env:1.3", spec) == [
        "platform.yaml:environments[edge].spec.load_balancer.internet_facing: needs public subnets, and "
        "existing_vpc has none (got true, expected false (an internal load balancer), or "
        "existing_vpc.public_subnet_ids)"]


def test_an_existing_cluster_takes_no_capacity_providers(tmp_path: Path) -> None:
    spec = {"existing_cluster": {"cluster_name": "payments"},
            "ec2_capacity": [{"name": "gpu", "instance_types": ["g5.xlarge"]}]}
    (line,) = problems(tmp_path, "ecs-env:1.3", spec)
    assert line.startswith("platform.yaml:environments[edge].spec.ec2_capacity: cannot add capacity providers to "
                           "an existing cluster")


def test_capacity_providers_know_their_architecture_and_gpus(tmp_path: Path) -> None:
    spec = {"ec2_capacity": [{"name": "gpu", "instance_types": ["g5.xlarge", "g6.2xlarge"]},
                             {"name": "graviton", "instance_types": ["m7g.large", "c7gn.large"], "spot": True}]}
    env = load_platform(write(tmp_path, "ecs-env:1.3", spec)).environments[0]
    assert env.offers.ec2_capacity == (("gpu", True, "X86_64"), ("graviton", False, "ARM64"))
    assert isinstance(env.inputs, EcsEnvInputsV13)
    assert [p.image for p in env.inputs.capacity_providers()] == ["ecs-optimized-gpu", "ecs-optimized"]


@pytest.mark.parametrize(("instance_type", "graviton", "gpu"), [
    ("m7g.large", True, False), ("g5g.xlarge", True, True), ("c7gn.large", True, False), ("t4g.micro", True, False),
    ("m7i.large", False, False), ("g5.xlarge", False, True), ("p4d.24xlarge", False, True),
    ("g4ad.xlarge", False, False), ("c4.xlarge", False, False), ("inf2.xlarge", False, False),
])
def test_instance_families_are_classified(instance_type: str, graviton: bool, gpu: bool) -> None:
    assert (is_graviton(instance_type), is_nvidia_gpu(instance_type)) == (graviton, gpu)


@pytest.mark.parametrize(("provider", "path", "start"), [
    ({"instance_types": ["m7g.large", "m7i.large"]}, "instance_types", "mixes Graviton (arm64) and x86_64"),
    ({"instance_types": ["g5.xlarge", "m7i.large"]}, "instance_types", "mixes GPU and non-GPU types"),
    ({"instance_types": ["m7i.large"], "ami": "ecs-optimized-gpu"}, "ami", "ecs-optimized-gpu is for NVIDIA GPU"),
    ({"instance_types": ["g5g.xlarge"], "ami": "ecs-optimized-gpu"}, "ami", "the ECS-optimized GPU AMI is x86_64"),
    ({"instance_types": ["m7i.large"], "ami": "ssm-parameter"}, "ami_parameter", "is required with ami ssm-"),
    ({"instance_types": ["m7i.large"], "min_capacity": 5, "max_capacity": 2}, "min_capacity", "is above max"),
    ({"instance_types": ["m7i.large"], "desired_capacity": 9}, "desired_capacity", "is outside min_capacity"),
])
def test_bad_capacity_providers_are_refused_with_their_path(tmp_path: Path, provider: dict[str, Any], path: str,
                                                            start: str) -> None:
    lines = problems(tmp_path, "ecs-env:1.3", {"ec2_capacity": [{"name": "p", **provider}]})
    assert any(line.startswith(f"platform.yaml:environments[edge].spec.ec2_capacity[0].{path}: {start}")
               for line in lines), lines


def test_two_providers_with_one_name_are_refused(tmp_path: Path) -> None:
    spec = {"ec2_capacity": [{"name": "p", "instance_types": ["m7i.large"]},
                             {"name": "p", "instance_types": ["c7i.large"]}]}
    (line,) = problems(tmp_path, "ecs-env:1.3", spec)
    assert line.startswith("platform.yaml:environments[edge].spec.ec2_capacity[1].name: names another capacity "
                           "provider already")


def test_public_container_instances_are_refused_in_production(tmp_path: Path) -> None:
    spec = {"ec2_capacity": [{"name": "p", "instance_types": ["m7i.large"], "subnet_type": "public"}]}
    (line,) = problems(tmp_path, "ecs-env:1.3", spec, production=True)
    assert line.startswith("platform.yaml:environments[edge].spec.ec2_capacity[0].subnet_type: puts container "
                           "instances on public addresses in a production environment")


def test_a_proton_ec2_spec_validates_unchanged_and_makes_one_provider(tmp_path: Path) -> None:
    shutil.copy(PROTON_EC2_SPEC, tmp_path / "proton-spec.yaml")
    path = write(tmp_path, "ecs-env:1.3", {})
    doc = yaml.safe_load(path.read_text())
    del doc["environments"][0]["spec"]
    doc["environments"][0]["spec_file"] = "proton-spec.yaml"
    path.write_text(yaml.safe_dump(doc))
    inputs = load_platform(path).environments[0].inputs
    assert isinstance(inputs, EcsEnvInputsV13)
    (provider,) = inputs.capacity_providers()
    assert (provider.name, provider.instance_types, provider.image, provider.ami_parameter) == (
        "ec2", ("m6i.large",), "ssm-parameter", "/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id")
    assert (provider.min_capacity, provider.desired_capacity, provider.max_capacity, provider.subnet_type) == (
        1, 2, 4, "private")


def test_proton_ec2_inputs_are_unknown_before_1_3(tmp_path: Path) -> None:
    lines = problems(tmp_path, "ecs-env:1.2", {"InstanceType": "c4.xlarge"})
    assert lines[0].startswith("platform.yaml:environments[edge].spec.InstanceType: unknown input")


def test_desired_capacity_above_max_size_is_refused(tmp_path: Path) -> None:
    lines = problems(tmp_path, "ecs-env:1.3", {"InstanceType": "c4.xlarge", "DesiredCapacity": 8, "MaxSize": 2})
    assert lines[0] == ("platform.yaml:environments[edge].spec.DesiredCapacity: is above MaxSize (2) (got 8, "
                        "expected at most 2)")


def test_subnet_type_without_ec2_inputs_is_refused(tmp_path: Path) -> None:
    (line,) = problems(tmp_path, "ecs-env:1.3", {"subnet_type": "public"})
    assert line.startswith("platform.yaml:environments[edge].spec.subnet_type: places Proton's EC2 instances")


# --- services on EC2 capacity (backend-fargate-svc 1.1) --------------------------------------------
GPU_ENV = {"ec2_capacity": [{"name": "general", "instance_types": ["m7g.large"]},
                            {"name": "gpu", "instance_types": ["g5.xlarge"]}]}


def service_problems(tmp_path: Path, spec: dict[str, Any], env_spec: dict[str, Any] | None = None) -> list[str]:
    path = write(tmp_path, "ecs-env:1.3", GPU_ENV if env_spec is None else env_spec)
    doc = yaml.safe_load(path.read_text())
    doc["services"] = [{"name": "svc", "template": "backend-fargate-svc:1.1", "instances": [
        {"name": "edge", "environment": "edge", "spec": {"image": "public.ecr.aws/nginx/nginx:1.27", **spec}}]}]
    path.write_text(yaml.safe_dump(doc))
    try:
        load_platform(path)
    except SpecError as exc:
        return [p.render() for p in exc.problems]
    return []


PREFIX = "platform.yaml:services[svc].instances[0].spec."


def test_a_gpu_service_validates_on_the_first_gpu_provider(tmp_path: Path) -> None:
    assert service_problems(tmp_path, {"capacity": "ec2", "requires_gpu": 1}) == []


def test_ec2_only_inputs_need_capacity_ec2(tmp_path: Path) -> None:
    lines = service_problems(tmp_path, {"requires_gpu": 1, "scheduling": "daemon"})
    assert [line.split(":")[1] for line in lines] == [
        "services[svc].instances[0].spec.requires_gpu", "services[svc].instances[0].spec.scheduling"]
    assert all("needs capacity ec2" in line for line in lines)


def test_capacity_ec2_needs_providers_in_the_environment(tmp_path: Path) -> None:
    (line,) = service_problems(tmp_path, {"capacity": "ec2"}, env_spec={})
    assert line.startswith(PREFIX + 'capacity: is ec2, and environment "edge" has no EC2 capacity providers')


def test_an_unknown_capacity_provider_is_named(tmp_path: Path) -> None:
    (line,) = service_problems(tmp_path, {"capacity": "ec2", "capacity_provider": "big"})
    assert line == (PREFIX + 'capacity_provider: is not an EC2 capacity provider of environment "edge" (got "big", '
                    'expected one of general, gpu)')


def test_gpus_on_a_provider_without_them_are_refused(tmp_path: Path) -> None:
    lines = service_problems(tmp_path, {"capacity": "ec2", "capacity_provider": "general", "requires_gpu": 2,
                                        "cpu_architecture": "ARM64"})
    assert lines == [PREFIX + "requires_gpu: needs GPUs, and capacity provider general has none (got 2, expected a "
                     "GPU capacity provider (g5, g6, p4d...), or requires_gpu 0)"]


def test_the_architecture_must_match_the_providers_instances(tmp_path: Path) -> None:
    (line,) = service_problems(tmp_path, {"capacity": "ec2", "capacity_provider": "general"})
    assert line == (PREFIX + "cpu_architecture: differs from capacity provider general's instances (ARM64) "
                    '(got "X86_64", expected ARM64)')


def test_placement_constraints_are_checked_on_ec2(tmp_path: Path) -> None:
    (line,) = service_problems(tmp_path, {"capacity": "ec2", "requires_gpu": 1,
                                          "placement_constraints": ["ecs.instance-type ~= g5"]})
    assert line.startswith(PREFIX + "placement_constraints[0]: is not a placement constraint")


def test_a_daemon_takes_no_private_link(tmp_path: Path) -> None:
    lines = service_problems(tmp_path, {"capacity": "ec2", "capacity_provider": "general",
                                        "cpu_architecture": "ARM64", "scheduling": "daemon",
                                        "private_link": {"enabled": True}})
    assert lines[0].startswith(PREFIX + "private_link.enabled: a daemon runs one task per instance")


def test_a_public_fargate_task_needs_public_subnets_in_an_existing_vpc(tmp_path: Path) -> None:
    private_only = {"existing_vpc": {k: v for k, v in VPC.items() if k != "public_subnet_ids"}}
    (line,) = service_problems(tmp_path, {"subnet_type": "public"}, env_spec=private_only)
    assert line.startswith(PREFIX + 'subnet_type: is public, and environment "edge"\'s existing VPC has no public')
