"""scheduled-fargate-svc 1.x: EventBridge Scheduler runs the Fargate task on a cron, rate or at expression
in a time zone, with a flexible window, retries and a dead-letter queue for runs that could not start."""

from __future__ import annotations

from aws_cdk import Duration, Stack, TimeZone
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as scheduler_targets
from constructs import Construct

from keel.constructs.common import own_inline_policy
from keel.constructs.container_service import dead_letter_queue
from keel.spec.model import Service, ServiceInstance
from keel.stacks.outputs import EnvironmentOutputs, removal_policy
from keel.templates.container_inputs import PipelineInputs
from keel.templates.container_service import ServiceContext, fargate_task, published, security_group, subnets
from keel.templates.scheduled_fargate_svc.inputs import ScheduledInputs


def build(scope: Construct, *, service: Service, instance: ServiceInstance, inputs: ScheduledInputs,
          pipeline: PipelineInputs | None, environment: EnvironmentOutputs) -> dict[str, str]:
    ctx = ServiceContext(service=service, instance=instance, environment=environment)
    task, outputs = fargate_task(scope, ctx, inputs)
    placement, public = subnets(inputs)
    dead_letters = dead_letter_queue(scope, "DeadLetters", key=environment.key,
                                     removal_policy=removal_policy(environment.environment),
                                     holds="the schedule (runs that could not start after the retries)")
    target = scheduler_targets.EcsRunFargateTask(
        ctx.cluster, task_definition=task.task_definition, task_count=inputs.tasks,
        security_groups=[security_group(scope, ctx)], vpc_subnets=placement, assign_public_ip=public,
        # No tag propagation: tagging on RunTask needs ecs:TagResource on task/<cluster>/*, a wildcard the
        # scheduler's role does without.
        enable_execute_command=inputs.enable_exec,
        dead_letter_queue=dead_letters, retry_attempts=inputs.retry.maximum_retry_attempts,
        max_event_age=Duration.seconds(inputs.retry.maximum_event_age_seconds))
    window = inputs.flexible_window_minutes
    schedule = scheduler.Schedule(
        scope, "Schedule", target=target, enabled=inputs.enabled,
        description=f"{ctx.family}: runs the task ({inputs.schedule_expression})",
        schedule=scheduler.ScheduleExpression.expression(inputs.schedule_expression,
                                                         TimeZone.of(inputs.schedule_timezone)),
        time_window=scheduler.TimeWindow.flexible(Duration.minutes(window)) if window else scheduler.TimeWindow.off())
    # The target's role (CDK creates it next to the schedule: RunTask on this task definition, PassRole, DLQ).
    for child in Stack.of(scope).node.children:
        if child.node.id.startswith("SchedulerRoleForTarget"):
            own_inline_policy(child, f"EventBridge Scheduler's role that runs {ctx.family}")
    return published(ctx, None, pipeline, outputs, {
        "schedule-name": schedule.schedule_name, "task-definition-arn": task.task_definition.task_definition_arn,
        "dead-letter-queue-url": dead_letters.queue_url})
