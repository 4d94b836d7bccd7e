"""eks-env synthesized: the cluster, access, encryption, logging, hybrid nodes, EKS Anywhere readiness.

tests/infra/platforms/eks.yaml is synthesized once per session: `edge` (node groups, SSM hybrid nodes,
vSphere EKS Anywhere with the connector), `lab` (Auto Mode, Roles Anywhere, Tinkerbell, no connector),
`serverless` (Fargate, Docker EKS Anywhere, no hybrid nodes, no access entries).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from aws_cdk.assertions import Match, Template

from keel.cdk_context import ROOT
from keel.eksa.crds import Crd, CrdFolder, all_problems, load_crd_folder
from tests.eksa.conftest import CRD_FIXTURES
from tests.infra.conftest import Synthesized, cfn_lint, mask_hashes, open_findings, synthesize

PLATFORM = ROOT / "tests" / "infra" / "platforms" / "eks.yaml"


@pytest.fixture(scope="module")
def crd_folder() -> CrdFolder:
    """Keel's own EKS Anywhere-like CRDs; `make conformance` runs the same check on the real ones."""
    return load_crd_folder(CRD_FIXTURES)


@pytest.fixture(scope="module")
def eks(tmp_path_factory: pytest.TempPathFactory, crd_folder: CrdFolder) -> Iterator[Synthesized]:
    """Synthesized as `cdk synth -c keel:eksa-crds=tests/eksa/fixtures/crds` would."""
    yield synthesize(PLATFORM, tmp_path_factory.mktemp("eks.out"), eksa_crds=crd_folder)


@pytest.fixture(scope="module")
def crds(crd_folder: CrdFolder) -> dict[tuple[str, str], Crd]:
    return dict(crd_folder.crds)


def resources(s: Synthesized, stack: str, type_: str) -> dict[str, Any]:
    return {k: v for k, v in s.json(stack)["Resources"].items() if v["Type"] == type_}


def only(s: Synthesized, stack: str, type_: str) -> dict[str, Any]:
    found = list(resources(s, stack, type_).values())
    assert len(found) == 1, f"{len(found)} {type_} in {stack}"
    return found[0]["Properties"]  # type: ignore[no-any-return]


def cluster_props(s: Synthesized, stack: str) -> dict[str, Any]:
    return only(s, stack, "AWS::EKS::Cluster")


# -- the cluster -------------------------------------------------------------------------------------
def test_cluster_is_native_with_no_kubectl_provider(eks: Synthesized) -> None:
    for stack in eks.templates:
        types = {r["Type"] for r in eks.json(stack)["Resources"].values()}
        assert "AWS::EKS::Cluster" in types
        assert not any("Kubectl" in t or t == "AWS::Lambda::LayerVersion" for t in types)


def test_cluster_name_version_and_service_cidr_come_from_the_spec(eks: Synthesized) -> None:
    props = cluster_props(eks, "keel-edge")
    assert (props["Name"], props["Version"]) == ("keel-edge", "1.33")
    assert props["KubernetesNetworkConfig"]["ServiceIpv4Cidr"] == "172.20.0.0/16"


def test_authentication_mode_is_api_unless_migrating(eks: Synthesized) -> None:
    assert cluster_props(eks, "keel-edge")["AccessConfig"]["AuthenticationMode"] == "API"
    assert cluster_props(eks, "keel-lab")["AccessConfig"]["AuthenticationMode"] == "API_AND_CONFIG_MAP"


def test_deployer_keeps_admin_only_when_no_entry_grants_cluster_admin(eks: Synthesized) -> None:
    assert cluster_props(eks, "keel-edge")["AccessConfig"]["BootstrapClusterCreatorAdminPermissions"] is False
    assert cluster_props(eks, "keel-serverless")["AccessConfig"]["BootstrapClusterCreatorAdminPermissions"] is True


