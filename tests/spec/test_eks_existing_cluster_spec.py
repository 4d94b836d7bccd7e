"""eks-env 1.3's existing_cluster in the spec layer (no aws_cdk): what an imported cluster offers its
services, and every refused input with its exact path: the companion VPC, the grammar and home of its IDs
and ARNs, and the inputs of a cluster Keel would create."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from keel.spec import SpecError, load_platform
from keel.templates.eks_env.inputs import EksEnvInputsV13

AZS = ["eu-west-1a", "eu-west-1b"]
VPC = {"vpc_id": "vpc-02222222222222222", "vpc_cidr": "10.60.0.0/16",
       "private_subnet_ids": ["subnet-02000000000000001", "subnet-02000000000000002"]}
CLUSTER = {"cluster_name": "payments-platform", "kubernetes_version": "1.32",
           "cluster_security_group_id": "sg-0123456789abcdef0"}
OIDC = "arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/0123456789ABCDEF0123456789ABCDEF"
TOKEN = "arn:aws:lambda:eu-west-1:123456789012:function:platform-kubectl-onEvent"
WHERE = "platform.yaml:environments[edge].spec"


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def write(tmp_path: Path, spec: dict[str, Any], services: list[dict[str, Any]] | None = None) -> Path:
    doc: dict[str, Any] = {"name": "t", "environments": [{
        "name": "edge", "template": "eks-env:1.3", "region": "eu-west-1", "account": "123456789012",
        "availability_zones": AZS, "spec": {"network": {"existing_vpc": VPC}, **spec}}]}
    if services:
        doc["services"] = services
    path = tmp_path / "platform.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def problems(tmp_path: Path, spec: dict[str, Any], services: list[dict[str, Any]] | None = None) -> list[str]:
    with pytest.raises(SpecError) as info:
        load_platform(write(tmp_path, spec, services))
    return [p.render() for p in info.value.problems]


def inputs_of(tmp_path: Path, spec: dict[str, Any]) -> EksEnvInputsV13:
    inputs = load_platform(write(tmp_path, spec)).environments[0].inputs
    assert isinstance(inputs, EksEnvInputsV13)
    return inputs


# -- what an existing cluster offers -----------------------------------------------------------------
def test_an_existing_cluster_offers_its_own_version_and_capacity(tmp_path: Path) -> None:
    inputs = inputs_of(tmp_path, {"existing_cluster": {**CLUSTER, "capacity": "auto_mode"}})
    assert inputs.cluster_kubernetes_version == "1.32"
    assert inputs.cluster_capacity == "auto_mode"
    eks = inputs.offers().eks
    assert eks is not None and eks.capacity == "auto_mode"


def test_addons_are_not_managed_on_an_existing_cluster_unless_asked(tmp_path: Path) -> None:
    assert inputs_of(tmp_path, {"existing_cluster": CLUSTER}).managed_addons() == []
    managed = inputs_of(tmp_path, {"existing_cluster": {**CLUSTER, "manage_addons": True}}).managed_addons()
    assert "eks-pod-identity-agent" in [a.name for a in managed]


def test_without_existing_cluster_1_3_creates_the_cluster_as_1_2(tmp_path: Path) -> None:
    doc = {"name": "t", "environments": [{"name": "edge", "template": "eks-env:1.3", "region": "eu-west-1",
                                          "availability_zones": AZS, "spec": {}}]}
    (tmp_path / "platform.yaml").write_text(yaml.safe_dump(doc))
    inputs = load_platform(tmp_path / "platform.yaml").environments[0].inputs
    assert isinstance(inputs, EksEnvInputsV13) and inputs.existing_cluster is None
    assert inputs.cluster_kubernetes_version == inputs.kubernetes_version == "1.33"


def test_a_service_needing_pod_identity_is_refused_where_the_cluster_runs_no_agent(tmp_path: Path) -> None:
    service = {"name": "ledger", "template": "kubernetes-svc:1.0", "instances": [{
        "name": "edge", "environment": "edge", "spec": {
            "image": "public.ecr.aws/example/ledger:3.1.0",
            "aws_permissions": [{"actions": ["sqs:SendMessage"],
                                 "resources": ["arn:aws:sqs:eu-west-1:123456789012:ledger"]}]}}]}
    lines = problems(tmp_path, {"existing_cluster": CLUSTER, "addons": {"eks_pod_identity_agent": False}},
                     [service])
    assert [line.split(":")[1] for line in lines] == ["services[ledger].instances[0].spec.placement"]


# -- companions and grammar ------------------------------------------------------------------------------
def test_an_existing_cluster_needs_the_existing_vpc(tmp_path: Path) -> None:
    doc = {"name": "t", "environments": [{"name": "edge", "template": "eks-env:1.3", "region": "eu-west-1",
                                          "availability_zones": AZS, "spec": {"existing_cluster": CLUSTER}}]}
    (tmp_path / "platform.yaml").write_text(yaml.safe_dump(doc))
    with pytest.raises(SpecError) as info:
        load_platform(tmp_path / "platform.yaml")
    assert [p.render() for p in info.value.problems] == [
        f"{WHERE}.existing_cluster: needs network.existing_vpc: the cluster runs in a VPC its owners created, "
        "which Keel imports by its IDs (expected network.existing_vpc with the cluster's VPC and private subnets)"]


@pytest.mark.parametrize(("field", "value"), [
    ("cluster_name", "-payments"),
    ("cluster_name", "p" * 101),
    ("cluster_security_group_id", "sg-123"),
    ("kubernetes_version", "1.29"),
    ("oidc_provider_arn", "arn:aws:iam::123456789012:oidc-provider/example.com"),
    ("kubectl_provider_service_token", "arn:aws:lambda:eu-west-1:123456789012:layer:kubectl"),
])
def test_ids_and_arns_follow_their_grammar(tmp_path: Path, field: str, value: str) -> None:
    lines = problems(tmp_path, {"existing_cluster": {**CLUSTER, field: value}})
    assert len(lines) == 1 and lines[0].startswith(f"{WHERE}.existing_cluster.{field}: "), lines


def test_the_cluster_version_is_required(tmp_path: Path) -> None:
    cluster = {k: v for k, v in CLUSTER.items() if k != "kubernetes_version"}
    lines = problems(tmp_path, {"existing_cluster": cluster})
    assert len(lines) == 1 and lines[0].startswith(f"{WHERE}.existing_cluster.kubernetes_version: "), lines


@pytest.mark.parametrize(("field", "arn", "message"), [
    ("oidc_provider_arn", OIDC.replace("123456789012", "210987654321"),
     "is in account 210987654321, the environment is in 123456789012"),
    ("oidc_provider_arn", OIDC.replace("eu-west-1", "us-east-1"),
     "is in region us-east-1, the environment is in eu-west-1"),
    ("kubectl_provider_service_token", TOKEN.replace("eu-west-1", "eu-central-1"),
     "is in region eu-central-1, the environment is in eu-west-1"),
    ("kubectl_provider_service_token", TOKEN.replace("arn:aws:", "arn:aws-cn:"),
     "is in partition aws-cn, the environment's region eu-west-1 is in aws"),
])
def test_arns_belong_to_the_environments_account_and_region(tmp_path: Path, field: str, arn: str,
                                                           message: str) -> None:
    lines = problems(tmp_path, {"existing_cluster": {**CLUSTER, field: arn}})
    assert [line.split(" (got ")[0] for line in lines] == [f"{WHERE}.existing_cluster.{field}: {message}"]


# -- inputs of a cluster Keel would create -----------------------------------------------------------------
@pytest.mark.parametrize(("spec", "path", "expected"), [
    ({"kubernetes_version": "1.34"}, "kubernetes_version",
     "no kubernetes_version (existing_cluster.kubernetes_version says what the cluster runs)"),
    ({"capacity": "auto_mode"}, "capacity",
     "no capacity (existing_cluster.capacity says where the cluster's pods run)"),
    ({"node_groups": [{"name": "gpu"}]}, "node_groups", "no node_groups"),
    ({"fargate_namespaces": ["batch"]}, "fargate_namespaces", "no fargate_namespaces"),
    ({"hybrid_nodes": {"enabled": True, "remote_node_networks": ["192.168.100.0/23"]}}, "hybrid_nodes.enabled",
     "false (the cluster's owners set up hybrid nodes)"),
    ({"anywhere": {"enabled": True}}, "anywhere.enabled", "false, or EKS Anywhere in an environment of its own"),
    ({"workload_delivery": "argocd", "argocd": {"idc_instance_arn": "arn:aws:sso:::instance/ssoins-1234567890abcdef",
                                                "repository_url": "https://git.example.com/platform.git"}},
     "workload_delivery", "kubectl (Keel's kubectl provider, or the owners' kubectl_provider_service_token)"),
    ({"authentication_mode": "API_AND_CONFIG_MAP"}, "authentication_mode", "no authentication_mode"),
    ({"service_ipv4_cidr": "172.21.0.0/16"}, "service_ipv4_cidr", "no service_ipv4_cidr"),
    ({"endpoint_access": "public", "public_access_cidrs": ["203.0.113.0/24"]}, "endpoint_access",
     "no endpoint_access"),
    ({"control_plane_logs": ["api", "audit", "authenticator", "scheduler"]}, "control_plane_logs",
     "no control_plane_logs"),
    ({"control_plane_log_retention_days": 30}, "control_plane_log_retention_days",
     "no control_plane_log_retention_days"),
])
def test_inputs_of_a_cluster_keel_creates_are_refused_beside_an_existing_one(
        tmp_path: Path, spec: dict[str, Any], path: str, expected: str) -> None:
    lines = problems(tmp_path, {"existing_cluster": CLUSTER, **spec})
    mine = [line for line in lines if line.startswith(f"{WHERE}.{path}: ")]
    assert len(mine) == 1, lines
    assert "is set but existing_cluster is given: " in mine[0] and mine[0].endswith(f"expected {expected})")
