"""worker-fargate-svc 1.x: Fargate tasks consuming an SQS queue (KMS-encrypted with a key of the worker's
own, TLS only, dead-letter queue after `max_receive_count` receives) that an event pattern on the
environment's bus can feed; step scaling on the queue's backlog; rollback when messages reach the
dead-letter queue during a deployment."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from keel.constructs.common import pascal_id
from keel.constructs.container_service import dead_letter_queue, scale_on_backlog
from keel.contract.naming import component_name
from keel.contract.outputs import EcsEnvOutputs
from keel.spec.model import Service, ServiceInstance
from keel.templates.container_inputs import PipelineInputs, is_daemon
from keel.templates.container_service import (
    ONLY_SERVICE,
    ServiceContext,
    finish,
    image,
    long_running_service,
    published,
)
from keel.templates.worker_fargate_svc.inputs import TopicSubscription, WorkerInputs, WorkerInputsV11


def environment_bus(scope: Construct, environment: EcsEnvOutputs) -> events.IEventBus:
    """The environment's event bus where it has one, else the account's default bus, where AWS services put
    their events."""
    bus = environment.bus
    return bus if bus is not None else events.EventBus.from_event_bus_name(scope, "DefaultBus", "default")


def build(scope: Construct, *, service: Service, instance: ServiceInstance, inputs: WorkerInputs,
          pipeline: PipelineInputs | None, environment: EcsEnvOutputs) -> dict[str, str]:
    ctx = ServiceContext(service=service, instance=instance, environment=environment)
    policy = environment.removal_policy
    # A key of the worker's own: EventBridge may encrypt into this queue without widening the environment key.
    key = kms.Key(scope, "QueueKey", enable_key_rotation=True, removal_policy=policy,
                  description=f"Keel {environment.name}: queues of {ctx.family}")
    dead_letters = dead_letter_queue(scope, "DeadLetters", key=key, removal_policy=policy,
                                     holds="the work queue (messages received max_receive_count times) and of the "
                                           "subscription (events that could not be delivered)")
    queue = sqs.Queue(
        scope, "Queue", encryption=sqs.QueueEncryption.KMS, encryption_master_key=key, enforce_ssl=True,
        visibility_timeout=Duration.seconds(inputs.queue.visibility_timeout_seconds),
        retention_period=Duration.days(inputs.queue.retention_days), removal_policy=policy,
        dead_letter_queue=sqs.DeadLetterQueue(queue=dead_letters, max_receive_count=inputs.queue.max_receive_count))

    container_image, outputs = image(scope, ctx, inputs)
    fargate = long_running_service(scope, ONLY_SERVICE, ctx, inputs, container_image=container_image,
                                   variables={"QUEUE_URL": queue.queue_url})
    queue.grant_consume_messages(fargate.task.task_role)
    svc = fargate.service
    if not is_daemon(inputs):  # a daemon runs one task per instance: nothing to scale
        scale_on_backlog(svc, metric=queue.metric_approximate_number_of_messages_visible(
            period=Duration.minutes(1), statistic="Maximum"), min_tasks=inputs.scaling.min_tasks,
            max_tasks=inputs.scaling.max_tasks, messages_per_task=inputs.scaling.messages_per_task)

    if inputs.subscription.enabled:
        sub = inputs.subscription
        rule = events.Rule(scope, "Subscription", event_bus=environment_bus(scope, environment),
                           description=f"{ctx.family}: events for the worker's queue",
                           event_pattern=events.EventPattern(source=list(sub.sources) or None,
                                                             detail_type=list(sub.detail_types) or None))
        rule.add_target(targets.SqsQueue(queue, dead_letter_queue=dead_letters, retry_attempts=8,
                                         max_event_age=Duration.hours(24)))
        outputs["subscription-rule-arn"] = rule.rule_arn
    if isinstance(inputs, WorkerInputsV11):
        subscribe_topics(scope, ctx, inputs.topics, queue=queue, dead_letters=dead_letters)

    # Messages arriving in the dead-letter queue: the new version fails where the old one did not.
    arrivals = cloudwatch.MathExpression(
        expression="DIFF(dlq)", period=Duration.minutes(1), label="Messages arriving in the dead-letter queue",
        using_metrics={"dlq": dead_letters.metric_approximate_number_of_messages_visible(
            period=Duration.minutes(1), statistic="Maximum")})
    alarm = cloudwatch.Alarm(scope, "DeadLetterAlarm", metric=arrivals, threshold=0, evaluation_periods=1,
                             comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                             treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
                             alarm_description=f"{ctx.family}: messages are reaching the dead-letter queue")
    finish(fargate, alarm_rollback=inputs.deployment.alarm_rollback, alarms=[alarm], environment=environment)
    return published(pipeline, fargate.discovery(), outputs, {
        "queue-url": queue.queue_url, "queue-arn": queue.queue_arn, "dead-letter-queue-url": dead_letters.queue_url})


# --- Copilot habits (issue 16): SNS topics of other services, through the worker's queue ----------------
def subscribe_topics(scope: Construct, ctx: ServiceContext, topics: Sequence[TopicSubscription], *,
                     queue: sqs.IQueue, dead_letters: sqs.IQueue) -> None:
    """Each topic is another service's sns-topic component, named by keel.contract.naming.component_name in this
    environment: its ARN is built from that name and this stack's region and account, with no cross-stack
    export. The queue policy admits exactly these topics (aws:SourceArn); SNS may use the queue key."""
    stack = Stack.of(scope)
    for topic in topics:
        name = component_name(ctx.environment.name, topic.service, topic.name)
        cid = f"Topic{pascal_id(topic.service)}{pascal_id(topic.name)}"
        found = sns.Topic.from_topic_arn(scope, cid, f"arn:{stack.partition}:sns:{stack.region}:{stack.account}:{name}")
        subscription = subscriptions.SqsSubscription(
            queue, raw_message_delivery=topic.raw_message_delivery, dead_letter_queue=dead_letters)
        created = found.add_subscription(subscription)
        cfn = created.node.default_child
        if topic.filter_policy is not None and isinstance(cfn, sns.CfnSubscription):
            cfn.filter_policy = dict(topic.filter_policy)  # SNS's own JSON, validated in the spec layer
