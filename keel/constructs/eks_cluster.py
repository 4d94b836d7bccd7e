"""An EKS control plane (aws_eks_v2: native AWS::EKS::Cluster, no kubectl layer) and its cloud capacity.

Access is by EKS access entries (authentication mode API, or API_AND_CONFIG_MAP while migrating from
aws-auth); Kubernetes secrets are envelope-encrypted with the environment key; control-plane logs go to a
log group Keel owns (retention, CMK) instead of the one EKS would create unencrypted and kept forever.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import cast

from aws_cdk import Acknowledgment, RemovalPolicy, Stack, Validations
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from keel.constructs.common import own_inline_policy
from keel.templates.eks_env.inputs import AccessEntry, NodeGroup

ENDPOINT_ACCESS = {
    "private": eks.EndpointAccess.PRIVATE,
    "public": eks.EndpointAccess.PUBLIC,
    "public_and_private": eks.EndpointAccess.PUBLIC_AND_PRIVATE,
}
LOG_TYPES = {
    "api": eks.ClusterLoggingTypes.API, "audit": eks.ClusterLoggingTypes.AUDIT,
    "authenticator": eks.ClusterLoggingTypes.AUTHENTICATOR,
    "controllerManager": eks.ClusterLoggingTypes.CONTROLLER_MANAGER,
    "scheduler": eks.ClusterLoggingTypes.SCHEDULER,
}
_PRIVATE = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)


def as_icluster(cluster: eks.Cluster) -> eks.ICluster:
    """jsii's Python stubs leave `kubectl_provider_options` off Cluster, so mypy cannot see that a Cluster
    is an ICluster; it is (aws-cdk-lib 2.275)."""
    return cast(eks.ICluster, cluster)


def managed(name: str) -> iam.IManagedPolicy:
    return iam.ManagedPolicy.from_aws_managed_policy_name(name)


def acknowledge_managed_policies(role: iam.IRole, policies: Sequence[str], reason: str) -> None:
    """One IAM4 acknowledgement per AWS managed policy, each with the same specific reason."""
    Validations.of(role).acknowledge(*[Acknowledgment(
        id=f"AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/{p}]", reason=reason)
        for p in policies])


def access_entry_id(principal_arn: str) -> str:
    """`arn:aws:iam::111122223333:role/Ops/Admin` -> `Access111122223333RoleOpsAdmin`: derived from the
    principal, so reordering the spec never replaces (and briefly removes) anyone's access."""
    account, rest = principal_arn.split(":", 5)[4:]
    parts = re.split(r"[^A-Za-z0-9]+", rest)
    return "Access" + account + "".join(p[:1].upper() + p[1:] for p in parts if p)


