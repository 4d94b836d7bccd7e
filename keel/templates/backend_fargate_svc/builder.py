"""backend-fargate-svc 1.x: a Fargate service with no public entry, found through Service Connect or Cloud
Map in the environment's namespace; CPU autoscaling; optionally offered to other VPCs and accounts through
PrivateLink (an internal Network Load Balancer and a VPC endpoint service)."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from keel.constructs.container_service import (
    ServiceNetworkLoadBalancer,
    scale_on_cpu,
    unhealthy_targets_alarm,
)
from keel.contract.outputs import EcsEnvOutputs
from keel.spec.model import Service, ServiceInstance
from keel.templates.backend_fargate_svc.inputs import BackendInputs, BackendInputsV11
from keel.templates.container_inputs import PipelineInputs, is_daemon
from keel.templates.container_service import (
    ONLY_SERVICE,
    ServiceContext,
    discovery_name,
    finish,
    image,
    long_running_service,
    published,
)


def build(scope: Construct, *, service: Service, instance: ServiceInstance, inputs: BackendInputs,
          pipeline: PipelineInputs | None, environment: EcsEnvOutputs) -> dict[str, str]:
    ctx = ServiceContext(service=service, instance=instance, environment=environment)
    port = int(inputs.port)
    container_image, outputs = image(scope, ctx, inputs)
    v11 = inputs if isinstance(inputs, BackendInputsV11) else None
    # service discovery name (issue 15): 1.1 specs may name it; 1.0 and unset keep the service's name
    discovery_as = v11.service_discovery_name if v11 else None
    fargate = long_running_service(scope, ONLY_SERVICE, ctx, inputs, container_image=container_image, port=port,
                                   discovery=inputs.discovery, discovery_as=discovery_as)
    # Callers are in the VPC: other services (through their Service Connect proxies) and the NLB.
    fargate.security_group.add_ingress_rule(ctx.vpc_cidr, ec2.Port.tcp(port), "From callers in the environment's VPC")
    svc = fargate.service
    if not is_daemon(inputs):  # a daemon runs one task per instance: nothing to scale
        scale_on_cpu(svc, min_tasks=inputs.scaling.min_tasks, max_tasks=inputs.scaling.max_tasks,
                     target_cpu_percent=inputs.scaling.target_cpu_percent)

    alarms: list[cloudwatch.Alarm] = []
    link = inputs.private_link
    if link.enabled:
        nlb = ServiceNetworkLoadBalancer(scope, "LoadBalancer", vpc=environment.vpc, port=port, internet_facing=False,
                                         deletion_protection=environment.production)
        target_group = nlb.target(svc, port=port)
        endpoint_service = nlb.offer(allowed_principals=link.allowed_principals,
                                     acceptance_required=link.acceptance_required)
        alarms.append(unhealthy_targets_alarm(
            scope, "UnhealthyTargetsAlarm", metric=target_group.metrics.un_healthy_host_count(
                period=Duration.minutes(1)), description=f"{ctx.family}: targets failing health checks"))
        outputs |= {"private-link/service-name": endpoint_service.vpc_endpoint_service_name,
                    "private-link/load-balancer-dns-name": nlb.load_balancer.load_balancer_dns_name}
    finish(fargate, alarm_rollback=inputs.deployment.alarm_rollback, alarms=alarms, environment=environment)
    return published(pipeline, fargate.discovery(), outputs, discovery_name(ctx, inputs.discovery, port, discovery_as))
