"""What the container service builders share: the inputs mapped to the props of Keel's container service
constructs (keel.constructs.container_service), the image, and what an instance publishes. CDK (imported by
builders only); the CDK-free half is `container_inputs`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_ecs as ecs
from constructs import Construct

from keel.constructs.common import RETENTION
from keel.constructs.container_service import (
    PORT_NAME,
    ConfigSecret,
    ContainerProps,
    ContainerService,
    DeploymentProps,
    Ec2ContainerService,
    Ec2PlacementProps,
    FargateContainerService,
    ServiceDiscoveryProps,
    ServiceRepository,
    SidecarProps,
)
from keel.contract.naming import repository_name, stack_name
from keel.contract.outputs import EcsEnvOutputs, NetworkOutputs
from keel.spec.images import ImageReference
from keel.spec.model import Service, ServiceInstance
from keel.templates.container_inputs import OPERATING_SYSTEM_FAMILIES as OS_FAMILY_NAMES
from keel.templates.container_inputs import (
    OTEL_CONFIG_VARIABLE,
    OTEL_DEFAULT_CONFIG,
    OTEL_METRIC_NAMESPACES,
    OTEL_METRICS_LOG_GROUP,
    ContainerInputs,
    Ec2PlacementInputs,
    FargateInputs,
    FargateServiceInputs,
    HasExternalSecrets,
    PipelineInputs,
    SidecarV12,
    is_daemon,
    operating_system_family,
    placement_expression,
    sidecars_of,
)
from keel.templates.notifications import notification_topic

#: The construct id of a template's one container service. CDK leaves "Default" out of logical IDs, so the
#: service's resources keep the IDs the templates were released with (Task..., Service, Logs, SecurityGroup).
ONLY_SERVICE = "Default"


@dataclass(frozen=True)
class ServiceContext:
    """Who the resources belong to: the service, its instance and the environment's outputs."""

    service: Service
    instance: ServiceInstance
    environment: EcsEnvOutputs

    @property
    def name(self) -> str:
        return self.service.name

    @property
    def family(self) -> str:
        return stack_name(self.service.name, self.instance.name)

    @property
    def vpc_cidr(self) -> ec2.IPeer:
        """The environment's VPC range as a literal (from its spec): callers inside the VPC."""
        return ec2.Peer.ipv4(self.environment.vpc_cidr)

    def secrets(self, inputs: ContainerInputs) -> list[ConfigSecret]:
        config = [ConfigSecret(variable=s.name, source=s.source, json_key=s.json_key,
                               location=s.location(self.environment.name, self.service.name)) for s in inputs.secrets]
        # Copilot habits (issue 16): existing parameters and secrets, by full name or ARN
        external = inputs.external_secrets if isinstance(inputs, HasExternalSecrets) else ()
        return config + [ConfigSecret(variable=s.name, source=s.source, json_key=s.json_key, location=s.reference,
                                      external=True) for s in external]


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
                             removal_policy=ctx.environment.removal_policy)
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


def container(ctx: ServiceContext, inputs: ContainerInputs, container_image: ecs.ContainerImage, *,
              log_stream_prefix: str, port: int | None = None,
              port_mappings: tuple[ecs.PortMapping, ...] = (),
              variables: Mapping[str, str] | None = None,
              cpu_architecture: ecs.CpuArchitecture = ecs.CpuArchitecture.X86_64) -> ContainerProps:
    """The container props from the shared inputs; a `port` is the one Service Connect names."""
    if port:
        port_mappings = (ecs.PortMapping(container_port=port, name=PORT_NAME, protocol=ecs.Protocol.TCP,
                                         app_protocol=ecs.AppProtocol.http),)  # type: ignore[arg-type]  # jsii classproperty
    return ContainerProps(
        family=ctx.family, image=container_image, cpu=inputs.cpu, memory_mib=inputs.memory_mib,
        environment={**(variables or {}), **{v.name: v.value for v in inputs.environment_variables}},
        secrets=ctx.secrets(inputs), key=ctx.environment.key, log_stream_prefix=log_stream_prefix,
        firelens=inputs.firelens, port_mappings=port_mappings, enable_exec=inputs.enable_exec,
        exec_log_group=ctx.environment.exec_log_group, cpu_architecture=cpu_architecture,
        sidecars=sidecars(ctx, inputs),
        operating_system_family=OPERATING_SYSTEM_FAMILIES[operating_system_family(inputs)])  # issue 15


# Windows containers (issue 15)
OPERATING_SYSTEM_FAMILIES = {name: getattr(ecs.OperatingSystemFamily, name) for name in OS_FAMILY_NAMES}


