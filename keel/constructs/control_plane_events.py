"""Control-plane events of one ECS cluster to monitoring (whitepaper: "relevant ECS control plane events
should be filtered with Amazon EventBridge and forwarded to the monitoring system").

Rules on the default bus match this cluster only: failed tasks, disconnected agents (external instances
above all), failed service actions and failed or rolled-back deployments. Every rule delivers to a log
group (the record) and to an encrypted SNS topic (people), directly or through a formatter function that
writes readable notifications; every target has a retry policy and the construct's dead-letter queue.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import jsii
from aws_cdk import Acknowledgment, Duration, RemovalPolicy, Stack, Validations
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from aws_cdk.interfaces import aws_events as events_refs
from constructs import Construct

from keel.constructs.common import justify, own_inline_policy
from keel.constructs.function import KeelFunction
from keel.constructs.keys import allow_alarm_notifications

RETRY_ATTEMPTS = 8
MAX_EVENT_AGE = Duration.hours(6)
# A task stopped by its scheduler or a person (scale-in, deployment, `stop-task`) exits 143/137 by
# design; only other stops with a non-zero exit code are failures.
ROUTINE_STOPS = ["ServiceSchedulerInitiated", "UserInitiated", "SpotInterruption"]
SERVICE_FAILURES = ["SERVICE_TASK_PLACEMENT_FAILURE", "SERVICE_TASK_CONFIGURATION_FAILURE",
                    "SERVICE_TASK_START_IMPAIRED", "SERVICE_DAEMON_PLACEMENT_CONSTRAINT_VIOLATED"]
CIRCUIT_BREAKER_ROLLBACK = "ECS deployment circuit breaker: rolling back"


def event_patterns(*, cluster_arn: str, service_arn_prefix: str) -> dict[str, Mapping[str, Any]]:
    """Rule id -> EventBridge pattern. Plain data (the cluster ARN may be a token), tested against the
    ECS documentation's event samples in tests/infra/test_ecs_env_events.py."""
    return {
        "TaskFailures": {
            "source": ["aws.ecs"], "detail-type": ["ECS Task State Change"],
            "detail": {
                "clusterArn": [cluster_arn], "lastStatus": ["STOPPED"],
                "$or": [
                    {"stopCode": ["EssentialContainerExited", "TaskFailedToStart"]},
                    {"containers": {"exitCode": [{"anything-but": 0}]},
                     "stopCode": [{"anything-but": ROUTINE_STOPS}]},
                ],
            },
        },
        "AgentDisconnected": {
            "source": ["aws.ecs"], "detail-type": ["ECS Container Instance State Change"],
            "detail": {"clusterArn": [cluster_arn], "agentConnected": [False], "status": ["ACTIVE", "DRAINING"]},
        },
        "ServiceFailures": {
            "source": ["aws.ecs"], "detail-type": ["ECS Service Action"],
            "detail": {"clusterArn": [cluster_arn], "eventName": SERVICE_FAILURES},
        },
        # Deployment events name the service (whose ARN holds the cluster name), not the cluster.
        "DeploymentFailures": {
            "source": ["aws.ecs"], "detail-type": ["ECS Deployment State Change"],
            "resources": [{"prefix": service_arn_prefix}],
            "detail": {"$or": [{"eventName": ["SERVICE_DEPLOYMENT_FAILED"]},
                               {"reason": [{"prefix": CIRCUIT_BREAKER_ROLLBACK}]}]},
        },
    }


