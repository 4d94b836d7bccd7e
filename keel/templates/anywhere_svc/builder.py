"""anywhere-svc 1.x: an ECS Anywhere service (ExternalTaskDefinition + ExternalService) on the environment's
external instances: bridge or host networking, host port mappings, placement on instance attributes, GPUs,
the circuit breaker with rollback, ECS Exec. Logs go to the environment's external task log group (FireLens
through the environment's log routing policy). No load balancer, discovery or autoscaling: ECS does not
offer them for EXTERNAL services (the spec checks refuse them)."""

from __future__ import annotations

from aws_cdk import aws_ecs as ecs
from constructs import Construct

from keel.constructs.container_service import ContainerTask, circuit_breaker, exec_on
from keel.spec.model import Service, ServiceInstance
from keel.stacks.outputs import EnvironmentOutputs
from keel.templates.anywhere_svc.inputs import AnywhereInputs
from keel.templates.container_inputs import PipelineInputs, placement_expression
from keel.templates.container_service import ServiceContext, image, published, require

PROTOCOLS = {"tcp": ecs.Protocol.TCP, "udp": ecs.Protocol.UDP}
NETWORK_MODES = {"bridge": ecs.NetworkMode.BRIDGE, "host": ecs.NetworkMode.HOST}


def build(scope: Construct, *, service: Service, instance: ServiceInstance, inputs: AnywhereInputs,
          pipeline: PipelineInputs | None, environment: EnvironmentOutputs) -> dict[str, str]:
    ctx = ServiceContext(service=service, instance=instance, environment=environment)
    container_image, outputs = image(scope, ctx, inputs)
    log_group = require(environment.external_task_log_group, "ECS Anywhere task log group", environment)
    task = ContainerTask(
        scope, "Task", family=ctx.family, compatibility="external", image=container_image,
        cpu=inputs.cpu, memory_mib=inputs.memory_mib,
        environment={v.name: v.value for v in inputs.environment_variables}, secrets=ctx.secrets(inputs),
        key=environment.key, log_group=log_group, log_stream_prefix=f"{service.name}/{instance.name}",
        firelens=inputs.firelens, log_routing_policy=environment.external_log_routing_policy,
        network_mode=NETWORK_MODES[inputs.network_mode], gpu_count=inputs.gpu_count,
        port_mappings=[ecs.PortMapping(container_port=m.container_port, protocol=PROTOCOLS[m.protocol],
                                       host_port=m.container_port if m.host_port is None else m.host_port)
                       for m in inputs.port_mappings],
        placement_constraints=[" and ".join(str(placement_expression(c)[0]) for c in inputs.placement_constraints)]
        if inputs.placement_constraints else ())
    if inputs.enable_exec:
        task.allow_exec(key=environment.key, log_group=environment.exec_log_group)
    # CDK's ExternalService refuses a cluster with a default Cloud Map namespace (ecs-env's has one, for
    # Service Connect); the same cluster seen by name and ARN carries no namespace. The service's own
    # Cloud Map registration stays impossible (the spec check refuses `discovery`).
    cluster = ecs.Cluster.from_cluster_attributes(
        scope, "Cluster", cluster_name=ctx.cluster.cluster_name, cluster_arn=ctx.cluster.cluster_arn,
        vpc=environment.vpc)
    svc = ecs.ExternalService(
        scope, "Service", cluster=cluster, task_definition=task.task_definition,
        desired_count=inputs.desired_count, circuit_breaker=circuit_breaker(),
        min_healthy_percent=inputs.deployment.min_healthy_percent,
        max_healthy_percent=inputs.deployment.max_healthy_percent,
        propagate_tags=ecs.PropagatedTagSource.SERVICE,
        enable_ecs_managed_tags=True)
    if inputs.enable_exec:
        exec_on(svc)
    return published(ctx, svc, pipeline, outputs, {"log-group": log_group.log_group_name})
