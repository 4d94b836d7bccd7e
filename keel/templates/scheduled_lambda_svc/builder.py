"""scheduled-lambda-svc 1.x builder: EventBridge Scheduler -> Lambda, retries and DLQs on both hops."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Duration, Stack, TimeZone, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as scheduler_targets
from constructs import Construct

from keel.constructs.common import own_inline_policy
from keel.constructs.queues import dead_letter_queue
from keel.contract.outputs import NetworkOutputs
from keel.spec.model import Service, ServiceInstance
from keel.templates.lambda_inputs import LambdaPipelineInputs
from keel.templates.lambda_service import build_function, environment_key, function_discovery
from keel.templates.scheduled_lambda_svc.inputs import ScheduledLambdaSvcInputs


def build(scope: Construct, *, service: Service, instance: ServiceInstance, inputs: ScheduledLambdaSvcInputs,
          pipeline: LambdaPipelineInputs, environment: NetworkOutputs) -> dict[str, str]:
    key = environment_key(scope, environment)
    policy = environment.removal_policy
    dead_letters = dead_letter_queue(scope, "DeadLetters", key=key, removal_policy=policy,
                                     owner=f"service {service.name}")
    max_age = Duration.seconds(inputs.max_event_age_seconds)
    fn = build_function(
        scope, "Function", service=service, instance=instance, inputs=inputs, pipeline=pipeline,
        environment=environment, description=f"{service.name} ({instance.name}): scheduled job",
        invoked_by="EventBridge Scheduler invokes it asynchronously (its own retries and DLQ on the schedule target)",
        async_dead_letters=dead_letters, async_retry_attempts=inputs.function_retry_attempts,
        async_max_event_age=Duration.seconds(min(inputs.max_event_age_seconds, 21600)))
    # Scheduler's role: invoke this function, write to the DLQ (the target adds both grants).
    role = iam.Role(scope, "SchedulerRole", assumed_by=iam.ServicePrincipal(
        "scheduler.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": Stack.of(scope).account}}),
        description=f"EventBridge Scheduler: invoke {service.name} ({instance.name})")
    function_id = Stack.of(scope).get_logical_id(fn.function.node.default_child)  # type: ignore[arg-type]
    own_inline_policy(role, f"EventBridge Scheduler's role for {service.name} ({instance.name})")
    Validations.of(role).acknowledge(Acknowledgment(
        id=f"AwsSolutions::AwsSolutions-IAM5[Resource::<{function_id}.Arn>:*]",
        reason="lambda:InvokeFunction on this function and its versions (CDK's grantInvoke), nothing else"))
    schedule = scheduler.Schedule(
        scope, "Schedule",
        description=f"{service.name} ({instance.name}): {inputs.schedule_expression} {inputs.schedule_timezone}",
        schedule=scheduler.ScheduleExpression.expression(inputs.schedule_expression,
                                                         TimeZone.of(inputs.schedule_timezone)),
        target=scheduler_targets.LambdaInvoke(
            fn.function, role=role, dead_letter_queue=dead_letters, retry_attempts=inputs.retry_attempts,
            max_event_age=max_age,
            input=scheduler.ScheduleTargetInput.from_object({
                "scheduled_time": scheduler.ContextAttribute.scheduled_time,
                "execution_id": scheduler.ContextAttribute.execution_id,
                "attempt": scheduler.ContextAttribute.attempt_number})),
        enabled=inputs.schedule_enabled, key=key,
        time_window=scheduler.TimeWindow.flexible(Duration.minutes(inputs.flexible_window_minutes))
        if inputs.flexible_window_minutes else scheduler.TimeWindow.off())
    return function_discovery(fn) | {"schedule/arn": schedule.schedule_arn,
                                     "queue/dead-letter-url": dead_letters.queue_url}
