"""SSM hybrid activation as code, for ECS Anywhere instances and EKS Hybrid Nodes.

CloudFormation has no activation resource; a small custom resource (lambda_src/hybrid_activation)
creates one, stores id and code in a CMK-encrypted secret, and deletes it with the stack. The code
never reaches the template, an output, a parameter or a log line: operators read it from the secret.
"""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Acknowledgment, Duration, RemovalPolicy, Stack, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from keel.constructs.provider import BASIC_EXECUTION, provider_resource, secret_and_provider

# Tags the provider (lambda_src/hybrid_activation) puts on every activation. SSM copies an activation's tags
# to the managed instances registered with it, so the owner tag also marks this activation's servers.
OWNER_TAG = "keel:activation"
REQUEST_TAG = "keel:cfn-request-id"


class HybridActivation(Construct):
    """Registers servers as SSM managed instances that assume `role`; change any input (or bump
    `epoch`) to issue a fresh activation, e.g. before the current one expires."""

    def __init__(self, scope: Construct, id_: str, *, role: iam.IRole, key: kms.IKey, instance_name_prefix: str,
                 registration_limit: int, expiry_days: int, epoch: int, tags: Mapping[str, str],
                 removal_policy: RemovalPolicy, description: str) -> None:
        super().__init__(scope, id_)
        stack = Stack.of(self)
        self.secret, self.provider = secret_and_provider(
            self, secret_id="Credentials", key=key, removal_policy=removal_policy,
            secret_description=f"{description}: SSM activation id and code (written by the activation resource)",
            not_rotated_because="The value is an SSM activation, not a password: a new activation (and value) is "
                                "issued whenever the activation inputs or epoch change, and SSM expires each one "
                                "within 30 days.",
            source="hybrid_activation", description=f"{description}: creates and deletes the SSM hybrid activation",
            timeout=Duration.minutes(2))
        fn = self.provider.function
        # The value of OWNER_TAG on this resource's activations and on the servers they register.
        self.owner = self.node.path
        # CreateActivation has no resource type but takes aws:RequestTag: the function may only issue
        # activations marked as this resource's, each with the request that made it. The tags need
        # ssm:AddTagsToResource, held to the same tags.
        fn.add_to_role_policy(iam.PolicyStatement(
            sid="IssueOwnActivations", actions=["ssm:CreateActivation", "ssm:AddTagsToResource"], resources=["*"],
            conditions={"StringEquals": {f"aws:RequestTag/{OWNER_TAG}": self.owner},
                        "Null": {f"aws:RequestTag/{REQUEST_TAG}": "false"}}))
        fn.add_to_role_policy(iam.PolicyStatement(
            sid="FindAndDeleteActivations", actions=["ssm:DescribeActivations", "ssm:DeleteActivation"],
            resources=["*"]))
        fn.add_to_role_policy(iam.PolicyStatement(
            actions=["iam:PassRole"], resources=[role.role_arn],
            conditions={"StringEquals": {"iam:PassedToService": "ssm.amazonaws.com"}}))
        self.secret.grant_write(fn)
        self.secret.grant_read(fn)
        Validations.of(fn).acknowledge(
            Acknowledgment(
                id="AwsSolutions::AwsSolutions-IAM5[Resource::*]",
                reason="An activation has no ARN, so no SSM activation action takes a resource. "
                       "ssm:CreateActivation (and the AddTagsToResource its tags need) is held by an "
                       f"aws:RequestTag condition to activations tagged {OWNER_TAG}={self.owner}. "
                       "ssm:DeleteActivation and ssm:DescribeActivations take no condition key either (Service "
                       "Authorization Reference), so they cannot be scoped at all: the function finds its "
                       "activations by their request tag and deletes only those. iam:PassRole names the one "
                       "role; X-Ray's PutTraceSegments/PutTelemetryRecords take no resource ARN."),
            BASIC_EXECUTION,
        )

        self.resource = provider_resource(
            self, provider=self.provider, secret=self.secret, resource_type="Custom::KeelHybridActivation",
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
                "Owner": self.owner,
            })
        self.activation_id = self.resource.get_att_string("ActivationId")