def test_secrets_are_envelope_encrypted_with_the_environment_key(eks: Synthesized) -> None:
    template = eks.templates["keel-edge"]
    key_id = next(iter(template.find_resources("AWS::KMS::Key")))
    template.has_resource_properties("AWS::EKS::Cluster", {"EncryptionConfig": [
        {"Provider": {"KeyArn": {"Fn::GetAtt": [key_id, "Arn"]}}, "Resources": ["secrets"]}]})
    template.has_resource_properties("AWS::IAM::Policy", {
        "Roles": [{"Ref": Match.string_like_regexp("^ClusterRole")}],
        "PolicyDocument": {"Statement": Match.array_with([Match.object_like({
            "Action": ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:ListGrants"],
            "Resource": {"Fn::GetAtt": [key_id, "Arn"]}})])}})


def test_control_plane_logs_are_on_and_kept_encrypted(eks: Synthesized) -> None:
    template = eks.templates["keel-edge"]
    types = [t["Type"] for t in cluster_props(eks, "keel-edge")["Logging"]["ClusterLogging"]["EnabledTypes"]]
    assert types == ["api", "audit", "authenticator", "scheduler"]
    key_id = next(iter(template.find_resources("AWS::KMS::Key")))
    template.has_resource_properties("AWS::Logs::LogGroup", {
        "LogGroupName": "/aws/eks/keel-edge/cluster", "RetentionInDays": 90,
        "KmsKeyId": {"Fn::GetAtt": [key_id, "Arn"]}})
    cluster = next(iter(template.find_resources("AWS::EKS::Cluster").values()))
    assert any(d.startswith("ClusterControlPlaneLogs") for d in cluster["DependsOn"])


def test_public_endpoint_is_limited_to_the_allowed_cidrs(eks: Synthesized) -> None:
    vpc = cluster_props(eks, "keel-edge")["ResourcesVpcConfig"]
    assert (vpc["EndpointPublicAccess"], vpc["EndpointPrivateAccess"], vpc["PublicAccessCidrs"]) == \
        (True, True, ["203.0.113.0/24"])
    private = cluster_props(eks, "keel-lab")["ResourcesVpcConfig"]
    assert (private["EndpointPublicAccess"], private["EndpointPrivateAccess"]) == (False, True)


def test_control_plane_sits_in_the_private_subnets(eks: Synthesized) -> None:
    subnets = cluster_props(eks, "keel-edge")["ResourcesVpcConfig"]["SubnetIds"]
    assert subnets and all("Private" in s["Ref"] for s in subnets)


# -- access entries ----------------------------------------------------------------------------------
def test_access_entry_maps_a_role_to_cluster_admin_cluster_wide(eks: Synthesized) -> None:
    eks.templates["keel-edge"].has_resource_properties("AWS::EKS::AccessEntry", {
        "PrincipalArn": "arn:aws:iam::111122223333:role/KubernetesAdmin", "Type": "STANDARD",
        "Username": "admin:{{SessionName}}",
        "AccessPolicies": [{"AccessScope": {"Type": "cluster"}, "PolicyArn": {"Fn::Join": ["", [
            "arn:", {"Ref": "AWS::Partition"}, ":eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"]]}}]})


def test_access_entry_maps_a_user_to_groups_and_a_namespaced_view_policy(eks: Synthesized) -> None:
    eks.templates["keel-edge"].has_resource_properties("AWS::EKS::AccessEntry", {
        "PrincipalArn": "arn:aws:iam::444455556666:user/ops-user",
        "KubernetesGroups": ["eks-console-dashboard-full-access-group"], "Username": "ops-user",
        "AccessPolicies": [{"AccessScope": {"Type": "namespace", "Namespaces": ["shop", "payments"]},
                            "PolicyArn": Match.any_value()}]})


