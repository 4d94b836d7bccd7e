"""anywhere-svc 1.x: an ECS Anywhere service (ExternalTaskDefinition + ExternalService) on the environment's
external instances: bridge or host networking, host port mappings, placement on instance attributes, GPUs,
the circuit breaker with rollback, ECS Exec. Logs go to the environment's external task log group (FireLens
through the environment's log routing policy). No load balancer, discovery or autoscaling: ECS does not
offer them for EXTERNAL services (the spec checks refuse them)."""

from __future__ import annotations

from dataclasses import replace

from aws_cdk import aws_ecs as ecs
from constructs import Construct

from keel.constructs.container_service import DeploymentProps, ExternalContainerService, ExternalPlacementProps
from keel.contract.outputs import EcsEnvOutputs
from keel.spec.model import Service, ServiceInstance
from keel.templates.anywhere_svc.inputs import AnywhereInputs
from keel.templates.container_inputs import PipelineInputs, placement_expression
from keel.templates.container_service import ONLY_SERVICE, ServiceContext, container, image, published

PROTOCOLS = {"tcp": ecs.Protocol.TCP, "udp": ecs.Protocol.UDP}
NETWORK_MODES = {"bridge": ecs.NetworkMode.BRIDGE, "host": ecs.NetworkMode.HOST}


def build(scope: Construct, *, service: Service, instance: ServiceInstance, inputs: AnywhereInputs,
          pipeline: PipelineInputs | None, environment: EcsEnvOutputs) -> dict[str, str]:
    ctx = ServiceContext(service=service, instance=instance, environment=environment)
    anywhere = environment.anywhere
    if anywhere is None:  # the spec check refuses an anywhere-svc on an environment without ECS Anywhere
        raise ValueError(f"environment {environment.name} ({environment.template}) has no ECS Anywhere")
    container_image, outputs = image(scope, ctx, inputs)
    props = container(
        ctx, inputs, container_image, log_stream_prefix=f"{service.name}/{instance.name}",
        port_mappings=tuple(ecs.PortMapping(container_port=m.container_port, protocol=PROTOCOLS[m.protocol],
                                            host_port=m.container_port if m.host_port is None else m.host_port)
                            for m in inputs.port_mappings))
    # sidecars (issue 17): the environment's log group is shared, so each sidecar's streams are under the instance's
    props = replace(props, sidecars=tuple(replace(s, log_stream_prefix=f"{props.log_stream_prefix}/{s.name}")
                                          for s in props.sidecars))
    external = ExternalContainerService(
        scope, ONLY_SERVICE, cluster=environment.cluster, vpc=environment.vpc, log_group=anywhere.task_log_group,
        container=props,
        deployment=DeploymentProps(desired_count=inputs.desired_count,
                                   min_healthy_percent=inputs.deployment.min_healthy_percent,
                                   max_healthy_percent=inputs.deployment.max_healthy_percent),
        placement=ExternalPlacementProps(
            network_mode=NETWORK_MODES[inputs.network_mode], gpu_count=inputs.gpu_count,
            placement_constraints=[str(placement_expression(c)[0]) for c in inputs.placement_constraints],
            log_routing_policy=anywhere.log_routing_policy))
    return published(pipeline, external.discovery(), outputs, {"log-group": anywhere.task_log_group.log_group_name})
