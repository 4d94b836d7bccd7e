"""The environment's event bus: archive for replay, cross-account publishing, optional schema discovery and
a log-everything rule, and a dead-letter queue for every target the environment itself defines.

Replay is an API call, not infrastructure:

    aws events start-replay --replay-name keel-dev-$(date +%s) \\
        --event-source-arn <archive ARN: /keel/<env>/events/archive-arn> \\
        --destination Arn=<bus ARN: /keel/<env>/events/bus-arn> \\
        --event-start-time 2026-11-01T00:00:00Z --event-end-time 2026-11-02T00:00:00Z
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_eventschemas as eventschemas
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from keel.constructs.queues import dead_letter_queue

# Matches every event (EventBridge needs a non-empty pattern for archives and rules).
ALL_EVENTS = {"source": [{"prefix": ""}]}


class EventBus(Construct):
    """A custom bus named `keel-<environment>`; `self.bus` is what services put rules on."""

    def __init__(self, scope: Construct, id_: str, *, environment: str, key: kms.IKey,
                 encrypt_with_key: bool, archive_retention: Duration | None,
                 schema_discovery: bool = False, publisher_accounts: Sequence[str] = (),
                 publisher_organization_id: str | None = None,
                 event_log_retention: logs.RetentionDays | None = None,
                 removal_policy: RemovalPolicy) -> None:
        super().__init__(scope, id_)
        stack = Stack.of(self)
        name = f"keel-{environment}"
        self.dead_letters = dead_letter_queue(self, "DeadLetters", key=key, removal_policy=removal_policy,
                                              owner=f"bus {name} and its environment-level targets")
        # EventBridge writes undeliverable events into the DLQ, encrypted with the environment key.
        key.add_to_resource_policy(iam.PolicyStatement(
            sid="AllowEventBridgeOfThisAccount",
            principals=[iam.ServicePrincipal("events.amazonaws.com")],
            actions=["kms:Decrypt", "kms:GenerateDataKey*", "kms:DescribeKey"],
            resources=["*"],
            conditions={"StringEquals": {"aws:SourceAccount": stack.account}}))
        self.bus = events.EventBus(
            self, "Resource", event_bus_name=name, description=f"Keel environment {environment}",
            kms_key=key if encrypt_with_key else None, dead_letter_queue=self.dead_letters)
        self.bus.apply_removal_policy(removal_policy)

        # Events the bus cannot deliver (e.g. the key is unusable) land in the DLQ.
        self.dead_letters.add_to_resource_policy(iam.PolicyStatement(
            sid="BusDeadLetters", principals=[iam.ServicePrincipal("events.amazonaws.com")],
            actions=["sqs:SendMessage"], resources=[self.dead_letters.queue_arn],
            conditions={"ArnEquals": {"aws:SourceArn": self.bus.event_bus_arn}}))

        self._archive(name, key=key, encrypt_with_key=encrypt_with_key, archive_retention=archive_retention,
                      removal_policy=removal_policy)
        self._allow_publishers(publisher_accounts, publisher_organization_id)
        self.discoverer: eventschemas.CfnDiscoverer | None = None
        if schema_discovery:
            self.discoverer = eventschemas.CfnDiscoverer(
                self, "SchemaDiscoverer", source_arn=self.bus.event_bus_arn,
                cross_account=bool(publisher_accounts or publisher_organization_id),
                description=f"Schemas of the events on {name}")
        self.event_log: logs.LogGroup | None = None
        if event_log_retention is not None:
            self.event_log = self._event_log(environment, name, key=key, retention=event_log_retention,
                                             removal_policy=removal_policy)

    def _archive(self, name: str, *, key: kms.IKey, encrypt_with_key: bool, archive_retention: Duration | None,
                 removal_policy: RemovalPolicy) -> None:
        stack = Stack.of(self)
        # L1 archive: the L2 (and bus.archive(), which even drops kms_key) writes the key policy with the bus's
        # GetAtt ARN, a cycle key -> bus -> DLQ -> key. The literal ARN below names the same bus.
        bus_arn = f"arn:{stack.partition}:events:{stack.region}:{stack.account}:event-bus/{name}"
        if encrypt_with_key:
            key.add_to_resource_policy(iam.PolicyStatement(
                sid="AllowEventBridgeArchiveOfThisBus", principals=[iam.ServicePrincipal("events.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey", "kms:ReEncrypt*"], resources=["*"],
                conditions={"StringEquals": {"kms:EncryptionContext:aws:events:event-bus:arn": bus_arn}}))
        self.archive = events.CfnArchive(
            self, "Archive", source_arn=self.bus.event_bus_arn, archive_name=name,
            event_pattern=ALL_EVENTS,
            retention_days=archive_retention.to_days() if archive_retention else 0,
            kms_key_identifier=key.key_arn if encrypt_with_key else None,
            description=f"Every event on {name}, for replay (retention "
                        f"{archive_retention.to_days() if archive_retention else 'indefinite'} days)")
        self.archive.apply_removal_policy(removal_policy)

    def _allow_publishers(self, publisher_accounts: Sequence[str], publisher_organization_id: str | None) -> None:
        for account in publisher_accounts:
            self.bus.add_to_resource_policy(iam.PolicyStatement(
                sid=f"PutEventsFrom{account}", principals=[iam.AccountPrincipal(account)],
                actions=["events:PutEvents"], resources=[self.bus.event_bus_arn]))
        if publisher_organization_id:
            self.bus.add_to_resource_policy(iam.PolicyStatement(
                sid="PutEventsFromOrganization", principals=[iam.AnyPrincipal()],
                actions=["events:PutEvents"], resources=[self.bus.event_bus_arn],
                conditions={"StringEquals": {"aws:PrincipalOrgID": publisher_organization_id}}))

    def _event_log(self, environment: str, name: str, *, key: kms.IKey, retention: logs.RetentionDays,
                   removal_policy: RemovalPolicy) -> logs.LogGroup:
        """Every event, copied to a log group by an L1 rule whose failures go to the bus's DLQ."""
        stack = Stack.of(self)
        # EventBridge writes only to log groups named /aws/events/...
        event_log = logs.LogGroup(
            self, "EventLog", log_group_name=f"/aws/events/keel/{environment}/all-events",
            retention=retention, encryption_key=key, removal_policy=removal_policy)
        # An L1 rule: the L2 log-group target installs a Lambda-backed custom resource just to write
        # the resource policy below, which CloudFormation can write itself.
        log_rule = events.CfnRule(
            self, "LogEveryEvent", event_bus_name=self.bus.event_bus_name,
            description=f"Copy every event on {name} to the event log",
            event_pattern=ALL_EVENTS, state="ENABLED",
            targets=[events.CfnRule.TargetProperty(
                id="EventLog", arn=event_log.log_group_arn,
                dead_letter_config=events.CfnRule.DeadLetterConfigProperty(arn=self.dead_letters.queue_arn),
                retry_policy=events.CfnRule.RetryPolicyProperty(maximum_retry_attempts=3,
                                                               maximum_event_age_in_seconds=3600))])
        logs.ResourcePolicy(self, "EventLogPolicy", resource_policy_name=f"keel-{environment}-event-log",
                            policy_statements=[iam.PolicyStatement(
                                sid="EventBridgeWritesTheEventLog",
                                principals=[iam.ServicePrincipal("events.amazonaws.com"),
                                            iam.ServicePrincipal("delivery.logs.amazonaws.com")],
                                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                                resources=[event_log.log_group_arn],
                                # Only this account's rules: no other account can write into the record.
                                conditions={"StringEquals": {"aws:SourceAccount": stack.account}})])
        self.dead_letters.add_to_resource_policy(iam.PolicyStatement(
            sid="EventLogRuleDeadLetters", principals=[iam.ServicePrincipal("events.amazonaws.com")],
            actions=["sqs:SendMessage"], resources=[self.dead_letters.queue_arn],
            conditions={"ArnEquals": {"aws:SourceArn": log_rule.attr_arn}}))
        return event_log

    def discovery(self) -> dict[str, str]:
        """Published under /keel/<environment>/events/..."""
        values = {"events/bus-name": self.bus.event_bus_name, "events/bus-arn": self.bus.event_bus_arn,
                  "events/archive-arn": self.archive.attr_arn,
                  "events/dead-letter-queue-url": self.dead_letters.queue_url}
        if self.event_log is not None:
            values["events/log-group"] = self.event_log.log_group_name
        return values