def test_access_entry_ids_derive_from_the_principal(eks: Synthesized) -> None:
    ids = set(resources(eks, "keel-edge", "AWS::EKS::AccessEntry"))
    assert any(i.startswith("ClusterAccess111122223333RoleKubernetesAdmin") for i in ids)
    assert any(i.startswith("ClusterAccess444455556666UserOpsUser") for i in ids)


def test_no_aws_auth_config_map_is_written(eks: Synthesized) -> None:
    for stack in eks.templates:
        assert "aws-auth" not in json.dumps(eks.json(stack))


# -- capacity ----------------------------------------------------------------------------------------
def test_node_groups_follow_the_spec_in_private_subnets(eks: Synthesized) -> None:
    groups = {p["Labels"]["keel/node-group"]: p for p in
              (r["Properties"] for r in resources(eks, "keel-edge", "AWS::EKS::Nodegroup").values())}
    assert set(groups) == {"general", "x86"}
    general, x86 = groups["general"], groups["x86"]
    assert (general["AmiType"], general["InstanceTypes"], general["ScalingConfig"]) == (
        "AL2023_ARM_64_STANDARD", ["m7g.large", "m6g.large"], {"MinSize": 2, "DesiredSize": 2, "MaxSize": 4})
    assert (x86["AmiType"], x86["CapacityType"]) == ("AL2023_x86_64_STANDARD", "SPOT")  # the API's spelling
    assert all("Private" in s["Ref"] for g in groups.values() for s in g["Subnets"])
    assert general["NodeRole"] == x86["NodeRole"]


def test_auto_mode_runs_the_system_and_general_purpose_pools(eks: Synthesized) -> None:
    compute = cluster_props(eks, "keel-lab")["ComputeConfig"]
    assert compute["Enabled"] is True and compute["NodePools"] == ["system", "general-purpose"]
    assert compute["NodeRoleArn"]["Fn::GetAtt"][0].startswith("ClusterNodeRole")
    assert not resources(eks, "keel-lab", "AWS::EKS::Nodegroup")


def test_fargate_profile_selects_the_namespaces_in_private_subnets(eks: Synthesized) -> None:
    profile = only(eks, "keel-serverless", "AWS::EKS::FargateProfile")
    assert [s["Namespace"] for s in profile["Selectors"]] == ["default", "kube-system"]
    assert all("Private" in s["Ref"] for s in profile["Subnets"])


# -- hybrid nodes ------------------------------------------------------------------------------------
def test_remote_node_and_pod_networks_are_registered_with_the_cluster(eks: Synthesized) -> None:
    assert cluster_props(eks, "keel-edge")["RemoteNetworkConfig"] == {
        "RemoteNodeNetworks": [{"Cidrs": ["192.168.100.0/23"]}], "RemotePodNetworks": [{"Cidrs": ["192.168.64.0/19"]}]}
    assert "RemoteNetworkConfig" not in cluster_props(eks, "keel-serverless")


def hybrid_role(s: Synthesized, stack: str) -> tuple[str, dict[str, Any]]:
    return next((k, v["Properties"]) for k, v in resources(s, stack, "AWS::IAM::Role").items()
                if k.startswith("HybridNodesRole"))


def test_hybrid_role_is_assumed_by_ssm_of_this_account_only(eks: Synthesized) -> None:
    _, role = hybrid_role(eks, "keel-edge")
    assert role["AssumeRolePolicyDocument"]["Statement"] == [{
        "Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "ssm.amazonaws.com"},
        "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"},
                      "ArnEquals": {"aws:SourceArn": "arn:aws:ssm:eu-west-1:123456789012:*"}}}]


