"""scheduled-fargate-svc 1.x: EventBridge Scheduler runs the Fargate task on a cron, rate or at expression
in a time zone, with a flexible window, retries and a dead-letter queue for runs that could not start."""

from __future__ import annotations

from aws_cdk import Duration, Stack, TimeZone
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_logs as logs
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as scheduler_targets
from constructs import Construct

from keel.constructs.common import RETENTION, own_inline_policy
from keel.constructs.container_service import ContainerTask, dead_letter_queue
from keel.contract.outputs import EcsEnvOutputs
from keel.spec.model import Service, ServiceInstance
from keel.templates.container_inputs import PipelineInputs
from keel.templates.container_service import ServiceContext, container, image, is_public, published
from keel.templates.scheduled_fargate_svc.inputs import ScheduledInputs


def build(scope: Construct, *, service: Service, instance: ServiceInstance, inputs: ScheduledInputs,
          pipeline: PipelineInputs | None, environment: EcsEnvOutputs) -> dict[str, str]:
    ctx = ServiceContext(service=service, instance=instance, environment=environment)
    # A task, not a service: the schedule runs it. Its pieces keep the IDs the template was released with.
    container_image, outputs = image(scope, ctx, inputs)
    props = container(ctx, inputs, container_image, log_stream_prefix=ctx.name)
    log_group = logs.LogGroup(scope, "Logs", retention=RETENTION[inputs.log_retention_days],
                              encryption_key=environment.key, removal_policy=environment.removal_policy)
    task = ContainerTask(
        scope, "Task", family=props.family, compatibility=ecs.Compatibility.FARGATE, image=props.image,
        cpu=props.cpu, memory_mib=props.memory_mib, environment=props.environment, secrets=props.secrets,
        key=props.key, log_group=log_group, log_stream_prefix=props.log_stream_prefix, firelens=props.firelens)
    if props.enable_exec:
        task.allow_exec(key=environment.key, log_group=environment.exec_log_group)
    outputs["log-group"] = log_group.log_group_name
    public = is_public(inputs)
    dead_letters = dead_letter_queue(scope, "DeadLetters", key=environment.key,
                                     removal_policy=environment.removal_policy,
                                     holds="the schedule (runs that could not start after the retries)")
    group = ec2.SecurityGroup(scope, "SecurityGroup", vpc=environment.vpc, allow_all_outbound=True,
                              description=f"Keel {environment.name}: tasks of {ctx.family}")
    task.security_group = group
    target = scheduler_targets.EcsRunFargateTask(
        environment.cluster, task_definition=task.task_definition, task_count=inputs.tasks,
        security_groups=[group], assign_public_ip=public,
        vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC if public
                                        else ec2.SubnetType.PRIVATE_WITH_EGRESS),
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
    return published(pipeline, outputs, {
        "schedule-name": schedule.schedule_name, "task-definition-arn": task.task_definition.task_definition_arn,
        "dead-letter-queue-url": dead_letters.queue_url})
