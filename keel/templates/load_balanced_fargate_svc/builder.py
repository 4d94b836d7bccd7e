"""load-balanced-fargate-svc 1.x: a Fargate service behind the environment's shared ALB (a listener rule and
a target group of its own) or behind a Network Load Balancer of its own; CPU and request autoscaling;
5xx and unhealthy-target alarms that can roll a deployment back."""

from __future__ import annotations

from aws_cdk import CfnResource, Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from constructs import Construct

from keel.constructs.container_service import (
    APP,
    Ec2ContainerService,
    FargateContainerService,
    ServiceNetworkLoadBalancer,
    scale_on_cpu,
    unhealthy_targets_alarm,
)
from keel.contract.outputs import EcsEnvOutputs, SharedLoadBalancerOutputs
from keel.spec.model import Service, ServiceInstance
from keel.templates.container_inputs import PipelineInputs
from keel.templates.container_service import (
    ONLY_SERVICE,
    ServiceContext,
    discovery_name,
    finish,
    image,
    long_running_service,
    published,
)
from keel.templates.load_balanced_fargate_svc.inputs import LoadBalancedInputs, rule_for


def build(scope: Construct, *, service: Service, instance: ServiceInstance, inputs: LoadBalancedInputs,
          pipeline: PipelineInputs | None, environment: EcsEnvOutputs) -> dict[str, str]:
    ctx = ServiceContext(service=service, instance=instance, environment=environment)
    port = int(inputs.port)
    container_image, outputs = image(scope, ctx, inputs)
    # service discovery name (issue 15): 1.1 specs may name it; 1.0 and unset keep the service's name
    discovery_as = getattr(inputs, "service_discovery_name", None)
    fargate = long_running_service(scope, ONLY_SERVICE, ctx, inputs, container_image=container_image, port=port,
                                   variables={"BACKEND_URL": inputs.backendurl}, discovery=inputs.discovery,
                                   health_check_grace=Duration.seconds(inputs.health_check_grace_seconds),
                                   discovery_as=discovery_as)
    svc, group = fargate.service, fargate.security_group
    scaling = scale_on_cpu(svc, min_tasks=inputs.scaling.min_tasks, max_tasks=inputs.scaling.max_tasks,
                           target_cpu_percent=inputs.scaling.target_cpu_percent)

    shared = environment.load_balancer
    if inputs.application:
        if shared is None:  # the spec check refuses loadbalancer_type application without the shared one
            raise ValueError(f"environment {environment.name} ({environment.template}) has no shared load balancer")
        alarms, outputs["url"] = _on_shared_load_balancer(scope, ctx, inputs, fargate, scaling, shared, port)
    else:
        nlb = ServiceNetworkLoadBalancer(scope, "LoadBalancer", vpc=environment.vpc, port=port,
                                         internet_facing=inputs.subnet_type == "public",
                                         deletion_protection=environment.production)
        target_group_n = nlb.target(svc, port=port)
        # NLB targets by IP see the load balancer's own addresses (client IP preservation is off for IP targets).
        group.add_ingress_rule(ctx.vpc_cidr, ec2.Port.tcp(port),
                               "From the service's Network Load Balancer")
        alarms = [unhealthy_targets_alarm(scope, "UnhealthyTargetsAlarm",
                                          metric=target_group_n.metrics.un_healthy_host_count(
                                              period=Duration.minutes(1)),
                                          description=f"{ctx.family}: targets failing health checks")]
        outputs["url"] = f"tcp://{nlb.load_balancer.load_balancer_dns_name}:{port}"
    finish(fargate, alarm_rollback=inputs.deployment.alarm_rollback, alarms=alarms, environment=environment)
    return published(pipeline, fargate.discovery(), outputs, discovery_name(ctx, inputs.discovery, port, discovery_as))


def _on_shared_load_balancer(scope: Construct, ctx: ServiceContext, inputs: LoadBalancedInputs,
                             fargate: FargateContainerService | Ec2ContainerService, scaling: ecs.ScalableTaskCount,
                             shared: SharedLoadBalancerOutputs, port: int) -> tuple[list[cloudwatch.Alarm], str]:
    """A target group and a listener rule of the instance's own on the environment's shared listener; request
    autoscaling and alarms on the load balancer's metrics. Returns the alarms and the service's URL."""
    environment = ctx.environment
    fargate.security_group.add_ingress_rule(
        ec2.Peer.security_group_id(shared.security_group.security_group_id), ec2.Port.tcp(port),
        "From the environment's shared load balancer")
    target_group = elbv2.ApplicationTargetGroup(
        scope, "TargetGroup", vpc=environment.vpc, port=port, protocol=elbv2.ApplicationProtocol.HTTP,
        target_type=elbv2.TargetType.IP, deregistration_delay=Duration.seconds(30),
        targets=[fargate.service.load_balancer_target(container_name=APP, container_port=port)],
        health_check=elbv2.HealthCheck(path=inputs.health_check_path, healthy_http_codes="200-399",
                                       interval=Duration.seconds(15), healthy_threshold_count=2,
                                       unhealthy_threshold_count=3))
    rule = rule_for(ctx.service.name, ctx.instance.name, inputs)
    conditions = [elbv2.ListenerCondition.path_patterns([rule.path_pattern])]
    if rule.host_header:
        conditions.append(elbv2.ListenerCondition.host_headers([rule.host_header]))
    elbv2.ApplicationListenerRule(
        scope, "ListenerRule", listener=shared.listener, conditions=conditions, priority=rule.priority,
        action=elbv2.ListenerAction.forward([target_group]))
    if inputs.target_requests_per_task:
        scaling.scale_on_request_count("Requests", requests_per_target=inputs.target_requests_per_task,
                                       target_group=target_group)
        # The resource label from the ALB's full name, not split out of the listener ARN (same value).
        cfn = scaling.node.find_child("Target").node.find_child("Requests").node.default_child
        assert isinstance(cfn, CfnResource)
        cfn.add_property_override(
            "TargetTrackingScalingPolicyConfiguration.PredefinedMetricSpecification.ResourceLabel",
            f"{shared.full_name}/{target_group.target_group_full_name}")
    # Dimensions from the ALB's full name (a plain cross-stack value), not split out of the listener ARN.
    dimensions = {"LoadBalancer": shared.full_name, "TargetGroup": target_group.target_group_full_name}
    alarms: list[cloudwatch.Alarm] = [
        unhealthy_targets_alarm(scope, "UnhealthyTargetsAlarm", metric=cloudwatch.Metric(
            namespace="AWS/ApplicationELB", metric_name="UnHealthyHostCount", dimensions_map=dimensions,
            statistic="Maximum", period=Duration.minutes(1)),
            description=f"{ctx.family}: targets failing health checks"),
        cloudwatch.Alarm(
            scope, "Target5xxAlarm", metric=cloudwatch.Metric(
                namespace="AWS/ApplicationELB", metric_name="HTTPCode_Target_5XX_Count", dimensions_map=dimensions,
                statistic="Sum", period=Duration.minutes(1)),
            threshold=10, evaluation_periods=2, datapoints_to_alarm=2,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=f"{ctx.family}: the service answers with 5xx errors"),
    ]
    host = inputs.host_header or shared.load_balancer.load_balancer_dns_name
    scheme = "https" if shared.https else "http"
    return alarms, f"{scheme}://{host}{inputs.path_pattern.rstrip('*')}"
