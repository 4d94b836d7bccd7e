"""eks-env 1.2 and kubernetes-svc synthesized (tests/infra/platforms/eks-workloads.yaml, once a session):
managed add-ons and their Pod Identity roles, teams, the services' Pod Identity roles (exact ARNs), node
selection in the written manifests, delivery by kubectl or Argo CD, and the gates (nag, cfn-lint)."""

from __future__ import annotations

from typing import Any

import pytest
from ruamel.yaml import YAML

from keel.templates.eks_env.addons import VERSIONS
from keel.templates.kubernetes_svc.manifests import validate
from tests.infra.conftest import Synthesized, cfn_lint, environment_read, open_findings

KUBERNETES_RESOURCE = "Custom::AWSCDK-EKS-KubernetesResource"


def resources(s: Synthesized, stack: str, type_: str) -> dict[str, Any]:
    return {k: v["Properties"] for k, v in s.json(stack)["Resources"].items() if v["Type"] == type_}


def manifests(s: Synthesized, stack: str) -> list[dict[str, Any]]:
    return list(YAML(typ="safe").load_all((s.outdir / f"{stack}.k8s.yaml").read_text()))


def by_kind(docs: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    found = [d for d in docs if d["kind"] == kind]
    assert len(found) == 1, f"{len(found)} {kind}"
    return found[0]


def text_of(manifest: str | dict[str, Any]) -> str:
    """A KubernetesManifest's JSON, whether CDK rendered it as a literal or a join around tokens."""
    return manifest if isinstance(manifest, str) else "".join(str(p) for p in manifest["Fn::Join"][1])


def role_of(s: Synthesized, stack: str, ref: dict[str, Any]) -> dict[str, Any]:
    return s.json(stack)["Resources"][ref["Fn::GetAtt"][0]]["Properties"]  # type: ignore[no-any-return]


# -- the gates ------------------------------------------------------------------------------------
@pytest.mark.heavy  # reads cdk-nag's report: nag runs on test platforms in make conformance
def test_workload_platform_is_nag_clean(eks_workloads: Synthesized) -> None:
    assert open_findings(eks_workloads.outdir) == []


@pytest.mark.heavy  # cfn-lint of a test platform: make conformance (the default platform's: make test)
def test_workload_platform_is_cfn_lint_clean(eks_workloads: Synthesized) -> None:
    result = cfn_lint(eks_workloads.outdir)
    assert result.returncode == 0, result.stdout + result.stderr


# -- add-ons ----------------------------------------------------------------------------------------
def test_addons_are_pinned_from_the_table_and_switchable(eks_workloads: Synthesized) -> None:
    addons = {p["AddonName"]: p["AddonVersion"]
              for p in resources(eks_workloads, "keel-plant", "AWS::EKS::Addon").values()}
    # amazon_cloudwatch_observability: false in the spec
    assert addons == {name: VERSIONS["1.33"][name] for name in (
        "eks-pod-identity-agent", "vpc-cni", "kube-proxy", "coredns", "aws-ebs-csi-driver", "metrics-server")}


def test_auto_mode_gets_only_the_addons_it_does_not_build_in(eks_workloads: Synthesized) -> None:
    addons = {p["AddonName"] for p in resources(eks_workloads, "keel-auto", "AWS::EKS::Addon").values()}
    assert addons == {"metrics-server", "amazon-cloudwatch-observability"}


@pytest.mark.parametrize(("stack", "addon", "service_account", "policy"), [
    ("keel-plant", "vpc-cni", "aws-node", "AmazonEKS_CNI_Policy"),
    ("keel-plant", "aws-ebs-csi-driver", "ebs-csi-controller-sa", "service-role/AmazonEBSCSIDriverPolicy"),
    ("keel-auto", "amazon-cloudwatch-observability", "cloudwatch-agent", "CloudWatchAgentServerPolicy"),
])
def test_addon_calling_aws_has_its_own_pod_identity_role(eks_workloads: Synthesized, stack: str, addon: str,
                                                          service_account: str, policy: str) -> None:
    props = next(p for p in resources(eks_workloads, stack, "AWS::EKS::Addon").values() if p["AddonName"] == addon)
    [association] = props["PodIdentityAssociations"]
    assert association["ServiceAccount"] == service_account
    role = role_of(eks_workloads, stack, association["RoleArn"])
    principals = {s["Principal"]["Service"] for s in role["AssumeRolePolicyDocument"]["Statement"]}
    actions = sorted(a for s in role["AssumeRolePolicyDocument"]["Statement"]
                     for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"]))
    assert principals == {"pods.eks.amazonaws.com"}
    assert actions == ["sts:AssumeRole", "sts:TagSession"]
    assert [p["Fn::Join"][1][-1] for p in role["ManagedPolicyArns"]] == [f":iam::aws:policy/{policy}"]


def test_addons_without_aws_access_have_no_role(eks_workloads: Synthesized) -> None:
    for props in resources(eks_workloads, "keel-plant", "AWS::EKS::Addon").values():
        if props["AddonName"] in ("coredns", "kube-proxy", "metrics-server", "eks-pod-identity-agent"):
            assert "PodIdentityAssociations" not in props


def test_node_role_leaves_the_cni_policy_to_the_vpc_cni_role(eks_workloads: Synthesized) -> None:
    [node_role] = [p for k, p in resources(eks_workloads, "keel-plant", "AWS::IAM::Role").items()
                   if k.startswith("ClusterNodeRole")]
    policies = {p["Fn::Join"][1][-1].rsplit("/", 1)[-1] for p in node_role["ManagedPolicyArns"]}
    assert policies == {"AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryPullOnly"}


# -- teams -----------------------------------------------------------------------------------------
def test_team_principals_get_access_scoped_to_their_namespace(eks_workloads: Synthesized) -> None:
    entries = {p["PrincipalArn"]: p for p in resources(eks_workloads, "keel-plant", "AWS::EKS::AccessEntry").values()
               if isinstance(p["PrincipalArn"], str)}
    for arn, policy, namespace in [
            ("arn:aws:iam::123456789012:role/PaymentsDevelopers", "AmazonEKSEditPolicy", "payments"),
            ("arn:aws:iam::123456789012:role/Analysts", "AmazonEKSViewPolicy", "analytics"),
            ("arn:aws:iam::123456789012:user/auditor", "AmazonEKSViewPolicy", "analytics")]:
        [association] = entries[arn]["AccessPolicies"]
        assert association["AccessScope"] == {"Type": "namespace", "Namespaces": [namespace]}
        assert association["PolicyArn"]["Fn::Join"][1][-1].endswith(f"/{policy}")


def test_teams_get_namespace_quota_and_limit_defaults(eks_workloads: Synthesized) -> None:
    docs = manifests(eks_workloads, "keel-plant")
    payments = [d for d in docs if d["metadata"].get("namespace", d["metadata"]["name"]) == "payments"]
    assert [d["kind"] for d in payments] == ["Namespace", "ResourceQuota", "LimitRange"]
    assert payments[1]["spec"]["hard"] == {"requests.cpu": "2", "requests.memory": "4Gi", "limits.memory": "16Gi",
                                           "pods": "20"}
    [applied] = resources(eks_workloads, "keel-plant", KUBERNETES_RESOURCE).values()
    assert '"name":"payments"' in text_of(applied["Manifest"])


# -- kubernetes-svc: Pod Identity ---------------------------------------------------------------
def test_service_account_gets_a_pod_identity_association(eks_workloads: Synthesized) -> None:
    [association] = resources(eks_workloads, "keel-shop-cloud", "AWS::EKS::PodIdentityAssociation").values()
    assert (association["Namespace"], association["ServiceAccount"]) == ("payments", "shop")
    role = role_of(eks_workloads, "keel-shop-cloud", association["RoleArn"])
    [statement] = role["AssumeRolePolicyDocument"]["Statement"][:1]
    assert statement["Principal"] == {"Service": "pods.eks.amazonaws.com"}


def test_pod_role_reads_exactly_its_config_path(eks_workloads: Synthesized) -> None:
    [policy] = resources(eks_workloads, "keel-shop-cloud", "AWS::IAM::Policy").values()
    statements = {s["Sid"]: s for s in policy["PolicyDocument"]["Statement"]}
    base = "arn:aws:ssm:eu-west-1:123456789012:parameter"
    assert sorted(statements["ReadOwnAndSharedParameters"]["Resource"]) == sorted([
        f"{base}/keel/plant/shop", f"{base}/keel/plant/shop/*", f"{base}/keel/plant/shared",
        f"{base}/keel/plant/shared/*", f"{base}/aws/reference/secretsmanager/keel/plant/shop/*",
        f"{base}/aws/reference/secretsmanager/keel/plant/shared/*"])
    assert sorted(statements["ReadOwnAndSharedSecrets"]["Resource"]) == [
        "arn:aws:secretsmanager:eu-west-1:123456789012:secret:keel/plant/shared/*",
        "arn:aws:secretsmanager:eu-west-1:123456789012:secret:keel/plant/shop/*"]
    assert statements["Declared0"]["Resource"] == "arn:aws:sqs:eu-west-1:123456789012:orders"
    assert statements["Declared0"]["Action"] == "sqs:SendMessage"


def test_service_without_aws_access_gets_no_role(eks_workloads: Synthesized) -> None:
    assert resources(eks_workloads, "keel-shop-site", "AWS::IAM::Role") == {}
    assert resources(eks_workloads, "keel-shop-site", "AWS::EKS::PodIdentityAssociation") == {}


def test_manifests_carry_config_names_never_values(eks_workloads: Synthesized) -> None:
    env = {e["name"]: e["value"] for e in by_kind(manifests(eks_workloads, "keel-shop-cloud"), "Deployment")
           ["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["GREETING_PARAMETER"] == "/keel/plant/shop/greeting"
    assert env["API_KEY_SECRET"] == "keel/plant/shop/api-key"


# -- kubernetes-svc: placement ----------------------------------------------------------------------
def pod_spec(s: Synthesized, stack: str) -> dict[str, Any]:
    return by_kind(manifests(s, stack), "Deployment")["spec"]["template"]["spec"]  # type: ignore[no-any-return]


def test_hybrid_pods_select_hybrid_nodes_and_tolerate_them(eks_workloads: Synthesized) -> None:
    spec = pod_spec(eks_workloads, "keel-shop-site")
    assert spec["nodeSelector"] == {"eks.amazonaws.com/compute-type": "hybrid"}
    assert spec["tolerations"] == [{"key": "eks.amazonaws.com/compute-type", "operator": "Equal", "value": "hybrid",
                                    "effect": "NoSchedule"}]
    assert "affinity" not in spec


def test_cloud_pods_stay_off_hybrid_nodes(eks_workloads: Synthesized) -> None:
    spec = pod_spec(eks_workloads, "keel-shop-cloud")
    [term] = spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    assert term == {"matchExpressions": [{"key": "eks.amazonaws.com/compute-type", "operator": "NotIn",
                                          "values": ["hybrid"]}]}
    assert "nodeSelector" not in spec and "tolerations" not in spec


def test_anywhere_instance_has_no_cloud_resources_and_no_node_selection(eks_workloads: Synthesized) -> None:
    types = {r["Type"] for r in eks_workloads.json("keel-shop-onprem")["Resources"].values()}
    assert not types & {KUBERNETES_RESOURCE, "AWS::EKS::PodIdentityAssociation", "AWS::IAM::Role"}
    spec = pod_spec(eks_workloads, "keel-shop-onprem")
    assert not {"nodeSelector", "tolerations", "affinity"} & set(spec)


# -- kubernetes-svc: manifests and delivery -----------------------------------------------------------
@pytest.mark.parametrize("stack", ["keel-shop-cloud", "keel-shop-site", "keel-shop-onprem", "keel-storefront-auto"])
def test_written_manifests_validate_against_the_kubernetes_schema(eks_workloads: Synthesized, stack: str) -> None:
    docs = manifests(eks_workloads, stack)
    assert {d["kind"] for d in docs} >= {"ServiceAccount", "Deployment", "Service", "PodDisruptionBudget",
                                         "NetworkPolicy"}
    validate(docs, "1.33")


def test_kubectl_delivery_applies_the_written_manifests(eks_workloads: Synthesized) -> None:
    [applied] = resources(eks_workloads, "keel-shop-cloud", KUBERNETES_RESOURCE).values()
    text = text_of(applied["Manifest"])
    assert '"kind":"HorizontalPodAutoscaler"' in text and '"namespace":"payments"' in text


def test_argocd_delivery_uses_the_capability_and_no_kubectl(eks_workloads: Synthesized) -> None:
    assert resources(eks_workloads, "keel-storefront-auto", KUBERNETES_RESOURCE) == {}
    [capability] = resources(eks_workloads, "keel-auto", "AWS::EKS::Capability").values()
    assert capability["Type"] == "ARGOCD"
    assert capability["Configuration"]["ArgoCd"]["AwsIdc"]["IdcInstanceArn"] == \
        "arn:aws:sso:::instance/ssoins-1234567890abcdef"
    application = YAML(typ="safe").load((eks_workloads.outdir / "keel-auto.argocd-application.yaml").read_text())
    assert application["spec"]["source"]["path"] == "gitops/auto"
    assert application["spec"]["destination"] == {"name": "arn:aws:eks:eu-west-1:123456789012:cluster/keel-auto"}


def test_auto_mode_ingress_uses_the_built_in_load_balancer_class(eks_workloads: Synthesized) -> None:
    ingress = by_kind(manifests(eks_workloads, "keel-storefront-auto"), "Ingress")
    assert ingress["spec"]["ingressClassName"] == "keel-alb-internet-facing"
    classes = {d["metadata"]["name"]: d for d in manifests(eks_workloads, "keel-auto") if d["kind"] == "IngressClass"}
    assert classes["keel-alb-internet-facing"]["spec"]["controller"] == "eks.amazonaws.com/alb"


# -- existing cluster (issue 18): eks-env 1.3 `adopted` (Keel's kubectl provider) and `borrowed` (the owners') --
IMPORTED = ["keel-adopted", "keel-borrowed"]
KEEL_CREATED_CLUSTER_TYPES = ["AWS::EKS::Cluster", "AWS::EKS::Nodegroup", "AWS::EKS::FargateProfile",
                              "AWS::IAM::OIDCProvider", "Custom::AWSCDKOpenIdConnectProvider"]


def kubectl_handler(s: Synthesized, stack: str) -> tuple[str, dict[str, Any]]:
    [(logical_id, props)] = [(k, p) for k, p in resources(s, stack, "AWS::Lambda::Function").items()
                             if p.get("Description") == "onEvent handler for EKS kubectl resource provider"]
    return logical_id, props


@pytest.mark.parametrize("stack", IMPORTED)
def test_an_existing_cluster_is_imported_never_created(eks_workloads: Synthesized, stack: str) -> None:
    types = {v["Type"] for v in eks_workloads.json(stack)["Resources"].values()}
    assert types.isdisjoint(KEEL_CREATED_CLUSTER_TYPES), types


@pytest.mark.parametrize("stack", IMPORTED)
def test_nothing_touches_the_existing_network(eks_workloads: Synthesized, stack: str) -> None:
    # no VPC, subnet, route, security group or rule: the cluster security group is imported immutable
    types = {v["Type"] for v in eks_workloads.json(stack)["Resources"].values()}
    assert [t for t in types if t.startswith("AWS::EC2::")] == []


@pytest.mark.parametrize(("stack", "cluster"), [("keel-adopted", "payments-platform"),
                                                ("keel-borrowed", "shared-platform")])
def test_access_entries_are_made_on_the_existing_cluster(eks_workloads: Synthesized, stack: str,
                                                         cluster: str) -> None:
    entries = resources(eks_workloads, stack, "AWS::EKS::AccessEntry").values()
    assert entries and {e["ClusterName"] for e in entries} == {cluster}


def test_spec_and_team_principals_get_their_access_on_the_existing_cluster(eks_workloads: Synthesized) -> None:
    entries = {p["PrincipalArn"]: p["AccessPolicies"] for p in
               resources(eks_workloads, "keel-adopted", "AWS::EKS::AccessEntry").values()
               if isinstance(p["PrincipalArn"], str)}
    assert set(entries) == {"arn:aws:iam::123456789012:role/PaymentsOnCall",
                            "arn:aws:iam::123456789012:role/CheckoutDevelopers"}
    [team] = entries["arn:aws:iam::123456789012:role/CheckoutDevelopers"]
    assert team["AccessScope"] == {"Type": "namespace", "Namespaces": ["checkout"]}


def test_keels_kubectl_provider_reaches_the_existing_cluster_from_its_security_group(
        eks_workloads: Synthesized) -> None:
    _, handler = kubectl_handler(eks_workloads, "keel-adopted")
    assert handler["VpcConfig"] == {"SecurityGroupIds": ["sg-0123456789abcdef0"],
                                    "SubnetIds": ["subnet-02000000000000001", "subnet-02000000000000002"]}
    policies = [s for p in resources(eks_workloads, "keel-adopted", "AWS::IAM::Policy").values()
                for s in p["PolicyDocument"]["Statement"] if s["Action"] == "eks:DescribeCluster"]
    [describe] = policies
    assert describe["Resource"] == "arn:aws:eks:eu-west-1:123456789012:cluster/payments-platform"


def test_keels_kubectl_provider_is_cluster_admin_before_it_applies(eks_workloads: Synthesized) -> None:
    _, handler = kubectl_handler(eks_workloads, "keel-adopted")
    role_id = handler["Role"]["Fn::GetAtt"][0]
    template = eks_workloads.json("keel-adopted")["Resources"]
    [(access_id, access)] = [(k, v) for k, v in template.items() if v["Type"] == "AWS::EKS::AccessEntry"
                             and v["Properties"]["PrincipalArn"] == {"Fn::GetAtt": [role_id, "Arn"]}]
    [policy] = access["Properties"]["AccessPolicies"]
    assert policy["AccessScope"] == {"Type": "cluster"}
    assert policy["PolicyArn"]["Fn::Join"][1][-1].endswith("/AmazonEKSClusterAdminPolicy")
    [teams] = [v for v in template.values() if v["Type"] == KUBERNETES_RESOURCE]
    assert teams["Properties"]["ClusterName"] == "payments-platform"
    assert access_id in teams["DependsOn"]


def test_the_service_is_applied_through_the_environments_kubectl_provider(eks_workloads: Synthesized) -> None:
    [workload] = resources(eks_workloads, "keel-ledger-adopted", KUBERNETES_RESOURCE).values()
    assert workload["ClusterName"] == "payments-platform"
    # the token is read from the environment's published parameter (issue 20), which holds Keel's own provider
    assert environment_read(eks_workloads.json("keel-ledger-adopted"), workload["ServiceToken"]) == \
        "/keel/adopted/eks/kubectl-provider/service-token"
    published = {p["Name"]: p["Value"]
                 for p in resources(eks_workloads, "keel-adopted", "AWS::SSM::Parameter").values()}
    token = published["/keel/adopted/eks/kubectl-provider/service-token"]["Fn::GetAtt"]
    assert "ClusterKubectlProviderframeworkonEvent" in token[0] and token[1] == "Arn"


def test_the_service_gets_its_pod_identity_on_the_existing_cluster(eks_workloads: Synthesized) -> None:
    [association] = resources(eks_workloads, "keel-ledger-adopted", "AWS::EKS::PodIdentityAssociation").values()
    assert (association["ClusterName"], association["Namespace"], association["ServiceAccount"]) == \
        ("payments-platform", "checkout", "ledger")
    role = role_of(eks_workloads, "keel-ledger-adopted", association["RoleArn"])
    assert {s["Principal"]["Service"] for s in role["AssumeRolePolicyDocument"]["Statement"]} == \
        {"pods.eks.amazonaws.com"}


def test_the_owners_kubectl_provider_is_used_as_given(eks_workloads: Synthesized) -> None:
    assert resources(eks_workloads, "keel-borrowed", "AWS::Lambda::Function") == {}
    [teams] = resources(eks_workloads, "keel-borrowed", KUBERNETES_RESOURCE).values()
    assert teams["ServiceToken"] == "arn:aws:lambda:eu-west-1:123456789012:function:platform-kubectl-onEvent"
    # no access entry for a provider role: the owners' provider already has its access
    entries = resources(eks_workloads, "keel-borrowed", "AWS::EKS::AccessEntry").values()
    principals = [p["PrincipalArn"] for p in entries]
    assert principals == ["arn:aws:iam::123456789012:role/ReportingDevelopers"]


def test_addons_are_left_to_the_owners_unless_managed(eks_workloads: Synthesized) -> None:
    assert resources(eks_workloads, "keel-adopted", "AWS::EKS::Addon") == {}
    addons = {p["AddonName"]: (p["AddonVersion"], p["ClusterName"])
              for p in resources(eks_workloads, "keel-borrowed", "AWS::EKS::Addon").values()}
    # manage_addons: pinned for the cluster's own version (1.34), cloudwatch switched off in the spec
    assert addons == {name: (VERSIONS["1.34"][name], "shared-platform") for name in (
        "eks-pod-identity-agent", "vpc-cni", "kube-proxy", "coredns", "aws-ebs-csi-driver", "metrics-server")}


def test_discovery_publishes_only_what_keel_knows_of_an_existing_cluster(eks_workloads: Synthesized) -> None:
    names = {p["Name"]: p["Value"] for p in resources(eks_workloads, "keel-adopted", "AWS::SSM::Parameter").values()}
    assert names["/keel/adopted/eks/cluster-name"] == "payments-platform"
    assert names["/keel/adopted/eks/kubernetes-version"] == "1.32"
    assert names["/keel/adopted/eks/security-group-id"] == "sg-0123456789abcdef0"
    assert names["/keel/adopted/eks/oidc-provider-arn"].endswith("/id/0123456789ABCDEF0123456789ABCDEF")
    for absent in ("endpoint", "oidc-issuer", "node-role-arn"):
        assert f"/keel/adopted/eks/{absent}" not in names