# sidecars (issue 17)
CONDITIONS = {"START": ecs.ContainerDependencyCondition.START, "COMPLETE": ecs.ContainerDependencyCondition.COMPLETE,
              "SUCCESS": ecs.ContainerDependencyCondition.SUCCESS, "HEALTHY": ecs.ContainerDependencyCondition.HEALTHY}


def sidecars(ctx: ServiceContext, inputs: ContainerInputs) -> tuple[SidecarProps, ...]:
    """The spec's sidecars; the otel-collector preset runs the pinned ADOT collector with the config of its
    AOT_CONFIG_CONTENT variable, else the image's default ECS config, and sends traces and metrics."""
    out = []
    for sidecar in sidecars_of(inputs):
        otel = sidecar.preset == "otel-collector"
        command = () if not otel or OTEL_CONFIG_VARIABLE in sidecar.environment or \
            any(s.name == OTEL_CONFIG_VARIABLE for s in sidecar.secrets) else (f"--config={OTEL_DEFAULT_CONFIG}",)
        config = [ConfigSecret(variable=s.name, source=s.source, json_key=s.json_key,
                               location=s.location(ctx.environment.name, ctx.service.name)) for s in sidecar.secrets]
        if isinstance(sidecar, SidecarV12):  # sidecars and secrets (issue 17): by full name or ARN, as app's
            config += [ConfigSecret(variable=s.name, source=s.source, json_key=s.json_key, location=s.reference,
                                    external=True) for s in sidecar.external_secrets]
        out.append(SidecarProps(
            name=sidecar.name, image=ecs.ContainerImage.from_registry(sidecar.image_or_preset),
            essential=sidecar.essential, port=int(sidecar.port) if sidecar.port else None,
            environment=dict(sidecar.environment), secrets=config,
            depends_on=[(d.container, CONDITIONS[d.condition]) for d in sidecar.depends_on],
            cpu=sidecar.cpu or None, memory_mib=sidecar.memory_mib, command=command,
            health_check=sidecar.health_check,
            traces=otel, telemetry_metric_namespaces=OTEL_METRIC_NAMESPACES if otel else (),
            # the default config's awsemf exporter (a config of the spec's own names its own destinations)
            telemetry_log_groups=(OTEL_METRICS_LOG_GROUP,) if command else ()))
    return tuple(out)


def deployment(inputs: FargateServiceInputs) -> DeploymentProps:
    return DeploymentProps(desired_count=inputs.tasks, min_healthy_percent=inputs.deployment.min_healthy_percent,
                           max_healthy_percent=inputs.deployment.max_healthy_percent)


def is_public(inputs: FargateInputs) -> bool:
    """Proton's subnet_type: public (a public IP, no NAT needed) or private (egress through NAT)."""
    return inputs.subnet_type == "public"


def fargate_service(scope: Construct, id_: str, ctx: ServiceContext, inputs: FargateServiceInputs, *,
                    container_image: ecs.ContainerImage, port: int | None = None,
                    variables: Mapping[str, str] | None = None, discovery: str = "none",
                    health_check_grace: Duration | None = None,
                    cpu_architecture: ecs.CpuArchitecture = ecs.CpuArchitecture.X86_64,
                    discovery_as: str | None = None) -> FargateContainerService:
    """The rolling Fargate service of a template's inputs, in the environment's cluster and namespace."""
    env = ctx.environment
    return FargateContainerService(
        scope, id_, container=container(ctx, inputs, container_image, log_stream_prefix=ctx.name, port=port,
                                        variables=variables, cpu_architecture=cpu_architecture),
        cluster=env.cluster, vpc=env.vpc, deployment=deployment(inputs), public=is_public(inputs),
        log_retention=RETENTION[inputs.log_retention_days], removal_policy=env.removal_policy,
        discovery=service_discovery(ctx, discovery, port, discovery_as),
        health_check_grace=health_check_grace,
        security_group_description=f"Keel {env.name}: tasks of {ctx.family}")


# EC2 capacity and architecture (issue 18)
CPU_ARCHITECTURES = {"ARM64": ecs.CpuArchitecture.ARM64, "X86_64": ecs.CpuArchitecture.X86_64}


def ec2_service(scope: Construct, id_: str, ctx: ServiceContext, inputs: FargateServiceInputs,
                placement: Ec2PlacementInputs, *, container_image: ecs.ContainerImage, port: int | None = None,
                variables: Mapping[str, str] | None = None, discovery: str = "none",
                health_check_grace: Duration | None = None, discovery_as: str | None = None) -> Ec2ContainerService:
    """The service on the environment's EC2 capacity provider the spec checks chose (GPU, daemon, placement)."""
    env = ctx.environment
    return Ec2ContainerService(
        scope, id_, container=container(ctx, inputs, container_image, log_stream_prefix=ctx.name, port=port,
                                        variables=variables),
        cluster=env.cluster, vpc=env.vpc, deployment=deployment(inputs),
        placement=Ec2PlacementProps(
            capacity_provider=ec2_capacity_provider(env, placement), gpu_count=placement.requires_gpu,
            daemon=is_daemon(placement),
            placement_constraints=[str(placement_expression(c)[0]) for c in placement.placement_constraints]),
        log_retention=RETENTION[inputs.log_retention_days], removal_policy=env.removal_policy,
        discovery=service_discovery(ctx, discovery, port, discovery_as), health_check_grace=health_check_grace,
        security_group_description=f"Keel {env.name}: tasks of {ctx.family}")