class ControlPlaneEvents(Construct):
    def __init__(self, scope: Construct, id_: str, *, cluster: ecs.ICluster, key: kms.IKey,
                 log_group_name: str, notification_emails: Sequence[str], formatter: bool,
                 log_retention: logs.RetentionDays,
                 removal_policy: RemovalPolicy) -> None:
        super().__init__(scope, id_)
        stack = Stack.of(self)
        # EventBridge (topic, dead letters) and SNS (the subscriptions' dead letters) write to CMK-encrypted
        # resources: the key must let them, for this account only.
        key.add_to_resource_policy(iam.PolicyStatement(
            sid="AllowEventBridgeAndSnsOfThisAccount",
            principals=[iam.ServicePrincipal("events.amazonaws.com"), iam.ServicePrincipal("sns.amazonaws.com")],
            actions=["kms:Decrypt", "kms:GenerateDataKey"], resources=["*"],
            conditions={"StringEquals": {"aws:SourceAccount": stack.account}}))

        self.dead_letters = sqs.Queue(self, "DeadLetters", encryption_master_key=key, enforce_ssl=True,
                                      retention_period=Duration.days(14), removal_policy=removal_policy)
        Validations.of(self.dead_letters).acknowledge(
            Acknowledgment(id="AwsSolutions::AwsSolutions-SQS3",
                           reason="This queue is the dead-letter queue of the event rules' targets."),
            Acknowledgment(id="Serverless::Serverless-SQSRedrivePolicy",
                           reason="This queue is a dead-letter queue; a DLQ of a DLQ only moves the problem."))

        self.topic = sns.Topic(self, "Topic", display_name="Keel ECS control-plane events", master_key=key,
                               enforce_ssl=True)
        # The environment's notification topic: service alarms publish here too.
        allow_alarm_notifications(key)
        for email in notification_emails:
            self.topic.add_subscription(subscriptions.EmailSubscription(email, dead_letter_queue=self.dead_letters))
        # EventBridge's log-group target would add a custom resource (a Lambda function) per rule to
        # write the log group's resource policy; one native policy for the group does the same.
        self.log_group = logs.LogGroup(self, "Logs", log_group_name=log_group_name, retention=log_retention,
                                       encryption_key=key, removal_policy=removal_policy)
        self.log_group_policy = logs.ResourcePolicy(self, "LogsPolicy", policy_statements=[iam.PolicyStatement(
            principals=[iam.ServicePrincipal("events.amazonaws.com"),
                        iam.ServicePrincipal("delivery.logs.amazonaws.com")],
            actions=["logs:CreateLogStream", "logs:PutLogEvents"], resources=[self.log_group.log_group_arn],
            conditions={"StringEquals": {"aws:SourceAccount": stack.account}})])

        self.formatter: KeelFunction | None = None
        if formatter:
            self.formatter = self._formatter(key=key, log_retention=log_retention, removal_policy=removal_policy)
            notify: events.IRuleTarget = targets.LambdaFunction(
                self.formatter.function, dead_letter_queue=self.dead_letters,
                retry_attempts=RETRY_ATTEMPTS, max_event_age=MAX_EVENT_AGE)
        else:
            notify = targets.SnsTopic(self.topic, dead_letter_queue=self.dead_letters,
                                      retry_attempts=RETRY_ATTEMPTS, max_event_age=MAX_EVENT_AGE)
        record = _LogGroupTarget(self.log_group, dead_letter_queue=self.dead_letters)

        prefix = (f"arn:{stack.partition}:ecs:{stack.region}:{stack.account}:service/{cluster.cluster_name}/")
        self.rules: dict[str, events.Rule] = {}
        for rule_id, pattern in event_patterns(cluster_arn=cluster.cluster_arn,
                                               service_arn_prefix=prefix).items():
            rule = events.Rule(self, rule_id, description=f"Keel: ECS {rule_id} of this cluster",
                               event_pattern=_pattern(pattern), targets=[record, notify])
            self.rules[rule_id] = rule

    def _formatter(self, *, key: kms.IKey, log_retention: logs.RetentionDays,
                   removal_policy: RemovalPolicy) -> KeelFunction:
        """The Lambda function that turns raw ECS events into readable notifications on the topic."""
        fn = KeelFunction(
            self, "Formatter", source="ecs_event_formatter", key=key,
            description="Keel: turns ECS control-plane events into readable notifications",
            log_retention=log_retention, removal_policy=removal_policy, memory_size=128,
            environment={"TOPIC_ARN": self.topic.topic_arn}, reserved_concurrency=5, dead_letter_queue=True)
        self.topic.grant_publish(fn.function)
        own_inline_policy(fn.function, "The formatter's execution role (publish to this topic)")
        outside = ("It reads the event EventBridge hands it and publishes to SNS over TLS; nothing it calls is "
                   "in the VPC, and ENIs would only slow the notification down")
        justify(fn.function, nag={"NIST.800.53.R5-LambdaInsideVPC": outside},
                checkov={"CKV_AWS_117": outside})
        Validations.of(fn.function).acknowledge(
            Acknowledgment(
                id="AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/"
                   "service-role/AWSLambdaBasicExecutionRole]",
                reason="Basic execution role: write to its own log group only; AWS-maintained."),
            Acknowledgment(
                id="AwsSolutions::AwsSolutions-IAM5[Resource::*]",
                reason="X-Ray tracing: xray:PutTraceSegments/PutTelemetryRecords support no resource-level "
                       "permissions."),
            Acknowledgment(
                id="AwsSolutions::AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
                reason="Publishing to the CMK-encrypted topic needs data keys of the environment key (the "
                       "grant names that key only)."))
        return fn


@jsii.implements(events.IRuleTarget)
class _LogGroupTarget:
    """A log group as a rule target, relying on the group's own resource policy (see above)."""

    def __init__(self, log_group: logs.ILogGroup, *, dead_letter_queue: sqs.IQueue) -> None:
        self._log_group = log_group
        self._dead_letters = dead_letter_queue

    def bind(self, rule: events_refs.IRuleRef, id: str | None = None) -> events.RuleTargetConfig:
        stack = Stack.of(self._log_group)
        arn = (f"arn:{stack.partition}:logs:{stack.region}:{stack.account}:log-group:"
               f"{self._log_group.log_group_name}")
        return events.RuleTargetConfig(
            arn=arn,
            dead_letter_config=events.CfnRule.DeadLetterConfigProperty(arn=self._dead_letters.queue_arn),
            retry_policy=events.CfnRule.RetryPolicyProperty(
                maximum_retry_attempts=RETRY_ATTEMPTS, maximum_event_age_in_seconds=MAX_EVENT_AGE.to_seconds()))


def _pattern(pattern: Mapping[str, Any]) -> events.EventPattern:
    return events.EventPattern(
        source=list(pattern["source"]), detail_type=list(pattern["detail-type"]),
        resources=events.Match.prefix(pattern["resources"][0]["prefix"]) if "resources" in pattern else None,
        detail=dict(pattern["detail"]))
