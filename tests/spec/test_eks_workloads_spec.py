"""eks-env 1.2 and kubernetes-svc in the spec layer (no aws_cdk): the add-on table, where add-ons are
installed, the spec errors of placement and delivery, the rendered manifests (validated against the
Kubernetes schema) and `keel gitops` drift checks."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from keel.cdk_context import ROOT
from keel.cli import main
from keel.spec import load_platform
from keel.spec.errors import SpecError
from keel.templates.eks_env.addons import ADDONS, VERSIONS, installed
from keel.templates.eks_env.inputs import Addons
from keel.templates.kubernetes_svc.manifests import InvalidManifest, validate
from keel.templates.kubernetes_svc.workloads import gitops_files, instance_documents

WORKLOADS = ROOT / "tests" / "infra" / "platforms" / "eks-workloads.yaml"
ALL_ON = Addons(**{a.field: True for a in ADDONS})


def test_addon_table_pins_every_addon_for_every_kubernetes_version_of_the_schema() -> None:
    schema = YAML(typ="safe").load((ROOT / "keel/templates/eks_env/schema/v1.2.yaml").read_text())
    versions = schema["schema"]["types"]["EKSEnvironmentInput"]["properties"]["kubernetes_version"]["enum"]
    assert sorted(VERSIONS) == sorted(versions)
    for table in VERSIONS.values():
        assert sorted(table) == sorted(a.name for a in ADDONS)
        assert all(v.startswith("v") and "-eksbuild." in v for v in table.values())


def test_node_groups_get_every_addon_switched_on() -> None:
    assert [a.name for a in installed(ALL_ON, capacity="node_groups")] == [a.name for a in ADDONS]


def test_auto_mode_gets_no_addon_it_builds_in() -> None:
    assert [a.name for a in installed(ALL_ON, capacity="auto_mode")] == \
        ["metrics-server", "amazon-cloudwatch-observability"]


def test_fargate_gets_no_daemonset_and_no_pod_identity_addon() -> None:
    assert [a.name for a in installed(ALL_ON, capacity="fargate")] == ["coredns", "metrics-server"]


def test_switched_off_addon_is_not_installed() -> None:
    off = Addons(**{a.field: a.field != "metrics_server" for a in ADDONS})
    assert "metrics-server" not in [a.name for a in installed(off, capacity="node_groups")]


# -- spec errors ---------------------------------------------------------------------------------
def platform(tmp_path: Path, edit: Any) -> list[str]:
    """The workload test platform, edited by `edit(doc)`, loaded: its rendered problems."""
    doc = YAML(typ="safe").load(WORKLOADS.read_text())
    edit(doc)
    path = tmp_path / "p.yaml"
    with path.open("w") as f:
        YAML(typ="safe").dump(doc, f)
    try:
        load_platform(path)
    except SpecError as err:
        return [p.render().replace(str(tmp_path) + "/", "") for p in err.problems]
    return []


def env_spec(doc: dict[str, Any], name: str) -> dict[str, Any]:
    return next(e for e in doc["environments"] if e["name"] == name)["spec"]  # type: ignore[no-any-return]


def shop(doc: dict[str, Any], instance: str) -> dict[str, Any]:
    return next(i for i in doc["services"][0]["instances"] if i["name"] == instance)["spec"]  # type: ignore


def test_the_workload_platform_is_valid(tmp_path: Path) -> None:
    assert platform(tmp_path, lambda doc: None) == []


def test_hybrid_placement_needs_hybrid_nodes(tmp_path: Path) -> None:
    def edit(doc: dict[str, Any]) -> None:
        env_spec(doc, "plant").pop("hybrid_nodes")
    assert platform(tmp_path, edit) == [
        'p.yaml:services[shop].instances[1].spec.placement: is hybrid, and environment "plant" has no hybrid nodes '
        '(got "hybrid", expected cloud, or hybrid_nodes.enabled in the environment)']


def test_anywhere_placement_needs_flux(tmp_path: Path) -> None:
    def edit(doc: dict[str, Any]) -> None:
        env_spec(doc, "plant")["anywhere"].pop("flux")
    [problem] = platform(tmp_path, edit)
    assert problem.startswith("p.yaml:services[shop].instances[2].spec.placement: is anywhere, and environment "
                              '"plant" has no EKS Anywhere cluster with Flux')


def test_anywhere_placement_refuses_aws_access(tmp_path: Path) -> None:
    def edit(doc: dict[str, Any]) -> None:
        shop(doc, "onprem")["secrets"] = [{"name": "API_KEY", "key": "api-key"}]
    assert platform(tmp_path, edit) == [
        "p.yaml:services[shop].instances[2].spec.secrets: needs AWS credentials, and pods on EKS Anywhere have no "
        'EKS Pod Identity (got "1 entries", expected none with placement anywhere)']


def test_kubernetes_svc_needs_eks_env_1_2(tmp_path: Path) -> None:
    def edit(doc: dict[str, Any]) -> None:
        plant = next(e for e in doc["environments"] if e["name"] == "plant")
        plant["template"] = "eks-env:1.1"
        for key in ("addons", "teams"):
            plant["spec"].pop(key)
    problems = platform(tmp_path, edit)
    assert len(problems) == 3
    assert problems[0] == ('p.yaml:services[shop].instances[0].spec: needs eks-env 1.2 or later, and environment '
                           '"plant" is eks-env@1.1 (got "eks-env@1.1", expected an eks-env:1.2 environment '
                           '(keel upgrade moves it))')


def test_argocd_delivery_needs_identity_center_and_repository(tmp_path: Path) -> None:
    def edit(doc: dict[str, Any]) -> None:
        env_spec(doc, "auto").pop("argocd")
    problems = platform(tmp_path, edit)
    assert [p.split(": ", 1)[0] for p in problems] == ["p.yaml:environments[auto].spec.argocd.idc_instance_arn",
                                                       "p.yaml:environments[auto].spec.argocd.repository_url"]


def test_addon_role_without_pod_identity_agent_is_refused(tmp_path: Path) -> None:
    def edit(doc: dict[str, Any]) -> None:
        env_spec(doc, "plant")["addons"]["eks_pod_identity_agent"] = False
    problems = platform(tmp_path, edit)
    assert problems[0] == (
        "p.yaml:environments[plant].spec.addons.eks_pod_identity_agent: is off, but addons vpc_cni, "
        "aws_ebs_csi_driver get their AWS access through EKS Pod Identity (got false, expected true, or those "
        "add-ons off)")


def test_team_principal_with_another_access_entry_is_refused(tmp_path: Path) -> None:
    def edit(doc: dict[str, Any]) -> None:
        env_spec(doc, "plant")["teams"][0]["principal_arns"] = ["arn:aws:iam::123456789012:role/PlatformAdmin"]
    [problem] = platform(tmp_path, edit)
    assert problem.startswith("p.yaml:environments[plant].spec.teams[0].principal_arns[0]: already has an access "
                              "entry (access_entries[0])")


def test_ingress_without_auto_mode_names_the_missing_controller(tmp_path: Path) -> None:
    def edit(doc: dict[str, Any]) -> None:
        shop(doc, "cloud")["ingress"] = {"enabled": True}
    [problem] = platform(tmp_path, edit)
    assert "capacity node_groups (eks-env 1.2 does not install the AWS Load Balancer Controller)" in problem


def test_disruption_budget_that_blocks_every_drain_is_refused(tmp_path: Path) -> None:
    def edit(doc: dict[str, Any]) -> None:
        shop(doc, "site")["disruption_budget"] = {"min_available": 3}
    [problem] = platform(tmp_path, edit)
    assert problem.startswith("p.yaml:services[shop].instances[1].spec.disruption_budget.min_available: is not "
                              "below the fewest pods (3)")


def test_two_instances_claiming_one_namespace_are_refused(tmp_path: Path) -> None:
    def edit(doc: dict[str, Any]) -> None:
        shop(doc, "cloud")["namespace"] = "shop-site"
    [problem] = platform(tmp_path, edit)
    assert problem.startswith('p.yaml:services[shop].instances[1].spec.namespace: is already the namespace of '
                              'service "shop" instance "cloud"')


def test_wildcard_permission_is_refused_by_the_schema(tmp_path: Path) -> None:
    def edit(doc: dict[str, Any]) -> None:
        shop(doc, "cloud")["aws_permissions"] = [{"actions": ["s3:*"], "resources": ["arn:aws:s3:::bucket/*"]}]
    problems = platform(tmp_path, edit)
    assert [p.split(": ", 1)[0] for p in problems] == [
        "p.yaml:services[shop].instances[0].spec.aws_permissions[0].actions[0]",
        "p.yaml:services[shop].instances[0].spec.aws_permissions[0].resources[0]"]


# -- manifests ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def model() -> Any:
    return load_platform(WORKLOADS)


def test_every_instance_renders_documents_the_kubernetes_schema_accepts(model: Any) -> None:
    for instance in model.instances:
        validate(instance_documents(model, instance), "1.33")


def test_the_validator_refuses_a_document_kubernetes_would(model: Any) -> None:
    docs = copy.deepcopy(instance_documents(model, model.instances[0]))
    deployment = next(d for d in docs if d["kind"] == "Deployment")
    deployment["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] = "eighty"
    with pytest.raises(InvalidManifest, match="Deployment/shop"):
        validate(docs, "1.33")


def test_team_namespace_is_not_created_by_the_service(model: Any) -> None:
    kinds = {i.name: [d["kind"] for d in instance_documents(model, i)] for i in model.instances}
    assert "Namespace" not in kinds["cloud"]
    assert kinds["site"][0] == "Namespace"


def test_autoscaled_deployment_leaves_replicas_to_the_hpa(model: Any) -> None:
    docs = {i.name: instance_documents(model, i) for i in model.instances}
    cloud = next(d for d in docs["cloud"] if d["kind"] == "Deployment")
    site = next(d for d in docs["site"] if d["kind"] == "Deployment")
    assert "replicas" not in cloud["spec"] and site["spec"]["replicas"] == 3
    assert "HorizontalPodAutoscaler" not in [d["kind"] for d in docs["site"]]


# -- keel gitops ----------------------------------------------------------------------------------
def test_gitops_paths_follow_delivery_and_placement(model: Any) -> None:
    assert sorted(str(p) for p in gitops_files(model)) == [
        "clusters/plant-anywhere/keel-workloads/shop-onprem.yaml", "gitops/auto/storefront-auto.yaml"]


def test_gitops_write_then_check_finds_no_drift(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["gitops", "write", str(WORKLOADS), "--root", str(tmp_path)]) == 0
    assert main(["gitops", "check", str(WORKLOADS), "--root", str(tmp_path)]) == 0
    assert "2 GitOps file(s) up to date." in capsys.readouterr().out


def test_gitops_check_reports_an_edited_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["gitops", "write", str(WORKLOADS), "--root", str(tmp_path)])
    edited = tmp_path / "gitops/auto/storefront-auto.yaml"
    edited.write_text(edited.read_text().replace("containerPort: 3000", "containerPort: 3001"))
    capsys.readouterr()
    assert main(["gitops", "check", str(WORKLOADS), "--root", str(tmp_path)]) == 1
    assert "gitops/auto/storefront-auto.yaml: differs from the spec" in capsys.readouterr().out


def test_gitops_write_removes_a_stale_keel_file_and_keeps_foreign_ones(tmp_path: Path) -> None:
    main(["gitops", "write", str(WORKLOADS), "--root", str(tmp_path)])
    folder = tmp_path / "gitops/auto"
    (folder / "old-auto.yaml").write_text((folder / "storefront-auto.yaml").read_text())
    (folder / "hand-written.yaml").write_text("apiVersion: v1\nkind: ConfigMap\n")
    assert main(["gitops", "check", str(WORKLOADS), "--root", str(tmp_path)]) == 1
    assert main(["gitops", "write", str(WORKLOADS), "--root", str(tmp_path)]) == 0
    assert sorted(p.name for p in folder.iterdir()) == ["hand-written.yaml", "storefront-auto.yaml"]


def test_ingress_network_policy_admits_an_existing_vpcs_cidr(tmp_path: Path) -> None:
    """eks-env 1.2 in an existing VPC: the load balancer's traffic comes from that VPC, not from the
    `vpc_cidr` Keel would have given a VPC of its own."""
    doc = YAML(typ="safe").load(WORKLOADS.read_text())
    env_spec(doc, "auto")["network"] = {"existing_vpc": {
        "vpc_id": "vpc-05555555555555555", "vpc_cidr": "10.77.0.0/16",
        "public_subnet_ids": ["subnet-05000000000000011", "subnet-05000000000000012"],
        "private_subnet_ids": ["subnet-05000000000000001", "subnet-05000000000000002"]}}
    path = tmp_path / "p.yaml"
    with path.open("w") as f:
        YAML(typ="safe").dump(doc, f)
    model = load_platform(path)
    instance = next(i for i in model.instances if i.service == "storefront")
    policy = next(d for d in instance_documents(model, instance) if d["kind"] == "NetworkPolicy")
    assert policy["spec"]["ingress"][0]["from"] == [{"podSelector": {}}, {"ipBlock": {"cidr": "10.77.0.0/16"}}]
