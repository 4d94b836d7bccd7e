"""SSM hybrid activation as code, for ECS Anywhere instances and EKS Hybrid Nodes.

CloudFormation has no activation resource; a small custom resource (lambda_src/hybrid_activation)
creates one, stores id and code in a CMK-encrypted secret, and deletes it with the stack. The code
never reaches the template, an output, a parameter or a log line: operators read it from the secret.
"""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Acknowledgment, CustomResource, Duration, RemovalPolicy, Stack, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from keel.constructs.function import KeelFunction


class HybridActivation(Construct):
    """Registers servers as SSM managed instances that assume `role`; change any input (or bump
    `epoch`) to issue a fresh activation, e.g. before the current one expires."""

    def __init__(self, scope: Construct, id_: str, *, role: iam.IRole, key: kms.IKey, instance_name_prefix: str,
                 registration_limit: int, expiry_days: int, epoch: int, tags: Mapping[str, str],
                 removal_policy: RemovalPolicy, description: str) -> None:
        super().__init__(scope, id_)
        stack = Stack.of(self)
        self.secret = secretsmanager.Secret(
            self, "Credentials", encryption_key=key, removal_policy=removal_policy,
            description=f"{description}: SSM activation id and code (written by the activation resource)")
        Validations.of(self.secret).acknowledge(Acknowledgment(
            id="AwsSolutions::AwsSolutions-SMG4",
            reason="The value is an SSM activation, not a password: a new activation (and value) is issued "
                   "whenever the activation inputs or epoch change, and SSM expires each one within 30 days."))

        self.provider = KeelFunction(
            self, "Provider", source="hybrid_activation", key=key,
            description=f"{description}: creates and deletes the SSM hybrid activation",
            log_retention=logs.RetentionDays.ONE_YEAR, removal_policy=removal_policy,
            timeout=Duration.minutes(2), memory_size=256, dead_letter_queue=True)
        fn = self.provider.function
        fn.add_to_role_policy(iam.PolicyStatement(
            actions=["ssm:CreateActivation", "ssm:DeleteActivation", "ssm:AddTagsToResource"],
            resources=["*"]))
        fn.add_to_role_policy(iam.PolicyStatement(
            actions=["iam:PassRole"], resources=[role.role_arn],
            conditions={"StringEquals": {"iam:PassedToService": "ssm.amazonaws.com"}}))
        self.secret.grant_write(fn)
        Validations.of(fn).acknowledge(
            Acknowledgment(
                id="AwsSolutions::AwsSolutions-IAM5[Resource::*]",
                reason="ssm:CreateActivation/DeleteActivation/AddTagsToResource on activations support no "
                       "resource-level permissions (the activation id does not exist before the call)."),
            Acknowledgment(
                id="AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/"
                   "service-role/AWSLambdaBasicExecutionRole]",
                reason="Basic execution role: write to its own log group only; AWS-maintained."),
        )

        self.resource = CustomResource(
            self, "Resource", service_token=fn.function_arn, resource_type="Custom::KeelHybridActivation",
            properties={
                "RoleName": role.role_name,
                "InstanceNamePrefix": instance_name_prefix,
                "RegistrationLimit": registration_limit,
                "ExpiryDays": expiry_days,
                "Epoch": epoch,
                "Tags": dict(tags),
                "SecretArn": self.secret.secret_arn,
                "Region": stack.region,
                "Description": description,
            },
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.resource.node.add_dependency(self.secret)
        self.activation_id = self.resource.get_att_string("ActivationId")