class EksCluster(Construct):
    """The cluster, its control-plane security group and log group, and one kind of cloud capacity."""

    def __init__(self, scope: Construct, id_: str, *, vpc: ec2.IVpc, key: kms.IKey, cluster_name: str,
                 kubernetes_version: str, authentication_mode: str, endpoint_access: str,
                 public_access_cidrs: Sequence[str], log_types: Sequence[str],
                 log_retention: logs.RetentionDays, service_ipv4_cidr: str,
                 remote_node_networks: Sequence[str], remote_pod_networks: Sequence[str],
                 capacity: str, bootstrap_creator_admin: bool, removal_policy: RemovalPolicy,
                 deletion_protection: bool = False) -> None:
        super().__init__(scope, id_)
        stack = Stack.of(self)
        # EKS writes to /aws/eks/<name>/cluster; owning it gives retention and encryption.
        self.log_group = logs.LogGroup(
            self, "ControlPlaneLogs", log_group_name=f"/aws/eks/{cluster_name}/cluster", retention=log_retention,
            encryption_key=key, removal_policy=removal_policy)
        # Attached to the control-plane ENIs next to the security group EKS manages; it carries only the
        # hybrid-node rules (added by HybridNodes), so nothing here is open by default. Rules of the two
        # groups add up: the ingress rules here are what let remote networks in; the egress rules document
        # what the control plane needs (EKS's own group already allows all egress).
        self.security_group = ec2.SecurityGroup(
            self, "ControlPlaneSecurityGroup", vpc=vpc, allow_all_outbound=False,
            description=f"EKS {cluster_name} control plane: traffic to and from remote (hybrid) networks")
        self.node_role = self._node_role(capacity, cluster_name)
        endpoint = ENDPOINT_ACCESS[endpoint_access]
        if endpoint_access != "private":
            endpoint = endpoint.only_from(*public_access_cidrs)
        auto_mode = capacity == "auto_mode"
        self.cluster = eks.Cluster(
            self, "Resource",
            cluster_name=cluster_name,
            version=eks.KubernetesVersion.of(kubernetes_version),
            vpc=vpc,
            vpc_subnets=[_PRIVATE],
            security_group=self.security_group,
            secrets_encryption_key=key,
            cluster_logging=[LOG_TYPES[t] for t in log_types],
            endpoint_access=endpoint,
            service_ipv4_cidr=service_ipv4_cidr,
            remote_node_networks=[eks.RemoteNodeNetwork(cidrs=list(remote_node_networks))]
            if remote_node_networks else None,
            remote_pod_networks=[eks.RemotePodNetwork(cidrs=list(remote_pod_networks))]
            if remote_pod_networks else None,
            bootstrap_cluster_creator_admin_permissions=bootstrap_creator_admin,
            default_capacity_type=eks.DefaultCapacityType.AUTOMODE if auto_mode else eks.DefaultCapacityType.NODEGROUP,
            default_capacity=None if auto_mode else 0,
            compute=eks.ComputeConfig(node_pools=["system", "general-purpose"], node_role=self.node_role)
            if auto_mode else None,
            removal_policy=removal_policy,
        )
        self.cluster.node.add_dependency(self.log_group)
        cfn = self.cluster.node.default_child
        assert isinstance(cfn, eks.CfnCluster)
        # Envelope encryption: EKS uses the key as the cluster role (aws_eks_v2 leaves this to the deployer).
        key.grant(self.cluster.role, "kms:Encrypt", "kms:Decrypt", "kms:DescribeKey",
                  "kms:ListGrants").apply_before(cfn)
        if authentication_mode != "API":
            cfn.add_property_override("AccessConfig.AuthenticationMode", authentication_mode)
        if deletion_protection:
            # EKS refuses DeleteCluster until it is turned off (aws_eks_v2 has no prop for it yet).
            cfn.deletion_protection = True
        own_inline_policy(self.cluster.role, "The EKS cluster role (envelope encryption with the environment key)")
        acknowledge_managed_policies(
            self.cluster.role,
            ["AmazonEKSClusterPolicy", *(["AmazonEKSComputePolicy", "AmazonEKSBlockStoragePolicy",
                                          "AmazonEKSLoadBalancingPolicy", "AmazonEKSNetworkingPolicy"]
                                         if auto_mode else [])],
            "The EKS cluster service role's AWS-maintained policies: EKS documents them as the role's "
            "required permissions and AWS updates them with the service.")
        self.oidc_provider = self.cluster.open_id_connect_provider
        self.stack_region = stack.region

    def _node_role(self, capacity: str, cluster_name: str) -> iam.Role:
        if capacity == "fargate":
            principal: iam.IPrincipal = iam.ServicePrincipal("eks-fargate-pods.amazonaws.com")
            policies = ["AmazonEKSFargatePodExecutionRolePolicy"]
        elif capacity == "auto_mode":
            principal = iam.ServicePrincipal("ec2.amazonaws.com")
            policies = ["AmazonEKSWorkerNodeMinimalPolicy", "AmazonEC2ContainerRegistryPullOnly"]
        else:
            principal = iam.ServicePrincipal("ec2.amazonaws.com")
            policies = ["AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryPullOnly"]
        role = iam.Role(self, "NodeRole", assumed_by=principal, managed_policies=[managed(p) for p in policies],
                        description=f"EKS {cluster_name} {capacity.replace('_', ' ')} nodes")
        if capacity == "auto_mode":
            role.assume_role_policy.add_statements(iam.PolicyStatement(  # type: ignore[union-attr]
                actions=["sts:TagSession"], principals=[iam.ServicePrincipal("ec2.amazonaws.com")]))
        acknowledge_managed_policies(
            role, policies, "The node (or pod execution) role's AWS-maintained policies, as EKS documents them "
            "for this capacity type; they track what the kubelet, VPC CNI and image pulls need.")
        return role

    def add_node_groups(self, groups: Sequence[NodeGroup]) -> list[eks.Nodegroup]:
        return [self.cluster.add_nodegroup_capacity(
            "".join(p.capitalize() for p in g.name.split("-")),
            instance_types=[ec2.InstanceType(t) for t in g.instance_types],
            ami_type=getattr(eks.NodegroupAmiType, g.ami_type),
            capacity_type=getattr(eks.CapacityType, g.capacity_type),
            min_size=g.min_size, desired_size=g.desired_size, max_size=g.max_size, disk_size=g.disk_size,
            node_role=self.node_role, subnets=_PRIVATE, labels={"keel/node-group": g.name},
        ) for g in groups]

    def add_fargate(self, namespaces: Sequence[str]) -> eks.FargateProfile:
        return self.cluster.add_fargate_profile(
            "Fargate", selectors=[eks.Selector(namespace=ns) for ns in namespaces],
            pod_execution_role=self.node_role, subnet_selection=_PRIVATE, vpc=self.cluster.vpc)

    def add_access_entries(self, entries: Sequence[AccessEntry]) -> list[eks.AccessEntry]:
        """The spec's access entries: EKS access policies (cluster- or namespace-scoped), plus Kubernetes
        groups and a user name where given."""
        out = []
        for entry in entries:
            policies = [eks.AccessPolicy.from_access_policy_name(
                p.policy_name,
                access_scope_type=eks.AccessScopeType.NAMESPACE if p.namespaces else eks.AccessScopeType.CLUSTER,
                namespaces=list(p.namespaces) or None) for p in entry.policies]
            resource = eks.AccessEntry(self, access_entry_id(entry.principal_arn), cluster=as_icluster(self.cluster),
                                       principal=entry.principal_arn, access_policies=policies,
                                       access_entry_type=eks.AccessEntryType.STANDARD)
            cfn = resource.node.default_child
            assert isinstance(cfn, eks.CfnAccessEntry)
            if entry.kubernetes_groups:
                cfn.kubernetes_groups = list(entry.kubernetes_groups)
            if entry.username:
                cfn.username = entry.username
            out.append(resource)
        return out
