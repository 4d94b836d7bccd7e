"""The composition the container service builders share: inputs -> image, logs, task, security group,
service, outputs. CDK (imported by builders only); the CDK-free half is `container_inputs`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_logs as logs
from constructs import Construct

from keel.constructs.common import RETENTION
from keel.constructs.container_service import (
    PORT_NAME,
    ConfigSecret,
    ContainerTask,
    ServiceRepository,
    circuit_breaker,
    cloud_map,
    exec_on,
    rollback_on,
    service_connect,
)
from keel.spec.images import ImageReference, repository_name
from keel.spec.model import Service, ServiceInstance
from keel.stacks.outputs import EnvironmentOutputs, notification_topic, removal_policy
from keel.templates.container_inputs import (
    ContainerInputs,
    FargateInputs,
    FargateServiceInputs,
    PipelineInputs,
)

T = TypeVar("T")


def require(value: T | None, what: str, environment: EnvironmentOutputs) -> T:
    """An environment output a template needs; the spec checks make a missing one unreachable."""
    if value is None:
        raise ValueError(f"environment {environment.name} ({environment.environment.template.label}) has no {what}")
    return value


@dataclass(frozen=True)
class ServiceContext:
    """Who the resources belong to: the service, its instance and the environment's outputs."""

    service: Service
    instance: ServiceInstance
    environment: EnvironmentOutputs

    @property
    def name(self) -> str:
        return self.service.name

    @property
    def family(self) -> str:
        return f"keel-{self.service.name}-{self.instance.name}"

    @property
    def vpc_cidr(self) -> ec2.IPeer:
        """The environment's VPC range as a literal (from its spec): callers inside the VPC."""
        return ec2.Peer.ipv4(str(self.environment.environment.inputs.vpc_cidr))

    @property
    def cluster(self) -> ecs.ICluster:
        return require(self.environment.cluster, "ECS cluster", self.environment)

    def secrets(self, inputs: ContainerInputs) -> list[ConfigSecret]:
        return [ConfigSecret(variable=s.name, source=s.source, json_key=s.json_key,
                             location=s.location(self.environment.name, self.service.name)) for s in inputs.secrets]


def image(scope: Construct, ctx: ServiceContext, inputs: ContainerInputs) -> tuple[ecs.ContainerImage, dict[str, str]]:
    """The spec's image, or the service's own ECR repository at `ecr_repository.image_tag`. An image a
    service pipeline built (`instance.image_override`) replaces either: with the repository, its tag or
    digest in that repository (the loader checked the image is there)."""
    override = ctx.instance.image_override
    if not inputs.ecr_repository.enabled:
        # A private ECR image in the spec is pulled through its repository too (execution-role grant).
        reference = override or ImageReference.parse(inputs.image)
        if reference is None:
            return ecs.ContainerImage.from_registry(inputs.image), {}
        return registry_image(scope, reference), {}
    repo = ServiceRepository(scope, "Repository", repository_name=repository_name(ctx.service.name, ctx.instance.name),
                             key=ctx.environment.key, max_images=inputs.ecr_repository.max_images,
                             removal_policy=removal_policy(ctx.environment.environment))
    tag = override.tag_or_digest if override is not None else inputs.ecr_repository.image_tag
    return (ecs.ContainerImage.from_ecr_repository(repo.repository, tag),
            {"ecr/repository-uri": repo.repository.repository_uri})


def registry_image(scope: Construct, reference: ImageReference) -> ecs.ContainerImage:
    """An image by reference. One in an ECR private registry (a service pipeline's repository) comes through
    the repository, so the execution role may pull it; any other registry is taken as it is."""
    ecr_registry = reference.ecr
    if ecr_registry is None:
        return ecs.ContainerImage.from_registry(str(reference))
    account, region, partition = ecr_registry
    repository = ecr.Repository.from_repository_attributes(
        scope, "ImageRepository", repository_name=reference.repository,
        repository_arn=f"arn:{partition}:ecr:{region}:{account}:repository/{reference.repository}")
    return ecs.ContainerImage.from_ecr_repository(repository, reference.tag_or_digest)


def log_group(scope: Construct, ctx: ServiceContext, retention_days: int) -> logs.LogGroup:
    return logs.LogGroup(scope, "Logs", retention=RETENTION[retention_days], encryption_key=ctx.environment.key,
                         removal_policy=removal_policy(ctx.environment.environment))


