"""EKS Anywhere documents from typed inputs, validated against the CRDs' served schemas for every provider.
No aws_cdk import: generation is plain Python."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from keel.eksa import to_yaml
from keel.eksa.crds import Crd, all_problems
from keel.spec import load_platform
from keel.spec.model import Environment
from keel.templates.eks_env import anywhere as documents

PLATFORM = Path(__file__).resolve().parents[1] / "infra" / "platforms" / "eks.yaml"
# tests/infra/platforms/eks.yaml: edge = vSphere (+etcd, OIDC, Flux, MetalLB), lab = Tinkerbell,
# serverless = Docker.
PROVIDERS = {"vsphere": "edge", "tinkerbell": "lab", "docker": "serverless"}


@pytest.fixture(scope="module")
def environments() -> dict[str, Environment]:
    return {e.name: e for e in load_platform(PLATFORM).environments}


def config_of(env: Environment) -> list[dict[str, Any]]:
    i = env.inputs
    ctx = documents.ClusterContext(name=i.anywhere.cluster_name or f"{env.name}-anywhere",
                                   kubernetes_version=i.kubernetes_version, region=env.region or "us-east-1")
    return documents.cluster_config(i.anywhere, ctx, i.access_entries)


@pytest.mark.parametrize("provider", sorted(PROVIDERS))
def test_cluster_config_is_valid_against_the_crds(provider: str, environments: dict[str, Environment],
                                                  crds: dict[tuple[str, str], Crd]) -> None:
    docs = config_of(environments[PROVIDERS[provider]])
    assert all_problems(docs, crds) == []


@pytest.mark.parametrize("provider", sorted(PROVIDERS))
def test_rendered_yaml_reads_back_to_the_same_valid_documents(provider: str, environments: dict[str, Environment],
                                                             crds: dict[tuple[str, str], Crd]) -> None:
    docs = config_of(environments[PROVIDERS[provider]])
    again = list(YAML(typ="safe", pure=True).load_all(to_yaml(docs)))
    assert again == docs and all_problems(again, crds) == []


@pytest.mark.parametrize(("provider", "kinds"), [
    ("docker", ["Cluster", "DockerDatacenterConfig", "AWSIamConfig"]),
    ("tinkerbell", ["Cluster", "TinkerbellDatacenterConfig", "TinkerbellMachineConfig", "TinkerbellMachineConfig",
                    "AWSIamConfig"]),
    ("vsphere", ["Cluster", "VSphereDatacenterConfig", "VSphereMachineConfig", "VSphereMachineConfig",
                 "VSphereMachineConfig", "AWSIamConfig", "OIDCConfig", "FluxConfig"]),
])
def test_each_provider_gets_its_datacenter_and_machine_configs(provider: str, kinds: list[str],
                                                               environments: dict[str, Environment]) -> None:
    assert [d["kind"] for d in config_of(environments[PROVIDERS[provider]])] == kinds


def test_every_machine_group_reference_names_a_generated_machine_config(environments: dict[str, Environment]) -> None:
    docs = config_of(environments["edge"])
    cluster = docs[0]["spec"]
    refs = [cluster["controlPlaneConfiguration"]["machineGroupRef"],
            cluster["externalEtcdConfiguration"]["machineGroupRef"],
            *(w["machineGroupRef"] for w in cluster["workerNodeGroupConfigurations"])]
    names = {(d["kind"], d["metadata"]["name"]) for d in docs}
    assert all((r["kind"], r["name"]) in names for r in refs)
    assert (cluster["datacenterRef"]["kind"], cluster["datacenterRef"]["name"]) in names


def test_cluster_network_and_versions_come_from_the_inputs(environments: dict[str, Environment]) -> None:
    spec = config_of(environments["edge"])[0]["spec"]
    assert spec["kubernetesVersion"] == "1.33"
    assert spec["clusterNetwork"] == {"cniConfig": {"cilium": {}}, "pods": {"cidrBlocks": ["192.168.0.0/16"]},
                                      "services": {"cidrBlocks": ["10.96.0.0/12"]}}
    assert spec["controlPlaneConfiguration"]["count"] == 3
    assert spec["controlPlaneConfiguration"]["endpoint"] == {"host": "10.60.0.10"}


def test_aws_iam_config_maps_roles_and_users_like_the_whitepapers_listing_6(
        environments: dict[str, Environment]) -> None:
    iam = next(d for d in config_of(environments["edge"]) if d["kind"] == "AWSIamConfig")["spec"]
    assert iam["mapRoles"] == [{"roleARN": "arn:aws:iam::111122223333:role/KubernetesAdmin",
                                "username": "admin:{{SessionName}}", "groups": ["system:masters"]}]
    assert iam["mapUsers"] == [{"userARN": "arn:aws:iam::444455556666:user/ops-user", "username": "ops-user",
                                "groups": ["eks-console-dashboard-full-access-group", "keel:view:shop",
                                           "keel:view:payments"]}]
    assert iam["backendMode"] == ["EKSConfigMap"] and iam["awsRegion"] == "eu-west-1"


def test_namespaced_policies_become_role_bindings_in_those_namespaces(environments: dict[str, Environment]) -> None:
    bindings = documents.rbac(environments["edge"].inputs.access_entries)
    assert [(b["kind"], b["metadata"].get("namespace"), b["roleRef"]["name"], b["subjects"][0]["name"])
            for b in bindings] == [("RoleBinding", "shop", "view", "keel:view:shop"),
                                   ("RoleBinding", "payments", "view", "keel:view:payments")]


def test_metallb_pool_and_l2_advertisement(environments: dict[str, Environment]) -> None:
    pool, advert = documents.metallb(environments["edge"].inputs.anywhere.metallb_addresses)
    assert (pool["apiVersion"], pool["kind"], pool["metadata"]["namespace"]) == \
        ("metallb.io/v1beta1", "IPAddressPool", "metallb-system")
    assert pool["spec"] == {"addresses": ["10.60.0.200-10.60.0.250"]}
    assert advert["kind"] == "L2Advertisement" and advert["spec"] == {"ipAddressPools": ["default"]}


def test_a_misspelt_field_is_a_validation_failure(environments: dict[str, Environment],
                                                  crds: dict[tuple[str, str], Crd]) -> None:
    cluster = copy.deepcopy(config_of(environments["edge"])[0])
    cluster["spec"]["controlPlaneConfiguration"]["cuont"] = 3
    assert all_problems([cluster], crds) == [
        "Cluster/edge-anywhere: spec.controlPlaneConfiguration: Additional properties are not allowed "
        "('cuont' was unexpected)"]


def test_a_wrong_type_and_a_missing_required_field_are_failures(environments: dict[str, Environment],
                                                                crds: dict[tuple[str, str], Crd]) -> None:
    docs = copy.deepcopy(config_of(environments["edge"]))
    docs[0]["spec"]["workerNodeGroupConfigurations"][0]["count"] = "three"
    del docs[1]["spec"]["thumbprint"]
    assert all_problems(docs[:2], crds) == [
        "Cluster/edge-anywhere: spec.workerNodeGroupConfigurations.0.count: 'three' is not of type 'integer'",
        "VSphereDatacenterConfig/edge-anywhere: spec: 'thumbprint' is a required property"]


def test_an_unknown_kind_is_a_failure(crds: dict[tuple[str, str], Crd]) -> None:
    doc = {"apiVersion": "anywhere.eks.amazonaws.com/v1alpha1", "kind": "NutanixDatacenterConfig",
           "metadata": {"name": "x"}, "spec": {}}
    assert all_problems([doc], crds) == [
        "NutanixDatacenterConfig/x: no served CRD for anywhere.eks.amazonaws.com/v1alpha1 NutanixDatacenterConfig"]


def test_yaml_quotes_what_a_yaml_1_1_reader_would_misread() -> None:
    text = to_yaml([{"kubernetesVersion": "1.33", "on": "yes", "port": 10250}])
    assert text == "kubernetesVersion: '1.33'\n'on': 'yes'\nport: 10250\n"