def test_hybrid_role_has_the_documented_permissions(eks: Synthesized) -> None:
    role_id, role = hybrid_role(eks, "keel-edge")
    managed = [a["Fn::Join"][1][-1] for a in role["ManagedPolicyArns"]]
    # The SSM agent's statements are Keel's own (no AmazonSSMManagedInstanceCore: it reads every parameter).
    assert managed == [":iam::aws:policy/AmazonEC2ContainerRegistryPullOnly"]
    policy = next(p["Properties"] for p in resources(eks, "keel-edge", "AWS::IAM::Policy").values()
                  if p["Properties"]["Roles"] == [{"Ref": role_id}])
    cluster_id = next(iter(resources(eks, "keel-edge", "AWS::EKS::Cluster")))
    found = {(s.get("Sid"), json.dumps(s["Resource"])) for s in policy["PolicyDocument"]["Statement"]}
    assert found == {
        ("DescribeTheCluster", json.dumps({"Fn::GetAtt": [cluster_id, "Arn"]})),
        ("SsmAgent", json.dumps("*")),
        ("SsmAgentEnvironmentParameters", json.dumps("arn:aws:ssm:eu-west-1:123456789012:parameter/keel/edge/*")),
        ("DeregisterItselfOnUninstall", json.dumps("arn:aws:ssm:eu-west-1:123456789012:managed-instance/*")),
        ("FindItsManagedInstance", json.dumps("*")),
    }
    [deregister] = [s for s in policy["PolicyDocument"]["Statement"] if s.get("Sid") == "DeregisterItselfOnUninstall"]
    assert deregister["Condition"] == {"StringEquals": {"aws:ResourceTag/keel:activation":
                                                        "keel-edge/HybridNodes/Activation"}}


def test_hybrid_role_has_a_hybrid_linux_access_entry(eks: Synthesized) -> None:
    role_id, _ = hybrid_role(eks, "keel-edge")
    eks.templates["keel-edge"].has_resource_properties("AWS::EKS::AccessEntry", {
        "PrincipalArn": {"Fn::GetAtt": [role_id, "Arn"]}, "Type": "HYBRID_LINUX", "AccessPolicies": []})


def test_control_plane_security_group_opens_443_in_and_10250_out_for_remote_networks(eks: Synthesized) -> None:
    sg = next(r["Properties"] for k, r in resources(eks, "keel-edge", "AWS::EC2::SecurityGroup").items()
              if k.startswith("ClusterControlPlaneSecurityGroup"))
    ingress = {(r["CidrIp"], r["FromPort"], r["ToPort"]) for r in sg["SecurityGroupIngress"]}
    egress = {(r["CidrIp"], r["FromPort"], r["ToPort"]) for r in sg["SecurityGroupEgress"]}
    assert ingress == {("192.168.100.0/23", 443, 443), ("192.168.64.0/19", 443, 443)}
    assert egress == {("192.168.100.0/23", 10250, 10250), ("192.168.64.0/19", 443, 443)}


def test_without_hybrid_nodes_the_control_plane_group_allows_nothing(eks: Synthesized) -> None:
    sg = next(r["Properties"] for k, r in resources(eks, "keel-serverless", "AWS::EC2::SecurityGroup").items()
              if k.startswith("ClusterControlPlaneSecurityGroup"))
    assert "SecurityGroupIngress" not in sg
    assert [r["CidrIp"] for r in sg["SecurityGroupEgress"]] == ["255.255.255.255/32"]


def test_ssm_credentials_come_from_a_hybrid_activation(eks: Synthesized) -> None:
    role_id, _ = hybrid_role(eks, "keel-edge")
    activation = only(eks, "keel-edge", "Custom::KeelHybridActivation")
    assert activation["RoleName"] == {"Ref": role_id}
    assert (activation["RegistrationLimit"], activation["ExpiryDays"]) == (10, 30)


