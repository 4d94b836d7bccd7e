"""EKS Connector registration of an on-premises (EKS Anywhere) cluster, as code.

CloudFormation has no resource for eks:RegisterCluster; a small custom resource (lambda_src/eks_connector)
registers the cluster, keeps the connector activation in a CMK-encrypted secret and deregisters it with the
stack. The agent role is what the EKS Connector pods in the on-premises cluster assume through SSM.
"""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Acknowledgment, Duration, RemovalPolicy, Stack, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from keel.constructs.common import nag_arn_prefix
from keel.constructs.provider import BASIC_EXECUTION, provider_resource, secret_and_provider

# What the operator has after deployment: the activation expires 3 days after registration.
ACTIVATION_DAYS = 3
MANIFEST_URL = "https://amazon-eks.s3.us-west-2.amazonaws.com/eks-connector/manifests/eks-connector/latest/eks-connector.yaml"


class EksConnectorRegistration(Construct):
    """Registers `cluster_name` (provider EKS_ANYWHERE by default) with the EKS Connector."""

    def __init__(self, scope: Construct, id_: str, *, cluster_name: str, key: kms.IKey, tags: Mapping[str, str],
                 removal_policy: RemovalPolicy, provider: str = "EKS_ANYWHERE", epoch: int = 1) -> None:
        super().__init__(scope, id_)
        stack = Stack.of(self)
        cluster_arn = f"arn:{stack.partition}:eks:{stack.region}:{stack.account}:cluster/{cluster_name}"
        self.agent_role = self._agent_role(cluster_name, cluster_arn)
        self.secret, self.provider = secret_and_provider(
            self, secret_id="Activation", key=key, removal_policy=removal_policy,
            secret_description=f"EKS Connector activation of {cluster_name} (written by the registration resource)",
            not_rotated_because="The value is an EKS Connector activation, valid 3 days and single-purpose; a new "
                                "one is issued by re-registering (bump the connector epoch), not by rotation.",
            source="eks_connector", description=f"Registers {cluster_name} with the EKS Connector and deregisters it",
            # Up to 240 s waiting for a deregistration, then registration and the response (with retries).
            timeout=Duration.minutes(6))
        self._grant_registration(cluster_arn)
        self.resource = provider_resource(
            self, provider=self.provider, secret=self.secret, resource_type="Custom::KeelEksConnector",
            properties={
                "ClusterName": cluster_name,
                "Provider": provider,
                "ConnectorRoleArn": self.agent_role.role_arn,
                "Tags": dict(tags),
                "SecretArn": self.secret.secret_arn,
                "Region": stack.region,
                "Epoch": epoch,
            })
        self.cluster_name = self.resource.get_att_string("ClusterName")

    def _agent_role(self, cluster_name: str, cluster_arn: str) -> iam.Role:
        stack = Stack.of(self)
        # SSM assumes the role for the activation RegisterCluster creates in this account and region; the
        # conditions keep SSM acting for any other account from assuming it (confused deputy).
        agent_role = iam.Role(
            self, "AgentRole", assumed_by=iam.ServicePrincipal("ssm.amazonaws.com", conditions={
                "StringEquals": {"aws:SourceAccount": stack.account},
                "ArnLike": {"aws:SourceArn": f"arn:{stack.partition}:ssm:{stack.region}:{stack.account}:*"}}),
            description=f"EKS Connector agent of the on-premises cluster {cluster_name}")
        agent_role.add_to_policy(iam.PolicyStatement(
            sid="SsmControlChannel", actions=["ssmmessages:CreateControlChannel"], resources=[cluster_arn]))
        agent_role.add_to_policy(iam.PolicyStatement(
            sid="SsmDataplaneOperations",
            actions=["ssmmessages:CreateDataChannel", "ssmmessages:OpenDataChannel",
                     "ssmmessages:OpenControlChannel"], resources=["*"]))
        Validations.of(agent_role).acknowledge(Acknowledgment(
            id="AwsSolutions::AwsSolutions-IAM5[Resource::*]",
            reason="The EKS Connector agent policy AWS documents: SSM data channels have no resource-level "
                   "permissions; the control channel is scoped to this cluster."))
        return agent_role

    def _grant_registration(self, cluster_arn: str) -> None:
        """What RegisterCluster and DeregisterCluster do as the caller: the provider function's role."""
        stack = Stack.of(self)
        fn = self.provider.function
        fn.add_to_role_policy(iam.PolicyStatement(
            actions=["eks:RegisterCluster", "eks:DeregisterCluster", "eks:DescribeCluster", "eks:TagResource"],
            resources=[cluster_arn]))
        # RegisterCluster creates (and DeregisterCluster deletes) an SSM activation as the caller.
        fn.add_to_role_policy(iam.PolicyStatement(
            actions=["ssm:CreateActivation", "ssm:DeleteActivation", "ssm:AddTagsToResource"], resources=["*"]))
        # DeregisterCluster removes the connector's managed instances: those of this account and region only.
        fn.add_to_role_policy(iam.PolicyStatement(
            actions=["ssm:DeregisterManagedInstance"],
            resources=[f"arn:{stack.partition}:ssm:{stack.region}:{stack.account}:managed-instance/*"]))
        fn.add_to_role_policy(iam.PolicyStatement(actions=["iam:PassRole"], resources=[self.agent_role.role_arn]))
        fn.add_to_role_policy(iam.PolicyStatement(
            actions=["iam:CreateServiceLinkedRole"],
            resources=[f"arn:{stack.partition}:iam::{stack.account}:role/aws-service-role/"
                       "eks-connector.amazonaws.com/AWSServiceRoleForAmazonEKSConnector"],
            conditions={"StringEquals": {"iam:AWSServiceName": "eks-connector.amazonaws.com"}}))
        self.secret.grant_write(fn)
        self.secret.grant_read(fn)  # a repeated Create checks what the first one stored
        Validations.of(fn).acknowledge(
            Acknowledgment(
                id="AwsSolutions::AwsSolutions-IAM5[Resource::*]",
                reason="eks:RegisterCluster creates (and DeregisterCluster deletes) an SSM activation as the "
                       "caller. An activation has no ARN: ssm:CreateActivation, DeleteActivation and the "
                       "AddTagsToResource for its tags take no resource, and EKS chooses the activation's tags, so "
                       "no aws:RequestTag condition can be relied on either; what the function registers is held "
                       "to this cluster's ARN, and iam:PassRole to the agent role. X-Ray's "
                       "PutTraceSegments/PutTelemetryRecords take no resource ARN."),
            Acknowledgment(
                id=f"AwsSolutions::AwsSolutions-IAM5[Resource::{nag_arn_prefix(self, 'ssm')}:managed-instance/*]",
                reason="ssm:DeregisterManagedInstance for the connector's managed instances, whose mi- ids exist "
                       "only after the agent registers; scoped to this account and region."),
            BASIC_EXECUTION,
        )

    def operator_steps(self) -> str:
        """What a person does after deployment, with the deadline (the activation lasts 3 days)."""
        return (f"Within {ACTIVATION_DAYS} days of this deployment (ActivationExpiry in the secret): "
                f"1) aws secretsmanager get-secret-value --secret-id {self.secret.secret_arn} "
                "--query SecretString (ActivationId, ActivationCode); "
                f"2) curl -o eks-connector.yaml {MANIFEST_URL} and put the activation id and code "
                "(base64) into its eks-connector-activation-config secret; "
                "3) kubectl apply -f eks-connector.yaml on the EKS Anywhere cluster; "
                "4) apply the console user ClusterRole/binding so IAM principals can view workloads. "
                "Expired? Bump anywhere.connector_epoch and deploy: the cluster is registered anew with a fresh "
                "activation.")
