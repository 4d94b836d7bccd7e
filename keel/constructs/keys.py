"""The environment's customer-managed key: one per environment, used by every encrypted resource in it."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct


class EnvironmentKey(Construct):
    """A rotating CMK with an alias; CloudWatch Logs may use it for this account's log groups only."""

    def __init__(self, scope: Construct, id_: str, *, environment: str, removal_policy: RemovalPolicy) -> None:
        super().__init__(scope, id_)
        stack = Stack.of(self)
        self.key = kms.Key(
            self, "Resource",
            description=f"Keel environment {environment}: encryption of logs, secrets, queues and topics",
            enable_key_rotation=True,
            alias=f"alias/keel/{environment}",
            removal_policy=removal_policy,
            pending_window=Duration.days(30),
        )
        # Log groups encrypt with this key (flow logs, ECS exec, service logs); scoped by encryption context.
        self.key.add_to_resource_policy(iam.PolicyStatement(
            sid="AllowCloudWatchLogsOfThisAccount",
            principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
            actions=["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
            resources=["*"],
            conditions={"ArnLike": {"kms:EncryptionContext:aws:logs:arn":
                                    f"arn:{stack.partition}:logs:{stack.region}:{stack.account}:log-group:*"}},
        ))


def allow_alarm_notifications(key: kms.IKey) -> None:
    """CloudWatch alarms of this account may publish to topics encrypted with `key` (without this the
    alarm fires and the notification is silently dropped by KMS)."""
    stack = Stack.of(key)
    key.add_to_resource_policy(iam.PolicyStatement(
        sid="AllowCloudWatchAlarmsOfThisAccount",
        principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
        actions=["kms:Decrypt", "kms:GenerateDataKey*"], resources=["*"],
        conditions={"StringEquals": {"aws:SourceAccount": stack.account}}))
