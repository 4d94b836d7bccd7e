"""event-worker-svc 1.x builder: bus rule (content filter) -> SQS (KMS, DLQ) -> Lambda (partial batch
failures, idempotency table), maximum and reserved concurrency."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Duration, RemovalPolicy, Validations
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from keel.constructs.common import justify
from keel.constructs.queues import dead_letter_queue
from keel.contract.outputs import NetworkOutputs
from keel.spec.model import Service, ServiceInstance
from keel.templates.event_worker_svc.inputs import EventWorkerSvcInputs
from keel.templates.lambda_inputs import LambdaPipelineInputs
from keel.templates.lambda_service import build_function, environment_key, function_discovery

# Names the example handler (lambda_src/event_worker) reads.
TABLE_ENV = "KEEL_IDEMPOTENCY_TABLE"
TTL_ENV = "KEEL_IDEMPOTENCY_TTL_SECONDS"
# AWS's advice for SQS event sources: visibility timeout at least six times the function timeout.
VISIBILITY_FACTOR = 6
QUEUE_RETENTION = Duration.days(4)
# Past the horizon itself: a replay takes time, and a record's expiry counts from when it was processed.
IDEMPOTENCY_MARGIN_SECONDS = 86400


def idempotency_window(*, ttl_seconds: int, archive_retention_days: int | None) -> int:
    """How long an event id is remembered as processed: the spec's ttl at least, and long enough that
    neither a redelivery from the queue (its retention) nor a replay from the bus archive (its retention)
    finds the record gone. An archive that keeps events indefinitely (0) has no horizon to cover: replays
    older than the window are processed again (the README says so)."""
    horizons = [QUEUE_RETENTION.to_seconds()]
    if archive_retention_days:
        horizons.append(archive_retention_days * 86400)
    return max(ttl_seconds, int(max(horizons)) + IDEMPOTENCY_MARGIN_SECONDS)


def event_pattern(inputs: EventWorkerSvcInputs) -> events.EventPattern:
    return events.EventPattern(
        source=list(inputs.event_sources),
        detail_type=list(inputs.detail_types) or None,
        detail=dict(inputs.detail_filter) or None)


def idempotency_table(scope: Construct, *, key: kms.IKey, policy: RemovalPolicy,
                      deletion_protection: bool) -> dynamodb.Table:
    table = dynamodb.Table(
        scope, "Idempotency", partition_key=dynamodb.Attribute(name="id", type=dynamodb.AttributeType.STRING),
        billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST, time_to_live_attribute="expiration",
        encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED, encryption_key=key,
        point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=True),
        deletion_protection=deletion_protection or None, removal_policy=policy)
    justify(table, nag={"NIST.800.53.R5-DynamoDBInBackupPlan": (
        "Point-in-time recovery is on (35 days, restorable to any second); the items are idempotency records "
        "that expire by TTL, so a backup plan would only keep copies of records that stop mattering")})
    return table


def build(scope: Construct, *, service: Service, instance: ServiceInstance, inputs: EventWorkerSvcInputs,
          pipeline: LambdaPipelineInputs, environment: NetworkOutputs) -> dict[str, str]:
    if environment.bus is None:
        raise ValueError(f"{instance.source}: environment {environment.name} has no event bus")
    key = environment_key(scope, environment)
    policy = environment.removal_policy
    dead_letters = dead_letter_queue(scope, "DeadLetters", key=key, removal_policy=policy,
                                     owner=f"service {service.name}")
    queue = sqs.Queue(
        scope, "Queue", encryption=sqs.QueueEncryption.KMS, encryption_master_key=key, enforce_ssl=True,
        visibility_timeout=Duration.seconds(VISIBILITY_FACTOR * inputs.lambda_timeout),
        retention_period=QUEUE_RETENTION,
        dead_letter_queue=sqs.DeadLetterQueue(queue=dead_letters, max_receive_count=inputs.max_receive_count),
        removal_policy=policy)
    rule = events.Rule(
        scope, "Rule", event_bus=environment.bus, event_pattern=event_pattern(inputs),
        description=f"{service.name} ({instance.name}): the events it handles, filtered at the bus",
        targets=[targets.SqsQueue(
            queue, dead_letter_queue=dead_letters, retry_attempts=inputs.target_retry_attempts,
            max_event_age=Duration.seconds(inputs.target_max_event_age_seconds))])
    table = idempotency_table(scope, key=key, policy=policy, deletion_protection=environment.production)
    window = idempotency_window(ttl_seconds=inputs.idempotency_ttl_seconds,
                                archive_retention_days=environment.bus_archive_retention_days)
    fn = build_function(
        scope, "Function", service=service, instance=instance, inputs=inputs, pipeline=pipeline,
        environment=environment, description=f"{service.name} ({instance.name}): event worker",
        invoked_by="Lambda's SQS poller invokes it synchronously: failed messages stay on the queue, whose "
                   "redrive policy moves them to the service's dead-letter queue",
        extra_environment={TABLE_ENV: table.table_name, TTL_ENV: str(window)})
    fn.role.add_to_policy(iam.PolicyStatement(
        sid="IdempotencyRecords",
        actions=["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"],
        resources=[table.table_arn]))
    source = sources.SqsEventSource(
        queue, batch_size=inputs.batch_size,
        max_batching_window=Duration.seconds(inputs.max_batching_window_seconds)
        if inputs.max_batching_window_seconds else None,
        max_concurrency=inputs.maximum_concurrency, report_batch_item_failures=True)
    fn.function.add_event_source(source)
    Validations.of(fn.function).acknowledge(Acknowledgment(
        id="Serverless::Serverless-LambdaEventSourceMappingDestination",
        reason="an SQS source keeps failed records on the queue; its redrive policy moves them to the DLQ "
               "after max_receive_count deliveries (on-failure destinations are for stream sources)"))
    return function_discovery(fn) | {
        "queue/url": queue.queue_url, "queue/arn": queue.queue_arn,
        "queue/dead-letter-url": dead_letters.queue_url, "rule/arn": rule.rule_arn,
        "idempotency/table-name": table.table_name}