def test_roles_anywhere_credentials_trust_only_the_trust_anchor(eks: Synthesized) -> None:
    anchor_id = next(iter(resources(eks, "keel-lab", "AWS::RolesAnywhere::TrustAnchor")))
    anchor = only(eks, "keel-lab", "AWS::RolesAnywhere::TrustAnchor")
    assert anchor["Source"]["SourceType"] == "CERTIFICATE_BUNDLE" and anchor["Enabled"] is True
    role_id, role = hybrid_role(eks, "keel-lab")
    condition = {"ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": [anchor_id, "TrustAnchorArn"]}}}
    statements = role["AssumeRolePolicyDocument"]["Statement"]
    assert {tuple(sorted([s["Action"]] if isinstance(s["Action"], str) else s["Action"])) for s in statements} == \
        {("sts:AssumeRole",), ("sts:SetSourceIdentity", "sts:TagSession")}
    assert all(s["Principal"] == {"Service": "rolesanywhere.amazonaws.com"} and s["Condition"] == condition
               for s in statements)
    profile = only(eks, "keel-lab", "AWS::RolesAnywhere::Profile")
    assert profile["RoleArns"] == [{"Fn::GetAtt": [role_id, "Arn"]}]
    assert not resources(eks, "keel-lab", "Custom::KeelHybridActivation")


def test_nodeadm_node_config_is_written_to_the_assembly(eks: Synthesized) -> None:
    text = (eks.outdir / "keel-edge.eks-hybrid-nodeconfig.yaml").read_text()
    assert text == ("apiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\nspec:\n  cluster:\n    name: keel-edge\n"
                    "    region: eu-west-1\n  hybrid:\n    ssm:\n      activationCode: ${ACTIVATION_CODE}\n"
                    "      activationId: ${ACTIVATION_ID}\n")


def test_node_config_with_deployed_arns_is_published_for_servers(eks: Synthesized) -> None:
    params = [p["Properties"] for p in resources(eks, "keel-lab", "AWS::SSM::Parameter").values()
              if p["Properties"].get("Name") == "/keel/lab/eks/hybrid/nodeconfig"]
    value = json.dumps(params[0]["Value"])
    assert "iamRolesAnywhere" in value and "TrustAnchorArn" in value and "ProfileArn" in value


# -- EKS Anywhere ------------------------------------------------------------------------------------
@pytest.mark.parametrize(("stack", "files"), [
    ("keel-edge", ["cluster", "metallb", "rbac"]),
    ("keel-lab", ["cluster"]),
    ("keel-serverless", ["cluster", "metallb"]),
])
def test_eks_anywhere_artifacts_are_in_the_cloud_assembly(eks: Synthesized, stack: str, files: list[str]) -> None:
    found = sorted(p.name for p in eks.outdir.glob(f"{stack}.eks-anywhere-*.yaml"))
    assert found == [f"{stack}.eks-anywhere-{f}.yaml" for f in files]


@pytest.mark.parametrize("stack", ["keel-edge", "keel-lab", "keel-serverless"])
def test_eks_anywhere_artifacts_in_the_assembly_validate_against_the_crds(
        eks: Synthesized, crds: dict[tuple[str, str], Crd], stack: str) -> None:
    from ruamel.yaml import YAML

    text = (eks.outdir / f"{stack}.eks-anywhere-cluster.yaml").read_text()
    docs = list(YAML(typ="safe", pure=True).load_all(text))
    assert docs and all_problems(docs, crds) == []


def test_synth_records_the_crd_check_next_to_the_documents(eks: Synthesized) -> None:
    record = json.loads((eks.outdir / "keel-edge.eks-anywhere-crd-check.json").read_text())
    assert record == {"crds": str(CRD_FIXTURES), "documents": {
        "keel-edge.eks-anywhere-cluster.yaml": 8,  # Cluster, datacenter, 3 machines, AWSIamConfig, OIDC, Flux
        "keel-edge.eks-anywhere-metallb.yaml": 0, "keel-edge.eks-anywhere-rbac.yaml": 0}}  # not EKS Anywhere kinds


def test_report_says_the_documents_were_checked_against_which_crds(eks: Synthesized) -> None:
    from keel.report import eks_anywhere_line

    assert eks_anywhere_line(eks.outdir) == \
        f"EKS Anywhere documents: 16 in 6 file(s) checked against the CRDs in {CRD_FIXTURES}"


