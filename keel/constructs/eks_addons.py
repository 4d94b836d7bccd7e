"""EKS managed add-ons (AWS::EKS::Addon), each pinned to a version, and Pod Identity roles for the ones that
call AWS: one role an add-on, trusted by EKS Pod Identity only, associated with the add-on's own service
account through the add-on (its PodIdentityAssociations), so no node role carries an add-on's permissions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import RemovalPolicy
from aws_cdk import aws_eks as eks_l1
from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_iam as iam
from constructs import Construct

from keel.constructs.common import pascal_id
from keel.constructs.eks_cluster import acknowledge_managed_policies, managed

#: The principal EKS Pod Identity assumes roles as (with session tags).
POD_IDENTITY_PRINCIPAL = "pods.eks.amazonaws.com"


@dataclass(frozen=True, kw_only=True)
class AddonAccessProps:
    service_account: str
    #: An AWS managed policy name, as EKS documents it for the add-on.
    managed_policy: str


@dataclass(frozen=True, kw_only=True)
class AddonProps:
    name: str
    version: str
    access: AddonAccessProps | None = None


def pod_identity_role(scope: Construct, id_: str, *, description: str) -> iam.Role:
    """A role only EKS Pod Identity can assume (sts:AssumeRole with sts:TagSession, as EKS requires)."""
    role = iam.Role(scope, id_, description=description,
                    assumed_by=iam.ServicePrincipal(POD_IDENTITY_PRINCIPAL))
    role.assume_role_policy.add_statements(iam.PolicyStatement(  # type: ignore[union-attr]
        actions=["sts:TagSession"], principals=[iam.ServicePrincipal(POD_IDENTITY_PRINCIPAL)]))
    return role


class EksAddons(Construct):
    """One `AWS::EKS::Addon` a props entry, in the order given, each after the one before it."""

    def __init__(self, scope: Construct, id_: str, *, cluster: eks.ICluster, addons: Sequence[AddonProps],
                 removal_policy: RemovalPolicy) -> None:
        super().__init__(scope, id_)
        self.addons: dict[str, eks_l1.CfnAddon] = {}
        self.roles: dict[str, iam.Role] = {}
        previous: eks_l1.CfnAddon | None = None
        for props in addons:
            name = pascal_id(props.name)
            associations = None
            if props.access is not None:
                role = pod_identity_role(self, f"{name}Role", description=f"EKS add-on {props.name} "
                                         f"({props.access.service_account}) through EKS Pod Identity")
                role.add_managed_policy(managed(props.access.managed_policy))
                acknowledge_managed_policies(
                    role, [props.access.managed_policy],
                    f"The AWS-maintained policy EKS documents for the {props.name} add-on; AWS updates it with "
                    "the add-on's API calls. The role is the add-on's alone (Pod Identity, its service account).")
                self.roles[props.name] = role
                associations = [eks_l1.CfnAddon.PodIdentityAssociationProperty(
                    role_arn=role.role_arn, service_account=props.access.service_account)]
            addon = eks_l1.CfnAddon(
                self, name, addon_name=props.name, addon_version=props.version, cluster_name=cluster.cluster_name,
                # The cluster's self-managed vpc-cni, coredns and kube-proxy become the managed add-ons.
                resolve_conflicts="OVERWRITE", preserve_on_delete=True,
                pod_identity_associations=associations)
            addon.apply_removal_policy(removal_policy)
            addon.node.add_dependency(cluster)
            if previous is not None:
                addon.node.add_dependency(previous)
            previous = addon
            self.addons[props.name] = addon


#: The principal EKS capabilities (Argo CD, ACK, kro) assume their role as.
CAPABILITIES_PRINCIPAL = "capabilities.eks.amazonaws.com"


class ArgoCdCapability(Construct):
    """EKS's managed Argo CD (AWS::EKS::Capability, type ARGOCD): Argo CD run by EKS outside the cluster,
    signing users in through IAM Identity Center. Its role has no policy: it reads the platform repository
    with the repository credentials Argo CD keeps, and reaches the cluster through the access entry EKS makes."""

    def __init__(self, scope: Construct, id_: str, *, cluster: eks.ICluster, idc_instance_arn: str,
                 idc_region: str | None) -> None:
        super().__init__(scope, id_)
        self.role = iam.Role(self, "Role", assumed_by=iam.ServicePrincipal(CAPABILITIES_PRINCIPAL),
                             description="The EKS Argo CD capability")
        self.role.assume_role_policy.add_statements(iam.PolicyStatement(  # type: ignore[union-attr]
            actions=["sts:TagSession"], principals=[iam.ServicePrincipal(CAPABILITIES_PRINCIPAL)]))
        self.capability = eks_l1.CfnCapability(
            self, "Resource", capability_name="argocd", cluster_name=cluster.cluster_name, type="ARGOCD",
            role_arn=self.role.role_arn, delete_propagation_policy="RETAIN",
            configuration=eks_l1.CfnCapability.CapabilityConfigurationProperty(
                argo_cd=eks_l1.CfnCapability.ArgoCdProperty(
                    aws_idc=eks_l1.CfnCapability.AwsIdcProperty(idc_instance_arn=idc_instance_arn,
                                                                idc_region=idc_region),
                    namespace="argocd")))
        self.capability.node.add_dependency(cluster)
