"""What the container service templates share: the task (image, size, configuration, secrets by reference,
logs, FireLens), its two roles, an ECR repository per service, the ECS service around it (circuit
breaker with rollback, deployment alarms, Service Connect or Cloud Map), autoscaling, and a Network Load
Balancer with optional PrivateLink.

Least privilege, by construction:
- the execution role (ECS agent: pull, logs, secrets) may read exactly the secrets the task names, and
  decrypt with the environment key only through SSM and Secrets Manager;
- the task role (the application) starts empty; FireLens and ECS Exec add only what they need.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from aws_cdk import Acknowledgment, Duration, RemovalPolicy, Stack, Token, Validations
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_servicediscovery as servicediscovery
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from keel.constructs.common import FLUENT_BIT_IMAGE, ecs_tasks_principal, firelens_cloudwatch_options, own_inline_policy

#: The application container's name in every task definition (Service Connect and targets name it).
APP = "app"
#: The port mapping name Service Connect refers to.
PORT_NAME = "app"


@dataclass(frozen=True)
class ConfigSecret:
    """An environment variable ECS fills from the config plane: `location` is the parameter name
    (`/keel/<env>/<service>/<key>`) or the secret name (`keel/<env>/<service>/<key>`)."""

    variable: str
    source: str  # parameter | secret
    location: str
    json_key: str | None = None
    # Copilot habits (issue 16): `location` is an existing parameter's or secret's full name or ARN, outside
    # the config plane (such as /copilot/<app>/<env>/secrets/<name>).
    external: bool = False


# sidecars (issue 17)
@dataclass(frozen=True, kw_only=True)
class SidecarProps:
    """A container next to the application in its task: it logs to the task's log group under a stream prefix
    of its own, and takes its CPU and memory out of the task's."""

    name: str
    image: ecs.ContainerImage
    essential: bool = False
    port: int | None = None
    environment: Mapping[str, str] = field(default_factory=dict)
    secrets: Sequence[ConfigSecret] = ()
    #: (container name, condition): the application container is APP.
    depends_on: Sequence[tuple[str, ecs.ContainerDependencyCondition]] = ()
    cpu: int | None = None
    memory_mib: int | None = None
    command: Sequence[str] = ()
    #: The command (exec form) Docker runs for the container's health (what a HEALTHY dependency waits for).
    health_check: Sequence[str] = ()
    #: A telemetry collector: the task role may send X-Ray segments and put metrics in these namespaces only.
    telemetry_metric_namespaces: Sequence[str] = ()
    traces: bool = False
    #: The log groups (by name) a collector writes embedded-metric-format events to, with their streams.
    telemetry_log_groups: Sequence[str] = ()
    #: Its log stream prefix (default: its name); in a log group shared by services, one of the service's own.
    log_stream_prefix: str | None = None


def _pascal(text: str) -> str:
    return "".join(p[:1].upper() + p[1:].lower() for p in text.replace("-", "_").split("_") if p)