def test_connector_registration_runs_on_create_and_delete(eks: Synthesized) -> None:
    registration = only(eks, "keel-edge", "Custom::KeelEksConnector")
    assert (registration["ClusterName"], registration["Provider"]) == ("edge-anywhere", "EKS_ANYWHERE")
    eks.templates["keel-edge"].has_resource_properties("AWS::IAM::Policy", {"PolicyDocument": {
        "Statement": Match.array_with([Match.object_like({
            "Action": ["eks:DeregisterCluster", "eks:DescribeCluster", "eks:RegisterCluster", "eks:TagResource"],
            "Resource": "arn:aws:eks:eu-west-1:123456789012:cluster/edge-anywhere"})])}})
    assert not resources(eks, "keel-lab", "Custom::KeelEksConnector")


def test_connector_agent_role_is_the_documented_one(eks: Synthesized) -> None:
    agent_id, agent = next((k, v["Properties"]) for k, v in resources(eks, "keel-edge", "AWS::IAM::Role").items()
                           if k.startswith("AnywhereConnectorAgentRole"))
    assert agent["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "ssm.amazonaws.com"}
    policy = next(p["Properties"] for p in resources(eks, "keel-edge", "AWS::IAM::Policy").values()
                  if p["Properties"]["Roles"] == [{"Ref": agent_id}])
    actions = sorted(a for s in policy["PolicyDocument"]["Statement"]
                     for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"]))
    assert actions == ["ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel",
                       "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel"]


def test_connector_provider_deregisters_only_managed_instances_of_its_account_and_region(eks: Synthesized) -> None:
    provider_role = next(k for k in resources(eks, "keel-edge", "AWS::IAM::Role")
                         if k.startswith("AnywhereConnectorProviderServiceRole"))
    statements = [s for p in resources(eks, "keel-edge", "AWS::IAM::Policy").values()
                  if p["Properties"]["Roles"] == [{"Ref": provider_role}]
                  for s in p["Properties"]["PolicyDocument"]["Statement"]]
    [deregister] = [s for s in statements if "ssm:DeregisterManagedInstance" in json.dumps(s["Action"])]
    assert deregister["Action"] == "ssm:DeregisterManagedInstance"
    assert deregister["Resource"] == "arn:aws:ssm:eu-west-1:123456789012:managed-instance/*"


def test_connector_agent_role_trusts_ssm_of_this_account_and_region_only(eks: Synthesized) -> None:
    agent = next(v["Properties"] for k, v in resources(eks, "keel-edge", "AWS::IAM::Role").items()
                 if k.startswith("AnywhereConnectorAgentRole"))
    [trust] = agent["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Condition"] == {
        "StringEquals": {"aws:SourceAccount": "123456789012"},
        "ArnLike": {"aws:SourceArn": "arn:aws:ssm:eu-west-1:123456789012:*"}}


def test_operator_steps_with_the_three_day_deadline_are_an_output(eks: Synthesized) -> None:
    outputs = eks.json("keel-edge")["Outputs"]
    steps = next(o for k, o in outputs.items() if k.startswith("DiscoveryEksAnywhereOperatorSteps"))
    text = json.dumps(steps["Value"])
    assert "Within 3 days" in text and "eks-connector.yaml" in text and "get-secret-value" in text


# -- secrets -----------------------------------------------------------------------------------------
def test_activations_live_only_in_cmk_encrypted_secrets(eks: Synthesized) -> None:
    for stack in eks.templates:
        for secret in resources(eks, stack, "AWS::SecretsManager::Secret").values():
            props = secret["Properties"]
            assert "SecretString" not in props  # a random placeholder until the provider writes it
            assert "KmsKeyId" in props


def test_no_activation_code_is_in_any_template_output_or_artifact(eks: Synthesized) -> None:
    for path in eks.outdir.rglob("*"):
        if path.is_file() and path.suffix in (".json", ".yaml"):
            text = path.read_text()
            assert '"ActivationCode"' not in text, path
            assert set(re.findall(r"activationCode:\s*(\S+?)(?:\\n|\s|$)", text)) <= {"${ACTIVATION_CODE}"}, path


# -- what services get -------------------------------------------------------------------------------
def test_environment_outputs_carry_the_cluster_objects(eks: Synthesized) -> None:
    from keel.contract.outputs import EksEnvOutputs

    outputs = eks.built.environments["edge"].outputs
    assert isinstance(outputs, EksEnvOutputs)
    assert outputs.cluster is not None and outputs.oidc_provider is not None
    assert outputs.node_role is not None and outputs.security_group is not None


def test_cluster_discovery_is_published_under_the_environment(eks: Synthesized) -> None:
    names = {p["Properties"]["Name"] for p in resources(eks, "keel-edge", "AWS::SSM::Parameter").values()
             if "Name" in p["Properties"]}
    assert {"/keel/edge/eks/cluster-name", "/keel/edge/eks/endpoint", "/keel/edge/eks/oidc-issuer",
            "/keel/edge/eks/oidc-provider-arn", "/keel/edge/eks/security-group-id", "/keel/edge/eks/node-role-arn",
            "/keel/edge/eks/hybrid/node-role-arn", "/keel/edge/eks/hybrid/activation-secret-arn",
            "/keel/edge/eks-anywhere/connector-secret-arn", "/keel/edge/eks-anywhere/operator-steps"} <= names


def test_oidc_provider_trusts_the_cluster_issuer(eks: Synthesized) -> None:
    cluster_id = next(iter(resources(eks, "keel-edge", "AWS::EKS::Cluster")))
    assert only(eks, "keel-edge", "AWS::IAM::OIDCProvider")["Url"] == \
        {"Fn::GetAtt": [cluster_id, "OpenIdConnectIssuerUrl"]}


# -- whole-template checks ---------------------------------------------------------------------------
def test_keel_functions_package_the_shared_module_as_a_file(eks: Synthesized) -> None:
    assets = [p for p in eks.outdir.glob("asset.*") if (p / "handler.py").exists()]
    assert assets
    for asset in assets:
        shared = asset / "cfn_response.py"
        assert shared.is_file() and not shared.is_symlink()
        assert not list(asset.rglob("__pycache__"))


def test_production_environment_retains_its_stateful_resources(eks: Synthesized) -> None:
    for type_ in ("AWS::Logs::LogGroup", "AWS::KMS::Key", "AWS::SecretsManager::Secret"):
        for logical_id, resource in resources(eks, "keel-lab", type_).items():
            assert resource.get("DeletionPolicy") == "Retain", logical_id


@pytest.mark.heavy  # reads cdk-nag's report: nag runs on test platforms in make conformance
def test_nag_finds_nothing_unacknowledged(eks: Synthesized) -> None:
    assert open_findings(eks.outdir) == []


@pytest.mark.heavy  # cfn-lint of a test platform: make conformance (the default platform's: make test)
def test_cfn_lint_finds_nothing(eks: Synthesized) -> None:
    result = cfn_lint(eks.outdir)
    assert result.returncode == 0, result.stdout + result.stderr


def test_templates_match_snapshots(eks: Synthesized, snapshot) -> None:  # type: ignore[no-untyped-def]
    for stack in sorted(eks.templates):
        assert mask_hashes(eks.json(stack)) == snapshot(name=stack)


def test_every_template_is_a_template(eks: Synthesized) -> None:
    assert all(isinstance(t, Template) for t in eks.templates.values())


def test_cluster_is_deletion_protected_in_production_only(eks: Synthesized) -> None:
    assert cluster_props(eks, "keel-lab")["DeletionProtection"] is True  # lab: production
    assert "DeletionProtection" not in cluster_props(eks, "keel-edge")
