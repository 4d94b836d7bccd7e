"""load-balanced-fargate-svc 1.x: a Fargate service behind the environment's shared ALB (a listener rule and
a target group of its own) or behind a Network Load Balancer of its own; CPU and request autoscaling;
5xx and unhealthy-target alarms that can roll a deployment back."""

from __future__ import annotations

from typing import cast

from aws_cdk import CfnResource, Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from constructs import Construct

from keel.constructs.container_service import (
    APP,
    ServiceNetworkLoadBalancer,
    scale_on_cpu,
    unhealthy_targets_alarm,
)
from keel.spec.model import Service, ServiceInstance
from keel.stacks.outputs import EnvironmentOutputs
from keel.templates.container_inputs import PipelineInputs
from keel.templates.container_service import (
    ServiceContext,
    discovery_name,
    fargate_service,
    fargate_task,
    finish,
    published,
    require,
    security_group,
)
from keel.templates.load_balanced_fargate_svc.inputs import LoadBalancedInputs, listener_rule


def build(scope: Construct, *, service: Service, instance: ServiceInstance, inputs: LoadBalancedInputs,
          pipeline: PipelineInputs | None, environment: EnvironmentOutputs) -> dict[str, str]:
    ctx = ServiceContext(service=service, instance=instance, environment=environment)
    port = int(inputs.port)
    task, outputs = fargate_task(scope, ctx, inputs, port=port, variables={"BACKEND_URL": inputs.backendurl})
    group = security_group(scope, ctx)
    svc = fargate_service(scope, ctx, inputs, task=task, group=group, discovery=inputs.discovery, port=port,
                          health_check_grace=Duration.seconds(inputs.health_check_grace_seconds))
    scaling = scale_on_cpu(svc, min_tasks=inputs.scaling.min_tasks, max_tasks=inputs.scaling.max_tasks,
                           target_cpu_percent=inputs.scaling.target_cpu_percent)

    if inputs.application:
        listener = require(environment.listener, "shared load balancer", environment)
        # ecs-env hands its own ApplicationLoadBalancer (the interface lacks the full name imports cannot know).
        alb = cast(elbv2.ApplicationLoadBalancer,
                   require(environment.load_balancer, "shared load balancer", environment))
        alb_group = require(environment.load_balancer_security_group, "load balancer security group", environment)
        group.add_ingress_rule(ec2.Peer.security_group_id(alb_group.security_group_id), ec2.Port.tcp(port),
                               "From the environment's shared load balancer")
        target_group = elbv2.ApplicationTargetGroup(
            scope, "TargetGroup", vpc=environment.vpc, port=port, protocol=elbv2.ApplicationProtocol.HTTP,
            target_type=elbv2.TargetType.IP, deregistration_delay=Duration.seconds(30),
            targets=[svc.load_balancer_target(container_name=APP, container_port=port)],
            health_check=elbv2.HealthCheck(path=inputs.health_check_path, healthy_http_codes="200-399",
                                           interval=Duration.seconds(15), healthy_threshold_count=2,
                                           unhealthy_threshold_count=3))
        rule = listener_rule(service.name, instance.name, inputs, environment.environment)
        assert rule is not None  # the environment has the listener (require above)
        conditions = [elbv2.ListenerCondition.path_patterns([rule.path_pattern])]
        if rule.host_header:
            conditions.append(elbv2.ListenerCondition.host_headers([rule.host_header]))
        elbv2.ApplicationListenerRule(
            scope, "ListenerRule", listener=listener, conditions=conditions, priority=rule.priority,
            action=elbv2.ListenerAction.forward([target_group]))
        if inputs.target_requests_per_task:
            scaling.scale_on_request_count("Requests", requests_per_target=inputs.target_requests_per_task,
                                           target_group=target_group)
            # The resource label from the ALB's full name, not split out of the listener ARN (same value).
            cfn = scaling.node.find_child("Target").node.find_child("Requests").node.default_child
            assert isinstance(cfn, CfnResource)
            cfn.add_property_override(
                "TargetTrackingScalingPolicyConfiguration.PredefinedMetricSpecification.ResourceLabel",
                f"{alb.load_balancer_full_name}/{target_group.target_group_full_name}")
        # Dimensions from the ALB's full name (a plain cross-stack value), not split out of the listener ARN.
        dimensions = {"LoadBalancer": alb.load_balancer_full_name, "TargetGroup": target_group.target_group_full_name}
        alarms = [
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
        https = bool(getattr(environment.environment.inputs.load_balancer, "https", False))
        host = inputs.host_header or alb.load_balancer_dns_name
        outputs["url"] = f"{'https' if https else 'http'}://{host}{inputs.path_pattern.rstrip('*')}"
    else:
        nlb = ServiceNetworkLoadBalancer(scope, "LoadBalancer", vpc=environment.vpc, port=port,
                                         internet_facing=inputs.subnet_type == "public",
                                         deletion_protection=environment.environment.production)
        target_group_n = nlb.target(svc, port=port)
        # NLB targets by IP see the load balancer's own addresses (client IP preservation is off for IP targets).
        group.add_ingress_rule(ctx.vpc_cidr, ec2.Port.tcp(port),
                               "From the service's Network Load Balancer")
        alarms = [unhealthy_targets_alarm(scope, "UnhealthyTargetsAlarm",
                                          metric=target_group_n.metrics.un_healthy_host_count(
                                              period=Duration.minutes(1)),
                                          description=f"{ctx.family}: targets failing health checks")]
        outputs["url"] = f"tcp://{nlb.load_balancer.load_balancer_dns_name}:{port}"
    finish(svc, alarm_rollback=inputs.deployment.alarm_rollback, alarms=alarms, environment=environment)
    return published(ctx, svc, pipeline, outputs, discovery_name(ctx, inputs.discovery, port))
