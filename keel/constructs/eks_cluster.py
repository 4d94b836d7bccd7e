"""An EKS control plane (aws_eks_v2: native AWS::EKS::Cluster, no kubectl layer) and its cloud capacity.

Access is by EKS access entries (authentication mode API, or API_AND_CONFIG_MAP while migrating from
aws-auth); Kubernetes secrets are envelope-encrypted with the environment key; control-plane logs go to a
log group Keel owns (retention, CMK) instead of the one EKS would create unencrypted and kept forever.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import cast

from aws_cdk import Acknowledgment, CfnElement, RemovalPolicy, Stack, Validations
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct, IConstruct

from keel.constructs.common import own_inline_policy


class Capacity(enum.Enum):
    """The cluster's one kind of cloud capacity (hybrid nodes come on top of any)."""

    NODE_GROUPS = "node_groups"
    FARGATE = "fargate"
    AUTO_MODE = "auto_mode"


class AuthenticationMode(enum.Enum):
    """How the cluster authenticates IAM principals: access entries only, or with aws-auth while migrating."""

    API = "API"
    API_AND_CONFIG_MAP = "API_AND_CONFIG_MAP"


@dataclass(frozen=True, kw_only=True)
class EksClusterProps:
    cluster_name: str
    kubernetes_version: eks.KubernetesVersion
    #: PRIVATE, or PUBLIC/PUBLIC_AND_PRIVATE narrowed with `only_from(cidrs)`.
    endpoint_access: eks.EndpointAccess
    authentication_mode: AuthenticationMode = AuthenticationMode.API
    log_types: Sequence[eks.ClusterLoggingTypes] = ()
    log_retention: logs.RetentionDays
    service_ipv4_cidr: str | None = None
    #: EKS Hybrid Nodes: the remote networks the nodes and their pods live in.
    remote_node_networks: Sequence[str] = ()
    remote_pod_networks: Sequence[str] = ()
    capacity: Capacity
    #: The deploying identity becomes cluster admin (when no access entry is a cluster admin).
    bootstrap_creator_admin: bool = False
    removal_policy: RemovalPolicy
    #: EKS refuses DeleteCluster while it is on (production-like environments).
    deletion_protection: bool = False
    # workloads (issue 21)
    #: False: the VPC CNI has its own Pod Identity role (EksAddons), so the node role goes without its policy.
    cni_on_node_role: bool = True
    #: A kubectl layer: the cluster gets the kubectl provider (KubernetesManifest), in the private subnets.
    kubectl_layer: lambda_.ILayerVersion | None = None


@dataclass(frozen=True, kw_only=True)
class NodeGroupProps:
    name: str
    instance_types: Sequence[ec2.InstanceType]
    ami_type: eks.NodegroupAmiType
    capacity_type: eks.CapacityType
    min_size: int
    desired_size: int
    max_size: int
    disk_size: int


@dataclass(frozen=True, kw_only=True)
class AccessEntryProps:
    principal_arn: str
    policies: Sequence[eks.IAccessPolicy]
    kubernetes_groups: Sequence[str] = field(default_factory=tuple)
    username: str | None = None


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


