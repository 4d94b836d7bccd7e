"""EKS Hybrid Nodes: on-premises servers joining the cloud control plane.

The hybrid node role (what nodeadm and the kubelet run as), its HYBRID_LINUX access entry, credentials by
SSM hybrid activation (the activation lives only in a secret) or IAM Roles Anywhere (trust anchor and
profile), and the control-plane security group rules for the remote networks: HTTPS in from nodes and
pods, kubelet (10250) out to the nodes, webhooks (443) out to the pods.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Acknowledgment, RemovalPolicy, Stack, Validations
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_rolesanywhere as rolesanywhere
from constructs import Construct

from keel.constructs.common import nag_arn_prefix
from keel.constructs.eks_cluster import acknowledge_managed_policies, managed
from keel.constructs.hybrid_activation import OWNER_TAG, HybridActivation
from keel.constructs.ssm_agent import WILDCARD_REASON, grant_ssm_agent

KUBELET_PORT = 10250


class HybridNodes(Construct):
    """Everything the cloud side needs before `nodeadm init` runs on an on-premises server."""

    def __init__(self, scope: Construct, id_: str, *, cluster: eks.ICluster, security_group: ec2.ISecurityGroup,
                 key: kms.IKey, remote_node_networks: Sequence[str], remote_pod_networks: Sequence[str],
                 credentials: str, tags: Mapping[str, str], removal_policy: RemovalPolicy, environment: str,
                 activation_registration_limit: int = 10, activation_expiry_days: int = 30,
                 activation_epoch: int = 1, ca_certificate: str | None = None) -> None:
        super().__init__(scope, id_)
        stack = Stack.of(self)
        self.trust_anchor: rolesanywhere.CfnTrustAnchor | None = None
        self.profile: rolesanywhere.CfnProfile | None = None
        self.activation: HybridActivation | None = None
        if credentials == "iam_roles_anywhere":
            if not ca_certificate:
                raise ValueError("IAM Roles Anywhere needs the CA certificate that signs node certificates")
            self.trust_anchor = rolesanywhere.CfnTrustAnchor(
                self, "TrustAnchor", name=f"{stack.stack_name}-hybrid-nodes", enabled=True,
                source=rolesanywhere.CfnTrustAnchor.SourceProperty(
                    source_type="CERTIFICATE_BUNDLE",
                    source_data=rolesanywhere.CfnTrustAnchor.SourceDataProperty(
                        x509_certificate_data=ca_certificate)))
        self.role = self._role(cluster)
        if self.trust_anchor is not None:
            self.profile = rolesanywhere.CfnProfile(
                self, "Profile", name=f"{stack.stack_name}-hybrid-nodes", enabled=True,
                role_arns=[self.role.role_arn], duration_seconds=3600)
        else:
            self.activation = HybridActivation(
                self, "Activation", role=self.role, key=key, instance_name_prefix=f"{cluster.cluster_name}-hybrid",
                registration_limit=activation_registration_limit, expiry_days=activation_expiry_days,
                epoch=activation_epoch, tags=tags, removal_policy=removal_policy,
                description=f"EKS Hybrid Nodes of {stack.stack_name}")
            self._grant_ssm_agent(self.activation, environment)
        self.access_entry = eks.AccessEntry(
            self, "AccessEntry", cluster=cluster, principal=self.role.role_arn, access_policies=[],
            access_entry_type=eks.AccessEntryType.HYBRID_LINUX)
        _open_to_remote_networks(security_group, remote_node_networks, remote_pod_networks)

    def _role(self, cluster: eks.ICluster) -> iam.Role:
        """The nodes' role, trusted by IAM Roles Anywhere (through the trust anchor) or by SSM (this account's
        hybrid activations)."""
        stack = Stack.of(self)
        # Either way the SSM agent gets its own scoped statements (grant_ssm_agent), not
        # AmazonSSMManagedInstanceCore: image pulls are the one managed policy.
        policies = ["AmazonEC2ContainerRegistryPullOnly"]
        if self.trust_anchor is not None:
            principal: iam.IPrincipal = iam.ServicePrincipal("rolesanywhere.amazonaws.com", conditions={
                "ArnEquals": {"aws:SourceArn": self.trust_anchor.attr_trust_anchor_arn}})
        else:
            principal = iam.ServicePrincipal("ssm.amazonaws.com", conditions={
                "StringEquals": {"aws:SourceAccount": stack.account},
                "ArnEquals": {"aws:SourceArn": f"arn:{stack.partition}:ssm:{stack.region}:{stack.account}:*"}})
        role = iam.Role(
            self, "Role", assumed_by=principal, managed_policies=[managed(p) for p in policies],
            description="EKS Hybrid Nodes: the identity of on-premises nodes (nodeadm, kubelet)")
        if self.trust_anchor is not None:
            role.assume_role_policy.add_statements(iam.PolicyStatement(  # type: ignore[union-attr]
                actions=["sts:TagSession", "sts:SetSourceIdentity"],
                principals=[iam.ServicePrincipal("rolesanywhere.amazonaws.com")],
                conditions={"ArnEquals": {"aws:SourceArn": self.trust_anchor.attr_trust_anchor_arn}}))
        role.add_to_policy(iam.PolicyStatement(
            sid="DescribeTheCluster", actions=["eks:DescribeCluster"], resources=[cluster.cluster_arn]))
        acknowledge_managed_policies(
            role, policies,
            "The policy EKS documents for hybrid node roles (image pulls); AWS-maintained, so it follows what "
            "the agents need.")
        return role

    def _grant_ssm_agent(self, activation: HybridActivation, environment: str) -> None:
        """What the SSM agent of an activated node does: register, and deregister itself on uninstall."""
        stack = Stack.of(self)
        grant_ssm_agent(self.role, environment=environment)
        # SSM copies the activation's tags to the servers it registers: a node may deregister only
        # managed instances of this activation (its own, on `nodeadm uninstall`).
        self.role.add_to_policy(iam.PolicyStatement(
            sid="DeregisterItselfOnUninstall", actions=["ssm:DeregisterManagedInstance"],
            resources=[f"arn:{stack.partition}:ssm:{stack.region}:{stack.account}:managed-instance/*"],
            conditions={"StringEquals": {f"aws:ResourceTag/{OWNER_TAG}": activation.owner}}))
        self.role.add_to_policy(iam.PolicyStatement(
            sid="FindItsManagedInstance", actions=["ssm:DescribeInstanceInformation"], resources=["*"]))
        Validations.of(self.role).acknowledge(Acknowledgment(
            id=f"AwsSolutions::AwsSolutions-IAM5[Resource::{nag_arn_prefix(self, 'ssm')}:managed-instance/*]",
            reason="nodeadm uninstall deregisters the node's own managed instance, whose mi- id exists only "
                   f"after registration; held to this activation's instances ({OWNER_TAG} resource tag) in "
                   "this account and region."))
        Validations.of(self.role).acknowledge(Acknowledgment(
            id="AwsSolutions::AwsSolutions-IAM5[Resource::*]",
            reason="ssm:DescribeInstanceInformation supports no resource-level permissions (AWS service "
                   f"authorization reference); nodeadm uses it to find the node's own instance. And "
                   f"{WILDCARD_REASON}."))


def _open_to_remote_networks(security_group: ec2.ISecurityGroup, remote_node_networks: Sequence[str],
                             remote_pod_networks: Sequence[str]) -> None:
    """The control plane's rules for the remote networks: HTTPS in from nodes and pods, kubelet out to the
    nodes, webhooks out to the pods."""
    for cidr in remote_node_networks:
        security_group.add_ingress_rule(ec2.Peer.ipv4(cidr), ec2.Port.tcp(443),
                                        f"Hybrid nodes {cidr} to the Kubernetes API")
        security_group.add_egress_rule(ec2.Peer.ipv4(cidr), ec2.Port.tcp(KUBELET_PORT),
                                       f"Control plane to kubelets on hybrid nodes {cidr}")
    for cidr in remote_pod_networks:
        security_group.add_ingress_rule(ec2.Peer.ipv4(cidr), ec2.Port.tcp(443),
                                        f"Pods on hybrid nodes {cidr} to the Kubernetes API")
        security_group.add_egress_rule(ec2.Peer.ipv4(cidr), ec2.Port.tcp(443),
                                       f"Control plane to webhooks on hybrid-node pods {cidr}")