class ContainerTask(Construct):
    """A task definition with one application container (and a Fluent Bit log router with FireLens).

    `compatibility` FARGATE gives a FargateTaskDefinition (awsvpc, task-level CPU/memory); EXTERNAL gives an
    ExternalTaskDefinition (bridge or host networking, container-level CPU/memory, GPUs, placement).
    """

    def __init__(self, scope: Construct, id_: str, *, family: str, compatibility: ecs.Compatibility,
                 image: ecs.ContainerImage,
                 cpu: int, memory_mib: int, environment: Mapping[str, str], secrets: Sequence[ConfigSecret],
                 key: kms.IKey, log_group: logs.ILogGroup, log_stream_prefix: str, firelens: bool,
                 port_mappings: Sequence[ecs.PortMapping] = (), network_mode: ecs.NetworkMode | None = None,
                 gpu_count: int = 0, placement_constraints: Sequence[str] = (),
                 log_routing_policy: iam.IManagedPolicy | None = None,
                 execution_role: iam.Role | None = None,
                 cpu_architecture: ecs.CpuArchitecture = ecs.CpuArchitecture.X86_64,
                 sidecars: Sequence[SidecarProps] = (),
                 # Windows containers (issue 15): Fargate's runtime platform
                 operating_system_family: ecs.OperatingSystemFamily = ecs.OperatingSystemFamily.LINUX) -> None:
        super().__init__(scope, id_)
        self.log_group = log_group
        #: The security group its tasks run with, set by whoever places them (a service, a schedule); None: the
        #: tasks have none of their own (ECS Anywhere). Components (issue 17) open their ports to it.
        self.security_group: ec2.ISecurityGroup | None = None
        self._roles(family, compatibility, execution_role)
        # EC2 and EXTERNAL tasks size the container (the instance has the rest); only they take GPUs and placement.
        external = compatibility in (ecs.Compatibility.EXTERNAL, ecs.Compatibility.EC2)
        self.task_definition: ecs.TaskDefinition = self._task_definition(
            family, compatibility, cpu=cpu, memory_mib=memory_mib, network_mode=network_mode,
            placement_constraints=placement_constraints, cpu_architecture=cpu_architecture,
            operating_system_family=operating_system_family)
        logging = self._logging(log_group, log_stream_prefix, firelens=firelens,
                                log_routing_policy=log_routing_policy)
        self.container = self.task_definition.add_container(
            "App", container_name=APP, image=image, essential=True, logging=logging,
            environment=dict(environment) or None,
            secrets={s.variable: self._secret(s) for s in secrets} or None,
            port_mappings=list(port_mappings) or None,
            cpu=cpu if external else None, memory_limit_mib=memory_mib if external else None,
            gpu_count=gpu_count or None)
        self._add_sidecars(sidecars, log_group)  # sidecars (issue 17)
        if secrets or any(s.secrets for s in sidecars):
            region = Stack.of(self).region
            self.execution_role.add_to_principal_policy(iam.PolicyStatement(
                sid="DecryptConfigThroughSsmAndSecretsManager", actions=["kms:Decrypt"], resources=[key.key_arn],
                conditions={"StringEquals": {"kms:ViaService": [f"ssm.{region}.amazonaws.com",
                                                                f"secretsmanager.{region}.amazonaws.com"]}}))
        self._acknowledge_environment(compatibility, environment, sidecars)
        self._acknowledge_grants()

    def _roles(self, family: str, compatibility: ecs.Compatibility, execution_role: iam.Role | None) -> None:
        """The task role (the application's, empty until something grants) and the execution role (the agent's)."""
        self.task_role = iam.Role(self, "TaskRole", assumed_by=ecs_tasks_principal(self),
                                  description=f"{family}: the application's own permissions")
        self.execution_role = execution_role or iam.Role(
            self, "ExecutionRole", assumed_by=ecs_tasks_principal(self),
            description=f"{family}: ECS agent (image pull, logs, the task's secrets)")
        if compatibility not in (ecs.Compatibility.FARGATE, ecs.Compatibility.EXTERNAL, ecs.Compatibility.EC2):
            raise ValueError(f"{self.node.path}: a ContainerTask is FARGATE, EC2 or EXTERNAL, not {compatibility}")
        own_inline_policy(self.task_role, f"The task role of {family} (what its application may call)")
        if execution_role is None:
            own_inline_policy(self.execution_role, f"The execution role of {family} (its image, logs and secrets)")

    def _task_definition(self, family: str, compatibility: ecs.Compatibility, *, cpu: int, memory_mib: int,
                         network_mode: ecs.NetworkMode | None, placement_constraints: Sequence[str],
                         cpu_architecture: ecs.CpuArchitecture,
                         operating_system_family: ecs.OperatingSystemFamily) -> ecs.TaskDefinition:
        """FARGATE: task-level size and runtime platform; EC2 (awsvpc) and EXTERNAL: placement constraints."""
        definition: ecs.TaskDefinition
        if compatibility == ecs.Compatibility.EC2:
            # awsvpc: each task its own ENI and security group, as on Fargate (and Service Connect works alike).
            definition = ecs.Ec2TaskDefinition(
                self, "Resource", family=family, network_mode=ecs.NetworkMode.AWS_VPC, task_role=self.task_role,
                execution_role=self.execution_role)
        elif compatibility == ecs.Compatibility.EXTERNAL:
            definition = ecs.ExternalTaskDefinition(
                self, "Resource", family=family, network_mode=network_mode, task_role=self.task_role,
                execution_role=self.execution_role)
        else:
            return ecs.FargateTaskDefinition(
                self, "Resource", family=family, cpu=cpu, memory_limit_mib=memory_mib,
                task_role=self.task_role, execution_role=self.execution_role,
                runtime_platform=ecs.RuntimePlatform(cpu_architecture=cpu_architecture,
                                                     operating_system_family=operating_system_family))
        for expression in placement_constraints:
            definition.add_placement_constraint(ecs.PlacementConstraint.member_of(expression))
        return definition

    def _logging(self, log_group: logs.ILogGroup, log_stream_prefix: str, *, firelens: bool,
                 log_routing_policy: iam.IManagedPolicy | None) -> ecs.LogDriver:
        """The application container's log driver: awslogs, or FireLens through a Fluent Bit router."""
        if not firelens:
            return ecs.LogDrivers.aws_logs(stream_prefix=log_stream_prefix, log_group=log_group)
        self.task_definition.add_firelens_log_router(
            "LogRouter", container_name="log-router", image=ecs.ContainerImage.from_registry(FLUENT_BIT_IMAGE),
            essential=True, memory_reservation_mib=50,
            firelens_config=ecs.FirelensConfig(type=ecs.FirelensLogRouterType.FLUENTBIT,
                                               options=ecs.FirelensOptions(enable_ecs_log_metadata=True)),
            logging=ecs.LogDrivers.aws_logs(stream_prefix=f"{log_stream_prefix}-firelens", log_group=log_group))
        logging = ecs.LogDrivers.firelens(options=firelens_cloudwatch_options(
            log_group=log_group.log_group_name, region=Stack.of(self).region, stream_prefix=f"{log_stream_prefix}/"))
        # The router writes with the task role; external tasks use the environment's policy for it.
        if log_routing_policy is not None:
            self.task_role.add_managed_policy(log_routing_policy)
        else:
            self.task_role.add_to_principal_policy(iam.PolicyStatement(
                sid="FireLensToServiceLogs",
                actions=["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                resources=[log_group.log_group_arn]))
        return logging

    def _add_sidecars(self, sidecars: Sequence[SidecarProps], log_group: logs.ILogGroup) -> None:
        """Sidecars (issue 17) after the application container, then their dependencies and telemetry grants."""
        self.sidecars = {s.name: self._sidecar(s, log_group) for s in sidecars}
        for sidecar in sidecars:
            for name, condition in sidecar.depends_on:
                target = self.container if name == APP else self.sidecars[name]
                self.sidecars[sidecar.name].add_container_dependencies(
                    ecs.ContainerDependency(container=target, condition=condition))
        if any(s.traces or s.telemetry_metric_namespaces for s in sidecars):
            self._allow_telemetry([n for s in sidecars for n in s.telemetry_metric_namespaces],
                                  [g for s in sidecars for g in s.telemetry_log_groups])

    def _acknowledge_environment(self, compatibility: ecs.Compatibility, environment: Mapping[str, str],
                                 sidecars: Sequence[SidecarProps]) -> None:
        if compatibility == ecs.Compatibility.EC2 and not environment:
            Validations.of(self.task_definition).acknowledge(Acknowledgment(
                id="AwsSolutions::AwsSolutions-ECS2",
                reason="Only AWS_REGION, which CDK sets on containers of EC2 tasks (Fargate sets it itself); "
                       "secrets reach the container by reference, never as environment values."))
        if environment or any(s.environment for s in sidecars):
            Validations.of(self.task_definition).acknowledge(Acknowledgment(
                id="AwsSolutions::AwsSolutions-ECS2",
                reason="Plain settings from the service spec; secrets reach the container by reference "
                       "(the task definition's secrets), never as environment values."))

    # sidecars (issue 17)
    def _sidecar(self, sidecar: SidecarProps, log_group: logs.ILogGroup) -> ecs.ContainerDefinition:
        return self.task_definition.add_container(
            f"Sidecar{_pascal(sidecar.name)}", container_name=sidecar.name, image=sidecar.image,
            essential=sidecar.essential, environment=dict(sidecar.environment) or None,
            secrets={s.variable: self._secret(s, prefix=f"Sidecar{_pascal(sidecar.name)}") for s in sidecar.secrets}
            or None,
            port_mappings=[ecs.PortMapping(container_port=sidecar.port, protocol=ecs.Protocol.TCP)]
            if sidecar.port else None,
            cpu=sidecar.cpu or None, memory_limit_mib=sidecar.memory_mib, command=list(sidecar.command) or None,
            health_check=ecs.HealthCheck(command=["CMD", *sidecar.health_check])
            if sidecar.health_check else None,
            logging=ecs.LogDrivers.aws_logs(stream_prefix=sidecar.log_stream_prefix or sidecar.name,
                                            log_group=log_group))

    def _allow_telemetry(self, namespaces: Sequence[str], log_groups: Sequence[str] = ()) -> None:
        """What an OpenTelemetry collector sends: X-Ray segments and sampling, metrics in its own namespaces, and
        the embedded-metric-format log events its awsemf exporter writes (the group it creates, its streams)."""
        self.task_role.add_to_principal_policy(iam.PolicyStatement(
            sid="CollectorTraces", resources=["*"],
            actions=["xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules",
                     "xray:GetSamplingTargets"]))
        if namespaces:
            self.task_role.add_to_principal_policy(iam.PolicyStatement(
                sid="CollectorMetrics", resources=["*"], actions=["cloudwatch:PutMetricData"],
                conditions={"StringEquals": {"cloudwatch:namespace": sorted(set(namespaces))}}))
        for group in sorted(set(log_groups)):
            self._allow_metrics_log_group(group)
        Validations.of(self.task_role).acknowledge(Acknowledgment(
            id="AwsSolutions::AwsSolutions-IAM5[Resource::*]",
            reason="The OpenTelemetry collector sidecar: X-Ray's PutTraceSegments, PutTelemetryRecords and "
                   "sampling actions have no resource-level permissions; cloudwatch:PutMetricData has none either "
                   "and is limited by its cloudwatch:namespace condition to the collector's namespaces."))

    def _allow_metrics_log_group(self, name: str) -> None:
        """awsemf's calls (CreateLogGroup, CreateLogStream, DescribeLogStreams, PutLogEvents) on exactly that group
        and its streams, whose names (one per task) exist only at run time."""
        stack = Stack.of(self)
        group = f"arn:{stack.partition}:logs:{stack.region}:{stack.account}:log-group:{name}"
        self.task_role.add_to_principal_policy(iam.PolicyStatement(
            sid="CollectorMetricsLogs", resources=[group, f"{group}:log-stream:*"],
            actions=["logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"]))
        partition = "<AWS::Partition>" if Token.is_unresolved(stack.partition) else stack.partition
        region = "<AWS::Region>" if Token.is_unresolved(stack.region) else stack.region
        account = "<AWS::AccountId>" if Token.is_unresolved(stack.account) else stack.account
        Validations.of(self.task_role).acknowledge(Acknowledgment(
            id=f"AwsSolutions::AwsSolutions-IAM5[Resource::arn:{partition}:logs:{region}:{account}:log-group:{name}"
               ":log-stream:*]",
            reason=f"The OpenTelemetry collector's awsemf exporter writes its metrics to the log group {name} "
                   "(the collector's default ECS config) in a stream per task, named only at run time; the "
                   "statement names that one group and its streams."))

    def _secret(self, secret: ConfigSecret, prefix: str = "") -> ecs.Secret:
        cid = f"{prefix}Config{_pascal(secret.variable)}"
        if secret.external:
            return self._external_secret(secret, prefix)
        if secret.source == "parameter":
            return ecs.Secret.from_ssm_parameter(ssm.StringParameter.from_secure_string_parameter_attributes(
                self, cid, parameter_name=secret.location))
        return ecs.Secret.from_secrets_manager(
            secretsmanager.Secret.from_secret_name_v2(self, cid, secret.location), field=secret.json_key)

    def _external_secret(self, secret: ConfigSecret, prefix: str = "") -> ecs.Secret:
        """An existing parameter or secret: the execution role may read exactly its ARN (built offline from the
        name and this stack's partition, region and account when no ARN is given)."""
        cid = f"{prefix}External{_pascal(secret.variable)}"
        arn = secret.location.startswith("arn:")
        if secret.source == "parameter":
            parameter = (ssm.StringParameter.from_string_parameter_arn(self, cid, secret.location) if arn else
                         ssm.StringParameter.from_secure_string_parameter_attributes(self, cid,
                                                                                    parameter_name=secret.location))
            return ecs.Secret.from_ssm_parameter(parameter)
        if arn:
            found = secretsmanager.Secret.from_secret_complete_arn(self, cid, secret.location)
        else:
            # A name, not an ARN: Secrets Manager appends a random 6-character suffix to every secret's ARN, so
            # the grant can only name `<name>-??????` (CDK's from_secret_name_v2); an ARN is granted as it is.
            found = secretsmanager.Secret.from_secret_name_v2(self, cid, secret.location)
            stack = Stack.of(self)
            partition = "<AWS::Partition>" if Token.is_unresolved(stack.partition) else stack.partition
            region = "<AWS::Region>" if Token.is_unresolved(stack.region) else stack.region
            Validations.of(self.execution_role).acknowledge(Acknowledgment(
                id=f"AwsSolutions::AwsSolutions-IAM5[Resource::arn:{partition}:secretsmanager:{region}:"
                   f"<AWS::AccountId>:secret:{secret.location}-??????]",
                reason=f"{secret.variable} names the existing secret {secret.location} by name: Secrets Manager "
                       "appends a random 6-character suffix to its ARN, which the name does not carry; the "
                       "statement names that one secret."))
        return ecs.Secret.from_secrets_manager(found, field=secret.json_key)

    def _acknowledge_grants(self) -> None:
        stack = Stack.of(self)
        partition = "<AWS::Partition>" if Token.is_unresolved(stack.partition) else stack.partition
        region = "<AWS::Region>" if Token.is_unresolved(stack.region) else stack.region
        Validations.of(self.execution_role).acknowledge(
            Acknowledgment(id="AwsSolutions::AwsSolutions-IAM5[Resource::*]",
                           reason="ecr:GetAuthorizationToken has no resource-level permissions (CDK's ECR pull "
                                  "grant); every other statement names its repository, log group or secret."),
            Acknowledgment(id=f"AwsSolutions::AwsSolutions-IAM5[Resource::arn:{partition}:secretsmanager:{region}:"
                              "<AWS::AccountId>:secret:keel/*-??????]",
                           reason="Secrets Manager appends a random 6-character suffix to a secret's ARN; the "
                                  "statement names each secret the task reads, nothing else."))

    def allow_exec(self, *, key: kms.IKey, log_group: logs.ILogGroup | None) -> None:
        """ECS Exec for this task's role: the SSM channel, the environment key, the session log group.

        Services switch exec on with `exec_on` rather than CDK's `enable_execute_command`, which would add
        the same grants again with the log group's ARN rebuilt around a cross-stack name (a wildcard
        cdk-nag cannot be told about without an ID that embeds the export).
        """
        self.task_role.add_to_principal_policy(iam.PolicyStatement(
            sid="ExecSessionChannel", resources=["*"],
            actions=["ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel",
                     "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel", "logs:DescribeLogGroups"]))
        self.task_role.add_to_principal_policy(iam.PolicyStatement(
            sid="ExecSessionEncryption", actions=["kms:Decrypt"], resources=[key.key_arn]))
        if log_group is not None:
            self.task_role.add_to_principal_policy(iam.PolicyStatement(
                sid="ExecSessionLogs", actions=["logs:CreateLogStream", "logs:PutLogEvents",
                                                "logs:DescribeLogStreams"],
                resources=[log_group.log_group_arn]))
        Validations.of(self.task_role).acknowledge(Acknowledgment(
            id="AwsSolutions::AwsSolutions-IAM5[Resource::*]",
            reason="ECS Exec (enable_exec in the spec): the ssmmessages channel actions and "
                   "logs:DescribeLogGroups have no resource-level permissions."))


def exec_on(service: ecs.BaseService) -> None:
    """ECS Exec on the service itself; the task role's grants come from `ContainerTask.allow_exec`."""
    cfn = service.node.default_child
    assert isinstance(cfn, ecs.CfnService)
    cfn.enable_execute_command = True


class ServiceRepository(Construct):
    """An ECR repository for one service: scan on push, immutable-free tags (the pipeline moves `latest`),
    encrypted with the environment key, a lifecycle rule keeping the newest `max_images`."""

    def __init__(self, scope: Construct, id_: str, *, repository_name: str, key: kms.IKey, max_images: int,
                 removal_policy: RemovalPolicy) -> None:
        super().__init__(scope, id_)
        self.repository = ecr.Repository(
            self, "Resource", repository_name=repository_name, image_scan_on_push=True,
            encryption=ecr.RepositoryEncryption.KMS, encryption_key=key,
            lifecycle_rules=[ecr.LifecycleRule(description=f"Keep the newest {max_images} images",
                                               max_image_count=max_images)],
            removal_policy=removal_policy, empty_on_delete=removal_policy == RemovalPolicy.DESTROY)


def dead_letter_queue(scope: Construct, id_: str, *, key: kms.IKey, removal_policy: RemovalPolicy,
                      holds: str) -> sqs.Queue:
    """A KMS-encrypted, TLS-only queue that keeps what could not be delivered or processed for 14 days."""
    queue = sqs.Queue(scope, id_, encryption=sqs.QueueEncryption.KMS, encryption_master_key=key, enforce_ssl=True,
                      retention_period=Duration.days(14), removal_policy=removal_policy)
    Validations.of(queue).acknowledge(
        Acknowledgment(id="AwsSolutions::AwsSolutions-SQS3",
                       reason=f"This queue is itself the dead-letter queue of {holds}."),
        Acknowledgment(id="Serverless::Serverless-SQSRedrivePolicy",
                       reason=f"This queue is itself the dead-letter queue of {holds}; a DLQ of a DLQ would only "
                              "move the problem."))
    return queue


def circuit_breaker() -> ecs.DeploymentCircuitBreaker:
    """Every Keel service: a deployment that cannot reach steady state stops and rolls back."""
    return ecs.DeploymentCircuitBreaker(enable=True, rollback=True)


def service_connect(*, namespace: servicediscovery.INamespace, discovery_name: str | None, port: int | None,
                    log_group: logs.ILogGroup) -> ecs.ServiceConnectProps:
    """Client (and, with a port, server) of the environment's Service Connect namespace; the proxy logs
    to the service's log group."""
    services = [ecs.ServiceConnectService(port_mapping_name=PORT_NAME, discovery_name=discovery_name,
                                          dns_name=discovery_name, port=port)] if port and discovery_name else None
    return ecs.ServiceConnectProps(
        namespace=namespace.namespace_arn, services=services,
        log_driver=ecs.LogDrivers.aws_logs(stream_prefix="service-connect", log_group=log_group))


def cloud_map(*, namespace: servicediscovery.INamespace, name: str, port: int) -> ecs.CloudMapOptions:
    return ecs.CloudMapOptions(cloud_map_namespace=namespace, name=name, container_port=port,
                               dns_record_type=servicediscovery.DnsRecordType.A, dns_ttl=Duration.seconds(10))


def rollback_on(service: ecs.BaseService, alarms: Sequence[cloudwatch.IAlarm]) -> None:
    """Deployment alarms: a deployment during which one fires rolls back (the circuit breaker's twin)."""
    if alarms:
        service.enable_deployment_alarms([a.alarm_name for a in alarms],
                                         behavior=ecs.AlarmBehavior.ROLLBACK_ON_ALARM)


def scale_on_cpu(service: ecs.BaseService, *, min_tasks: int, max_tasks: int,
                 target_cpu_percent: int) -> ecs.ScalableTaskCount:
    scaling = service.auto_scale_task_count(min_capacity=min_tasks, max_capacity=max_tasks)
    scaling.scale_on_cpu_utilization("Cpu", target_utilization_percent=target_cpu_percent,
                                      scale_in_cooldown=Duration.seconds(120), scale_out_cooldown=Duration.seconds(60))
    return scaling


def scale_on_backlog(service: ecs.BaseService, *, metric: cloudwatch.IMetric, min_tasks: int, max_tasks: int,
                     messages_per_task: int) -> ecs.ScalableTaskCount:
    """Step scaling on a queue's visible messages: in by one when empty, out by one per `messages_per_task`,
    by three when the backlog is five times that."""
    scaling = service.auto_scale_task_count(min_capacity=min_tasks, max_capacity=max_tasks)
    scaling.scale_on_metric(
        "Backlog", metric=metric, adjustment_type=appscaling.AdjustmentType.CHANGE_IN_CAPACITY,
        cooldown=Duration.seconds(60),
        scaling_steps=[appscaling.ScalingInterval(upper=0, change=-1),
                       appscaling.ScalingInterval(lower=messages_per_task, change=+1),
                       appscaling.ScalingInterval(lower=messages_per_task * 5, change=+3)])
    return scaling


class ServiceNetworkLoadBalancer(Construct):
    """A Network Load Balancer (TCP) in front of a service's tasks, optionally offered through PrivateLink
    as a VPC endpoint service to the `allowed_principals`."""

    def __init__(self, scope: Construct, id_: str, *, vpc: ec2.IVpc, internet_facing: bool, port: int,
                 deletion_protection: bool) -> None:
        super().__init__(scope, id_)
        self.load_balancer = elbv2.NetworkLoadBalancer(
            self, "Resource", vpc=vpc, internet_facing=internet_facing, cross_zone_enabled=True,
            deletion_protection=deletion_protection,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC if internet_facing
                                            else ec2.SubnetType.PRIVATE_WITH_EGRESS))
        Validations.of(self.load_balancer).acknowledge(Acknowledgment(
            id="AwsSolutions::AwsSolutions-ELB2",
            reason="A Network Load Balancer writes access logs for TLS listeners only; this one forwards TCP "
                   "to the service, whose own logs record the requests."))
        self.listener = self.load_balancer.add_listener("Tcp", port=port, protocol=elbv2.Protocol.TCP)
        self.endpoint_service: ec2.VpcEndpointService | None = None

    def target(self, service: ecs.BaseService, *, port: int) -> elbv2.NetworkTargetGroup:
        group = self.listener.add_targets(
            "Service", port=port, protocol=elbv2.Protocol.TCP, deregistration_delay=Duration.seconds(30),
            targets=[service.load_balancer_target(container_name=APP, container_port=port)],
            health_check=elbv2.HealthCheck(protocol=elbv2.Protocol.TCP, interval=Duration.seconds(10),
                                           healthy_threshold_count=2, unhealthy_threshold_count=2))
        return group

    def offer(self, *, allowed_principals: Sequence[str], acceptance_required: bool) -> ec2.VpcEndpointService:
        self.endpoint_service = ec2.VpcEndpointService(
            self, "EndpointService", vpc_endpoint_service_load_balancers=[self.load_balancer],
            acceptance_required=acceptance_required,
            allowed_principals=[iam.ArnPrincipal(arn) for arn in allowed_principals])
        return self.endpoint_service


def unhealthy_targets_alarm(scope: Construct, id_: str, *, metric: cloudwatch.IMetric,
                            description: str) -> cloudwatch.Alarm:
    return cloudwatch.Alarm(scope, id_, metric=metric, threshold=1, evaluation_periods=2, datapoints_to_alarm=2,
                            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
                            alarm_description=description)


@dataclass(frozen=True, kw_only=True)
class ContainerProps:
    """The application container of a container service and what its task runs with."""

    #: The task definition family, `keel-<service>-<instance>`; also names the service's resources in descriptions.
    family: str
    image: ecs.ContainerImage
    cpu: int
    memory_mib: int
    environment: Mapping[str, str] = field(default_factory=dict)
    secrets: Sequence[ConfigSecret] = ()
    #: Decrypts the secrets (through SSM and Secrets Manager only) and the ECS Exec session.
    key: kms.IKey
    log_stream_prefix: str
    firelens: bool = False
    port_mappings: Sequence[ecs.PortMapping] = ()
    #: ECS Exec: the task role's grants and the service's switch; sessions are logged to `exec_log_group`.
    enable_exec: bool = False
    exec_log_group: logs.ILogGroup | None = None
    #: Fargate's runtime platform (EC2 tasks run on whatever their capacity provider's instances are).
    cpu_architecture: ecs.CpuArchitecture = ecs.CpuArchitecture.X86_64
    # sidecars (issue 17)
    sidecars: Sequence[SidecarProps] = ()
    # Windows containers (issue 15)
    #: Fargate's runtime platform: Linux, or a Windows Server release (x86_64 only).
    operating_system_family: ecs.OperatingSystemFamily = ecs.OperatingSystemFamily.LINUX


@dataclass(frozen=True, kw_only=True)
class DeploymentProps:
    """A rolling deployment: the circuit breaker always rolls back; deployment alarms can too."""

    desired_count: int
    min_healthy_percent: int
    max_healthy_percent: int


class ContainerService(Construct):
    """The base of Keel's container services (as aws-ecs-patterns' base services): the task definition with
    its roles and container, the ECS service, ECS Exec and rollback on alarms. Subclasses create the service.

    Everything is created inside this construct, so a stack can hold two. With the id "Default" the
    construct is left out of its children's logical IDs (CDK's rule for that id), which is how Keel's
    single-service templates keep the logical IDs they were released with (Task..., Service, Logs...).
    """

    task: ContainerTask
    task_definition: ecs.TaskDefinition
    service: ecs.BaseService
    log_group: logs.ILogGroup

    def _task(self, container: ContainerProps, *, compatibility: ecs.Compatibility, log_group: logs.ILogGroup,
              placement: ExternalPlacementProps | None = None) -> None:
        self.log_group = log_group
        self.task = ContainerTask(
            self, "Task", family=container.family, compatibility=compatibility, image=container.image,
            cpu=container.cpu, memory_mib=container.memory_mib, environment=container.environment,
            secrets=container.secrets, key=container.key, log_group=log_group,
            log_stream_prefix=container.log_stream_prefix, firelens=container.firelens,
            port_mappings=container.port_mappings,
            network_mode=placement.network_mode if placement else None,
            gpu_count=placement.gpu_count if placement else 0,
            log_routing_policy=placement.log_routing_policy if placement else None,
            placement_constraints=[" and ".join(placement.placement_constraints)]
            if placement and placement.placement_constraints else (),
            cpu_architecture=container.cpu_architecture, sidecars=container.sidecars,
            operating_system_family=container.operating_system_family)
        self.task_definition = self.task.task_definition
        if container.enable_exec:
            self.task.allow_exec(key=container.key, log_group=container.exec_log_group)

    def _discovery_options(self, discovery: ServiceDiscoveryProps | None) -> dict[str, Any]:
        """Service Connect or Cloud Map, as the service's keyword arguments (Fargate and EC2 alike)."""
        if discovery is not None and discovery.mode == "service-connect":
            return {"service_connect_configuration": service_connect(
                namespace=discovery.namespace, discovery_name=discovery.name, port=discovery.port,
                log_group=self.log_group)}
        if discovery is not None and discovery.mode == "cloud-map" and discovery.port:
            return {"cloud_map_options": cloud_map(namespace=discovery.namespace, name=discovery.name,
                                                   port=discovery.port)}
        return {}

    def _service(self, service: ecs.BaseService, container: ContainerProps) -> None:
        self.service = service
        if container.enable_exec:
            exec_on(service)

    def roll_back_on(self, alarms: Sequence[cloudwatch.IAlarm]) -> None:
        """Deployment alarms: a deployment during which one fires rolls back (the circuit breaker's twin)."""
        rollback_on(self.service, alarms)

    def discovery(self) -> dict[str, str]:
        """What an instance publishes about its service under /keel/<environment>/<service>/."""
        return {"service-name": self.service.service_name, "service-arn": self.service.service_arn}


@dataclass(frozen=True, kw_only=True)
class ServiceDiscoveryProps:
    """How callers in the environment find the service: Service Connect (`name:port`) or Cloud Map
    (`name.<namespace>:port`), in the environment's namespace."""

    mode: Literal["service-connect", "cloud-map"]
    namespace: servicediscovery.INamespace
    name: str
    port: int | None = None


class FargateContainerService(ContainerService):
    """A Fargate service: its own log group (`Logs`), the task (`Task`), a security group with no ingress until
    the caller opens its port (`SecurityGroup`) and the FargateService (`Service`) with the circuit breaker,
    the environment's capacity provider strategy, and Service Connect or Cloud Map registration."""

    security_group: ec2.SecurityGroup
    service: ecs.FargateService

    def __init__(self, scope: Construct, id_: str, *, container: ContainerProps, cluster: ecs.ICluster,
                 vpc: ec2.IVpc, deployment: DeploymentProps, public: bool, log_retention: logs.RetentionDays,
                 removal_policy: RemovalPolicy, discovery: ServiceDiscoveryProps | None = None,
                 health_check_grace: Duration | None = None, security_group_description: str) -> None:
        super().__init__(scope, id_)
        self._task(container, compatibility=ecs.Compatibility.FARGATE, log_group=logs.LogGroup(
            self, "Logs", retention=log_retention, encryption_key=container.key, removal_policy=removal_policy))
        self.security_group = ec2.SecurityGroup(self, "SecurityGroup", vpc=vpc, allow_all_outbound=True,
                                                description=security_group_description)
        self.task.security_group = self.security_group
        service = ecs.FargateService(
            self, "Service", cluster=cluster, task_definition=self.task_definition,
            desired_count=deployment.desired_count, security_groups=[self.security_group],
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC if public
                                            else ec2.SubnetType.PRIVATE_WITH_EGRESS),
            assign_public_ip=public, circuit_breaker=circuit_breaker(),
            min_healthy_percent=deployment.min_healthy_percent, max_healthy_percent=deployment.max_healthy_percent,
            health_check_grace_period=health_check_grace,
            propagate_tags=ecs.PropagatedTagSource.SERVICE, enable_ecs_managed_tags=True,
            **self._discovery_options(discovery))
        self._service(service, container)
        self.service = service

    def discovery(self) -> dict[str, str]:
        return super().discovery() | {"log-group": self.log_group.log_group_name}


@dataclass(frozen=True, kw_only=True)
class ExternalPlacementProps:
    """Where and how EXTERNAL tasks run on the environment's own servers (ECS Anywhere)."""

    network_mode: ecs.NetworkMode
    gpu_count: int = 0
    #: memberOf expressions on instance attributes, joined with `and` into one constraint.
    placement_constraints: Sequence[str] = ()
    #: The environment's policy for a FireLens router writing to the external task log group.
    log_routing_policy: iam.IManagedPolicy | None = None


class ExternalContainerService(ContainerService):
    """An ECS Anywhere service: the EXTERNAL task (`Task`) logging to the environment's external task log
    group, and the ExternalService (`Service`) with the circuit breaker. ECS offers no load balancer, Cloud
    Map or autoscaling for external services."""

    service: ecs.ExternalService

    def __init__(self, scope: Construct, id_: str, *, container: ContainerProps, cluster: ecs.ICluster,
                 vpc: ec2.IVpc, deployment: DeploymentProps, placement: ExternalPlacementProps,
                 log_group: logs.ILogGroup) -> None:
        super().__init__(scope, id_)
        self._task(container, compatibility=ecs.Compatibility.EXTERNAL, log_group=log_group, placement=placement)
        # CDK's ExternalService refuses a cluster with a default Cloud Map namespace (ecs-env's has one, for
        # Service Connect); the same cluster seen by name and ARN carries no namespace.
        by_name = ecs.Cluster.from_cluster_attributes(self, "Cluster", cluster_name=cluster.cluster_name,
                                                      cluster_arn=cluster.cluster_arn, vpc=vpc)
        service = ecs.ExternalService(
            self, "Service", cluster=by_name, task_definition=self.task_definition,
            desired_count=deployment.desired_count, circuit_breaker=circuit_breaker(),
            min_healthy_percent=deployment.min_healthy_percent, max_healthy_percent=deployment.max_healthy_percent,
            propagate_tags=ecs.PropagatedTagSource.SERVICE, enable_ecs_managed_tags=True)
        self._service(service, container)
        self.service = service


@dataclass(frozen=True, kw_only=True)
class Ec2PlacementProps:
    """Where an EC2 service's tasks run: a capacity provider of the environment, GPUs, instance attributes."""

    #: The ECS capacity provider's name; None with `daemon` (ECS schedules daemons by launch type).
    capacity_provider: str | None
    gpu_count: int = 0
    #: memberOf expressions on instance attributes, joined with `and` into one constraint.
    placement_constraints: Sequence[str] = ()
    #: One task on every matching container instance (agents) instead of `desired_count` replicas.
    daemon: bool = False


class Ec2ContainerService(ContainerService):
    """An ECS service on the environment's EC2 capacity (GPU tasks, daemons, instance placement): its own log
    group (`Logs`), the EC2 task in awsvpc mode (`Task`), a security group with no ingress until the caller
    opens its port (`SecurityGroup`) and the Ec2Service (`Service`) with the circuit breaker, on the chosen
    capacity provider, with Service Connect or Cloud Map registration."""

    security_group: ec2.SecurityGroup
    service: ecs.Ec2Service

    def __init__(self, scope: Construct, id_: str, *, container: ContainerProps, cluster: ecs.ICluster,
                 vpc: ec2.IVpc, deployment: DeploymentProps, placement: Ec2PlacementProps,
                 log_retention: logs.RetentionDays, removal_policy: RemovalPolicy,
                 discovery: ServiceDiscoveryProps | None = None, health_check_grace: Duration | None = None,
                 security_group_description: str) -> None:
        super().__init__(scope, id_)
        self._task(container, compatibility=ecs.Compatibility.EC2, log_group=logs.LogGroup(
            self, "Logs", retention=log_retention, encryption_key=container.key, removal_policy=removal_policy),
            placement=ExternalPlacementProps(network_mode=ecs.NetworkMode.AWS_VPC, gpu_count=placement.gpu_count,
                                             placement_constraints=placement.placement_constraints))
        self.security_group = ec2.SecurityGroup(self, "SecurityGroup", vpc=vpc, allow_all_outbound=True,
                                                description=security_group_description)
        strategy = [ecs.CapacityProviderStrategy(capacity_provider=placement.capacity_provider, weight=1)] \
            if placement.capacity_provider and not placement.daemon else None
        service = ecs.Ec2Service(
            self, "Service", cluster=cluster, task_definition=self.task_definition,
            desired_count=None if placement.daemon else deployment.desired_count, daemon=placement.daemon,
            security_groups=[self.security_group],
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
            capacity_provider_strategies=strategy, circuit_breaker=circuit_breaker(),
            min_healthy_percent=0 if placement.daemon else deployment.min_healthy_percent,
            max_healthy_percent=100 if placement.daemon else deployment.max_healthy_percent,
            health_check_grace_period=health_check_grace,
            propagate_tags=ecs.PropagatedTagSource.SERVICE, enable_ecs_managed_tags=True,
            **self._discovery_options(discovery))
        self._service(service, container)
        self.service = service

    def discovery(self) -> dict[str, str]:
        return super().discovery() | {"log-group": self.log_group.log_group_name}
