"""scheduled-fargate-svc 1.x: EventBridge Scheduler runs the Fargate task on a cron, rate or at expression
in a time zone, with a flexible window, retries and a dead-letter queue for runs that could not start."""

from __future__ import annotations

from aws_cdk import Duration, Stack, TimeZone
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_logs as logs
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as scheduler_targets
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as sfn_tasks
from constructs import Construct

from keel.constructs.common import RETENTION, justify, own_inline_policy
from keel.constructs.container_service import ContainerProps, ContainerTask, dead_letter_queue
from keel.contract.outputs import EcsEnvOutputs
from keel.spec.model import Service, ServiceInstance
from keel.templates.container_inputs import Ec2PlacementInputs, PipelineInputs, placement_expression, runs_on_ec2
from keel.templates.container_service import (
    ServiceContext,
    container,
    cpu_architecture,
    ec2_capacity_provider,
    image,
    is_public,
    published,
)
from keel.templates.scheduled_fargate_svc.inputs import ScheduledInputs, ScheduledInputsV11, runs_in_state_machine


def build(scope: Construct, *, service: Service, instance: ServiceInstance, inputs: ScheduledInputs,
          pipeline: PipelineInputs | None, environment: EcsEnvOutputs) -> dict[str, str]:
    ctx = ServiceContext(service=service, instance=instance, environment=environment)
    # A task, not a service: the schedule runs it. Its pieces keep the IDs the template was released with.
    container_image, outputs = image(scope, ctx, inputs)
    props = container(ctx, inputs, container_image, log_stream_prefix=ctx.name)
    log_group = logs.LogGroup(scope, "Logs", retention=RETENTION[inputs.log_retention_days],
                              encryption_key=environment.key, removal_policy=environment.removal_policy)
    on_ec2 = runs_on_ec2(inputs)  # ec2 placement (issue 18)
    task = _task(scope, props, inputs, log_group=log_group, on_ec2=on_ec2)
    if props.enable_exec:
        task.allow_exec(key=environment.key, log_group=environment.exec_log_group)
    outputs["log-group"] = log_group.log_group_name
    public = is_public(inputs) and not on_ec2  # ECS gives public IPs to Fargate tasks only
    dead_letters = dead_letter_queue(scope, "DeadLetters", key=environment.key,
                                     removal_policy=environment.removal_policy,
                                     holds="the schedule (runs that could not start after the retries)")
    group = ec2.SecurityGroup(scope, "SecurityGroup", vpc=environment.vpc, allow_all_outbound=True,
                              description=f"Keel {environment.name}: tasks of {ctx.family}")
    task.security_group = group
    subnets = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC if public else ec2.SubnetType.PRIVATE_WITH_EGRESS)
    target: scheduler.IScheduleTarget
    if runs_in_state_machine(inputs):
        assert isinstance(inputs, ScheduledInputsV11)  # runs_in_state_machine said so
        job = job_state_machine(scope, ctx, inputs, task=task, security_group=group, subnets=subnets, public=public)
        outputs["state-machine-arn"] = job.state_machine_arn
        target = scheduler_targets.StepFunctionsStartExecution(
            job, dead_letter_queue=dead_letters, retry_attempts=inputs.retry.maximum_retry_attempts,
            max_event_age=Duration.seconds(inputs.retry.maximum_event_age_seconds))
    elif on_ec2:
        target = _ec2_target(ctx, inputs, task=task, security_group=group, subnets=subnets, dead_letters=dead_letters)
    else:
        target = scheduler_targets.EcsRunFargateTask(
            environment.cluster, task_definition=task.task_definition, task_count=inputs.tasks,
            security_groups=[group], assign_public_ip=public,
            vpc_subnets=subnets,
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


# ec2 placement (issue 18)
def _task(scope: Construct, props: ContainerProps, inputs: ScheduledInputs, *, log_group: logs.ILogGroup,
          on_ec2: bool) -> ContainerTask:
    """The task the schedule runs: on Fargate, or on EC2 with its GPUs and the memberOf constraint on instance
    attributes (as the services' EC2 tasks have them)."""
    gpus, expressions = 0, []
    if on_ec2:
        assert isinstance(inputs, Ec2PlacementInputs)  # runs_on_ec2 said so
        gpus, expressions = inputs.requires_gpu, [str(placement_expression(c)[0]) for c in inputs.placement_constraints]
    return ContainerTask(
        scope, "Task", family=props.family,
        compatibility=ecs.Compatibility.EC2 if on_ec2 else ecs.Compatibility.FARGATE, image=props.image,
        cpu=props.cpu, memory_mib=props.memory_mib, environment=props.environment, secrets=props.secrets,
        key=props.key, log_group=log_group, log_stream_prefix=props.log_stream_prefix, firelens=props.firelens,
        sidecars=props.sidecars, cpu_architecture=cpu_architecture(inputs), gpu_count=gpus,
        placement_constraints=[" and ".join(expressions)] if expressions else [],
        operating_system_family=props.operating_system_family)  # Windows containers (issue 15)


def _ec2_target(ctx: ServiceContext, inputs: ScheduledInputs, *, task: ContainerTask,
                security_group: ec2.ISecurityGroup, subnets: ec2.SubnetSelection,
                dead_letters: sqs.IQueue) -> scheduler.IScheduleTarget:
    """RunTask on the environment's capacity provider the spec checks chose (no public IPs on EC2)."""
    assert isinstance(inputs, Ec2PlacementInputs)  # runs_on_ec2 said so
    return scheduler_targets.EcsRunEc2Task(
        ctx.environment.cluster, task_definition=task.task_definition, task_count=inputs.tasks,
        security_groups=[security_group], vpc_subnets=subnets, enable_execute_command=inputs.enable_exec,
        capacity_provider_strategies=[ecs.CapacityProviderStrategy(
            capacity_provider=ec2_capacity_provider(ctx.environment, inputs), weight=1)],
        dead_letter_queue=dead_letters, retry_attempts=inputs.retry.maximum_retry_attempts,
        max_event_age=Duration.seconds(inputs.retry.maximum_event_age_seconds))


# --- Copilot habits (issue 16): a job's timeout and retries of a failed run -----------------------------
def job_state_machine(scope: Construct, ctx: ServiceContext, inputs: ScheduledInputsV11, *,
                      task: ContainerTask, security_group: ec2.ISecurityGroup, subnets: ec2.SubnetSelection,
                      public: bool) -> sfn.StateMachine:
    """Runs the task and waits for it (ECS RunTask .sync): a run that fails (non-zero exit, stopped, timed out
    after timeout_seconds) is run again `retries` times, as Copilot's jobs were. Logged (every event, without
    execution data) to a log group encrypted with the environment key, traced, its state encrypted with it."""
    environment = ctx.environment
    run = sfn_tasks.EcsRunTask(
        scope, "RunTask", cluster=environment.cluster, task_definition=task.task_definition,
        launch_target=sfn_tasks.EcsFargateLaunchTarget(platform_version=ecs.FargatePlatformVersion.LATEST),
        integration_pattern=sfn.IntegrationPattern.RUN_JOB, security_groups=[security_group], subnets=subnets,
        assign_public_ip=public, enable_execute_command=inputs.enable_exec,
        task_timeout=sfn.Timeout.duration(Duration.seconds(inputs.timeout_seconds)) if inputs.timeout_seconds
        else None)
    if inputs.retries:
        run.add_retry(errors=[sfn.Errors.ALL], max_attempts=inputs.retries, interval=Duration.seconds(10),
                      backoff_rate=2)
    log_group = logs.LogGroup(scope, "JobLogs", retention=RETENTION[inputs.log_retention_days],
                              encryption_key=environment.key, removal_policy=environment.removal_policy)
    machine = sfn.StateMachine(
        # A name of its own: the KMS grant's condition names the state machine's ARN, which needs it.
        scope, "Job", state_machine_name=ctx.family, definition_body=sfn.DefinitionBody.from_chainable(run),
        tracing_enabled=True,
        comment=f"{ctx.family}: runs the task, stops it after its timeout, runs a failed run again",
        logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=False),
        encryption_configuration=sfn.CustomerManagedEncryptionConfiguration(environment.key),
        removal_policy=environment.removal_policy)
    own_inline_policy(machine.role, f"The state machine's role that runs {ctx.family}")
    justify(machine.role, nag={"AwsSolutions-IAM5[Resource::*]": (
        "Step Functions' log delivery (logs:*LogDelivery, DescribeLogGroups, DescribeResourcePolicies, "
        "PutResourcePolicy) and X-Ray's trace and sampling calls have no resource-level permissions; ecs:DescribeTasks "
        "and ecs:StopTask act on the task this machine starts, whose ARN exists only at run time (CDK's RunTask .sync "
        "grant)")})
    return machine