def fargate_task(scope: Construct, ctx: ServiceContext, inputs: FargateInputs, *, port: int | None = None,
                 variables: Mapping[str, str] | None = None) -> tuple[ContainerTask, dict[str, str]]:
    """The Fargate task every Fargate template runs, and the outputs it adds (log group, repository)."""
    container_image, published = image(scope, ctx, inputs)
    logs_ = log_group(scope, ctx, inputs.log_retention_days)
    task = ContainerTask(
        scope, "Task", family=ctx.family, compatibility="fargate", image=container_image,
        cpu=inputs.cpu, memory_mib=inputs.memory_mib,
        environment={**(variables or {}), **{v.name: v.value for v in inputs.environment_variables}},
        secrets=ctx.secrets(inputs), key=ctx.environment.key, log_group=logs_, log_stream_prefix=ctx.name,
        firelens=inputs.firelens,
        port_mappings=[ecs.PortMapping(container_port=port, name=PORT_NAME, protocol=ecs.Protocol.TCP,
                                       app_protocol=ecs.AppProtocol.http)]  # type: ignore[arg-type]  # jsii classproperty
        if port else ())
    if inputs.enable_exec:
        task.allow_exec(key=ctx.environment.key, log_group=ctx.environment.exec_log_group)
    return task, published | {"log-group": logs_.log_group_name}


def security_group(scope: Construct, ctx: ServiceContext) -> ec2.SecurityGroup:
    """The tasks' group: no ingress until the template opens its port to who may call it."""
    return ec2.SecurityGroup(scope, "SecurityGroup", vpc=ctx.environment.vpc, allow_all_outbound=True,
                             description=f"Keel {ctx.environment.name}: tasks of {ctx.family}")


def subnets(inputs: FargateInputs) -> tuple[ec2.SubnetSelection, bool]:
    """Proton's subnet_type: public (a public IP, no NAT needed) or private (egress through NAT)."""
    public = inputs.subnet_type == "public"
    return ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC if public
                               else ec2.SubnetType.PRIVATE_WITH_EGRESS), public


def fargate_service(scope: Construct, ctx: ServiceContext, inputs: FargateServiceInputs, *, task: ContainerTask,
                    group: ec2.ISecurityGroup, discovery: str = "none", port: int | None = None,
                    health_check_grace: Duration | None = None) -> ecs.FargateService:
    """The rolling ECS service: circuit breaker with rollback, the spec's healthy percents, ECS Exec, and
    Service Connect or Cloud Map registration in the environment's namespace."""
    placement, public = subnets(inputs)
    namespace = ctx.environment.namespace
    service = ecs.FargateService(
        scope, "Service", cluster=ctx.cluster, task_definition=task.task_definition,
        desired_count=inputs.tasks, security_groups=[group], vpc_subnets=placement, assign_public_ip=public,
        circuit_breaker=circuit_breaker(),
        min_healthy_percent=inputs.deployment.min_healthy_percent,
        max_healthy_percent=inputs.deployment.max_healthy_percent,
        health_check_grace_period=health_check_grace,
        propagate_tags=ecs.PropagatedTagSource.SERVICE, enable_ecs_managed_tags=True,
        service_connect_configuration=service_connect(
            namespace=require(namespace, "namespace", ctx.environment), discovery_name=ctx.name, port=port,
            log_group=task.log_group) if discovery == "service-connect" else None,
        cloud_map_options=cloud_map(namespace=require(namespace, "namespace", ctx.environment), name=ctx.name,
                                    port=port) if discovery == "cloud-map" and port else None)
    if inputs.enable_exec:
        exec_on(service)
    return service


def discovery_name(ctx: ServiceContext, discovery: str, port: int) -> dict[str, str]:
    """How callers in the environment reach the service, as published."""
    namespace = ctx.environment.namespace
    if discovery == "service-connect":
        return {"discovery-name": f"{ctx.name}:{port}"}
    if discovery == "cloud-map" and namespace is not None:
        return {"discovery-name": f"{ctx.name}.{namespace.namespace_name}:{port}"}
    return {}


def finish(service: ecs.BaseService, *, alarm_rollback: bool, alarms: Sequence[cloudwatch.Alarm],
           environment: EnvironmentOutputs) -> None:
    """Every alarm notifies the environment's topic; deployment alarms also feed the rollback when the spec
    asks for it (they exist either way)."""
    notify = cloudwatch_actions.SnsAction(notification_topic(environment))
    for alarm in alarms:
        alarm.add_alarm_action(notify)
    if alarm_rollback:
        rollback_on(service, alarms)


def published(ctx: ServiceContext, service: ecs.BaseService | None, pipeline: PipelineInputs | None,
              *extra: Mapping[str, str]) -> dict[str, str]:
    """What the instance publishes under /keel/<environment>/<service>/ (plus the pipeline inputs,
    stored for the delivery pipeline)."""
    out: dict[str, str] = {}
    if service is not None:
        out |= {"service-name": service.service_name, "service-arn": service.service_arn}
    for more in extra:
        out |= more
    if pipeline is not None:
        out |= {"pipeline/service-dir": pipeline.service_dir, "pipeline/dockerfile": pipeline.dockerfile,
                "pipeline/unit-test-command": pipeline.unit_test_command}
    return out
