"""An EKS cluster a team already runs, imported by its attributes (aws_eks_v2 `from_cluster_attributes`: no
lookup, no credentials at synth), and what Keel needs to add workloads to it: a kubectl provider (its own,
or the owners') and the access entries it manages. Nothing here changes the cluster, its node groups or its
network: the cluster security group is imported immutable, and no security group, subnet or route is made.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from keel.constructs.eks_cluster import AccessEntryProps, acknowledge_kubectl_provider, add_access_entries

CLUSTER_ADMIN = "AmazonEKSClusterAdminPolicy"


class ImportedEksCluster(Construct):
    """The existing cluster as an `eks.ICluster` (`self.cluster`), with a kubectl provider when given a kubectl
    layer (Keel's own, in the private subnets and the cluster security group, with a cluster-admin access
    entry for its handler role, as aws_eks_v2 gives the clusters it creates) or the service token of the
    owners' provider (used as it is: Keel adds no access entry for it)."""

    def __init__(self, scope: Construct, id_: str, *, vpc: ec2.IVpc, cluster_name: str, security_group_id: str,
                 oidc_provider_arn: str | None = None, kubectl_layer: lambda_.ILayerVersion | None = None,
                 kubectl_service_token: str | None = None) -> None:
        super().__init__(scope, id_)
        # Immutable: a rule added to it by anyone would change the owners' network.
        self.security_group = ec2.SecurityGroup.from_security_group_id(
            self, "ClusterSecurityGroup", security_group_id, mutable=False)
        self.oidc_provider: iam.IOpenIdConnectProvider | None = (
            iam.OpenIdConnectProvider.from_open_id_connect_provider_arn(self, "OidcProvider", oidc_provider_arn)
            if oidc_provider_arn else None)
        self.kubectl_provider: eks.IKubectlProvider | None = None
        self.kubectl_access: eks.AccessEntry | None = None
        if kubectl_service_token is not None:
            self.kubectl_provider = eks.KubectlProvider.from_kubectl_provider_attributes(
                self, "KubectlProvider", service_token=kubectl_service_token)
        elif kubectl_layer is not None:
            self.kubectl_provider = self._own_kubectl_provider(vpc, cluster_name, kubectl_layer)
        # aws_eks_v2 2.275's imported cluster takes a provider, not provider options (it ignores those).
        self.cluster = eks.Cluster.from_cluster_attributes(
            self, "Resource", cluster_name=cluster_name, vpc=vpc, cluster_security_group_id=security_group_id,
            open_id_connect_provider=self.oidc_provider, kubectl_provider=self.kubectl_provider, prune=True)
        if self.kubectl_provider is not None and kubectl_service_token is None:
            provider_role = self.kubectl_provider.role
            assert provider_role is not None  # a provider Keel creates always has its handler role
            self.kubectl_access = eks.AccessEntry(
                self, "KubectlProviderAccess", cluster=self.cluster, principal=provider_role.role_arn,
                access_entry_type=eks.AccessEntryType.STANDARD, access_policies=[
                    eks.AccessPolicy.from_access_policy_name(CLUSTER_ADMIN,
                                                             access_scope_type=eks.AccessScopeType.CLUSTER)])

    def _own_kubectl_provider(self, vpc: ec2.IVpc, cluster_name: str,
                              kubectl_layer: lambda_.ILayerVersion) -> eks.KubectlProvider:
        """aws_eks_v2's provider against the cluster, in the private subnets, in the cluster security group
        (which lets its members reach the API endpoint, private or public)."""
        target = eks.Cluster.from_cluster_attributes(self, "ProviderTarget", cluster_name=cluster_name, vpc=vpc)
        provider = eks.KubectlProvider(
            self, "KubectlProvider", cluster=target, kubectl_layer=kubectl_layer, security_groups=[self.security_group],
            private_subnets=vpc.select_subnets(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS).subnets)
        acknowledge_kubectl_provider(provider)
        return provider

    @property
    def icluster(self) -> eks.ICluster:
        return self.cluster

    def add_access_entries(self, entries: Sequence[AccessEntryProps]) -> list[eks.AccessEntry]:
        """The spec's and the teams' access entries on the existing cluster (EKS allows one a principal: one
        its owners already made for a principal fails the deployment, and changes nothing)."""
        return add_access_entries(self, self.cluster, entries)