def acknowledge_kubectl_provider(provider: IConstruct) -> None:
    """The kubectl provider is aws_eks_v2's (its handler applies KubernetesManifest resources): its
    findings, each with why it is fine for this deploy-time provider Keel does not write. The finding ids
    name the handler's and its condition's logical ids, so they follow wherever the provider sits."""
    handler = provider.node.find_child("Handler")
    stack = Stack.of(provider)
    handler_id = stack.get_logical_id(cast(CfnElement, handler.node.default_child))
    condition_id = stack.get_logical_id(cast(CfnElement, handler.node.find_child("HasEcrPublic")))
    managed_ = "arn:<AWS::Partition>:iam::aws:policy"
    ecr_public = ('{"Fn::If":["' + condition_id + '",{"Fn::Join":["",["arn:",'
                  '{"Ref":"AWS::Partition"},":iam::aws:policy/AmazonElasticContainerRegistryPublicReadOnly"]]},'
                  '{"Ref":"AWS::NoValue"}]}')
    fixed = ("aws_eks_v2's kubectl provider picks it (aws-cdk-lib 2.275); Keel keeps CDK's handler rather than "
             "a fork of it")
    synchronous = ("CloudFormation calls the provider framework, which calls the handler synchronously: a failure "
                   "fails (and rolls back) the stack operation, so there is no event to redrive")
    Validations.of(provider).acknowledge(
        Acknowledgment(id=f"AwsSolutions::AwsSolutions-IAM4[Policy::{managed_}/service-role/"
                          "AWSLambdaBasicExecutionRole]",
                       reason="The kubectl provider's functions write their own logs; AWS-maintained."),
        Acknowledgment(id=f"AwsSolutions::AwsSolutions-IAM4[Policy::{managed_}/service-role/"
                          "AWSLambdaVPCAccessExecutionRole]",
                       reason="The kubectl provider runs in the private subnets to reach the cluster's private "
                              "endpoint: ENI management only; AWS-maintained."),
        Acknowledgment(id=f"AwsSolutions::AwsSolutions-IAM4[Policy::{managed_}/AmazonEC2ContainerRegistryReadOnly]",
                       reason="The kubectl handler pulls Helm charts from ECR (aws_eks_v2 grants it); read only."),
        Acknowledgment(id=f"AwsSolutions::AwsSolutions-IAM4[Policy::{ecr_public}]",
                       reason="Only when a chart comes from ECR Public (aws_eks_v2's condition); read only."),
        Acknowledgment(id=f"AwsSolutions::AwsSolutions-IAM5[Resource::<{handler_id}.Arn>:*]",
                       reason="The provider framework invokes the versions of its own kubectl handler only."),
        Acknowledgment(id="AwsSolutions::AwsSolutions-L1", reason=f"The handler's runtime: {fixed}."),
        Acknowledgment(id="Serverless::Serverless-LambdaLatestVersion", reason=f"The handler's runtime: {fixed}."),
        Acknowledgment(id="Serverless::Serverless-LambdaDLQ", reason=synchronous),
        Acknowledgment(id="Serverless::Serverless-LambdaTracing",
                       reason="Deploy-time functions of CDK's provider; their calls are in their logs and in "
                              "CloudTrail (EKS, STS), and traces would add nothing to a kubectl apply."),
        Acknowledgment(id="Serverless::Serverless-LambdaDefaultMemorySize",
                       reason="The provider framework's function only relays CloudFormation's event to the handler "
                              "(which has 1024 MB)."),
        Acknowledgment(id="NIST.800.53.R5::NIST.800.53.R5-LambdaDLQ", reason=synchronous),
        Acknowledgment(id="NIST.800.53.R5::NIST.800.53.R5-LambdaConcurrency",
                       reason="Runs only during stack operations that change Kubernetes manifests; a reserved "
                              "concurrency would take account capacity for a few invocations a month."),
        Acknowledgment(id="NIST.800.53.R5::NIST.800.53.R5-IAMNoInlinePolicy",
                       reason="CDK writes the kubectl provider's own grants (eks:DescribeCluster on this cluster, "
                              "invoking its handler) into its roles' inline policies, versioned with the stack."),
        Acknowledgment(id="NIST.800.53.R5::NIST.800.53.R5-CloudWatchLogGroupEncrypted",
                       reason="aws_eks_v2's provider creates these log groups without a key option; they hold "
                              "kubectl output of manifests that never carry secret values (kubernetes-svc passes "
                              "secret names, not values)."))