def ec2_capacity_provider(environment: EcsEnvOutputs, placement: Ec2PlacementInputs) -> str:
    """The provider the spec names, else (as the spec checks picked it) the first GPU provider for GPU tasks, else
    the environment's first."""
    providers = environment.ec2_capacity_providers
    if placement.capacity_provider is not None:
        return providers[placement.capacity_provider]
    gpu = environment.gpu_capacity_providers if placement.requires_gpu else ()
    return providers[gpu[0] if gpu else next(iter(providers))]


def cpu_architecture(inputs: object) -> ecs.CpuArchitecture:
    """The spec's cpu_architecture on versions that have one; X86_64, as the templates were released, elsewhere."""
    return CPU_ARCHITECTURES[inputs.cpu_architecture if isinstance(inputs, Ec2PlacementInputs) else "X86_64"]


def long_running_service(scope: Construct, id_: str, ctx: ServiceContext, inputs: FargateServiceInputs, *,
                         container_image: ecs.ContainerImage, port: int | None = None,
                         variables: Mapping[str, str] | None = None, discovery: str = "none",
                         health_check_grace: Duration | None = None,
                         discovery_as: str | None = None) -> FargateContainerService | Ec2ContainerService:
    """A template's service on the capacity its spec asks for: the environment's EC2 capacity (capacity ec2),
    else Fargate on the spec's CPU architecture."""
    if isinstance(inputs, Ec2PlacementInputs) and inputs.capacity == "ec2":
        return ec2_service(scope, id_, ctx, inputs, inputs, container_image=container_image, port=port,
                           variables=variables, discovery=discovery, health_check_grace=health_check_grace,
                           discovery_as=discovery_as)
    return fargate_service(scope, id_, ctx, inputs, container_image=container_image, port=port, variables=variables,
                           discovery=discovery, health_check_grace=health_check_grace,
                           cpu_architecture=cpu_architecture(inputs), discovery_as=discovery_as)


def service_discovery(ctx: ServiceContext, discovery: str, port: int | None,
                      name: str | None = None) -> ServiceDiscoveryProps | None:
    """The spec's `discovery` (service-connect, cloud-map or none) in the environment's namespace, under
    `name` (a 1.1 spec's service_discovery_name) or the service's name."""
    namespace = ctx.environment.namespace
    if discovery == "service-connect":
        return ServiceDiscoveryProps(mode="service-connect", namespace=namespace, name=name or ctx.name, port=port)
    if discovery == "cloud-map":
        return ServiceDiscoveryProps(mode="cloud-map", namespace=namespace, name=name or ctx.name, port=port)
    return None


def discovery_name(ctx: ServiceContext, discovery: str, port: int, name: str | None = None) -> dict[str, str]:
    """How callers in the environment reach the service, as published."""
    if discovery == "service-connect":
        return {"discovery-name": f"{name or ctx.name}:{port}"}
    if discovery == "cloud-map":
        return {"discovery-name": f"{name or ctx.name}.{ctx.environment.namespace.namespace_name}:{port}"}
    return {}


def finish(service: ContainerService, *, alarm_rollback: bool, alarms: Sequence[cloudwatch.Alarm],
           environment: NetworkOutputs) -> None:
    """Every alarm notifies the environment's topic; deployment alarms also feed the rollback when the spec
    asks for it (they exist either way)."""
    notify = cloudwatch_actions.SnsAction(notification_topic(environment))
    for alarm in alarms:
        alarm.add_alarm_action(notify)
    if alarm_rollback:
        service.roll_back_on(alarms)


def published(pipeline: PipelineInputs | None, *parts: Mapping[str, str]) -> dict[str, str]:
    """What the instance publishes under /keel/<environment>/<service>/ (plus the pipeline inputs,
    stored for the delivery pipeline)."""
    out: dict[str, str] = {}
    for more in parts:
        out |= more
    if pipeline is not None:
        out |= {"pipeline/service-dir": pipeline.service_dir, "pipeline/dockerfile": pipeline.dockerfile,
                "pipeline/unit-test-command": pipeline.unit_test_command}
    return out
