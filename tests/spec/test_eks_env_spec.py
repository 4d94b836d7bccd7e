"""eks-env spec rules: every bad input is a spec error at its exact path, CIDR clashes name both ranges.
No aws_cdk import here: validation never needs CDK."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from keel.spec import load_platform
from keel.spec.errors import SpecError
from keel.spec.registry import default_registry
from keel.templates.vpc_env.inputs import VpcEnvInputs

HYBRID = {"enabled": True, "remote_node_networks": ["192.168.100.0/23"], "remote_pod_networks": ["192.168.64.0/19"]}


def problems(tmp_path: Path, spec: dict[str, Any], azs: int = 2) -> list[str]:
    """The rendered problems of one eks-env environment named `edge` (file name `p.yaml`)."""
    platform = {"name": "t", "environments": [{
        "name": "edge", "template": "eks-env:1", "region": "eu-west-1",
        "availability_zones": [f"eu-west-1{c}" for c in "abc"[:azs]], "spec": spec}]}
    path = tmp_path / "p.yaml"
    with path.open("w") as f:
        YAML().dump(platform, f)
    try:
        load_platform(path)
    except SpecError as err:
        return [p.render().replace(str(tmp_path) + "/", "") for p in err.problems]
    return []


def test_a_minimal_spec_is_valid_and_gets_the_schema_defaults(tmp_path: Path) -> None:
    assert problems(tmp_path, {}) == []


def test_remote_pod_network_overlapping_a_node_network_names_both(tmp_path: Path) -> None:
    spec = {"hybrid_nodes": {"enabled": True, "remote_node_networks": ["192.168.0.0/16"],
                             "remote_pod_networks": ["192.168.64.0/19"]}}
    assert problems(tmp_path, spec) == [
        "p.yaml:environments[edge].spec.hybrid_nodes.remote_pod_networks[0]: 192.168.64.0/19 overlaps "
        "hybrid_nodes.remote_node_networks[0] (192.168.0.0/16) (got \"192.168.64.0/19\", expected a range that "
        "overlaps neither the VPC, the service CIDR nor another remote network)"]


def test_remote_node_network_overlapping_the_vpc_names_both(tmp_path: Path) -> None:
    spec = {"network": {"vpc_cidr": "10.40.0.0/16"},
            "hybrid_nodes": {"enabled": True, "remote_node_networks": ["10.40.128.0/20"]}}
    assert problems(tmp_path, spec) == [
        "p.yaml:environments[edge].spec.hybrid_nodes.remote_node_networks[0]: 10.40.128.0/20 overlaps "
        "network.vpc_cidr (10.40.0.0/16) (got \"10.40.128.0/20\", expected a range that overlaps neither the "
        "VPC, the service CIDR nor another remote network)"]


def test_remote_pod_network_overlapping_the_service_cidr_names_both(tmp_path: Path) -> None:
    spec = {"service_ipv4_cidr": "172.20.0.0/16",
            "hybrid_nodes": {"enabled": True, "remote_node_networks": ["192.168.100.0/23"],
                             "remote_pod_networks": ["172.20.64.0/18"]}}
    assert problems(tmp_path, spec) == [
        "p.yaml:environments[edge].spec.hybrid_nodes.remote_pod_networks[0]: 172.20.64.0/18 overlaps "
        "service_ipv4_cidr (172.20.0.0/16) (got \"172.20.64.0/18\", expected a range that overlaps neither the "
        "VPC, the service CIDR nor another remote network)"]


def test_two_remote_node_networks_may_not_overlap(tmp_path: Path) -> None:
    spec = {"hybrid_nodes": {"enabled": True, "remote_node_networks": ["10.200.0.0/16", "10.200.8.0/24"]}}
    assert problems(tmp_path, spec)[0].startswith(
        "p.yaml:environments[edge].spec.hybrid_nodes.remote_node_networks[1]: 10.200.8.0/24 overlaps "
        "hybrid_nodes.remote_node_networks[0] (10.200.0.0/16)")


def test_remote_network_must_be_rfc1918(tmp_path: Path) -> None:
    spec = {"hybrid_nodes": {"enabled": True, "remote_node_networks": ["100.64.0.0/16"]}}
    assert problems(tmp_path, spec) == [
        "p.yaml:environments[edge].spec.hybrid_nodes.remote_node_networks[0]: 100.64.0.0/16 is not an RFC 1918 "
        "private range (got \"100.64.0.0/16\", expected a range inside 10.0.0.0/8, 172.16.0.0/12 or "
        "192.168.0.0/16)"]


def test_service_cidr_inside_the_vpc_names_both(tmp_path: Path) -> None:
    spec = {"network": {"vpc_cidr": "172.20.0.0/16"}}
    assert problems(tmp_path, spec) == [
        "p.yaml:environments[edge].spec.service_ipv4_cidr: 172.20.0.0/16 overlaps network.vpc_cidr (172.20.0.0/16) "
        "(got \"172.20.0.0/16\", expected a range outside the VPC)"]


def test_hybrid_nodes_need_a_remote_node_network(tmp_path: Path) -> None:
    assert problems(tmp_path, {"hybrid_nodes": {"enabled": True}}) == [
        "p.yaml:environments[edge].spec.hybrid_nodes.remote_node_networks: is empty but hybrid nodes are enabled "
        "(got [], expected the RFC 1918 CIDRs of the on-premises nodes)"]


def test_remote_networks_without_hybrid_nodes_enabled_are_an_error(tmp_path: Path) -> None:
    spec = {"hybrid_nodes": {"remote_node_networks": ["192.168.100.0/23"]}}
    assert problems(tmp_path, spec) == [
        "p.yaml:environments[edge].spec.hybrid_nodes.remote_node_networks[0]: is set but hybrid_nodes.enabled is "
        "false (got \"192.168.100.0/23\", expected hybrid_nodes.enabled: true)"]


def test_network_rules_of_vpc_env_apply_under_network(tmp_path: Path) -> None:
    assert problems(tmp_path, {"network": {"nat_gateways": 3}}) == [
        "p.yaml:environments[edge].spec.network.nat_gateways: exceeds the number of availability zones (2) "
        "(got 3, expected at most 2)"]


def test_public_endpoint_needs_allowed_cidrs(tmp_path: Path) -> None:
    assert problems(tmp_path, {"endpoint_access": "public"}) == [
        "p.yaml:environments[edge].spec.public_access_cidrs: is empty but endpoint_access is public: the API "
        "would be open to the internet (got [], expected the CIDRs allowed to reach the public endpoint)"]


def test_control_plane_logs_must_keep_audit(tmp_path: Path) -> None:
    assert problems(tmp_path, {"control_plane_logs": ["api", "authenticator"]}) == [
        "p.yaml:environments[edge].spec.control_plane_logs: must include audit (got [\"api\", \"authenticator\"], "
        "expected at least api, audit and authenticator)"]


def test_graviton_instance_type_needs_an_arm_ami(tmp_path: Path) -> None:
    spec = {"node_groups": [{"name": "g", "instance_types": ["m7g.large"], "ami_type": "AL2023_X86_64_STANDARD"}]}
    assert problems(tmp_path, spec) == [
        "p.yaml:environments[edge].spec.node_groups[0].instance_types[0]: is an arm64 (Graviton) type but ami_type "
        "is AL2023_X86_64_STANDARD (got \"m7g.large\", expected an ARM_64 ami_type, or a matching instance type)"]


def test_desired_size_must_sit_between_min_and_max(tmp_path: Path) -> None:
    spec = {"node_groups": [{"name": "g", "min_size": 2, "desired_size": 1, "max_size": 3}]}
    assert problems(tmp_path, spec) == [
        "p.yaml:environments[edge].spec.node_groups[0].desired_size: is outside min_size 2 .. max_size 3 "
        "(got 1, expected min_size <= desired_size <= max_size)"]


def test_system_groups_are_refused_in_access_entries(tmp_path: Path) -> None:
    spec = {"access_entries": [{"principal_arn": "arn:aws:iam::111122223333:role/Admin",
                                "kubernetes_groups": ["system:masters"]}]}
    assert problems(tmp_path, spec) == [
        "p.yaml:environments[edge].spec.access_entries[0].kubernetes_groups[0]: is reserved by Kubernetes (EKS "
        "rejects system: groups) (got \"system:masters\", expected policies: [{policy: cluster_admin}] for "
        "system:masters)"]


def test_access_entry_principal_must_be_an_iam_role_or_user_arn(tmp_path: Path) -> None:
    spec = {"access_entries": [{"principal_arn": "arn:aws:sts::111122223333:assumed-role/Admin/me",
                                "policies": [{"policy": "view"}]}]}
    assert problems(tmp_path, spec)[0].startswith(
        "p.yaml:environments[edge].spec.access_entries[0].principal_arn: does not match the required pattern")


def test_roles_anywhere_needs_a_ca_certificate(tmp_path: Path) -> None:
    spec = {"hybrid_nodes": HYBRID | {"credentials": "iam_roles_anywhere"}}
    assert problems(tmp_path, spec) == [
        "p.yaml:environments[edge].spec.hybrid_nodes.roles_anywhere_ca_certificate: is required with credentials "
        "iam_roles_anywhere (expected the PEM certificate of the CA that signs node certificates)"]


def test_metallb_pool_must_sit_inside_the_node_network(tmp_path: Path) -> None:
    spec = {"anywhere": {"enabled": True, "node_network": "172.18.0.0/16",
                         "metallb_addresses": "172.19.0.1-172.19.0.9"}}
    assert problems(tmp_path, spec) == [
        "p.yaml:environments[edge].spec.anywhere.metallb_addresses: 172.19.0.1-172.19.0.9 is outside "
        "anywhere.node_network (172.18.0.0/16) (got \"172.19.0.1-172.19.0.9\", expected a range inside 172.18.0.0/16)"]


def test_control_plane_endpoint_may_not_be_handed_out_by_metallb(tmp_path: Path) -> None:
    spec = {"anywhere": {"enabled": True, "provider": "tinkerbell", "node_network": "10.70.0.0/24",
                         "control_plane_endpoint": "10.70.0.201", "metallb_addresses": "10.70.0.200-10.70.0.250",
                         "tinkerbell": {"tinkerbell_ip": "10.70.0.20"}}}
    assert problems(tmp_path, spec) == [
        "p.yaml:environments[edge].spec.anywhere.control_plane_endpoint: 10.70.0.201 is inside "
        "anywhere.metallb_addresses (10.70.0.200-10.70.0.250) (got \"10.70.0.201\", expected an address MetalLB "
        "will not hand out)"]


def test_vsphere_provider_needs_its_settings(tmp_path: Path) -> None:
    spec = {"anywhere": {"enabled": True, "provider": "vsphere", "node_network": "10.60.0.0/24",
                         "control_plane_endpoint": "10.60.0.10",
                         "vsphere": {"server": "vc", "datacenter": "dc", "network": "n", "datastore": "d",
                                     "folder": "f", "resource_pool": "r"}}}
    assert problems(tmp_path, spec) == [
        "p.yaml:environments[edge].spec.anywhere.vsphere.thumbprint: is required with provider vsphere "
        "(expected a vSphere setting)"]


def test_anywhere_pod_and_service_cidrs_may_not_overlap(tmp_path: Path) -> None:
    spec = {"anywhere": {"enabled": True, "pod_cidr": "10.96.0.0/16", "service_cidr": "10.96.0.0/12"}}
    assert problems(tmp_path, spec) == [
        "p.yaml:environments[edge].spec.anywhere.service_cidr: 10.96.0.0/12 overlaps anywhere.pod_cidr "
        "(10.96.0.0/16) (got \"10.96.0.0/12\", expected separate pod and service ranges)"]


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    spec = {"endpoint_access": "public", "control_plane_logs": ["api"],
            "hybrid_nodes": {"enabled": True, "remote_node_networks": ["8.8.8.0/24"]}}
    assert len(problems(tmp_path, spec)) == 3


def test_network_type_equals_vpc_env_1_0_inputs() -> None:
    """eks-env 1.0 copies vpc-env 1.0's input type so it cannot drift when vpc-env gains a minor."""
    registry = default_registry()
    eks = registry.templates["eks-env"].get(registry.templates["eks-env"].versions[0].version)
    vpc = registry.templates["vpc-env"].versions[0]
    assert eks is not None
    network = eks.input_schema.json_schema["definitions"]["Network"]["properties"]
    assert network == vpc.input_schema.properties()
    assert set(network) <= {f.name for f in VpcEnvInputs.__dataclass_fields__.values()}