class EksCluster(Construct):
    """The cluster, its control-plane security group and log group, and one kind of cloud capacity."""

    def __init__(self, scope: Construct, id_: str, *, vpc: ec2.IVpc, key: kms.IKey, props: EksClusterProps) -> None:
        super().__init__(scope, id_)
        stack = Stack.of(self)
        cluster_name = props.cluster_name
        # EKS writes to /aws/eks/<name>/cluster; owning it gives retention and encryption.
        self.log_group = logs.LogGroup(
            self, "ControlPlaneLogs", log_group_name=f"/aws/eks/{cluster_name}/cluster", retention=props.log_retention,
            encryption_key=key, removal_policy=props.removal_policy)
        # Attached to the control-plane ENIs next to the security group EKS manages; it carries only the
        # hybrid-node rules (added by HybridNodes), so nothing here is open by default. Rules of the two
        # groups add up: the ingress rules here are what let remote networks in; the egress rules document
        # what the control plane needs (EKS's own group already allows all egress).
        self.security_group = ec2.SecurityGroup(
            self, "ControlPlaneSecurityGroup", vpc=vpc, allow_all_outbound=False,
            description=f"EKS {cluster_name} control plane: traffic to and from remote (hybrid) networks")
        self.node_role = self._node_role(props.capacity, cluster_name, cni=props.cni_on_node_role)
        self.cluster = self._control_plane(vpc, key, props)
        self.cluster.node.add_dependency(self.log_group)
        self._harden(key, props)
        self.oidc_provider = self.cluster.open_id_connect_provider
        self.stack_region = stack.region
        if props.kubectl_layer is not None:
            acknowledge_kubectl_provider(self.cluster.node.find_child("KubectlProvider"))

    @property
    def icluster(self) -> eks.ICluster:
        return as_icluster(self.cluster)

    def _control_plane(self, vpc: ec2.IVpc, key: kms.IKey, props: EksClusterProps) -> eks.Cluster:
        auto_mode = props.capacity == Capacity.AUTO_MODE
        remote_node_networks, remote_pod_networks = props.remote_node_networks, props.remote_pod_networks
        return eks.Cluster(
            self, "Resource",
            cluster_name=props.cluster_name,
            version=props.kubernetes_version,
            vpc=vpc,
            vpc_subnets=[_PRIVATE],
            security_group=self.security_group,
            secrets_encryption_key=key,
            cluster_logging=list(props.log_types),
            endpoint_access=props.endpoint_access,
            service_ipv4_cidr=props.service_ipv4_cidr,
            remote_node_networks=[eks.RemoteNodeNetwork(cidrs=list(remote_node_networks))]
            if remote_node_networks else None,
            remote_pod_networks=[eks.RemotePodNetwork(cidrs=list(remote_pod_networks))]
            if remote_pod_networks else None,
            bootstrap_cluster_creator_admin_permissions=props.bootstrap_creator_admin,
            default_capacity_type=eks.DefaultCapacityType.AUTOMODE if auto_mode else eks.DefaultCapacityType.NODEGROUP,
            default_capacity=None if auto_mode else 0,
            compute=eks.ComputeConfig(node_pools=["system", "general-purpose"], node_role=self.node_role)
            if auto_mode else None,
            kubectl_provider_options=eks.KubectlProviderOptions(
                kubectl_layer=props.kubectl_layer, private_subnets=vpc.select_subnets(
                    subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS).subnets) if props.kubectl_layer else None,
            removal_policy=props.removal_policy,
        )

    def _harden(self, key: kms.IKey, props: EksClusterProps) -> None:
        """Envelope encryption, the authentication mode and deletion protection on the L1 cluster, and the
        cluster role's findings."""
        cfn = self.cluster.node.default_child
        assert isinstance(cfn, eks.CfnCluster)
        # Envelope encryption: EKS uses the key as the cluster role (aws_eks_v2 leaves this to the deployer).
        key.grant(self.cluster.role, "kms:Encrypt", "kms:Decrypt", "kms:DescribeKey",
                  "kms:ListGrants").apply_before(cfn)
        if props.authentication_mode != AuthenticationMode.API:
            cfn.add_property_override("AccessConfig.AuthenticationMode", props.authentication_mode.value)
        if props.deletion_protection:
            # EKS refuses DeleteCluster until it is turned off (aws_eks_v2 has no prop for it yet).
            cfn.deletion_protection = True
        own_inline_policy(self.cluster.role, "The EKS cluster role (envelope encryption with the environment key)")
        acknowledge_managed_policies(
            self.cluster.role,
            ["AmazonEKSClusterPolicy", *(["AmazonEKSComputePolicy", "AmazonEKSBlockStoragePolicy",
                                          "AmazonEKSLoadBalancingPolicy", "AmazonEKSNetworkingPolicy"]
                                         if props.capacity == Capacity.AUTO_MODE else [])],
            "The EKS cluster service role's AWS-maintained policies: EKS documents them as the role's "
            "required permissions and AWS updates them with the service.")

    def _node_role(self, capacity: Capacity, cluster_name: str, *, cni: bool = True) -> iam.Role:
        if capacity == Capacity.FARGATE:
            principal: iam.IPrincipal = iam.ServicePrincipal("eks-fargate-pods.amazonaws.com")
            policies = ["AmazonEKSFargatePodExecutionRolePolicy"]
        elif capacity == Capacity.AUTO_MODE:
            principal = iam.ServicePrincipal("ec2.amazonaws.com")
            policies = ["AmazonEKSWorkerNodeMinimalPolicy", "AmazonEC2ContainerRegistryPullOnly"]
        else:
            principal = iam.ServicePrincipal("ec2.amazonaws.com")
            policies = ["AmazonEKSWorkerNodePolicy", *(["AmazonEKS_CNI_Policy"] if cni else []),
                        "AmazonEC2ContainerRegistryPullOnly"]
        role = iam.Role(self, "NodeRole", assumed_by=principal, managed_policies=[managed(p) for p in policies],
                        description=f"EKS {cluster_name} {capacity.value.replace('_', ' ')} nodes")
        if capacity == Capacity.AUTO_MODE:
            role.assume_role_policy.add_statements(iam.PolicyStatement(  # type: ignore[union-attr]
                actions=["sts:TagSession"], principals=[iam.ServicePrincipal("ec2.amazonaws.com")]))
        acknowledge_managed_policies(
            role, policies, "The node (or pod execution) role's AWS-maintained policies, as EKS documents them "
            "for this capacity type; they track what the kubelet, VPC CNI and image pulls need.")
        return role

    def add_node_groups(self, groups: Sequence[NodeGroupProps]) -> list[eks.Nodegroup]:
        return [self.cluster.add_nodegroup_capacity(
            "".join(p.capitalize() for p in g.name.split("-")),
            instance_types=list(g.instance_types), ami_type=g.ami_type, capacity_type=g.capacity_type,
            min_size=g.min_size, desired_size=g.desired_size, max_size=g.max_size, disk_size=g.disk_size,
            node_role=self.node_role, subnets=_PRIVATE, labels={"keel/node-group": g.name},
        ) for g in groups]

    def add_fargate(self, namespaces: Sequence[str]) -> eks.FargateProfile:
        return self.cluster.add_fargate_profile(
            "Fargate", selectors=[eks.Selector(namespace=ns) for ns in namespaces],
            pod_execution_role=self.node_role, subnet_selection=_PRIVATE, vpc=self.cluster.vpc)

    def add_access_entries(self, entries: Sequence[AccessEntryProps]) -> list[eks.AccessEntry]:
        return add_access_entries(self, self.icluster, entries)


def add_access_entries(scope: Construct, cluster: eks.ICluster,
                       entries: Sequence[AccessEntryProps]) -> list[eks.AccessEntry]:
    """Access entries: EKS access policies (cluster- or namespace-scoped), plus Kubernetes groups and a
    user name where given. Their IDs come from the principals (`access_entry_id`)."""
    out = []
    for entry in entries:
        resource = eks.AccessEntry(scope, access_entry_id(entry.principal_arn), cluster=cluster,
                                   principal=entry.principal_arn, access_policies=list(entry.policies),
                                   access_entry_type=eks.AccessEntryType.STANDARD)
        cfn = resource.node.default_child
        assert isinstance(cfn, eks.CfnAccessEntry)
        if entry.kubernetes_groups:
            cfn.kubernetes_groups = list(entry.kubernetes_groups)
        if entry.username:
            cfn.username = entry.username
        out.append(resource)
    return out
