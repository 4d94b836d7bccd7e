"""What an environment hands its service instances: construct objects, never ARNs or strings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from aws_cdk import RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms

from keel.spec.model import Environment


@dataclass(frozen=True)
class EnvironmentOutputs:
    environment: Environment
    vpc: ec2.IVpc
    key: kms.IKey
    # Published as SSM parameters under /keel/<environment>/ for discovery at run time.
    discovery: Mapping[str, str] = field(default_factory=dict)
    # eks-env: the cluster and what a Kubernetes service needs from it (IRSA, node identity, pod traffic).
    eks_cluster: eks.ICluster | None = None
    eks_oidc_provider: iam.IOpenIdConnectProvider | None = None
    eks_node_role: iam.IRole | None = None
    eks_security_group: ec2.ISecurityGroup | None = None  # the EKS-managed cluster security group

    @property
    def name(self) -> str:
        return self.environment.name


def removal_policy(environment: Environment) -> RemovalPolicy:
    """The one place that decides: production-like environments keep their data when a stack goes."""
    return RemovalPolicy.RETAIN if environment.production else RemovalPolicy.DESTROY
